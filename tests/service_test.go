package tests

// The service surface around the APIs (DESIGN.md §5): health, readiness,
// the spec documents, Swagger UI without a CDN, request ids. Helpers here
// are prefixed "svc".

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// svcGet sends a GET without following redirects.
func svcGet(e *env, path string, headers map[string]string) *resp {
	e.t.Helper()
	return biRaw(e, "GET", path, headers, "", false)
}

func TestServiceHealthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		t.Run(p, func(t *testing.T) {
			e := biOn(e, t)
			r := e.do(req{Method: "GET", Path: p})
			mustStatus(t, r, http.StatusOK)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			m := r.JSON(t)
			if m["status"] != "ok" || len(m) != 1 {
				t.Errorf("body %s, want {\"status\":\"ok\"}", r.Body)
			}
			// No credentials needed, and bad ones do not matter.
			r = e.do(req{Method: "GET", Path: p, Token: "garbage", Header: map[string]string{"Authorization": "Bearer garbage"}})
			mustStatus(t, r, http.StatusOK)
			// A wrong method is 405 with Allow, outside every family.
			r = biRaw(e, "POST", p, map[string]string{"Content-Type": "application/json"}, `{}`, false)
			if r.Status != http.StatusMethodNotAllowed || !strings.Contains(r.Header.Get("Allow"), "GET") {
				t.Errorf("POST %s: %d Allow %q, want 405 with GET allowed: %s", p, r.Status, r.Header.Get("Allow"), r.Body)
			}
		})
	}
}

// TestServiceReadyzFollowsDatabase: /readyz says whether the database
// answers; /healthz only that the process serves.
func TestServiceReadyzFollowsDatabase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.do(req{Method: "GET", Path: "/readyz"}), http.StatusOK)
	sqlDB, err := e.App.DB.DB.DB()
	if err != nil {
		t.Fatalf("sql.DB: %v", err)
	}
	if err := sqlDB.Close(); err != nil {
		t.Fatalf("close database: %v", err)
	}
	r := e.do(req{Method: "GET", Path: "/readyz"})
	mustStatus(t, r, http.StatusServiceUnavailable)
	if m := r.JSON(t); m["status"] == "ok" || m["status"] == nil {
		t.Errorf("readyz with the database down: %s", r.Body)
	}
	mustStatus(t, e.do(req{Method: "GET", Path: "/healthz"}), http.StatusOK)
}

// TestServiceSpecDocuments: /openapi.json and /openapi.yaml are the same
// valid OpenAPI 3.0.3 document, served without credentials.
func TestServiceSpecDocuments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rj := e.do(req{Method: "GET", Path: "/openapi.json"})
	mustStatus(t, rj, http.StatusOK)
	if ct := rj.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("openapi.json Content-Type %q", ct)
	}
	var raw map[string]any
	if err := json.Unmarshal(rj.Body, &raw); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if raw["openapi"] != "3.0.3" {
		t.Errorf(`"openapi" = %v, want "3.0.3"`, raw["openapi"])
	}

	ry := e.do(req{Method: "GET", Path: "/openapi.yaml"})
	mustStatus(t, ry, http.StatusOK)
	if ct := ry.Header.Get("Content-Type"); !strings.Contains(ct, "yaml") {
		t.Errorf("openapi.yaml Content-Type %q, want a YAML type", ct)
	}
	if !strings.HasPrefix(strings.TrimLeft(string(ry.Body), "\ufeff \n"), "openapi: 3.0.3") && !strings.Contains(string(ry.Body), "\nopenapi: 3.0.3") {
		t.Errorf("openapi.yaml does not declare openapi: 3.0.3")
	}

	load := func(name string, b []byte) *openapi3.T {
		t.Helper()
		doc, err := openapi3.NewLoader().LoadFromData(b)
		if err != nil {
			t.Fatalf("%s does not load: %v", name, err)
		}
		if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
			t.Errorf("%s is not a valid document: %v", name, err)
		}
		return doc
	}
	dj, dy := load("openapi.json", rj.Body), load("openapi.yaml", ry.Body)
	pj, py := dj.Paths.InMatchingOrder(), dy.Paths.InMatchingOrder()
	if strings.Join(pj, " ") != strings.Join(py, " ") {
		t.Errorf("the JSON and YAML documents list different paths:\n%v\n%v", pj, py)
	}
	for _, p := range []string{"/v3/auth/tokens", "/v3.0/OS-USER/users", "/v4/user/https-password-setting",
		"/v2/user/{iam_user_uuid}/validate-https-info", "/api/v2/tenant/users", "/healthz"} {
		if dj.Paths.Value(p) == nil {
			t.Errorf("the document lacks %s", p)
		}
	}
	// HEAD is not required; credentials are not needed, bad ones ignored.
	r := e.do(req{Method: "GET", Path: "/openapi.json", Token: "garbage"})
	mustStatus(t, r, http.StatusOK)
}

