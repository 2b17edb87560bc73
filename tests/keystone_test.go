package tests

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/config"
)

// Passwords that satisfy the default policy (8-32 characters, at least two
// character types, not common, not containing the user names used below).
// ksPwAmp has <>& so that it travels JSON-escaped (\u003c) the way Go's
// encoder, and gophercloud, send it.
const (
	ksPwA   = "Quiet-Harbor-73"
	ksPwB   = "Amber#Falcon-92"
	ksPwC   = "Cobalt-Meadow-41"
	ksPwAmp = "Tidal<River>&58"
)

func init() {
	for _, p := range []string{ksPwA, ksPwB, ksPwC, ksPwAmp} {
		rememberSecret(p)
	}
}

var ksTimeRe = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

// ksFor returns a view of e whose failures are reported on t (a subtest),
// so that a helper failing inside a subtest never calls FailNow on the
// parent test.
func (e *env) ksFor(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// ksUser creates a user (pwd_status false) and remembers its password.
func (e *env) ksUser(adminTok, name, password string, extra map[string]any) string {
	e.t.Helper()
	rememberSecret(password)
	return e.createUser(adminTok, name, password, extra)
}

// ksTok issues a token for name/password in the bootstrap domain and
// remembers it as a secret.
func (e *env) ksTok(name, password string) string {
	e.t.Helper()
	tok := e.token(name, password)
	rememberSecret(tok)
	return tok
}

// ksPasswordIdentity is auth.identity for the password method.
func ksPasswordIdentity(user map[string]any) map[string]any {
	return map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": user}}
}

// ksAuth builds a token request; with a scope argument, auth.scope is set
// to it (nil marshals as JSON null).
func ksAuth(identity map[string]any, scope ...any) map[string]any {
	a := map[string]any{"identity": identity}
	if len(scope) > 0 {
		a["scope"] = scope[0]
	}
	return map[string]any{"auth": a}
}

func ksByName(name, password string) map[string]any {
	return ksPasswordIdentity(map[string]any{"name": name, "password": password, "domain": map[string]any{"name": domainName}})
}

// ksErr asserts a Keystone error envelope with exactly the fields
// code, title, message, error_code and error_msg, and returns the message.
func ksErr(t testing.TB, r *resp, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d (%s): %s", r.Status, status, code, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("error body is not a Keystone envelope: %v: %s", err, r.Body)
	}
	if len(body) != 1 || body["error"] == nil {
		t.Fatalf("error body has keys other than error: %s", r.Body)
	}
	e := body["error"]
	if got := ksKeys(e); !slices.Equal(got, []string{"code", "error_code", "error_msg", "message", "title"}) {
		t.Errorf("error keys %v: %s", got, r.Body)
	}
	if c, ok := e["code"].(float64); !ok || int(c) != status {
		t.Errorf("error.code %v, want the integer %d", e["code"], status)
	}
	if e["title"] != http.StatusText(status) {
		t.Errorf("error.title %v, want %q", e["title"], http.StatusText(status))
	}
	if e["error_code"] != code {
		t.Errorf("error.error_code %v, want %q: %s", e["error_code"], code, r.Body)
	}
	msg, _ := e["message"].(string)
	if msg == "" || e["error_msg"] != msg {
		t.Errorf("error.message %q and error_msg %v must be equal and non-empty", msg, e["error_msg"])
	}
	return msg
}

func ksKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type ksRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type ksEndpoint struct {
	ID        string `json:"id"`
	Interface string `json:"interface"`
	Region    string `json:"region"`
	RegionID  string `json:"region_id"`
	URL       string `json:"url"`
}

type ksCatalogEntry struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Type      string       `json:"type"`
	Endpoints []ksEndpoint `json:"endpoints"`
}

type ksToken struct {
	Methods   []string `json:"methods"`
	ExpiresAt string   `json:"expires_at"`
	IssuedAt  string   `json:"issued_at"`
	User      struct {
		ID                string  `json:"id"`
		Name              string  `json:"name"`
		Domain            ksRef   `json:"domain"`
		PasswordExpiresAt *string `json:"password_expires_at"`
	} `json:"user"`
	Roles   []ksRef           `json:"roles"`
	Domain  *ksRef            `json:"domain"`
	Catalog *[]ksCatalogEntry `json:"catalog"`

	keys []string // top-level keys of "token"
}

// ksTokenOf decodes a token body (issue or validation).
func ksTokenOf(t testing.TB, r *resp) ksToken {
	t.Helper()
	var raw struct {
		Token json.RawMessage `json:"token"`
	}
	if err := json.Unmarshal(r.Body, &raw); err != nil || raw.Token == nil {
		t.Fatalf("no token in body (%v): %s", err, r.Body)
	}
	var tk ksToken
	if err := json.Unmarshal(raw.Token, &tk); err != nil {
		t.Fatalf("decode token: %v: %s", err, r.Body)
	}
	var m map[string]any
	_ = json.Unmarshal(raw.Token, &m)
	tk.keys = ksKeys(m)
	return tk
}

// ksCheckToken asserts the common fields of a token body.
func (e *env) ksCheckToken(t testing.TB, tk ksToken, userID, userName string, scoped, catalog bool) {
	t.Helper()
	want := []string{"expires_at", "issued_at", "methods", "roles", "user"}
	if scoped {
		want = append(want, "domain")
	}
	if catalog {
		want = append(want, "catalog")
	}
	sort.Strings(want)
	if !slices.Equal(tk.keys, want) {
		t.Errorf("token keys %v, want %v", tk.keys, want)
	}
	if tk.User.ID != userID || tk.User.Name != userName {
		t.Errorf("token user %s/%s, want %s/%s", tk.User.ID, tk.User.Name, userID, userName)
	}
	if tk.User.Domain != (ksRef{ID: e.DomainID, Name: domainName}) {
		t.Errorf("token user domain %+v, want %s/%s", tk.User.Domain, e.DomainID, domainName)
	}
	if tk.User.PasswordExpiresAt == nil || *tk.User.PasswordExpiresAt != "" {
		t.Errorf("user.password_expires_at %v, want \"\" (never expires under the default policy)", tk.User.PasswordExpiresAt)
	}
	if scoped {
		if tk.Domain == nil || *tk.Domain != (ksRef{ID: e.DomainID, Name: domainName}) {
			t.Errorf("token domain %+v, want %s/%s", tk.Domain, e.DomainID, domainName)
		}
	} else if tk.Domain != nil {
		t.Errorf("unscoped token has a domain: %+v", tk.Domain)
	}
	if catalog {
		if tk.Catalog == nil || len(*tk.Catalog) != 1 {
			t.Fatalf("catalog %+v, want one entry", tk.Catalog)
		}
		c := (*tk.Catalog)[0]
		if c.Type != "identity" || c.ID == "" || c.Name == "" || len(c.Endpoints) != 1 {
			t.Fatalf("catalog entry %+v", c)
		}
		ep := c.Endpoints[0]
		if ep.Interface != "public" || ep.URL != e.URL || ep.ID == "" || ep.Region != "*" || ep.RegionID != "*" {
			t.Errorf("catalog endpoint %+v, want public %s region *", ep, e.URL)
		}
	} else if tk.Catalog != nil {
		t.Errorf("catalog present although nocatalog was sent")
	}
	for name, v := range map[string]string{"expires_at": tk.ExpiresAt, "issued_at": tk.IssuedAt} {
		if !ksTimeRe.MatchString(v) {
			t.Errorf("%s %q does not match %s", name, v, ksTimeRe)
		}
	}
}

func ksParseTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