// svcAttr finds src= and href= attribute values in HTML.
var svcAttr = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*["']([^"']*)["']`)

// svcAbsURL finds absolute and protocol-relative URLs.
var svcAbsURL = regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.\-]+\.[a-z]{2,}`)

// TestDocsSwaggerUI: /docs redirects to /docs/, which serves Swagger UI
// from local assets only (no CDN, no outside validator) pointed at
// /openapi.json.
func TestDocsSwaggerUI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := svcGet(e, "/docs", nil)
	if r.Status != http.StatusMovedPermanently && r.Status != http.StatusFound &&
		r.Status != http.StatusTemporaryRedirect && r.Status != http.StatusPermanentRedirect {
		t.Fatalf("/docs: %d, want a redirect", r.Status)
	}
	if loc := r.Header.Get("Location"); loc != "/docs/" {
		t.Errorf("/docs redirects to %q, want /docs/", loc)
	}

	r = svcGet(e, "/docs/", nil)
	mustStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("/docs/ Content-Type %q, want text/html", ct)
	}
	page := string(r.Body)
	if !strings.Contains(strings.ToLower(page), "swagger-ui") {
		t.Errorf("/docs/ does not look like Swagger UI")
	}
	if m := svcAbsURL.FindString(page); m != "" || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("/docs/ references an outside URL %q", m)
	}

	base, _ := url.Parse(e.URL + "/docs/")
	var assets []string
	var scripts, styles int
	for _, m := range svcAttr.FindAllStringSubmatch(page, -1) {
		ref := m[1]
		u, err := url.Parse(ref)
		if err != nil {
			t.Errorf("bad reference %q: %v", ref, err)
			continue
		}
		if u.Scheme != "" || u.Host != "" || strings.HasPrefix(ref, "//") {
			t.Errorf("/docs/ references %q on another host", ref)
			continue
		}
		abs := base.ResolveReference(u)
		assets = append(assets, abs.RequestURI())
		switch {
		case strings.HasSuffix(abs.Path, ".js"):
			scripts++
		case strings.HasSuffix(abs.Path, ".css"):
			styles++
		}
	}
	if scripts == 0 || styles == 0 {
		t.Fatalf("/docs/ references %d scripts and %d stylesheets: %v", scripts, styles, assets)
	}

	// Every referenced asset is served; together they point at /openapi.json
	// and never at an outside validator.
	specRef := strings.Contains(page, "/openapi.json") || strings.Contains(page, "openapi.json")
	for _, a := range assets {
		t.Run(a, func(t *testing.T) {
			r := svcGet(biOn(e, t), a, nil)
			mustStatus(t, r, http.StatusOK)
			if len(r.Body) == 0 {
				t.Fatalf("%s is empty", a)
			}
			ct := r.Header.Get("Content-Type")
			switch {
			case strings.HasSuffix(a, ".js") && !strings.Contains(ct, "javascript"):
				t.Errorf("%s Content-Type %q", a, ct)
			case strings.HasSuffix(a, ".css") && !strings.HasPrefix(ct, "text/css"):
				t.Errorf("%s Content-Type %q", a, ct)
			case strings.HasSuffix(a, ".png") && !strings.HasPrefix(ct, "image/png"):
				t.Errorf("%s Content-Type %q", a, ct)
			}
			if !strings.Contains(a, "initializer") {
				return
			}
			js := string(r.Body)
			// Resolve the spec URL the initializer loads against the page.
			m := regexp.MustCompile(`url\s*:\s*["']([^"']+)["']`).FindStringSubmatch(js)
			if m == nil {
				t.Fatalf("the initializer names no spec url: %s", js)
			}
			u, _ := url.Parse(m[1])
			if got := base.ResolveReference(u); got.Host != base.Host || got.Path != "/openapi.json" {
				t.Errorf("the initializer loads %q (%s), want /openapi.json on this host", m[1], got)
			}
			specRef = true
			if !regexp.MustCompile(`validatorUrl\s*:\s*null`).MatchString(js) {
				t.Errorf("the initializer does not set validatorUrl: null (the page would call an outside validator)")
			}
			if strings.Contains(js, "http://") || strings.Contains(js, "https://") || strings.Contains(js, "petstore") {
				t.Errorf("the initializer references an outside URL: %s", js)
			}
		})
	}
	if !specRef {
		t.Errorf("neither /docs/ nor its scripts point at /openapi.json")
	}

	// The distribution's own index is not served as a loop, unknown assets
	// are 404, and nothing escapes the asset directory.
	r = svcGet(e, "/docs/index.html", nil)
	if r.Status != http.StatusOK && (r.Status < 300 || r.Status >= 400 || r.Header.Get("Location") == "/docs/index.html") {
		t.Errorf("/docs/index.html: %d Location %q", r.Status, r.Header.Get("Location"))
	}
	for _, p := range []string{"/docs/nope.js", "/docs/../openapi.json", "/docs/..%2f..%2fgo.mod", "/docs/%2e%2e/%2e%2e/etc/passwd"} {
		r := svcGet(e, p, nil)
		if r.Status == http.StatusOK && (strings.Contains(string(r.Body), "root:") || strings.Contains(string(r.Body), "module ")) {
			t.Errorf("%s leaks a file outside the assets", p)
		}
		if p == "/docs/nope.js" && r.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, r.Status)
		}
	}
}