// ksValidate is GET/HEAD/DELETE /v3/auth/tokens.
func (e *env) ksValidate(method, authTok, subjectTok, query string) *resp {
	e.t.Helper()
	h := map[string]string{}
	if subjectTok != "" {
		h["X-Subject-Token"] = subjectTok
	}
	return e.do(req{Method: method, Path: "/v3/auth/tokens" + query, Token: authTok, Header: h})
}

// ksSelfID returns the user id a token belongs to.
func (e *env) ksSelfID(tok string) string {
	e.t.Helper()
	r := e.ksValidate("GET", tok, tok, "?nocatalog")
	mustStatus(e.t, r, http.StatusOK)
	return ksTokenOf(e.t, r).User.ID
}

// ---------------------------------------------------------------- discovery

func TestKeystoneDiscovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	type version struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Updated string `json:"updated"`
		Links   []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
		MediaTypes []struct {
			Base string `json:"base"`
			Type string `json:"type"`
		} `json:"media-types"`
	}
	check := func(t *testing.T, v version) {
		t.Helper()
		if !strings.HasPrefix(v.ID, "v3") || v.Status != "stable" || v.Updated == "" {
			t.Errorf("version %+v", v)
		}
		if len(v.Links) != 1 || v.Links[0].Rel != "self" || v.Links[0].Href != e.URL+"/v3/" {
			t.Errorf("links %+v, want self %s/v3/", v.Links, e.URL)
		}
		if !strings.HasSuffix(v.Links[0].Href, "/") {
			t.Errorf("self href %q must end in /", v.Links[0].Href)
		}
		if len(v.MediaTypes) != 1 || v.MediaTypes[0].Base != "application/json" || v.MediaTypes[0].Type != "application/vnd.openstack.identity-v3+json" {
			t.Errorf("media-types %+v", v.MediaTypes)
		}
	}
	t.Run("root", func(t *testing.T) {
		e := e.ksFor(t)
		// Content-Type on a GET and no Accept are accepted (client must-have 12).
		r := e.do(req{Method: "GET", Path: "/", Header: map[string]string{"Content-Type": "application/json;charset=utf8"}})
		mustStatus(t, r, http.StatusMultipleChoices)
		var doc struct {
			Versions struct {
				Values []version `json:"values"`
			} `json:"versions"`
		}
		if err := json.Unmarshal(r.Body, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Versions.Values) != 1 {
			t.Fatalf("versions.values: %s", r.Body)
		}
		check(t, doc.Versions.Values[0])
	})
	t.Run("v3", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.do(req{Method: "GET", Path: "/v3"})
		mustStatus(t, r, http.StatusOK)
		var doc struct {
			Version *version `json:"version"`
		}
		if err := json.Unmarshal(r.Body, &doc); err != nil || doc.Version == nil {
			t.Fatalf("no version (%v): %s", err, r.Body)
		}
		check(t, *doc.Version)
	})
}

// ---------------------------------------------------------------- POST /v3/auth/tokens

func TestKeystoneTokenIssue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "alice", ksPwA, nil)
	ampID := e.ksUser(adm, "amos", ksPwAmp, nil)

	byID := ksPasswordIdentity(map[string]any{"id": uid, "password": ksPwA})
	byDomainID := ksPasswordIdentity(map[string]any{"name": "alice", "password": ksPwA, "domain": map[string]any{"id": e.DomainID}})
	trimmed := ksByName("alice", ksPwA)
	trimmed["methods"] = []string{" password "}

	tests := []struct {
		name     string
		body     any
		query    string
		ct       string
		userID   string
		userName string
		scoped   bool
		catalog  bool
		methods  []string
	}{
		{name: "user id", body: ksAuth(byID), catalog: true},
		{name: "name and domain name", body: ksAuth(ksByName("alice", ksPwA)), catalog: true},
		{name: "name and domain id", body: ksAuth(byDomainID), catalog: true},
		{name: "method name trimmed", body: ksAuth(trimmed), catalog: true},
		{name: "scope domain id", body: ksAuth(byID, map[string]any{"domain": map[string]any{"id": e.DomainID}}), scoped: true, catalog: true},
		{name: "scope domain name", body: ksAuth(byID, map[string]any{"domain": map[string]any{"name": domainName}}), scoped: true, catalog: true},
		{name: "scope null", body: ksAuth(byID, nil), catalog: true},
		{name: "scope empty object", body: ksAuth(byID, map[string]any{}), catalog: true},
		{name: "scope absent", body: ksAuth(byID), catalog: true},
		{name: "nocatalog bare", body: ksAuth(byID), query: "?nocatalog"},
		{name: "nocatalog empty", body: ksAuth(byID), query: "?nocatalog="},
		{name: "nocatalog true", body: ksAuth(byID), query: "?nocatalog=true"},
		{name: "nocatalog false still drops it", body: ksAuth(byID), query: "?nocatalog=false"},
		{name: "nocatalog with scope", body: ksAuth(byID, map[string]any{"domain": map[string]any{"id": e.DomainID}}), query: "?nocatalog=1", scoped: true},
		{name: "charset utf8", body: ksAuth(byID), ct: "application/json;charset=utf8", catalog: true},
		{name: "charset UTF-8", body: ksAuth(byID), ct: "application/json; charset=UTF-8", catalog: true},
		{name: "trailing newline", body: `{"auth":{"identity":{"methods":["password"],"password":{"user":{"password":"` + ksPwA + `","id":"` + uid + `"}}}}}` + "\n", catalog: true},
		{name: "escaped <>& in password", body: ksAuth(ksPasswordIdentity(map[string]any{"id": ampID, "password": ksPwAmp})), userID: ampID, userName: "amos", catalog: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.do(req{Method: "POST", Path: "/v3/auth/tokens" + tc.query, Body: tc.body, CT: tc.ct})
			mustStatus(t, r, http.StatusCreated)
			tok := r.Header.Get("X-Subject-Token")
			if tok == "" {
				t.Fatal("no X-Subject-Token")
			}
			rememberSecret(tok)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			id, name := uid, "alice"
			if tc.userID != "" {
				id, name = tc.userID, tc.userName
			}
			tk := ksTokenOf(t, r)
			e.ksCheckToken(t, tk, id, name, tc.scoped, tc.catalog)
			if !slices.Equal(tk.Methods, []string{"password"}) {
				t.Errorf("methods %q, want [password]", tk.Methods)
			}
			if len(tk.Roles) != 0 || strings.Contains(string(r.Body), `"roles":null`) {
				t.Errorf("roles of a plain user %+v, want [] (%s)", tk.Roles, r.Body)
			}
			// The token works as X-Auth-Token.
			mustStatus(t, e.ksValidate("HEAD", tok, tok, ""), http.StatusOK)
		})
	}
}

func TestKeystoneTokenTimes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := time.Now().Add(-time.Second)
	r := e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Body: passwordAuth(adminName, adminPassword)})
	mustStatus(t, r, http.StatusCreated)
	after := time.Now().Add(time.Second)
	tk := ksTokenOf(t, r)
	e.ksCheckToken(t, tk, e.AdminID, adminName, false, false)
	issued, expires := ksParseTime(t, tk.IssuedAt), ksParseTime(t, tk.ExpiresAt)
	if issued.Before(before) || issued.After(after) {
		t.Errorf("issued_at %s is not now", tk.IssuedAt)
	}
	if d := expires.Sub(issued); d != 24*time.Hour {
		t.Errorf("expires_at - issued_at = %s, want 24h", d)
	}
	// Validation shows the same times.
	tok := r.Header.Get("X-Subject-Token")
	rememberSecret(tok)
	v := e.ksValidate("GET", tok, tok, "?nocatalog")
	mustStatus(t, v, http.StatusOK)
	vt := ksTokenOf(t, v)
	if vt.IssuedAt != tk.IssuedAt || vt.ExpiresAt != tk.ExpiresAt {
		t.Errorf("validation times %s/%s, issue times %s/%s", vt.IssuedAt, vt.ExpiresAt, tk.IssuedAt, tk.ExpiresAt)
	}
}

func TestKeystoneTokenRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	secID := e.ksUser(adm, "sam", ksPwA, nil)
	e.setRole(secID, "secu_admin")
	e.ksUser(adm, "pat", ksPwB, nil)
	tests := []struct {
		name, user, pw string
		want           []ksRef
	}{
		{"owner", adminName, adminPassword, []ksRef{{"0", "te_admin"}, {"0", "secu_admin"}}},
		{"security administrator", "sam", ksPwA, []ksRef{{"0", "secu_admin"}}},
		{"plain user", "pat", ksPwB, []ksRef{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Body: passwordAuth(tc.user, tc.pw)})
			mustStatus(t, r, http.StatusCreated)
			rememberSecret(r.Header.Get("X-Subject-Token"))
			tk := ksTokenOf(t, r)
			got := tk.Roles
			if got == nil {
				t.Fatalf("roles missing or null: %s", r.Body)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("roles %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestKeystoneTokenErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	// One user per failure family keeps each user far below any lockout threshold.
	e.ksUser(adm, "wrongpw", ksPwA, nil)
	e.ksUser(adm, "scoper", ksPwA, nil)
	e.ksUser(adm, "methods", ksPwA, nil)
	otherID, _ := e.otherDomain("elsewhere")

	noPassword := ksByName("methods", ksPwA)
	delete(noPassword["password"].(map[string]any)["user"].(map[string]any), "password")

	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"malformed JSON", `{"auth":`, 400, "IAM.0011"},
		{"not an object", `[1,2]`, 400, "IAM.0011"},
		{"methods missing", map[string]any{"auth": map[string]any{"identity": map[string]any{"password": map[string]any{}}}}, 400, "IAM.0072"},
		{"identity missing", map[string]any{"auth": map[string]any{}}, 400, "IAM.0072"},
		{"password.user.password missing", ksAuth(noPassword), 400, "IAM.0072"},
		{"unsupported method saml", ksAuth(map[string]any{"methods": []string{"saml"}}), 401, "IAM.0001"},
		{"totp without password", ksAuth(map[string]any{"methods": []string{"totp"}, "totp": map[string]any{"user": map[string]any{"name": "methods", "domain": map[string]any{"name": domainName}, "passcode": "123456"}}}), 401, "IAM.0001"},
		{"project scope by id", ksAuth(ksByName("scoper", ksPwA), map[string]any{"project": map[string]any{"id": "5f4e3d2c1b0a49382716a5b4c3d2e1f0"}}), 401, "IAM.0001"},
		{"project scope by name", ksAuth(ksByName("scoper", ksPwA), map[string]any{"project": map[string]any{"name": "cn-north-4"}}), 401, "IAM.0001"},
		{"other domain scope by id", ksAuth(ksByName("scoper", ksPwA), map[string]any{"domain": map[string]any{"id": otherID}}), 401, "IAM.0001"},
		{"other domain scope by name", ksAuth(ksByName("scoper", ksPwA), map[string]any{"domain": map[string]any{"name": "elsewhere"}}), 401, "IAM.0001"},
		{"wrong password", ksAuth(ksByName("wrongpw", ksPwB)), 401, "IAM.0062"},
		{"unknown user", ksAuth(ksByName("nobody", ksPwB)), 401, "IAM.0062"},
		{"unknown user id", ksAuth(ksPasswordIdentity(map[string]any{"id": "0123456789abcdef0123456789abcdef", "password": ksPwB})), 401, "IAM.0062"},
		{"unknown domain", ksAuth(ksPasswordIdentity(map[string]any{"name": "wrongpw", "password": ksPwA, "domain": map[string]any{"name": "nowhere"}})), 401, "IAM.0062"},
		{"user in another domain", ksAuth(ksPasswordIdentity(map[string]any{"name": "wrongpw", "password": ksPwA, "domain": map[string]any{"id": otherID}})), 401, "IAM.0062"},
	}
	msgs := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: tc.body})
			msgs[tc.name] = ksErr(t, r, tc.status, tc.code)
			if r.Header.Get("X-Subject-Token") != "" {
				t.Error("an error carries X-Subject-Token")
			}
			if strings.Contains(string(r.Body), ksPwA) || strings.Contains(string(r.Body), ksPwB) {
				t.Error("the error echoes a password")
			}
		})
	}
	t.Run("unknown user and wrong password look alike", func(t *testing.T) {
		want := msgs["wrong password"]
		for _, k := range []string{"unknown user", "unknown user id", "unknown domain", "user in another domain"} {
			if msgs[k] != want {
				t.Errorf("%s: message %q, wrong password: %q", k, msgs[k], want)
			}
		}
	})
	t.Run("saml is named", func(t *testing.T) {
		if !strings.Contains(msgs["unsupported method saml"], "saml") {
			t.Errorf("message %q does not name the method", msgs["unsupported method saml"])
		}
	})
}

func TestKeystoneTokenDisabledAndConsole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	did := e.ksUser(adm, "dora", ksPwA, nil)
	e.ksUser(adm, "connie", ksPwB, map[string]any{"access_mode": "console"})
	e.ksUser(adm, "percy", ksPwC, map[string]any{"access_mode": "programmatic"})
	r := e.do(req{Method: "PATCH", Path: "/v3/users/" + did, Token: adm, Body: map[string]any{"user": map[string]any{"enabled": false}}})
	mustStatus(t, r, http.StatusOK)

	tests := []struct {
		name, user, pw string
		status         int
		code           string
	}{
		{"disabled, right password", "dora", ksPwA, 403, "IAM.0082"},
		{"disabled, wrong password", "dora", ksPwB, 401, "IAM.0062"},
		{"console only", "connie", ksPwB, 403, "IAM.0081"},
		{"console only, wrong password", "connie", ksPwA, 401, "IAM.0062"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth(tc.user, tc.pw)})
			msg := ksErr(t, r, tc.status, tc.code)
			if tc.code == "IAM.0082" && !strings.Contains(msg, "dora") {
				t.Errorf("message %q does not name the user", msg)
			}
		})
	}
	t.Run("programmatic gets a token", func(t *testing.T) {
		e.ksFor(t).ksTok("percy", ksPwC)
	})
}

func TestKeystoneTokenRescope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "rita", ksPwA, nil)
	src := e.ksTok("rita", ksPwA)
	srcBody := ksTokenOf(t, e.ksValidate("GET", src, src, "?nocatalog"))

	rescope := func(tok string, scope ...any) map[string]any {
		return ksAuth(map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": tok}}, scope...)
	}
	r := e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: rescope(src, map[string]any{"domain": map[string]any{"id": e.DomainID}})})
	mustStatus(t, r, http.StatusCreated)
	tok := r.Header.Get("X-Subject-Token")
	rememberSecret(tok)
	if tok == "" || tok == src {
		t.Fatalf("re-scope returned token %q", tok)
	}
	tk := ksTokenOf(t, r)
	e.ksCheckToken(t, tk, uid, "rita", true, true)
	if !slices.Equal(tk.Methods, []string{"token"}) {
		t.Errorf("methods %q, want [token]", tk.Methods)
	}
	if tk.ExpiresAt != srcBody.ExpiresAt {
		t.Errorf("re-scoped token expires %s, its source %s: it must not outlive it", tk.ExpiresAt, srcBody.ExpiresAt)
	}
	mustStatus(t, e.ksValidate("HEAD", tok, tok, ""), http.StatusOK)

	t.Run("unscoped re-scope", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Body: rescope(src)})
		mustStatus(t, r, http.StatusCreated)
		rememberSecret(r.Header.Get("X-Subject-Token"))
		e.ksCheckToken(t, ksTokenOf(t, r), uid, "rita", false, false)
	})
	t.Run("token.id missing", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: ksAuth(map[string]any{"methods": []string{"token"}})})
		ksErr(t, r, 400, "IAM.0072")
	})
	t.Run("garbage token", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: rescope("not-a-token")})
		ksErr(t, r, 401, "IAM.0067")
	})
	t.Run("revoked token cannot re-scope", func(t *testing.T) {
		e := e.ksFor(t)
		mustStatus(t, e.ksValidate("DELETE", src, src, ""), http.StatusNoContent)
		r := e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: rescope(src)})
		ksErr(t, r, 401, "IAM.0067")
		// The token re-scoped before the revocation is a token of its own.
		mustStatus(t, e.ksValidate("HEAD", tok, tok, ""), http.StatusOK)
	})
}

func TestKeystoneTokenIgnoresAuthHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	for name, h := range map[string]map[string]string{
		"garbage X-Auth-Token":   {"X-Auth-Token": "garbage"},
		"valid X-Auth-Token":     {"X-Auth-Token": adm},
		"Authorization":          {"Authorization": "Bearer nonsense"},
		"both garbage":           {"X-Auth-Token": "x", "Authorization": "SDK-HMAC-SHA256 Access=a, SignedHeaders=b, Signature=c"},
		"empty-ish X-Auth-Token": {"X-Auth-Token": " "},
	} {
		t.Run(name, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Header: h, Body: passwordAuth(adminName, adminPassword)})
			mustStatus(t, r, http.StatusCreated)
			rememberSecret(r.Header.Get("X-Subject-Token"))
			e.ksCheckToken(t, ksTokenOf(t, r), e.AdminID, adminName, false, false)
		})
	}
}

// ---------------------------------------------------------------- GET/HEAD/DELETE /v3/auth/tokens

func TestKeystoneTokenValidate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "vera", ksPwA, nil)
	e.ksUser(adm, "walt", ksPwB, nil)
	secID := e.ksUser(adm, "sid", ksPwC, nil)
	e.setRole(secID, "secu_admin")
	vera := e.ksTok("vera", ksPwA)
	walt := e.ksTok("walt", ksPwB)
	sec := e.ksTok("sid", ksPwC)
	_, foreign := e.otherDomain("faraway")
	rememberSecret(foreign)
	forged := vera[:len(vera)-4] + "AAAA" // same shape, wrong signature
	if forged == vera {
		forged = vera[:len(vera)-4] + "BBBB"
	}

	t.Run("GET self echoes X-Subject-Token", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.ksValidate("GET", vera, vera, "")
		mustStatus(t, r, http.StatusOK)
		if r.Header.Get("X-Subject-Token") != vera {
			t.Errorf("X-Subject-Token not echoed")
		}
		e.ksCheckToken(t, ksTokenOf(t, r), uid, "vera", false, true)
	})
	t.Run("GET nocatalog", func(t *testing.T) {
		e := e.ksFor(t)
		for _, q := range []string{"?nocatalog", "?nocatalog=", "?nocatalog=true"} {
			r := e.ksValidate("GET", vera, vera, q)
			mustStatus(t, r, http.StatusOK)
			e.ksCheckToken(t, ksTokenOf(t, r), uid, "vera", false, false)
		}
	})

	tests := []struct {
		name            string
		method          string
		auth, subject   string
		status          int
		code            string // "" for a success
		echo, emptyBody bool
	}{
		{name: "HEAD self", method: "HEAD", auth: vera, subject: vera, status: 200, emptyBody: true},
		{name: "owner validates a user's token", method: "GET", auth: adm, subject: vera, status: 200, echo: true},
		{name: "security administrator validates a user's token", method: "GET", auth: sec, subject: vera, status: 200, echo: true},
		{name: "owner HEAD a user's token", method: "HEAD", auth: adm, subject: vera, status: 200, emptyBody: true},
		{name: "plain user, other user's token", method: "GET", auth: walt, subject: vera, status: 403, code: "IAM.0002"},
		{name: "plain user, admin's token", method: "GET", auth: walt, subject: adm, status: 403, code: "IAM.0002"},
		{name: "plain user deletes other user's token", method: "DELETE", auth: walt, subject: vera, status: 403, code: "IAM.0002"},
		{name: "admin of another domain", method: "GET", auth: foreign, subject: vera, status: 403, code: "IAM.0002"},
		{name: "admin of another domain deletes", method: "DELETE", auth: foreign, subject: vera, status: 403, code: "IAM.0002"},
		{name: "garbage subject", method: "GET", auth: vera, subject: "garbage", status: 404, code: "IAM.0009"},
		{name: "forged subject", method: "GET", auth: vera, subject: forged, status: 404, code: "IAM.0009"},
		{name: "HEAD garbage subject", method: "HEAD", auth: vera, subject: "garbage", status: 404, emptyBody: true},
		{name: "DELETE garbage subject", method: "DELETE", auth: vera, subject: "garbage", status: 404, code: "IAM.0009"},
		{name: "missing X-Subject-Token", method: "GET", auth: vera, status: 400, code: "IAM.0007"},
		{name: "missing X-Auth-Token", method: "GET", subject: vera, status: 401, code: "IAM.0001"},
		{name: "garbage X-Auth-Token", method: "GET", auth: "garbage", subject: vera, status: 401, code: "IAM.0067"},
		{name: "HEAD missing X-Auth-Token", method: "HEAD", subject: vera, status: 401, emptyBody: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.ksValidate(tc.method, tc.auth, tc.subject, "")
			switch {
			case tc.method == "HEAD":
				mustStatus(t, r, tc.status)
			case tc.code != "":
				ksErr(t, r, tc.status, tc.code)
			default:
				mustStatus(t, r, tc.status)
			}
			if tc.emptyBody && len(r.Body) != 0 {
				t.Errorf("body %q, want none", r.Body)
			}
			if tc.echo {
				if r.Header.Get("X-Subject-Token") != tc.subject {
					t.Error("X-Subject-Token not echoed")
				}
				if tk := ksTokenOf(t, r); tk.User.ID != uid {
					t.Errorf("validated token of %s, want %s", tk.User.ID, uid)
				}
			}
		})
	}
	// The failed attempts above changed nothing.
	mustStatus(t, e.ksValidate("HEAD", vera, vera, ""), http.StatusOK)
}

func TestKeystoneTokenRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	e.ksUser(adm, "ralph", ksPwA, nil)
	t.Run("self", func(t *testing.T) {
		e := e.ksFor(t)
		tok := e.ksTok("ralph", ksPwA)
		other := e.ksTok("ralph", ksPwA) // a second token of the same user survives
		r := e.ksValidate("DELETE", tok, tok, "")
		mustStatus(t, r, http.StatusNoContent)
		if len(r.Body) != 0 {
			t.Errorf("204 with body %q", r.Body)
		}
		ksErr(t, e.ksValidate("GET", adm, tok, ""), 404, "IAM.0009")
		r = e.ksValidate("HEAD", adm, tok, "")
		mustStatus(t, r, http.StatusNotFound)
		if len(r.Body) != 0 {
			t.Errorf("HEAD 404 with body %q", r.Body)
		}
		ksErr(t, e.ksValidate("GET", tok, other, ""), 401, "IAM.0067")
		ksErr(t, e.do(req{Method: "GET", Path: "/v3/users", Token: tok}), 401, "IAM.0067")
		ksErr(t, e.ksValidate("DELETE", adm, tok, ""), 404, "IAM.0009")
		mustStatus(t, e.ksValidate("HEAD", other, other, ""), http.StatusOK)
	})
	t.Run("by admin", func(t *testing.T) {
		e := e.ksFor(t)
		tok := e.ksTok("ralph", ksPwA)
		mustStatus(t, e.ksValidate("DELETE", adm, tok, ""), http.StatusNoContent)
		ksErr(t, e.ksValidate("GET", tok, tok, ""), 401, "IAM.0067")
		mustStatus(t, e.ksValidate("HEAD", adm, adm, ""), http.StatusOK)
	})
}

func TestKeystoneTokenExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.TokenLifetime = time.Second })
	old := e.adminToken()
	rememberSecret(old)
	time.Sleep(1200 * time.Millisecond)
	ksErr(t, e.ksValidate("GET", old, old, ""), 401, "IAM.0066")
	ksErr(t, e.do(req{Method: "GET", Path: "/v3/users", Token: old}), 401, "IAM.0066")
	fresh := e.adminToken()
	rememberSecret(fresh)
	ksErr(t, e.ksValidate("GET", fresh, old, ""), 404, "IAM.0009")
	r := e.ksValidate("HEAD", fresh, old, "")
	mustStatus(t, r, http.StatusNotFound)
	// An expired token cannot be re-scoped either.
	r = e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: ksAuth(map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": old}})})
	ksErr(t, r, 401, "IAM.0066")
	// The lifetime is reported as configured.
	r = e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Body: passwordAuth(adminName, adminPassword)})
	mustStatus(t, r, http.StatusCreated)
	rememberSecret(r.Header.Get("X-Subject-Token"))
	tk := ksTokenOf(t, r)
	if d := ksParseTime(t, tk.ExpiresAt).Sub(ksParseTime(t, tk.IssuedAt)); d != time.Second {
		t.Errorf("lifetime %s, want 1s", d)
	}
}

// ---------------------------------------------------------------- POST /v3/users/{id}/password

func ksChangeBody(newPw, original string) map[string]any {
	return map[string]any{"user": map[string]any{"password": newPw, "original_password": original}}
}

func TestKeystoneChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "erin", ksPwA, nil)
	tok := e.ksTok("erin", ksPwA)
	second := e.ksTok("erin", ksPwA)

	r := e.do(req{Method: "POST", Path: "/v3/users/" + uid + "/password", Token: tok, Body: ksChangeBody(ksPwB, ksPwA),
		CT: "application/json;charset=utf8"})
	mustStatus(t, r, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with body %q", r.Body)
	}
	// Every token of the user is revoked, the caller's included.
	ksErr(t, e.ksValidate("GET", tok, tok, ""), 401, "IAM.0067")
	ksErr(t, e.ksValidate("GET", second, second, ""), 401, "IAM.0067")
	ksErr(t, e.ksValidate("GET", adm, tok, ""), 404, "IAM.0009")
	// The old password is gone, the new one works.
	ksErr(t, e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth("erin", ksPwA)}), 401, "IAM.0062")
	fresh := e.ksTok("erin", ksPwB)
	r = e.do(req{Method: "GET", Path: "/v3/users/" + uid, Token: fresh})
	mustStatus(t, r, http.StatusOK)
	if u := ksUserOf(t, r); u.PwdStatus {
		t.Error("pwd_status still true after the change")
	}
	// Admin tokens are untouched.
	mustStatus(t, e.ksValidate("HEAD", adm, adm, ""), http.StatusOK)
}

func TestKeystoneChangePasswordErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "mallory", ksPwA, map[string]any{
		"email": "orchid.keeper@example.org", "areacode": "0086", "phone": "13812345678",
	})
	oid := e.ksUser(adm, "oscar", ksPwB, nil)
	tok := e.ksTok("mallory", ksPwA)
	path := "/v3/users/" + uid + "/password"
	weak := "Password123!"
	rememberSecret(weak)

	tests := []struct {
		name   string
		path   string
		token  string
		body   any
		status int
		code   string
		msg    string // a word the message must contain
	}{
		{name: "another user's id", path: "/v3/users/" + oid + "/password", token: tok, body: ksChangeBody(ksPwC, ksPwB), status: 403, code: "IAM.0002"},
		{name: "unknown user id", path: "/v3/users/0123456789abcdef0123456789abcdef/password", token: tok, body: ksChangeBody(ksPwC, ksPwA), status: 403, code: "IAM.0002"},
		{name: "admin on another user", path: path, token: adm, body: ksChangeBody(ksPwC, ksPwA), status: 403, code: "IAM.0002"},
		{name: "no token", path: path, body: ksChangeBody(ksPwC, ksPwA), status: 401, code: "IAM.0001"},
		{name: "garbage token", path: path, token: "garbage", body: ksChangeBody(ksPwC, ksPwA), status: 401, code: "IAM.0067"},
		{name: "malformed body", path: path, token: tok, body: `{"user":`, status: 400, code: "IAM.0011"},
		{name: "original missing", path: path, token: tok, body: map[string]any{"user": map[string]any{"password": ksPwC}}, status: 400, code: "IAM.0072"},
		{name: "wrong original", path: path, token: tok, body: ksChangeBody(ksPwC, ksPwB), status: 401, code: "IAM.0062"},
		{name: "wrong original before the rules", path: path, token: tok, body: ksChangeBody("short", ksPwB), status: 401, code: "IAM.0062"},
		{name: "too short", path: path, token: tok, body: ksChangeBody("Ab-1", ksPwA), status: 400, code: "1103", msg: "8"},
		{name: "too long", path: path, token: tok, body: ksChangeBody(strings.Repeat("Ab-1", 8)+"x", ksPwA), status: 400, code: "1103", msg: "32"},
		{name: "one character type", path: path, token: tok, body: ksChangeBody("onlylowercaseletters", ksPwA), status: 400, code: "1103", msg: "at least"},
		{name: "control character", path: path, token: tok, body: ksChangeBody("Quiet\x01Harbor-73", ksPwA), status: 400, code: "1103", msg: "control"},
		{name: "weak dictionary password", path: path, token: tok, body: ksChangeBody(weak, ksPwA), status: 400, code: "1118"},
		{name: "weak with substitutions", path: path, token: tok, body: ksChangeBody("P@ssw0rd-2024", ksPwA), status: 400, code: "1118"},
		{name: "same as current", path: path, token: tok, body: ksChangeBody(ksPwA, ksPwA), status: 400, code: "1108"},
		{name: "the username", path: path, token: tok, body: ksChangeBody("Mallory-Quiet-73", ksPwA), status: 400, code: "1103", msg: "username"},
		{name: "contains the phone", path: path, token: tok, body: ksChangeBody("Zx-13812345678", ksPwA), status: 400, code: "1103", msg: "mobile"},
		{name: "contains the email", path: path, token: tok, body: ksChangeBody("Orchid.Keeper-7", ksPwA), status: 400, code: "1103", msg: "email"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.do(req{Method: "POST", Path: tc.path, Token: tc.token, Body: tc.body})
			msg := ksErr(t, r, tc.status, tc.code)
			if tc.msg != "" && !strings.Contains(strings.ToLower(msg), tc.msg) {
				t.Errorf("message %q does not name the rule (%q)", msg, tc.msg)
			}
			for _, secret := range []string{ksPwA, ksPwB, ksPwC, weak} {
				if strings.Contains(msg, secret) {
					t.Errorf("message echoes a password: %q", msg)
				}
			}
		})
	}
	t.Run("exact 400 body", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.do(req{Method: "POST", Path: path, Token: tok, Body: ksChangeBody("Ab-1", ksPwA)})
		mustStatus(t, r, http.StatusBadRequest)
		var got map[string]map[string]any
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		msg, _ := got["error"]["message"].(string)
		want := map[string]map[string]any{"error": {
			"code": float64(400), "title": "Bad Request", "message": msg, "error_code": "1103", "error_msg": msg,
		}}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if msg == "" || !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("body %s, want %s", gotJSON, wantJSON)
		}
	})
	// Nothing above changed the password or revoked the token.
	mustStatus(t, e.ksValidate("HEAD", tok, tok, ""), http.StatusOK)
	e.ksTok("mallory", ksPwA)
	e.ksTok("oscar", ksPwB)

	t.Run("the username reversed", func(t *testing.T) {
		e := e.ksFor(t)
		zid := e.ksUser(adm, "Zephyr-Lane", ksPwA, nil)
		ztok := e.ksTok("Zephyr-Lane", ksPwA)
		for _, pw := range []string{"enaL-ryhpeZ", "Zephyr-Lane"} {
			r := e.do(req{Method: "POST", Path: "/v3/users/" + zid + "/password", Token: ztok, Body: ksChangeBody(pw, ksPwA)})
			if msg := ksErr(t, r, 400, "1103"); !strings.Contains(msg, "username") {
				t.Errorf("%s: message %q does not name the rule", pw, msg)
			}
		}
	})
}

func TestKeystoneRestrictedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	// A security administrator, so every 403 below is the restriction, not the role.
	uid := e.ksUser(adm, "rosa", ksPwA, map[string]any{"pwd_status": true})
	e.setRole(uid, "secu_admin")
	tok := e.ksTok("rosa", ksPwA)

	type named struct {
		name string
		rq   req
	}
	allowed := []named{
		{"show self", req{Method: "GET", Path: "/v3/users/" + uid, Token: tok}},
		{"validate own token", req{Method: "GET", Path: "/v3/auth/tokens", Token: tok, Header: map[string]string{"X-Subject-Token": tok}}},
		{"check own token", req{Method: "HEAD", Path: "/v3/auth/tokens", Token: tok, Header: map[string]string{"X-Subject-Token": tok}}},
		{"show self v3.0", req{Method: "GET", Path: "/v3.0/OS-USER/users/" + uid, Token: tok}},
	}
	for _, tc := range allowed {
		t.Run("allowed "+tc.name, func(t *testing.T) {
			mustStatus(t, e.ksFor(t).do(tc.rq), http.StatusOK)
		})
	}
	denied := []named{
		{"list users", req{Method: "GET", Path: "/v3/users", Token: tok}},
		{"create user", req{Method: "POST", Path: "/v3/users", Token: tok, Body: map[string]any{"user": map[string]any{"name": "nobody"}}}},
		{"show other user", req{Method: "GET", Path: "/v3/users/" + e.AdminID, Token: tok}},
		{"list login protects", req{Method: "GET", Path: "/v3.0/OS-USER/login-protects", Token: tok}},
		{"show other user v3.0", req{Method: "GET", Path: "/v3.0/OS-USER/users/" + e.AdminID, Token: tok}},
	}
	for _, tc := range denied {
		t.Run("denied "+tc.name, func(t *testing.T) {
			r := e.ksFor(t).do(tc.rq)
			mustStatus(t, r, http.StatusForbidden)
			if c := errorCode(t, r); c != "IAM.0002" {
				t.Errorf("code %s, want IAM.0002", c)
			}
			if !strings.Contains(string(r.Body), "password must be changed") {
				t.Errorf("message does not say the password must be changed: %s", r.Body)
			}
		})
	}
	t.Run("show self says pwd_status true", func(t *testing.T) {
		r := e.ksFor(t).do(req{Method: "GET", Path: "/v3/users/" + uid, Token: tok})
		mustStatus(t, r, http.StatusOK)
		if !ksUserOf(t, r).PwdStatus {
			t.Error("pwd_status false")
		}
	})
	t.Run("change the password, then unrestricted", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.do(req{Method: "POST", Path: "/v3/users/" + uid + "/password", Token: tok, Body: ksChangeBody(ksPwB, ksPwA)})
		mustStatus(t, r, http.StatusNoContent)
		ksErr(t, e.ksValidate("GET", tok, tok, ""), 401, "IAM.0067")
		fresh := e.ksTok("rosa", ksPwB)
		mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users", Token: fresh}), http.StatusOK)
		mustStatus(t, e.do(req{Method: "GET", Path: "/v3.0/OS-USER/login-protects", Token: fresh}), http.StatusOK)
	})
	t.Run("restricted token may revoke itself", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.do(req{Method: "PATCH", Path: "/v3/users/" + uid, Token: adm, Body: map[string]any{"user": map[string]any{"pwd_status": true}}})
		mustStatus(t, r, http.StatusOK)
		again := e.ksTok("rosa", ksPwB)
		mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users", Token: again}), http.StatusForbidden)
		mustStatus(t, e.ksValidate("DELETE", again, again, ""), http.StatusNoContent)
	})
}

// ---------------------------------------------------------------- /v3/users

type ksUserDoc struct {
	ID                string  `json:"id"`
	Name              string  `json:"name"`
	DomainID          string  `json:"domain_id"`
	Enabled           bool    `json:"enabled"`
	Description       string  `json:"description"`
	PasswordExpiresAt *string `json:"password_expires_at"`
	PwdStatus         bool    `json:"pwd_status"`
	PwdStrength       *string `json:"pwd_strength"`
	Links             struct {
		Self     string  `json:"self"`
		Previous *string `json:"previous"`
		Next     *string `json:"next"`
	} `json:"links"`
	Extra *struct {
		Description string `json:"description"`
		PwdStatus   bool   `json:"pwd_status"`
	} `json:"extra"`
}

func ksUserOf(t testing.TB, r *resp) ksUserDoc {
	t.Helper()
	var doc struct {
		User *ksUserDoc `json:"user"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil || doc.User == nil {
		t.Fatalf("no user in body (%v): %s", err, r.Body)
	}
	return *doc.User
}

func ksUsersOf(t testing.TB, r *resp) []ksUserDoc {
	t.Helper()
	var doc struct {
		Users []ksUserDoc `json:"users"`
		Links struct {
			Self string `json:"self"`
		} `json:"links"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil || doc.Users == nil {
		t.Fatalf("no users in body (%v): %s", err, r.Body)
	}
	if !strings.HasSuffix(doc.Links.Self, "/v3/users") {
		t.Errorf("links.self %q", doc.Links.Self)
	}
	return doc.Users
}

func ksNames(us []ksUserDoc) []string {
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, u.Name)
	}
	return out
}

func TestKeystoneUsersCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	rememberSecret(ksPwA)

	r := e.do(req{Method: "POST", Path: "/v3/users", Token: adm, Body: map[string]any{"user": map[string]any{
		"name": "dave", "password": ksPwA, "description": "Build robot", "domain_id": e.DomainID,
	}}})
	mustStatus(t, r, http.StatusCreated)
	u := ksUserOf(t, r)
	if len(u.ID) != 32 || strings.Trim(u.ID, "0123456789abcdef") != "" {
		t.Errorf("id %q is not 32 lowercase hex", u.ID)
	}
	if u.Name != "dave" || u.DomainID != e.DomainID || !u.Enabled || u.Description != "Build robot" || !u.PwdStatus {
		t.Errorf("created user %+v", u)
	}
	if u.PasswordExpiresAt != nil {
		t.Errorf("password_expires_at %q, want null", *u.PasswordExpiresAt)
	}
	if u.Links.Self != e.URL+"/v3/users/"+u.ID || u.Links.Previous != nil || u.Links.Next != nil {
		t.Errorf("links %+v", u.Links)
	}
	// pwd_status true: the first token is restricted.
	dave := e.ksTok("dave", ksPwA)
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users/" + u.ID, Token: dave}), http.StatusOK)
	r = e.do(req{Method: "GET", Path: "/v3.0/OS-USER/login-protects", Token: dave})
	mustStatus(t, r, http.StatusForbidden)
	if c := errorCode(t, r); c != "IAM.0002" {
		t.Errorf("code %s, want IAM.0002", c)
	}

	t.Run("without password", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.do(req{Method: "POST", Path: "/v3/users", Token: adm, Body: map[string]any{"user": map[string]any{"name": "nopass", "enabled": false}}})
		mustStatus(t, r, http.StatusCreated)
		if u := ksUserOf(t, r); u.Enabled || u.Description != "" {
			t.Errorf("user %+v", u)
		}
	})

	errs := []struct {
		name   string
		user   map[string]any
		status int
		code   string
	}{
		{"duplicate name", map[string]any{"name": "dave"}, 400, "1109"},
		{"name starts with a digit", map[string]any{"name": "9lives"}, 400, "1101"},
		{"name starts with a space", map[string]any{"name": " lead"}, 400, "1101"},
		{"control character in name", map[string]any{"name": "bad\x01name"}, 400, "1101"},
		{"name too long", map[string]any{"name": "n" + strings.Repeat("x", 64)}, 400, "1101"},
		{"empty name", map[string]any{"name": ""}, 400, "1101"},
		{"name missing", map[string]any{"password": ksPwB}, 400, "IAM.0072"},
		{"weak password", map[string]any{"name": "weakling", "password": "Password123!"}, 400, "1118"},
		{"short password", map[string]any{"name": "shorty", "password": "Ab-1"}, 400, "1103"},
		{"bad description", map[string]any{"name": "descr", "description": "50% <off>"}, 400, "1117"},
		{"foreign domain_id", map[string]any{"name": "moved", "domain_id": "0123456789abcdef0123456789abcdef"}, 404, "IAM.0004"},
		{"enabled of the wrong type", map[string]any{"name": "typed", "enabled": "yes"}, 400, "IAM.0073"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.do(req{Method: "POST", Path: "/v3/users", Token: adm, Body: map[string]any{"user": tc.user}})
			ksErr(t, r, tc.status, tc.code)
		})
	}
	t.Run("plain user cannot create", func(t *testing.T) {
		e := e.ksFor(t)
		e.ksUser(adm, "plain", ksPwB, nil)
		p := e.ksTok("plain", ksPwB)
		ksErr(t, e.do(req{Method: "POST", Path: "/v3/users", Token: p, Body: map[string]any{"user": map[string]any{"name": "x"}}}), 403, "IAM.0002")
	})
}

func TestKeystoneUsersList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	e.ksUser(adm, "bob", ksPwA, nil)
	cid := e.ksUser(adm, "carl", ksPwB, nil)
	r := e.do(req{Method: "PATCH", Path: "/v3/users/" + cid, Token: adm, Body: map[string]any{"user": map[string]any{"enabled": false}}})
	mustStatus(t, r, http.StatusOK)
	otherID, foreignTok := e.otherDomain("faraway")
	rememberSecret(foreignTok)

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"all", "", []string{"admin", "bob", "carl"}},
		{"by name", "?name=bob", []string{"bob"}},
		{"unknown name", "?name=zed", []string{}},
		{"enabled", "?enabled=true", []string{"admin", "bob"}},
		{"disabled", "?enabled=false", []string{"carl"}},
		{"own domain_id", "?domain_id=" + e.DomainID, []string{"admin", "bob", "carl"}},
		{"foreign domain_id", "?domain_id=" + otherID, []string{}},
		{"unknown domain_id", "?domain_id=0123456789abcdef0123456789abcdef", []string{}},
		// The default policy has no validity period: no password expires,
		// and a user whose password never expires matches no operator.
		{"password_expires_at lt", "?password_expires_at=" + url.QueryEscape("lt:2099-01-01T00:00:00Z"), []string{}},
		{"password_expires_at gt", "?password_expires_at=" + url.QueryEscape("gt:2000-01-01T00:00:00Z"), []string{}},
		{"password_expires_at neq", "?password_expires_at=" + url.QueryEscape("neq:2000-01-01T00:00:00.5Z"), []string{}},
		{"combined", "?name=carl&enabled=false&domain_id=" + e.DomainID, []string{"carl"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.do(req{Method: "GET", Path: "/v3/users" + tc.query, Token: adm})
			mustStatus(t, r, http.StatusOK)
			us := ksUsersOf(t, r)
			if got := ksNames(us); !slices.Equal(got, tc.want) {
				t.Errorf("users %v, want %v", got, tc.want)
			}
			for _, u := range us {
				if u.DomainID != e.DomainID || u.Links.Self != e.URL+"/v3/users/"+u.ID {
					t.Errorf("user %+v", u)
				}
			}
		})
	}
	t.Run("pwd_strength in list responses", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.do(req{Method: "GET", Path: "/v3/users", Token: adm})
		mustStatus(t, r, http.StatusOK)
		for _, u := range ksUsersOf(t, r) {
			if u.PwdStrength == nil || !slices.Contains([]string{"high", "mid", "low"}, *u.PwdStrength) {
				t.Errorf("user %s: pwd_strength %v, want high|mid|low (apis.md §2.5, spec KeystoneUser)", u.Name, u.PwdStrength)
			}
		}
	})
	t.Run("the other domain sees only itself", func(t *testing.T) {
		e := e.ksFor(t)
		r := e.do(req{Method: "GET", Path: "/v3/users", Token: foreignTok})
		mustStatus(t, r, http.StatusOK)
		if got := ksNames(ksUsersOf(t, r)); !slices.Equal(got, []string{"owner-faraway"}) {
			t.Errorf("users %v", got)
		}
	})
	for _, bad := range []string{"lt:2099-01-01", "between:2099-01-01T00:00:00Z", "2099-01-01T00:00:00Z"} {
		t.Run("bad password_expires_at "+bad, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.do(req{Method: "GET", Path: "/v3/users?password_expires_at=" + url.QueryEscape(bad), Token: adm})
			ksErr(t, r, 400, "IAM.0007")
		})
	}
	t.Run("bad enabled", func(t *testing.T) {
		ksErr(t, e.ksFor(t).do(req{Method: "GET", Path: "/v3/users?enabled=maybe", Token: adm}), 400, "IAM.0007")
	})
	t.Run("plain user cannot list", func(t *testing.T) {
		e := e.ksFor(t)
		tok := e.ksTok("bob", ksPwA)
		ksErr(t, e.do(req{Method: "GET", Path: "/v3/users", Token: tok}), 403, "IAM.0002")
	})
	t.Run("no token", func(t *testing.T) {
		ksErr(t, e.ksFor(t).do(req{Method: "GET", Path: "/v3/users"}), 401, "IAM.0001")
	})
}