// svcGeneratedID is the shape of a request id the server makes.
var svcGeneratedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestServiceRequestID: every response carries X-Request-Id (env.do checks
// it on every request of the suite); a sane incoming id is echoed, an
// unsafe one is replaced by a fresh id, on successes and errors of every
// family alike.
func TestServiceRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	rememberSecret(admin)
	type call struct {
		name, method, path string
		headers            map[string]string
		body               string
	}
	calls := []call{
		{"healthz", "GET", "/healthz", nil, ""},
		{"docs", "GET", "/docs/", nil, ""},
		{"docs redirect", "GET", "/docs", nil, ""},
		{"openapi", "GET", "/openapi.json", nil, ""},
		{"keystone 201", "POST", "/v3/auth/tokens?nocatalog", map[string]string{"Content-Type": "application/json"},
			`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","password":"` + adminPassword + `","domain":{"name":"default"}}}}}}`},
		{"keystone 400", "POST", "/v3/auth/tokens", map[string]string{"Content-Type": "application/json"}, `{`},
		{"keystone 404", "GET", "/v3/nope", nil, ""},
		{"iam 200", "GET", "/v3.0/OS-USER/users/" + e.AdminID, map[string]string{"X-Auth-Token": admin}, ""},
		{"iam 401", "GET", "/v3.0/OS-USER/users/" + e.AdminID, nil, ""},
		{"iam 405", "PATCH", "/v3.0/OS-USER/users", nil, ""},
		{"repo-v2 415", "POST", "/v2/user/" + e.AdminID + "/validate-https-info", map[string]string{"X-Auth-Token": admin, "Content-Type": "text/xml"}, `<pwd/>`},
		{"repo-v4 413", "PUT", "/v4/user/https-password-setting", map[string]string{"X-Auth-Token": admin, "Content-Type": "application/json"},
			`{"x":"` + strings.Repeat("a", 40<<10) + `"}`},
		{"ciam 401", "GET", "/api/v2/tenant/users/" + e.AdminID, nil, ""},
		{"outside 404", "GET", "/nope", nil, ""},
	}
	seen := map[string]bool{}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			e := biOn(e, t)
			send := func(id string) *resp {
				h := map[string]string{}
				for k, v := range c.headers {
					h[k] = v
				}
				if id != "" {
					h["X-Request-Id"] = id
				}
				return biRaw(e, c.method, c.path, h, c.body, false)
			}
			// Generated: 32 lowercase hex, different every time.
			r := send("")
			id := r.Header.Get("X-Request-Id")
			if !svcGeneratedID.MatchString(id) {
				t.Errorf("generated X-Request-Id %q is not 32 lowercase hex", id)
			}
			if seen[id] {
				t.Errorf("X-Request-Id %q repeats", id)
			}
			seen[id] = true
			if len(r.Header.Values("X-Request-Id")) != 1 {
				t.Errorf("X-Request-Id sent %d times", len(r.Header.Values("X-Request-Id")))
			}
			// Sane incoming ids are echoed.
			for _, in := range []string{"abc-123_XYZ.7", "0c5a1e2b-3d4f-45a6-b7c8-d9e0f1a2b3c4", strings.Repeat("a", 128)} {
				r := send(in)
				if got := r.Header.Get("X-Request-Id"); got != in {
					t.Errorf("incoming %q answered %q", in, got)
				}
			}
			// Unsafe or oversize ids are replaced by a fresh one.
			for _, in := range []string{"has space", "<script>", "a;b=c", "ünïcode", strings.Repeat("b", 129), "x\ty"} {
				r := send(in)
				got := r.Header.Get("X-Request-Id")
				if got == in || !svcGeneratedID.MatchString(got) {
					t.Errorf("incoming %q answered %q, want a fresh id", in, got)
				}
			}
		})
	}
	// The id of a request is the one in its error body's log line: the
	// server logs it (checked through the captured log).
	r := biRaw(e, "GET", "/v3/nope", map[string]string{"X-Request-Id": "svc-trace-4711"}, "", false)
	if r.Header.Get("X-Request-Id") != "svc-trace-4711" {
		t.Fatalf("echo failed: %q", r.Header.Get("X-Request-Id"))
	}
	if !strings.Contains(e.logs.String(), "svc-trace-4711") {
		t.Errorf("the request id is not in the server log")
	}
}