func TestKeystoneUsersShow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	bid := e.ksUser(adm, "bea", ksPwA, map[string]any{"description": "Release engineer"})
	e.ksUser(adm, "ben", ksPwB, nil)
	bea := e.ksTok("bea", ksPwA)
	ben := e.ksTok("ben", ksPwB)
	_, foreignTok := e.otherDomain("faraway")
	rememberSecret(foreignTok)
	foreignOwner := e.ksSelfID(foreignTok)

	tests := []struct {
		name, token, id string
		status          int
		code            string
	}{
		{"self as plain user", bea, bid, 200, ""},
		{"admin reads a user", adm, bid, 200, ""},
		{"other user as plain user", ben, bid, 403, "IAM.0002"},
		{"admin as plain user", ben, e.AdminID, 403, "IAM.0002"},
		{"foreign user as admin", adm, foreignOwner, 404, "IAM.0004"},
		{"unknown user as admin", adm, "0123456789abcdef0123456789abcdef", 404, "IAM.0004"},
		{"our user as foreign admin", foreignTok, bid, 404, "IAM.0004"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.ksFor(t)
			r := e.do(req{Method: "GET", Path: "/v3/users/" + tc.id, Token: tc.token})
			if tc.code != "" {
				ksErr(t, r, tc.status, tc.code)
				return
			}
			mustStatus(t, r, tc.status)
			u := ksUserOf(t, r)
			if u.ID != bid || u.Name != "bea" || u.DomainID != e.DomainID || !u.Enabled || u.PwdStatus ||
				u.Description != "Release engineer" || u.PasswordExpiresAt != nil || u.Links.Self != e.URL+"/v3/users/"+bid || u.Extra != nil {
				t.Errorf("user %+v", u)
			}
		})
	}
}

func TestKeystoneUsersUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "ulla", ksPwA, nil)
	e.ksUser(adm, "uma", ksPwB, nil)
	patch := func(e *env, tok, id string, user map[string]any) *resp {
		return e.do(req{Method: "PATCH", Path: "/v3/users/" + id, Token: tok, Body: map[string]any{"user": user}})
	}

	t.Run("description and pwd_status", func(t *testing.T) {
		e := e.ksFor(t)
		r := patch(e, adm, uid, map[string]any{"description": "Build robot (CI)", "pwd_status": true})
		mustStatus(t, r, http.StatusOK)
		u := ksUserOf(t, r)
		if u.ID != uid || u.Name != "ulla" || u.Description != "Build robot (CI)" || !u.PwdStatus || !u.Enabled ||
			u.Links.Self != e.URL+"/v3/users/"+uid {
			t.Errorf("user %+v", u)
		}
		if u.Extra == nil || u.Extra.Description != "Build robot (CI)" || !u.Extra.PwdStatus {
			t.Errorf("extra %+v", u.Extra)
		}
		var raw map[string]map[string]any
		_ = json.Unmarshal(r.Body, &raw)
		if ex, _ := raw["user"]["extra"].(map[string]any); ex == nil || ex["pwd_status"] != true {
			t.Errorf("extra %v", raw["user"]["extra"])
		}
		r = patch(e, adm, uid, map[string]any{"pwd_status": false})
		mustStatus(t, r, http.StatusOK)
		if u := ksUserOf(t, r); u.PwdStatus || u.Extra == nil || u.Extra.PwdStatus || u.Description != "Build robot (CI)" {
			t.Errorf("after pwd_status false: %+v %+v", u, u.Extra)
		}
	})
	t.Run("rename", func(t *testing.T) {
		e := e.ksFor(t)
		r := patch(e, adm, uid, map[string]any{"name": "ulrike"})
		mustStatus(t, r, http.StatusOK)
		if u := ksUserOf(t, r); u.Name != "ulrike" {
			t.Errorf("name %q", u.Name)
		}
		e.ksTok("ulrike", ksPwA)
		r = patch(e, adm, uid, map[string]any{"name": "ulla"})
		mustStatus(t, r, http.StatusOK)
	})
	t.Run("disabling revokes the user's tokens", func(t *testing.T) {
		e := e.ksFor(t)
		tok := e.ksTok("ulla", ksPwA)
		r := patch(e, adm, uid, map[string]any{"enabled": false})
		mustStatus(t, r, http.StatusOK)
		if ksUserOf(t, r).Enabled {
			t.Error("still enabled")
		}
		ksErr(t, e.ksValidate("GET", tok, tok, ""), 401, "IAM.0067")
		ksErr(t, e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth("ulla", ksPwA)}), 403, "IAM.0082")
		mustStatus(t, patch(e, adm, uid, map[string]any{"enabled": true}), http.StatusOK)
		// Re-enabling does not bring the old token back.
		ksErr(t, e.ksValidate("GET", tok, tok, ""), 401, "IAM.0067")
		e.ksTok("ulla", ksPwA)
	})
	t.Run("admin password reset revokes", func(t *testing.T) {
		e := e.ksFor(t)
		tok := e.ksTok("ulla", ksPwA)
		mustStatus(t, patch(e, adm, uid, map[string]any{"password": ksPwC}), http.StatusOK)
		ksErr(t, e.ksValidate("GET", tok, tok, ""), 401, "IAM.0067")
		ksErr(t, patch(e, adm, uid, map[string]any{"password": ksPwC}), 400, "1108")
		e.ksTok("ulla", ksPwC)
	})
	errs := []struct {
		name   string
		token  string
		id     string
		user   map[string]any
		status int
		code   string
	}{
		{"duplicate name", adm, uid, map[string]any{"name": "uma"}, 400, "1109"},
		{"invalid name", adm, uid, map[string]any{"name": "1st"}, 400, "1101"},
		{"weak password", adm, uid, map[string]any{"password": "Password123!"}, 400, "1118"},
		{"unknown user", adm, "0123456789abcdef0123456789abcdef", map[string]any{"description": "x"}, 404, "IAM.0004"},
		{"enabled wrong type", adm, uid, map[string]any{"enabled": "no"}, 400, "IAM.0073"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			ksErr(t, patch(e.ksFor(t), tc.token, tc.id, tc.user), tc.status, tc.code)
		})
	}
	t.Run("plain user cannot patch itself", func(t *testing.T) {
		e := e.ksFor(t)
		tok := e.ksTok("uma", ksPwB)
		ksErr(t, patch(e, tok, e.ksSelfID(tok), map[string]any{"description": "me"}), 403, "IAM.0002")
	})
}

func TestKeystoneUsersDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "doomed", ksPwA, nil)
	secID := e.ksUser(adm, "sec", ksPwB, nil)
	e.setRole(secID, "secu_admin")
	sec := e.ksTok("sec", ksPwB)
	tok := e.ksTok("doomed", ksPwA)
	_, foreignTok := e.otherDomain("faraway")
	rememberSecret(foreignTok)

	ksErr(t, e.do(req{Method: "DELETE", Path: "/v3/users/" + uid, Token: tok}), 403, "IAM.0002")
	ksErr(t, e.do(req{Method: "DELETE", Path: "/v3/users/" + uid, Token: foreignTok}), 404, "IAM.0004")

	r := e.do(req{Method: "DELETE", Path: "/v3/users/" + uid, Token: adm})
	mustStatus(t, r, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with body %q", r.Body)
	}
	ksErr(t, e.do(req{Method: "GET", Path: "/v3/users/" + uid, Token: adm}), 404, "IAM.0004")
	ksErr(t, e.do(req{Method: "DELETE", Path: "/v3/users/" + uid, Token: adm}), 404, "IAM.0004")
	ksErr(t, e.ksValidate("GET", tok, tok, ""), 401, "IAM.0067")
	ksErr(t, e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth("doomed", ksPwA)}), 401, "IAM.0062")

	t.Run("the owner cannot be deleted", func(t *testing.T) {
		e := e.ksFor(t)
		for _, caller := range []string{adm, sec} {
			ksErr(t, e.do(req{Method: "DELETE", Path: "/v3/users/" + e.AdminID, Token: caller}), 400, "1107")
		}
		mustStatus(t, e.ksValidate("HEAD", adm, adm, ""), http.StatusOK)
	})
	t.Run("name is free again", func(t *testing.T) {
		e.ksFor(t).ksUser(adm, "doomed", ksPwC, nil)
	})
}
