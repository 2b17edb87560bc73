package tests

// Bad input and routing, per API family, over HTTP against the real engine.
// Expected statuses and codes come from apis.md §1 (envelopes and the common
// errors table) and DESIGN.md §2; the helpers here are prefixed "bi".

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/impl/tokens"
)

// biFamily is an API family, for envelope checks.
type biFamily int

const (
	biKeystone biFamily = iota // {"error":{"code":int,"title","message","error_code","error_msg"}}
	biIAM                      // {"error_code","error_msg"}
	biRepoV2                   // {"error":{"code","message"},"status":"failed"}
	biRepoV4                   // {"error_code","error_msg"}
	biCIAM                     // {"error_code","error_msg"}
	biNone                     // outside every family: {"error":"..."}
)

func (f biFamily) String() string {
	return [...]string{"keystone", "iam", "repo-v2", "repo-v4", "ciam", "none"}[f]
}

// biCodes holds the common-error codes of one family (apis.md §1.2).
type biCodes struct {
	bodyInvalid, missing, invalid, param, notFound, method, tooLarge string
}

var biCodeTable = map[biFamily]biCodes{
	biKeystone: {"IAM.0011", "IAM.0072", "IAM.0073", "IAM.0007", "IAM.0004", "IAM.0007", "IAM.1101"},
	biIAM:      {"IAM.0011", "IAM.0072", "IAM.0073", "IAM.0007", "IAM.0004", "IAM.0007", "IAM.1101"},
	biRepoV2:   {"CH.010001", "CH.010001", "CH.010001", "CH.010001", "CH.000404", "CH.010001", "CH.010001"},
	biRepoV4:   {"CH.010001", "CH.010001", "CH.010001", "CH.010001", "CH.000404", "CH.010001", "CH.010001"},
	biCIAM: {"IDAAS.TENANT.PARAM.0001", "IDAAS.TENANT.PARAM.0001", "IDAAS.TENANT.PARAM.0001",
		"IDAAS.TENANT.PARAM.0001", "IDAAS.TENANT.PARAM.0001", "IDAAS.TENANT.PARAM.0001", "IDAAS.TENANT.PARAM.0001"},
}

// biNotImplementedCode is the family's code of a 501 (an operation of the
// contract whose handler has not landed: it proves the request passed
// validation and authentication).
var biNotImplementedCode = map[biFamily]string{
	biKeystone: "IAM.0006", biIAM: "IAM.0006", biRepoV2: "CH.000001", biRepoV4: "CH.000001",
	biCIAM: "IDAAS.TENANT.SYS.0001",
}

// biUnauthCode is the family's code for missing credentials.
var biUnauthCode = map[biFamily]string{
	biKeystone: "IAM.0001", biIAM: "IAM.0001", biRepoV2: "CH.080401", biRepoV4: "DEV.00000003",
	biCIAM: "IDAAS.TENANT.AUTH.0001",
}

// biKnownBugs are subtests that currently fail because of server bugs
// (described, with the fix, in the report of this test work). They are
// skipped to keep the suite green; LATCHKEY_TEST_KNOWN_BUGS=1 runs them.
var biKnownBugs = []struct {
	name   *regexp.Regexp // matched against t.Name()
	pgOnly bool           // fails only on PostgreSQL
	why    string
}{
	// None open: data after the JSON value, NUL in JSON strings and in
	// parameters, and control characters in stored text are all refused now.
}

// biSkipKnownBug skips t when it is a listed known bug.
func biSkipKnownBug(t *testing.T) {
	t.Helper()
	if os.Getenv("LATCHKEY_TEST_KNOWN_BUGS") != "" {
		return
	}
	pg := os.Getenv("LATCHKEY_TEST_POSTGRES_DSN") != ""
	for _, b := range biKnownBugs {
		if b.name.MatchString(t.Name()) && (pg || !b.pgOnly) {
			t.Skip("BUG: " + b.why)
		}
	}
}

// biKeys returns the sorted keys of a JSON object.
func biKeys(m map[string]any) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// biEnvelope asserts status, Content-Type, the exact envelope shape of the
// family and the error code, and returns the error message.
func biEnvelope(t testing.TB, f biFamily, r *resp, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Body)
		return ""
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		t.Errorf("Content-Type %q, want application/json: %s", ct, r.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Errorf("error body is not a JSON object: %v: %q", err, r.Body)
		return ""
	}
	str := func(m map[string]any, k string) string {
		s, ok := m[k].(string)
		if !ok {
			t.Errorf("%q is %T, want a string: %s", k, m[k], r.Body)
		}
		return s
	}
	wantKeys := func(m map[string]any, keys ...string) bool {
		sort.Strings(keys)
		if got := biKeys(m); !slices.Equal(got, keys) {
			t.Errorf("%s envelope keys %v, want %v: %s", f, got, keys, r.Body)
			return false
		}
		return true
	}
	var gotCode, msg string
	switch f {
	case biKeystone:
		if !wantKeys(m, "error") {
			return ""
		}
		e, ok := m["error"].(map[string]any)
		if !ok {
			t.Errorf("error is %T, want an object: %s", m["error"], r.Body)
			return ""
		}
		if !wantKeys(e, "code", "title", "message", "error_code", "error_msg") {
			return ""
		}
		if c, ok := e["code"].(float64); !ok || int(c) != status {
			t.Errorf("error.code = %v, want the integer %d: %s", e["code"], status, r.Body)
		}
		if title := str(e, "title"); title != http.StatusText(status) {
			t.Errorf("error.title = %q, want %q", title, http.StatusText(status))
		}
		msg = str(e, "message")
		if em := str(e, "error_msg"); em != msg {
			t.Errorf("error.error_msg %q differs from error.message %q", em, msg)
		}
		gotCode = str(e, "error_code")
	case biIAM, biRepoV4, biCIAM:
		if !wantKeys(m, "error_code", "error_msg") {
			return ""
		}
		gotCode, msg = str(m, "error_code"), str(m, "error_msg")
	case biRepoV2:
		if !wantKeys(m, "error", "status") {
			return ""
		}
		if s := str(m, "status"); s != "failed" {
			t.Errorf("status = %q, want failed", s)
		}
		e, ok := m["error"].(map[string]any)
		if !ok {
			t.Errorf("error is %T, want an object: %s", m["error"], r.Body)
			return ""
		}
		if !wantKeys(e, "code", "message") {
			return ""
		}
		gotCode, msg = str(e, "code"), str(e, "message")
	case biNone:
		if !wantKeys(m, "error") {
			return ""
		}
		return str(m, "error")
	}
	if gotCode != code {
		t.Errorf("%s error code %q, want %q: %s", f, gotCode, code, r.Body)
	}
	if strings.TrimSpace(msg) == "" {
		t.Errorf("empty error message: %s", r.Body)
	}
	return msg
}

// biOn returns e bound to the (sub)test t, so that the helpers of the
// harness fail the right test from the right goroutine.
func biOn(e *env, t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

func biHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// biCiamToken mints a CIAM client access token for the bootstrap domain.
// The token endpoint (POST /api/v2/tenant/token) is not built yet, so this
// goes through the token service of the same running instance, as the
// harness does for roles.
func biCiamToken(e *env) string {
	e.t.Helper()
	tok, _, err := e.App.Tokens.Issue(context.Background(), tokens.Claims{
		Kind: tokens.KindClient, ClientID: biHex(), DomainID: e.DomainID,
	})
	if err != nil {
		e.t.Fatalf("issue CIAM token: %v", err)
	}
	rememberSecret(tok)
	return tok
}

// biNoRedirect is a client that shows redirects instead of following them.
var biNoRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// biSend sends a hand-built request (no redirects followed) with the same
// checks as env.do: an X-Request-Id on every response, no 5xx but 501/503.
func biSend(e *env, hr *http.Request) *resp {
	e.t.Helper()
	res, err := biNoRedirect.Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", hr.Method, hr.URL.Path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	if res.Header.Get("X-Request-Id") == "" {
		e.t.Errorf("%s %s: no X-Request-Id", hr.Method, hr.URL.Path)
	}
	if res.StatusCode >= 500 && res.StatusCode != http.StatusNotImplemented && res.StatusCode != http.StatusServiceUnavailable {
		e.t.Errorf("%s %s: server error %d: %s", hr.Method, hr.URL.Path, res.StatusCode, raw)
	}
	return &resp{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// biRaw builds and sends a request whose path is used verbatim (escapes
// kept) and whose body, when chunked, has no declared length.
func biRaw(e *env, method, rawPath string, headers map[string]string, body string, chunked bool) *resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
		if chunked {
			rd = struct{ io.Reader }{rd} // hides the length
		}
	}
	hr, err := http.NewRequest(method, e.URL+"/", rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	u, err := url.Parse(e.URL + rawPath)
	if err != nil {
		e.t.Fatalf("parse %q: %v", rawPath, err)
	}
	hr.URL = u
	if chunked && body != "" {
		hr.ContentLength = -1
	}
	for k, v := range headers {
		hr.Header.Set(k, v)
	}
	return biSend(e, hr)
}

// biTarget is one operation that takes a JSON body.
type biTarget struct {
	name   string
	family biFamily
	method string
	path   string
	auth   map[string]string // credentials
	valid  string            // a body that passes validation
}

// biFixture is an env with the credentials and objects the targets need.
type biFixture struct {
	e        *env
	admin    string // admin X-Auth-Token
	userID   string // a plain user (password biUserPassword)
	userTok  string
	ciam     string // CIAM bearer token
	pwUserID string // a user whose password the password targets may change
	pwUserTk string
	targets  []biTarget
	byName   map[string]biTarget
}

const biUserPassword = "Quiet-Harbor-73"

func biSetup(t *testing.T) *biFixture {
	t.Helper()
	e := newEnv(t)
	fx := &biFixture{e: e}
	fx.admin = e.adminToken()
	rememberSecret(fx.admin)
	fx.userID = e.createUser(fx.admin, "bi-user", biUserPassword, nil)
	fx.userTok = e.token("bi-user", biUserPassword)
	rememberSecret(fx.userTok)
	// The user's separate HTTPS password is the one the validate targets
	// send, so their valid requests pass: failures would count toward the
	// lockout and end in 429 after a few cases.
	mustStatus(t, e.do(req{Method: "PUT", Path: "/v4/user/https-password", Token: fx.userTok,
		Body: map[string]any{"password": "Gr8-Clone-Key!", "account_password": biUserPassword}}), http.StatusOK)
	mustStatus(t, e.do(req{Method: "PUT", Path: "/v4/user/https-password-setting", Token: fx.userTok,
		Body: map[string]any{"https_clone_iam_auth": false}}), http.StatusOK)
	fx.pwUserID = e.createUser(fx.admin, "bi-pw-user", biUserPassword, nil)
	fx.pwUserTk = e.token("bi-pw-user", biUserPassword)
	rememberSecret(fx.pwUserTk)
	fx.ciam = biCiamToken(e)
	adm := map[string]string{"X-Auth-Token": fx.admin}
	usr := map[string]string{"X-Auth-Token": fx.userTok}
	pwu := map[string]string{"X-Auth-Token": fx.pwUserTk}
	bearer := map[string]string{"Authorization": "Bearer " + fx.ciam}
	fx.targets = []biTarget{
		{"keystone-token", biKeystone, "POST", "/v3/auth/tokens?nocatalog", nil,
			`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"bi-user","password":"` + biUserPassword + `","domain":{"name":"default"}}}}}}`},
		{"keystone-password", biKeystone, "POST", "/v3/users/" + fx.pwUserID + "/password", pwu,
			`{"user":{"password":"Brand-New-Pass-58","original_password":"` + biUserPassword + `"}}`},
		{"keystone-users", biKeystone, "POST", "/v3/users", adm,
			`{"user":{"name":"bi-keystone-valid"}}`},
		{"iam-users", biIAM, "POST", "/v3.0/OS-USER/users", adm,
			`{"user":{"name":"bi-iam-valid","domain_id":"` + e.DomainID + `"}}`},
		{"iam-login-protect", biIAM, "PUT", "/v3.0/OS-USER/users/" + fx.userID + "/login-protect", adm,
			`{"login_protect":{"enabled":false,"verification_method":"none"}}`},
		{"repo-v2-validate", biRepoV2, "POST", "/v2/user/" + fx.userID + "/validate-https-info", adm,
			`{"pwd":"Gr8-Clone-Key!"}`},
		{"repo-v1-validate", biRepoV2, "POST", "/v1/user/" + fx.userID + "/validateHttpsInfo", adm,
			`{"pwd":"Gr8-Clone-Key!"}`},
		{"repo-v4-setting", biRepoV4, "PUT", "/v4/user/https-password-setting", usr,
			`{"https_clone_iam_auth":false}`},
		{"repo-v4-password", biRepoV4, "PUT", "/v4/user/https-password", usr,
			`{"password":"Gr8-Clone-Key!","account_password":"` + biUserPassword + `"}`},
		{"ciam-create", biCIAM, "POST", "/api/v2/tenant/users", bearer,
			`{"user_name":"bi-ciam-valid","mobile":"0086-13800000000"}`},
		{"ciam-change-password", biCIAM, "PUT", "/api/v2/tenant/users/" + fx.pwUserID + "/change-password", bearer,
			`{"password":"Brand-New-Pass-58"}`},
		{"ciam-change-password-verify", biCIAM, "PUT", "/api/v2/tenant/users/" + fx.pwUserID + "/change-password-verify", bearer,
			`{"password":"Brand-New-Pass-58","old_password":"` + biUserPassword + `"}`},
	}
	fx.byName = map[string]biTarget{}
	for _, tg := range fx.targets {
		fx.byName[tg.name] = tg
	}
	return fx
}

// send sends body to the target with content type ct.
func (fx *biFixture) send(t testing.TB, tg biTarget, body any, ct string) *resp {
	t.Helper()
	e := biOn(fx.e, t)
	h := map[string]string{}
	for k, v := range tg.auth {
		h[k] = v
	}
	r := req{Method: tg.method, Path: tg.path, Header: h, Body: body, CT: ct}
	if ct == "-" { // no Content-Type at all
		r.CT = ""
		raw, _ := body.(string)
		return biRaw(e, tg.method, tg.path, h, raw, false)
	}
	return e.do(r)
}

// TestBadInputBodyShape: bodies that are not a JSON object, for every
// operation of every family: 400 with the family's body-invalid code.
func TestBadInputBodyShape(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	cases := []struct {
		name string
		body string
	}{
		{"malformed", `{"user":`},
		{"not JSON at all", `hello there`},
		{"single quotes", `{'pwd':'x'}`},
		{"trailing comma", `{"a":1,}`},
		{"empty array", `[]`},
		{"array of objects", `[{"pwd":"Gr8-Clone-Key!"}]`},
		{"string", `"a string"`},
		{"number", `42`},
		{"boolean", `true`},
		{"null", `null`},
		{"empty body", ``},
		{"whitespace only", " \n "},
		{"object then garbage", `{"pwd":"x"} trailing`},
	}
	for _, tg := range fx.targets {
		for _, c := range cases {
			t.Run(tg.name+"/"+c.name, func(t *testing.T) {
				biSkipKnownBug(t)
				r := fx.send(t, tg, c.body, "")
				biEnvelope(t, tg.family, r, http.StatusBadRequest, biCodeTable[tg.family].bodyInvalid)
			})
		}
		if strings.Contains(tg.name, "password") {
			continue // a valid body would change a password if the garbage were ignored
		}
		t.Run(tg.name+"/object then garbage after valid body", func(t *testing.T) {
			biSkipKnownBug(t)
			r := fx.send(t, tg, tg.valid+`{"x":1}`, "")
			biEnvelope(t, tg.family, r, http.StatusBadRequest, biCodeTable[tg.family].bodyInvalid)
		})
	}
}

// biFieldCase is one schema violation of a target.
type biFieldCase struct {
	target string
	name   string
	body   string
	kind   string // "missing" or "invalid"
	field  string // the field the message must name
}

// TestBadInputSchema: missing required properties, wrong types (a number
// for a string, the string "true" for a boolean), unknown enum values and
// length limits: 400 with IAM.0072/IAM.0073, CH.010001 or
// IDAAS.TENANT.PARAM.0001, and a message naming the field.
func TestBadInputSchema(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	d := fx.e.DomainID
	long := strings.Repeat("a", 250) + "@example.com" // 262 > maxLength 255
	cases := []biFieldCase{
		// Keystone: token issuance.
		{"keystone-token", "auth missing", `{}`, "missing", "auth"},
		{"keystone-token", "identity missing", `{"auth":{}}`, "missing", "auth.identity"},
		{"keystone-token", "methods missing", `{"auth":{"identity":{}}}`, "missing", "auth.identity.methods"},
		{"keystone-token", "auth is a string", `{"auth":"password"}`, "invalid", "auth"},
		{"keystone-token", "auth is an array", `{"auth":[]}`, "invalid", "auth"},
		{"keystone-token", "methods is a string", `{"auth":{"identity":{"methods":"password"}}}`, "invalid", "auth.identity.methods"},
		{"keystone-token", "method is a number", `{"auth":{"identity":{"methods":[1]}}}`, "invalid", "auth.identity.methods"},
		{"keystone-token", "user name is a number",
			`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":12,"password":"x","domain":{"name":"default"}}}}}}`,
			"invalid", "auth.identity.password.user.name"},
		{"keystone-token", "domain is a string",
			`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a","password":"x","domain":"default"}}}}}`,
			"invalid", "auth.identity.password.user.domain"},
		{"keystone-token", "scope is a string",
			`{"auth":{"identity":{"methods":["password"]},"scope":"project"}}`, "invalid", "auth.scope"},
		// Keystone: change password.
		{"keystone-password", "user missing", `{}`, "missing", "user"},
		{"keystone-password", "original_password missing", `{"user":{"password":"Brand-New-Pass-58"}}`, "missing", "user.original_password"},
		{"keystone-password", "password missing", `{"user":{"original_password":"x"}}`, "missing", "user.password"},
		{"keystone-password", "user is a string", `{"user":"me"}`, "invalid", "user"},
		{"keystone-password", "password is a boolean", `{"user":{"password":true,"original_password":"x"}}`, "invalid", "user.password"},
		// Keystone: create user.
		{"keystone-users", "name missing", `{"user":{}}`, "missing", "user.name"},
		{"keystone-users", "name is a number", `{"user":{"name":42}}`, "invalid", "user.name"},
		{"keystone-users", "enabled is the string true", `{"user":{"name":"bi-k1","enabled":"true"}}`, "invalid", "user.enabled"},
		{"keystone-users", "enabled is 1", `{"user":{"name":"bi-k1","enabled":1}}`, "invalid", "user.enabled"},
		{"keystone-users", "description is an object", `{"user":{"name":"bi-k1","description":{}}}`, "invalid", "user.description"},
		// IAM v3.0: create user.
		{"iam-users", "user missing", `{}`, "missing", "user"},
		{"iam-users", "name missing", `{"user":{"domain_id":"` + d + `"}}`, "missing", "user.name"},
		{"iam-users", "domain_id missing", `{"user":{"name":"bi-i1"}}`, "missing", "user.domain_id"},
		{"iam-users", "user is an array", `{"user":[]}`, "invalid", "user"},
		{"iam-users", "name is a number", `{"user":{"name":42,"domain_id":"` + d + `"}}`, "invalid", "user.name"},
		{"iam-users", "domain_id is null", `{"user":{"name":"bi-i1","domain_id":null}}`, "invalid", "user.domain_id"},
		{"iam-users", "enabled is the string true", `{"user":{"name":"bi-i1","domain_id":"` + d + `","enabled":"true"}}`, "invalid", "user.enabled"},
		{"iam-users", "pwd_status is the string false", `{"user":{"name":"bi-i1","domain_id":"` + d + `","pwd_status":"false"}}`, "invalid", "user.pwd_status"},
		{"iam-users", "access_mode unknown", `{"user":{"name":"bi-i1","domain_id":"` + d + `","access_mode":"superuser"}}`, "invalid", "user.access_mode"},
		{"iam-users", "access_mode wrong case", `{"user":{"name":"bi-i1","domain_id":"` + d + `","access_mode":"Console"}}`, "invalid", "user.access_mode"},
		{"iam-users", "email too long", `{"user":{"name":"bi-i1","domain_id":"` + d + `","email":"` + long + `"}}`, "invalid", "user.email"},
		{"iam-users", "phone is a number", `{"user":{"name":"bi-i1","domain_id":"` + d + `","areacode":"0086","phone":13912345678}}`, "invalid", "user.phone"},
		// IAM v3.0: login protection.
		{"iam-login-protect", "login_protect missing", `{}`, "missing", "login_protect"},
		{"iam-login-protect", "verification_method missing", `{"login_protect":{"enabled":false}}`, "missing", "login_protect.verification_method"},
		{"iam-login-protect", "enabled missing", `{"login_protect":{"verification_method":"none"}}`, "missing", "login_protect.enabled"},
		{"iam-login-protect", "enabled is the string true", `{"login_protect":{"enabled":"true","verification_method":"vmfa"}}`, "invalid", "login_protect.enabled"},
		{"iam-login-protect", "verification_method unknown", `{"login_protect":{"enabled":true,"verification_method":"carrier-pigeon"}}`, "invalid", "login_protect.verification_method"},
		{"iam-login-protect", "verification_method upper case", `{"login_protect":{"enabled":true,"verification_method":"SMS"}}`, "invalid", "login_protect.verification_method"},
		// CodeArts v2 and the v1 twin.
		{"repo-v2-validate", "pwd missing", `{}`, "missing", "pwd"},
		{"repo-v2-validate", "pwd is a number", `{"pwd":12345678}`, "invalid", "pwd"},
		{"repo-v2-validate", "pwd is a boolean", `{"pwd":true}`, "invalid", "pwd"},
		{"repo-v2-validate", "pwd is null", `{"pwd":null}`, "invalid", "pwd"},
		{"repo-v1-validate", "pwd missing", `{"password":"Gr8-Clone-Key!"}`, "missing", "pwd"},
		{"repo-v1-validate", "pwd is an object", `{"pwd":{}}`, "invalid", "pwd"},
		// CodeArts v4.
		{"repo-v4-setting", "https_clone_iam_auth missing", `{}`, "missing", "https_clone_iam_auth"},
		{"repo-v4-setting", "unknown string", `{"https_clone_iam_auth":"yes"}`, "invalid", "https_clone_iam_auth"},
		{"repo-v4-setting", "upper-case string", `{"https_clone_iam_auth":"TRUE"}`, "invalid", "https_clone_iam_auth"},
		{"repo-v4-setting", "number", `{"https_clone_iam_auth":1}`, "invalid", "https_clone_iam_auth"},
		{"repo-v4-setting", "null", `{"https_clone_iam_auth":null}`, "invalid", "https_clone_iam_auth"},
		{"repo-v4-password", "account_password missing", `{"password":"Gr8-Clone-Key!"}`, "missing", "account_password"},
		{"repo-v4-password", "password is a number", `{"password":12345678,"account_password":"x"}`, "invalid", "password"},
		// CIAM.
		{"ciam-create", "mobile missing", `{"user_name":"bi-c1"}`, "missing", "mobile"},
		{"ciam-create", "user_name missing", `{"mobile":"0086-13800000000"}`, "missing", "user_name"},
		{"ciam-create", "user_name is a number", `{"user_name":7,"mobile":"0086-13800000000"}`, "invalid", "user_name"},
		{"ciam-create", "user_name empty", `{"user_name":"","mobile":"0086-13800000000"}`, "invalid", "user_name"},
		{"ciam-create", "pwd_must_modify is the string true", `{"user_name":"bi-c1","mobile":"0086-13800000000","pwd_must_modify":"true"}`, "invalid", "pwd_must_modify"},
		{"ciam-create", "extension is a string", `{"user_name":"bi-c1","mobile":"0086-13800000000","extension":"x"}`, "invalid", "extension"},
		{"ciam-create", "user_org_relation_list is an object", `{"user_name":"bi-c1","mobile":"0086-13800000000","user_org_relation_list":{}}`, "invalid", "user_org_relation_list"},
		{"ciam-create", "email too long", `{"user_name":"bi-c1","mobile":"0086-13800000000","email":"` + long + `"}`, "invalid", "email"},
		{"ciam-change-password", "password missing", `{"must_modify":false}`, "missing", "password"},
		{"ciam-change-password", "must_modify is the string false", `{"password":"Brand-New-Pass-58","must_modify":"false"}`, "invalid", "must_modify"},
		{"ciam-change-password", "pwd_must_modify is 0", `{"password":"Brand-New-Pass-58","pwd_must_modify":0}`, "invalid", "pwd_must_modify"},
		{"ciam-change-password-verify", "old_password missing", `{"password":"Brand-New-Pass-58"}`, "missing", "old_password"},
		{"ciam-change-password-verify", "password is an array", `{"password":[],"old_password":"x"}`, "invalid", "password"},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		tg, ok := fx.byName[c.target]
		if !ok {
			t.Fatalf("unknown target %s", c.target)
		}
		seen[c.target] = true
		t.Run(c.target+"/"+c.name, func(t *testing.T) {
			r := fx.send(t, tg, c.body, "")
			codes := biCodeTable[tg.family]
			code := codes.invalid
			if c.kind == "missing" {
				code = codes.missing
			}
			msg := biEnvelope(t, tg.family, r, http.StatusBadRequest, code)
			// Keystone and IAM fill the vendor templates ('%(key)s' is a
			// required property; Invalid input for field '%(key)s').
			if (tg.family == biKeystone || tg.family == biIAM) && msg != "" && !strings.Contains(msg, "'"+c.field) {
				t.Errorf("message %q does not name the field '%s'", msg, c.field)
			}
		})
	}
	for _, tg := range fx.targets {
		if !seen[tg.name] {
			t.Errorf("no schema case for target %s", tg.name)
		}
	}
}

// TestBadInputParameters: bad path, query and header parameters answer 400
// in the family envelope (IAM.0007, CH.010001); unicode and control
// characters in path and query parameters never cause a 5xx.
func TestBadInputParameters(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	e := fx.e
	adm := map[string]string{"X-Auth-Token": fx.admin}
	type pc struct {
		name   string
		family biFamily
		method string
		path   string // raw, escapes kept
		header map[string]string
		body   string
		status int
		code   string
	}
	cases := []pc{
		{"keystone X-Subject-Token missing", biKeystone, "GET", "/v3/auth/tokens", adm, "", 400, "IAM.0007"},
		{"keystone enabled not a boolean", biKeystone, "GET", "/v3/users?enabled=yes", adm, "", 400, "IAM.0007"},
		{"keystone password_expires_at malformed", biKeystone, "GET", "/v3/users?password_expires_at=soon", adm, "", 400, "IAM.0007"},
		{"repo-v2 uuid too short", biRepoV2, "POST", "/v2/user/abc123/validate-https-info", adm, `{"pwd":"Gr8-Clone-Key!"}`, 400, "CH.010001"},
		{"repo-v2 uuid with dashes", biRepoV2, "POST", "/v2/user/0c5a1e2b-3d4f-45a6-b7c8-d9e0f1a2b3c4/validate-https-info", adm, `{"pwd":"Gr8-Clone-Key!"}`, 400, "CH.010001"},
		{"repo-v2 uuid 33 chars", biRepoV2, "POST", "/v2/user/" + fx.userID + "a/validate-https-info", adm, `{"pwd":"Gr8-Clone-Key!"}`, 400, "CH.010001"},
		{"repo-v2 uuid with NUL", biRepoV2, "POST", "/v2/user/" + fx.userID[:29] + "%00ab/validate-https-info", adm, `{"pwd":"Gr8-Clone-Key!"}`, 400, "CH.010001"},
		{"repo-v1 uuid unicode", biRepoV2, "POST", "/v1/user/%E5%BC%A0" + fx.userID[:31] + "/validateHttpsInfo", adm, `{"pwd":"Gr8-Clone-Key!"}`, 400, "CH.010001"},
		// Path ids that name nothing: 404 whatever their characters.
		{"keystone user id with NUL", biKeystone, "GET", "/v3/users/ab%00cd", adm, "", 404, "IAM.0004"},
		{"keystone user id chinese", biKeystone, "GET", "/v3/users/%E5%BC%A0%E4%BC%9F", adm, "", 404, "IAM.0004"},
		{"keystone user id emoji", biKeystone, "GET", "/v3/users/%F0%9F%94%90", adm, "", 404, "IAM.0004"},
		{"keystone user id invalid UTF-8", biKeystone, "GET", "/v3/users/%FF%FE", adm, "", 404, "IAM.0004"},
		{"iam user id with NUL", biIAM, "GET", "/v3.0/OS-USER/users/ab%00cd", adm, "", 404, "IAM.0004"},
		{"iam user id with ESC", biIAM, "GET", "/v3.0/OS-USER/users/%1B%5B31m", adm, "", 404, "IAM.0004"},
		{"iam user id chinese", biIAM, "GET", "/v3.0/OS-USER/users/%E5%BC%A0%E4%BC%9F", adm, "", 404, "IAM.0004"},
		{"iam login-protect of NUL id", biIAM, "GET", "/v3.0/OS-USER/users/%00/login-protect", adm, "", 404, "IAM.0004"},
		{"keystone delete NUL id", biKeystone, "DELETE", "/v3/users/%00", adm, "", 404, "IAM.0004"},
		{"keystone patch NUL id", biKeystone, "PATCH", "/v3/users/a%00", adm, `{"user":{"enabled":true}}`, 404, "IAM.0004"},
		{"iam put NUL id", biIAM, "PUT", "/v3.0/OS-USER/users/a%00", adm, `{"user":{"enabled":true}}`, 404, "IAM.0004"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			biSkipKnownBug(t)
			h := map[string]string{}
			for k, v := range c.header {
				h[k] = v
			}
			if c.body != "" {
				h["Content-Type"] = "application/json"
			}
			r := biRaw(biOn(e, t), c.method, c.path, h, c.body, false)
			if c.status == http.StatusNotFound && r.Status == http.StatusBadRequest &&
				(strings.Contains(c.path, "%00") || strings.Contains(c.path, "%FF") || strings.Contains(c.path, "%1B")) {
				// A path parameter that cannot be an id may also be refused
				// as a bad parameter.
				biEnvelope(t, c.family, r, http.StatusBadRequest, biCodeTable[c.family].param)
				return
			}
			biEnvelope(t, c.family, r, c.status, c.code)
		})
	}
	// Query values with unicode and control characters: never a 5xx; a
	// filter that matches nothing is an empty list.
	for _, q := range []string{"%00", "a%00b", "%1B%5B31m", "%E5%BC%A0%E4%BC%9F", "%F0%9F%94%90", "%0A", "%FF"} {
		t.Run("keystone list name="+q, func(t *testing.T) {
			biSkipKnownBug(t)
			r := biRaw(biOn(e, t), "GET", "/v3/users?name="+q, adm, "", false)
			if r.Status == http.StatusOK {
				var body struct {
					Users []any `json:"users"`
				}
				if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Users) != 0 {
					t.Errorf("want an empty list: %v %s", err, r.Body)
				}
				return
			}
			biEnvelope(t, biKeystone, r, http.StatusBadRequest, "IAM.0007")
		})
	}
	// CIAM user ids are opaque: an unknown one is 400 IDAAS.TENANT.USER.0001
	// (or 501 until the handler lands), never a 5xx.
	for _, id := range []string{"%00", "%E5%BC%A0", "%F0%9F%94%90", "%1B"} {
		t.Run("ciam user id "+id, func(t *testing.T) {
			biSkipKnownBug(t)
			r := biRaw(biOn(e, t), "GET", "/api/v2/tenant/users/"+id, map[string]string{"Authorization": "Bearer " + fx.ciam}, "", false)
			if r.Status == http.StatusNotImplemented {
				biEnvelope(t, biCIAM, r, http.StatusNotImplemented, biNotImplementedCode[biCIAM])
				return
			}
			if id == "%00" {
				// A NUL can be no parameter's value: refused before lookup.
				biEnvelope(t, biCIAM, r, http.StatusBadRequest, "IDAAS.TENANT.PARAM.0001")
				return
			}
			biEnvelope(t, biCIAM, r, http.StatusBadRequest, "IDAAS.TENANT.USER.0001")
		})
	}
}

// biPad returns a JSON object of exactly n bytes: the valid body with a
// padding property added (extra properties are allowed by the schemas).
func biPad(t testing.TB, valid string, n int) string {
	t.Helper()
	head := `{"zz_pad":"`
	tail := `",` + strings.TrimPrefix(valid, "{")
	k := n - len(head) - len(tail)
	if k < 0 {
		t.Fatalf("cannot pad to %d", n)
	}
	s := head + strings.Repeat("x", k) + tail
	if len(s) != n {
		t.Fatalf("padded body is %d bytes, want %d", len(s), n)
	}
	return s
}

// TestBadInputOversize: a body over 32 KiB answers 413 in the family
// envelope (IAM.1101, CH.010001, IDAAS.TENANT.PARAM.0001), with a declared
// length or chunked, and before authentication; exactly 32 KiB is accepted.
func TestBadInputOversize(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	const limit = 32 << 10
	for _, tg := range fx.targets {
		code := biCodeTable[tg.family].tooLarge
		for _, chunked := range []bool{false, true} {
			name := tg.name + "/declared length"
			if chunked {
				name = tg.name + "/chunked"
			}
			t.Run(name, func(t *testing.T) {
				h := map[string]string{"Content-Type": "application/json"}
				for k, v := range tg.auth {
					h[k] = v
				}
				r := biRaw(biOn(fx.e, t), tg.method, tg.path, h, biPad(t, tg.valid, limit+1), chunked)
				biEnvelope(t, tg.family, r, http.StatusRequestEntityTooLarge, code)
			})
			t.Run(name+"/no credentials", func(t *testing.T) {
				if tg.auth == nil {
					t.Skip("operation needs no credentials")
				}
				h := map[string]string{"Content-Type": "application/json"}
				r := biRaw(biOn(fx.e, t), tg.method, tg.path, h, biPad(t, tg.valid, 200<<10), chunked)
				if chunked && r.Status == http.StatusUnauthorized {
					// Credentials are checked before the body is read, so an
					// undeclared length is never read for a stranger: 401.
					biEnvelope(t, tg.family, r, http.StatusUnauthorized, biUnauthCode[tg.family])
					return
				}
				biEnvelope(t, tg.family, r, http.StatusRequestEntityTooLarge, code)
			})
		}
	}
	// Not JSON, not declared JSON, still too large: the size wins.
	t.Run("iam-users/text body", func(t *testing.T) {
		tg := fx.byName["iam-users"]
		h := map[string]string{"Content-Type": "text/plain", "X-Auth-Token": fx.admin}
		r := biRaw(biOn(fx.e, t), tg.method, tg.path, h, strings.Repeat("y", 1<<20), false)
		biEnvelope(t, biIAM, r, http.StatusRequestEntityTooLarge, "IAM.1101")
	})
	// The limit is "more than 32 KiB": a body of exactly 32 KiB is served.
	for _, name := range []string{"keystone-token", "iam-users"} {
		tg := fx.byName[name]
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/exactly 32 KiB chunked=%v", name, chunked), func(t *testing.T) {
				h := map[string]string{"Content-Type": "application/json"}
				for k, v := range tg.auth {
					h[k] = v
				}
				body := tg.valid
				if name == "iam-users" {
					body = strings.Replace(body, "bi-iam-valid", fmt.Sprintf("bi-32k-%v", chunked), 1)
				}
				r := biRaw(biOn(fx.e, t), tg.method, tg.path, h, biPad(t, body, limit), chunked)
				if r.Status != http.StatusCreated {
					t.Errorf("status %d, want 201: %s", r.Status, r.Body)
				}
			})
		}
	}
}

// biPassed asserts that a request passed validation: the operation's
// success status, or 501 in the family envelope while its handler has not
// landed.
func biPassed(t testing.TB, tg biTarget, r *resp, success ...int) {
	t.Helper()
	if r.Status == http.StatusNotImplemented {
		biEnvelope(t, tg.family, r, http.StatusNotImplemented, biNotImplementedCode[tg.family])
		return
	}
	if !slices.Contains(success, r.Status) {
		t.Errorf("status %d, want %v (or 501 until the handler lands): %s", r.Status, success, r.Body)
	}
}

// TestBadInputContentType: a body declared as something other than JSON is
// refused with 415 in the family envelope (the body-invalid code); the
// spellings of JSON that real clients send are accepted.
func TestBadInputContentType(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	refused := []string{"text/xml", "application/xml", "text/plain", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/jsonp", "application/json-patch+json", "-"}
	for _, tg := range fx.targets {
		for _, ct := range refused {
			t.Run(tg.name+"/"+ct, func(t *testing.T) {
				r := fx.send(t, tg, tg.valid, ct)
				biEnvelope(t, tg.family, r, http.StatusUnsupportedMediaType, biCodeTable[tg.family].bodyInvalid)
			})
		}
	}

	// Accepted spellings (apis.md §0, §7.1 item 12), each on an operation of
	// every family; the success statuses are those of a valid request.
	accepted := []string{"application/json", "application/json;charset=utf8", "application/json; charset=UTF-8",
		"application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON", "APPLICATION/JSON; CHARSET=UTF-8"}
	for i, ct := range accepted {
		t.Run("accepted/"+ct, func(t *testing.T) {
			e := biOn(fx.e, t)
			// Keystone: token issuance.
			tg := fx.byName["keystone-token"]
			r := fx.send(t, tg, tg.valid, ct)
			if r.Status != http.StatusCreated || r.Header.Get("X-Subject-Token") == "" {
				t.Errorf("keystone: status %d, want 201 with a token: %s", r.Status, r.Body)
			}
			// IAM v3.0: create a user.
			tg = fx.byName["iam-users"]
			body := fmt.Sprintf(`{"user":{"name":"bi-ct-%d","domain_id":"%s","enabled":true}}`, i, e.DomainID)
			r = fx.send(t, tg, body, ct)
			if r.Status != http.StatusCreated {
				t.Errorf("iam: status %d, want 201: %s", r.Status, r.Body)
			}
			for _, name := range []string{"repo-v2-validate", "repo-v1-validate", "repo-v4-setting"} {
				tg = fx.byName[name]
				biPassed(t, tg, fx.send(t, tg, tg.valid, ct), http.StatusOK)
			}
			tg = fx.byName["ciam-create"]
			body = fmt.Sprintf(`{"user_name":"bi-ciam-ct-%d","mobile":"0086-1380000%04d"}`, i, i)
			biPassed(t, tg, fx.send(t, tg, body, ct), http.StatusCreated)
		})
	}
}

// TestBadInputGetWithContentType: a Content-Type header on a GET, HEAD or
// DELETE without a body is accepted (apis.md §0, §7.1 item 12), as is a
// request without Accept.
func TestBadInputGetWithContentType(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	e := fx.e
	for _, ct := range []string{"application/json", "application/json;charset=utf8", "text/xml", "Application/JSON; charset=UTF-8"} {
		t.Run(ct, func(t *testing.T) {
			e := biOn(e, t)
			h := func(kv ...string) map[string]string {
				m := map[string]string{"Content-Type": ct, "X-Auth-Token": fx.admin}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i]] = kv[i+1]
				}
				return m
			}
			sub := e.token("bi-user", biUserPassword)
			rememberSecret(sub)
			r := e.do(req{Method: "GET", Path: "/v3/auth/tokens?nocatalog", Header: h("X-Subject-Token", sub)})
			mustStatus(t, r, http.StatusOK)
			r = e.do(req{Method: "HEAD", Path: "/v3/auth/tokens", Header: h("X-Subject-Token", sub)})
			mustStatus(t, r, http.StatusOK)
			r = e.do(req{Method: "GET", Path: "/v3", Header: h()})
			mustStatus(t, r, http.StatusOK)
			r = e.do(req{Method: "GET", Path: "/v3.0/OS-USER/users/" + fx.userID, Header: h()})
			mustStatus(t, r, http.StatusOK)
			r = e.do(req{Method: "GET", Path: "/v3/users?name=bi-user", Header: h()})
			mustStatus(t, r, http.StatusOK)
			biPassed(t, fx.byName["repo-v4-setting"], e.do(req{Method: "GET", Path: "/v4/user/https-password-setting",
				Header: map[string]string{"Content-Type": ct, "X-Auth-Token": fx.userTok}}), http.StatusOK)
			biPassed(t, fx.byName["ciam-create"], e.do(req{Method: "GET", Path: "/api/v2/tenant/users/" + fx.userID,
				Header: map[string]string{"Content-Type": ct, "Authorization": "Bearer " + fx.ciam}}), http.StatusOK)
			r = e.do(req{Method: "DELETE", Path: "/v3/auth/tokens", Header: h("X-Subject-Token", sub)})
			mustStatus(t, r, http.StatusNoContent)
		})
	}
}

// TestBadInputJSONEncodings: HTML-escaped characters (\u003c, as gophercloud
// sends), other \u escapes, any key order, surrounding whitespace and a
// trailing newline (as the Huawei SDK sends) are plain JSON and accepted
// (apis.md §7.1 item 13).
func TestBadInputJSONEncodings(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	e := fx.e
	const pw = "Tr<ck&y>Pass-42"
	// The password goes in HTML-escaped and must be stored as the plain text.
	escaped := `Tr\u003cck\u0026y\u003ePass-42`
	body := `{"user":{"pwd_status":false,"password":"` + escaped + `","domain_id":"` + e.DomainID + `","name":"bi-esc"}}` + "\n"
	r := e.do(req{Method: "POST", Path: "/v3.0/OS-USER/users", Token: fx.admin, Body: body})
	mustStatus(t, r, http.StatusCreated)
	rememberSecret(pw)

	auth := func(password string) string {
		return `{"auth":{"identity":{"password":{"user":{"domain":{"name":"default"},"password":"` + password +
			`","name":"bi-esc"}},"methods":["password"]}}}`
	}
	cases := []struct{ name, body string }{
		{"escaped, trailing newline", auth(escaped) + "\n"},
		{"raw, trailing CRLF", auth(pw) + "\r\n"},
		{"leading and trailing whitespace", " \t\n" + auth(pw) + " \n\n"},
		{"upper-case hex escapes", auth(`Tr\u003Cck\u0026y\u003EPass-42`)},
		{"every character escaped", auth(`\u0054\u0072\u003c\u0063\u006b\u0026\u0079\u003e\u0050\u0061\u0073\u0073\u002d\u0034\u0032`)},
		{"escaped keys and values", `{"\u0061uth":{"identity":{"methods":["pass\u0077ord"],"password":{"user":{"name":"bi\u002desc","password":"` + escaped + `","domain":{"name":"default"}}}}}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := biOn(e, t).do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Body: c.body})
			if r.Status != http.StatusCreated {
				t.Fatalf("status %d, want 201: %s", r.Status, r.Body)
			}
			rememberSecret(r.Header.Get("X-Subject-Token"))
		})
	}
	// The other families: the same escapes and newline pass validation.
	others := []struct {
		target, body string
		success      int
	}{
		{"repo-v2-validate", `{"pwd":"` + escaped + `"}` + "\n", http.StatusOK},
		{"repo-v1-validate", "\n" + `{"pwd":"` + escaped + `"}` + "\r\n", http.StatusOK},
		{"repo-v4-setting", `{"https_clone_iam_auth":"\u0074rue"}` + "\n", http.StatusOK},
		{"ciam-create", `{"mobile":"0086-13900000001","user_name":"bi\u002dciam\u002desc"}` + "\n", http.StatusCreated},
	}
	for _, o := range others {
		t.Run(o.target, func(t *testing.T) {
			tg := fx.byName[o.target]
			biPassed(t, tg, fx.send(t, tg, o.body, ""), o.success)
		})
	}
}

// biSecretCase is a request whose body carries a secret in a password-like
// field that fails validation.
type biSecretCase struct {
	target string
	name   string
	body   func(secret string) string
}

// TestBadInputNeverEchoesSecrets: validation messages never contain the
// value of a password-like field, whatever its type (DESIGN.md §2, §4).
func TestBadInputNeverEchoesSecrets(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	d := fx.e.DomainID
	kAuth := func(v string) string {
		return `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"bi-user","password":` + v + `,"domain":{"name":"default"}}}}}}`
	}
	// Each secret is rendered into the field by one of these shapes.
	shapes := []struct {
		name   string
		secret string
		render func(s string) string
	}{
		{"number", "7319286450", func(s string) string { return s }},
		{"float", "8264.0917355", func(s string) string { return s }},
		{"array", "Arr4y-Secret-Val", func(s string) string { return `["` + s + `"]` }},
		{"object", "0bject-Secret-Val", func(s string) string { return `{"v":"` + s + `"}` }},
		{"nested array", "N3sted-Secret-Val", func(s string) string { return `[["` + s + `"]]` }},
	}
	fields := []biSecretCase{
		{"keystone-token", "auth.identity.password.user.password", kAuth},
		{"keystone-password", "user.password", func(v string) string {
			return `{"user":{"password":` + v + `,"original_password":"x"}}`
		}},
		{"keystone-password", "user.original_password", func(v string) string {
			return `{"user":{"password":"Brand-New-Pass-58","original_password":` + v + `}}`
		}},
		{"keystone-users", "user.password", func(v string) string { return `{"user":{"name":"bi-s","password":` + v + `}}` }},
		{"iam-users", "user.password", func(v string) string {
			return `{"user":{"name":"bi-s","domain_id":"` + d + `","password":` + v + `}}`
		}},
		{"repo-v2-validate", "pwd", func(v string) string { return `{"pwd":` + v + `}` }},
		{"repo-v1-validate", "pwd", func(v string) string { return `{"pwd":` + v + `}` }},
		{"repo-v4-password", "password", func(v string) string { return `{"password":` + v + `,"account_password":"x"}` }},
		{"repo-v4-password", "account_password", func(v string) string {
			return `{"password":"Gr8-Clone-Key!","account_password":` + v + `}`
		}},
		{"ciam-create", "password", func(v string) string {
			return `{"user_name":"bi-s","mobile":"0086-13800000000","password":` + v + `}`
		}},
		{"ciam-change-password", "password", func(v string) string { return `{"password":` + v + `}` }},
		{"ciam-change-password-verify", "old_password", func(v string) string {
			return `{"password":"Brand-New-Pass-58","old_password":` + v + `}`
		}},
		{"ciam-change-password-verify", "password", func(v string) string {
			return `{"password":` + v + `,"old_password":"x"}`
		}},
	}
	check := func(t *testing.T, r *resp, tg biTarget, secret string) {
		t.Helper()
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("status %d, want a 4xx: %s", r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), secret) {
			t.Errorf("the secret %q is echoed: %s", secret, r.Body)
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, secret) {
					t.Errorf("the secret is echoed in header %s", k)
				}
			}
		}
	}
	for _, f := range fields {
		tg := fx.byName[f.target]
		for _, sh := range shapes {
			secret := sh.secret
			rememberSecret(secret)
			t.Run(f.target+"/"+f.name+"/"+sh.name, func(t *testing.T) {
				r := fx.send(t, tg, f.body(sh.render(secret)), "")
				check(t, r, tg, secret)
				biEnvelope(t, tg.family, r, http.StatusBadRequest, biCodeTable[tg.family].invalid)
			})
		}
	}
	// A well-typed secret next to another invalid field, in a malformed
	// body, or in an oversize body is not echoed either.
	const s = "Visible-Secret-991"
	rememberSecret(s)
	other := []struct {
		target, name, body string
		status             int
		kind               string
	}{
		{"iam-users", "enabled wrong", `{"user":{"name":"bi-s","domain_id":"` + d + `","password":"` + s + `","enabled":"yes"}}`, 400, "invalid"},
		{"iam-users", "name missing", `{"user":{"domain_id":"` + d + `","password":"` + s + `"}}`, 400, "missing"},
		{"keystone-token", "methods wrong", `{"auth":{"identity":{"methods":"password","password":{"user":{"name":"bi-user","password":"` + s + `"}}}}}`, 400, "invalid"},
		{"keystone-token", "truncated", strings.TrimSuffix(kAuth(`"`+s+`"`), "}}}}}"), 400, "body"},
		{"keystone-password", "original missing", `{"user":{"password":"` + s + `"}}`, 400, "missing"},
		{"repo-v2-validate", "truncated", `{"pwd":"` + s + `"`, 400, "body"},
		{"ciam-create", "mobile missing", `{"user_name":"bi-s","password":"` + s + `"}`, 400, "missing"},
		{"ciam-change-password-verify", "password missing", `{"old_password":"` + s + `"}`, 400, "missing"},
	}
	for _, o := range other {
		tg := fx.byName[o.target]
		t.Run(o.target+"/"+o.name, func(t *testing.T) {
			r := fx.send(t, tg, o.body, "")
			check(t, r, tg, s)
			c := biCodeTable[tg.family]
			code := map[string]string{"invalid": c.invalid, "missing": c.missing, "body": c.bodyInvalid}[o.kind]
			biEnvelope(t, tg.family, r, o.status, code)
		})
	}
}

// biTricky are unicode and control characters for every string field.
var biTricky = []struct {
	name    string
	json    string // as written inside a JSON string
	control bool   // a control character that must be refused (the brief's \u0000, \u001b, \n)
}{
	{"chinese", `张伟`, false},
	{"emoji", `🔐😀`, false},
	{"escaped astral", `\ud83d\udd10`, false},
	{"lone surrogate", `\ud800`, false},
	{"RTL override", `\u202e`, false},
	{"NUL", `\u0000`, true},
	{"ESC", `\u001b[31m`, true},
	{"newline", `\n`, true},
	{"tab", `\t`, false},
	{"DEL", `\u007f`, false},
}

// biUnicodeOutcome checks the answer to a request carrying a tricky value:
// never a 5xx; control characters are refused with 400 and one of codes
// (NUL cannot be stored in PostgreSQL, so both databases must refuse it);
// other values are either refused the same way or served (ok statuses).
func biUnicodeOutcome(t *testing.T, f biFamily, r *resp, control bool, codes []string, ok ...int) bool {
	t.Helper()
	if slices.Contains(ok, r.Status) {
		if control {
			t.Errorf("a control character was accepted (%d); want 400 %v: %s", r.Status, codes, r.Body)
		}
		return true
	}
	if r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound && r.Status != http.StatusUnauthorized {
		t.Errorf("status %d, want %v or a 4xx %v: %s", r.Status, ok, codes, r.Body)
		return false
	}
	var got string
	var m map[string]any
	if json.Unmarshal(r.Body, &m) == nil {
		switch f {
		case biKeystone:
			if e, _ := m["error"].(map[string]any); e != nil {
				got, _ = e["error_code"].(string)
			}
		default:
			got, _ = m["error_code"].(string)
		}
	}
	// Any field may also be refused by the schema layer as invalid input.
	codes = append(slices.Clone(codes), biCodeTable[f].invalid, biCodeTable[f].bodyInvalid)
	if !slices.Contains(codes, got) {
		t.Errorf("code %q, want one of %v: %s", got, codes, r.Body)
		return false
	}
	biEnvelope(t, f, r, r.Status, got)
	return false
}

// biPlain decodes the inside of a JSON string.
func biPlain(t testing.TB, js string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal([]byte(`"`+js+`"`), &s); err != nil {
		t.Fatalf("decode %q: %v", js, err)
	}
	return s
}

// TestBadInputUnicodeIAMUsers: unicode and control characters in every
// string field of the IAM user-creating and updating operations answer a
// 4xx in the right envelope (never a 5xx); values that are accepted are
// stored exactly.
func TestBadInputUnicodeIAMUsers(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	e := fx.e
	type field struct {
		name  string
		build func(v string, n int) string // the "user" object, with v inside
		codes []string                     // acceptable refusal codes
		read  string                       // response key to compare when accepted ("" = none)
		want  func(plain string, n int) string
	}
	base := func(n int) string { return fmt.Sprintf(`"name":"bi-u%d","domain_id":"%s"`, n, e.DomainID) }
	fields := []field{
		{"name", func(v string, n int) string {
			return fmt.Sprintf(`{"name":"bi-n%d%s","domain_id":"%s"}`, n, v, e.DomainID)
		},
			[]string{"1101"}, "name", func(p string, n int) string { return fmt.Sprintf("bi-n%d%s", n, p) }},
		{"description", func(v string, n int) string { return `{` + base(n) + `,"description":"note ` + v + ` end"}` },
			[]string{"1117", "IAM.0073"}, "description", func(p string, _ int) string { return "note " + p + " end" }},
		{"email", func(v string, n int) string { return `{` + base(n) + `,"email":"bi` + v + `@example.com"}` },
			[]string{"1102"}, "email", func(p string, _ int) string { return "bi" + p + "@example.com" }},
		{"email domain", func(v string, n int) string { return `{` + base(n) + `,"email":"bi@exa` + v + `mple.com"}` },
			[]string{"1102"}, "email", func(p string, _ int) string { return "bi@exa" + p + "mple.com" }},
		{"password", func(v string, n int) string { return `{` + base(n) + `,"password":"Pw-` + v + `-Xy7q9"}` },
			[]string{"1103", "1118"}, "", nil},
		{"phone", func(v string, n int) string { return `{` + base(n) + `,"areacode":"0086","phone":"139` + v + `1234"}` },
			[]string{"1104"}, "", nil},
		{"areacode", func(v string, n int) string {
			return `{` + base(n) + `,"areacode":"00` + v + `86","phone":"13912345678"}`
		},
			[]string{"1104", "1106"}, "", nil},
		{"xuser_type", func(v string, n int) string {
			return `{` + base(n) + `,"xuser_type":"ld` + v + `ap","xuser_id":"bi-x"}`
		},
			[]string{"IAM.0073", "1100"}, "xuser_type", func(p string, _ int) string { return "ld" + p + "ap" }},
		{"xuser_id", func(v string, n int) string {
			return `{` + base(n) + `,"xuser_type":"ldap","xuser_id":"uid=` + v + `"}`
		},
			[]string{"IAM.0073", "1100"}, "xuser_id", func(p string, _ int) string { return "uid=" + p }},
	}
	n := 0
	for _, f := range fields {
		for _, v := range biTricky {
			n++
			n := n
			t.Run("create/"+f.name+"/"+v.name, func(t *testing.T) {
				biSkipKnownBug(t)
				e := biOn(e, t)
				r := e.do(req{Method: "POST", Path: "/v3.0/OS-USER/users", Token: fx.admin, Body: `{"user":` + f.build(v.json, n) + `}`})
				if !biUnicodeOutcome(t, biIAM, r, v.control, f.codes, http.StatusCreated) || f.read == "" {
					return
				}
				want := f.want(biPlain(t, v.json), n)
				u := r.JSON(t)["user"].(map[string]any)
				if got := u[f.read]; got != want {
					t.Errorf("create answered %s=%q, want %q", f.read, got, want)
				}
				g := e.do(req{Method: "GET", Path: "/v3.0/OS-USER/users/" + u["id"].(string), Token: fx.admin})
				mustStatus(t, g, http.StatusOK)
				if got := g.JSON(t)["user"].(map[string]any)[f.read]; got != want {
					t.Errorf("stored %s=%q, want %q", f.read, got, want)
				}
			})
		}
	}
	// A domain_id that cannot exist names a foreign domain: 404.
	for _, v := range biTricky {
		t.Run("create/domain_id/"+v.name, func(t *testing.T) {
			r := biOn(e, t).do(req{Method: "POST", Path: "/v3.0/OS-USER/users", Token: fx.admin,
				Body: `{"user":{"name":"bi-dom","domain_id":"` + e.DomainID[:16] + v.json + `"}}`})
			if v.name == "NUL" {
				// No JSON string may carry a NUL: the body itself is refused.
				biEnvelope(t, biIAM, r, http.StatusBadRequest, "IAM.0011")
				return
			}
			biEnvelope(t, biIAM, r, http.StatusNotFound, "IAM.0004")
		})
	}
	// Updating (PUT /v3.0/OS-USER/users/{id}) and the Keystone create.
	victim := e.createUser(fx.admin, "bi-victim", "Victim-Pass-2026", nil)
	kvictim := e.createUser(fx.admin, "bi-kvictim", "Victim-Pass-2026", nil)
	rememberSecret("Victim-Pass-2026")
	upd := []struct {
		name  string
		user  func(v string) string
		codes []string
	}{
		{"name", func(v string) string { return `{"name":"bi-v` + biHex()[:6] + v + `"}` }, []string{"1101"}},
		{"description", func(v string) string { return `{"description":"d` + v + `"}` }, []string{"1117", "IAM.0073"}},
		{"email", func(v string) string { return `{"email":"v` + v + `@example.com"}` }, []string{"1102"}},
		{"password", func(v string) string { return `{"password":"Pw-` + v + `-Zq8r4"}` }, []string{"1103", "1118", "1108"}},
		{"xuser_id", func(v string) string { return `{"xuser_type":"ldap","xuser_id":"u` + v + `"}` }, []string{"IAM.0073", "1100"}},
	}
	for _, u := range upd {
		for _, v := range biTricky {
			t.Run("update/"+u.name+"/"+v.name, func(t *testing.T) {
				biSkipKnownBug(t)
				r := biOn(e, t).do(req{Method: "PUT", Path: "/v3.0/OS-USER/users/" + victim, Token: fx.admin, Body: `{"user":` + u.user(v.json) + `}`})
				biUnicodeOutcome(t, biIAM, r, v.control, u.codes, http.StatusOK)
			})
			if u.name == "email" || u.name == "xuser_id" {
				continue // not fields of the Keystone user
			}
			t.Run("keystone-create/"+u.name+"/"+v.name, func(t *testing.T) {
				biSkipKnownBug(t)
				body := `{"user":{"name":"bi-k` + biHex()[:8] + `",` + strings.TrimPrefix(u.user(v.json), "{") + `}`
				if u.name == "name" {
					body = `{"user":` + u.user(v.json) + `}`
				}
				r := biOn(e, t).do(req{Method: "POST", Path: "/v3/users", Token: fx.admin, Body: body})
				biUnicodeOutcome(t, biKeystone, r, v.control, u.codes, http.StatusCreated)
			})
			t.Run("keystone-patch/"+u.name+"/"+v.name, func(t *testing.T) {
				biSkipKnownBug(t)
				r := biOn(e, t).do(req{Method: "PATCH", Path: "/v3/users/" + kvictim, Token: fx.admin, Body: `{"user":` + u.user(v.json) + `}`})
				biUnicodeOutcome(t, biKeystone, r, v.control, u.codes, http.StatusOK)
			})
		}
	}
}

// TestBadInputUnicodeCIAM: the same characters in the string fields of CIAM
// user creation: never a 5xx; control characters refused in the CIAM
// envelope; accepted values stored exactly.
func TestBadInputUnicodeCIAM(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	e := fx.e
	tg := fx.byName["ciam-create"]
	param := biCodeTable[biCIAM].invalid
	fields := []struct {
		name  string
		body  func(v string, n int) string
		codes []string
		read  string // GET field to compare when accepted
		want  func(p string, n int) string
	}{
		{"user_name", func(v string, n int) string {
			return fmt.Sprintf(`{"user_name":"bi-c%d%s","mobile":"0086-1370000%04d"}`, n, v, n)
		}, []string{param}, "user_name", func(p string, n int) string { return fmt.Sprintf("bi-c%d%s", n, p) }},
		{"name", func(v string, n int) string {
			return fmt.Sprintf(`{"user_name":"bi-c%d","mobile":"0086-1370000%04d","name":"Zhang %s Wei"}`, n, n, v)
		}, []string{param}, "name", func(p string, _ int) string { return "Zhang " + p + " Wei" }},
		{"email", func(v string, n int) string {
			return fmt.Sprintf(`{"user_name":"bi-c%d","mobile":"0086-1370000%04d","email":"c%s@example.com"}`, n, n, v)
		}, []string{param}, "email", func(p string, _ int) string { return "c" + p + "@example.com" }},
		{"mobile", func(v string, n int) string {
			return fmt.Sprintf(`{"user_name":"bi-c%d","mobile":"0086-137%s0000%04d"}`, n, v, n)
		}, []string{param, "USER.0038"}, "", nil},
		{"password", func(v string, n int) string {
			return fmt.Sprintf(`{"user_name":"bi-c%d","mobile":"0086-1370000%04d","password":"Pw-%s-Rt6y2"}`, n, n, v)
		}, []string{param, "IDAAS.TENANT.PWD.0004", "IDAAS.TENANT.PWD.0005", "IDAAS.TENANT.PWD.0007"}, "", nil},
	}
	n := 0
	for _, f := range fields {
		for _, v := range biTricky {
			n++
			n := n
			t.Run(f.name+"/"+v.name, func(t *testing.T) {
				biSkipKnownBug(t)
				e := biOn(e, t)
				r := e.do(req{Method: tg.method, Path: tg.path, Header: tg.auth, Body: f.body(v.json, n)})
				if !biUnicodeOutcome(t, biCIAM, r, v.control, f.codes, http.StatusCreated) || f.read == "" {
					return
				}
				id, _ := r.JSON(t)["user_id"].(string)
				g := e.do(req{Method: "GET", Path: "/api/v2/tenant/users/" + id, Header: tg.auth})
				mustStatus(t, g, http.StatusOK)
				if got, want := g.JSON(t)[f.read], f.want(biPlain(t, v.json), n); got != want {
					t.Errorf("stored %s=%q, want %q", f.read, got, want)
				}
			})
		}
	}
}

// TestBadInputUnicodePasswords: unicode and control characters in the
// password operations: token issuance (user name, domain name, password)
// answers 401 for what matches nobody; a new password with a control
// character is refused with 1103; a unicode password that is accepted then
// works for login, byte for byte.
func TestBadInputUnicodePasswords(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	e := fx.e
	for _, v := range biTricky {
		t.Run("token/"+v.name, func(t *testing.T) {
			biSkipKnownBug(t)
			e := biOn(e, t)
			for _, body := range []string{
				`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"bi-user` + v.json + `","password":"x","domain":{"name":"default"}}}}}}`,
				`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"bi-user","password":"x","domain":{"name":"def` + v.json + `ault"}}}}}}`,
				`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"bi-user","password":"x","domain":{"id":"` + v.json + `"}}}}}}`,
				`{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"` + v.json + `","password":"x"}}}}}`,
				`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"nobody","password":"` + v.json + `","domain":{"name":"default"}}}}}}`,
				`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"nobody","password":"x","domain":{"name":"default"}}}},"scope":{"domain":{"name":"` + v.json + `"}}}}`,
			} {
				r := e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: body})
				if r.Status == http.StatusBadRequest && v.control {
					// Refusing a control character outright is fine too.
					biUnicodeOutcome(t, biKeystone, r, true, nil)
					continue
				}
				biEnvelope(t, biKeystone, r, http.StatusUnauthorized, "IAM.0062")
			}
			// A subject token with such characters is not a token: 404.
			sub := "tok" + biPlain(t, v.json)
			if strings.ContainsAny(sub, "\x00\x1b\n\x7f") {
				return // not sendable as a header value
			}
			r := e.do(req{Method: "GET", Path: "/v3/auth/tokens", Token: fx.admin, Header: map[string]string{"X-Subject-Token": sub}})
			biEnvelope(t, biKeystone, r, http.StatusNotFound, "IAM.0009")
		})
	}
	for i, v := range biTricky {
		t.Run("change/"+v.name, func(t *testing.T) {
			e := biOn(e, t)
			name := fmt.Sprintf("bi-pw%d", i)
			const first = "First-Pass-2026"
			rememberSecret(first)
			id := e.createUser(fx.admin, name, first, nil)
			tok := e.token(name, first)
			rememberSecret(tok)
			newPw := `Nw-` + v.json + `-Lk5t8`
			r := e.do(req{Method: "POST", Path: "/v3/users/" + id + "/password", Token: tok,
				Body: `{"user":{"password":"` + newPw + `","original_password":"` + first + `"}}`})
			if !biUnicodeOutcome(t, biKeystone, r, v.control, []string{"1103", "1118"}, http.StatusNoContent) {
				// The original password with such characters is simply wrong.
				r = e.do(req{Method: "POST", Path: "/v3/users/" + id + "/password", Token: tok,
					Body: `{"user":{"password":"Other-Pass-6604","original_password":"First` + v.json + `"}}`})
				if v.name == "NUL" {
					// No JSON string may carry a NUL: the body itself is refused.
					biEnvelope(t, biKeystone, r, http.StatusBadRequest, "IAM.0011")
					return
				}
				biEnvelope(t, biKeystone, r, http.StatusUnauthorized, "IAM.0062")
				return
			}
			plain := biPlain(t, newPw)
			rememberSecret(plain)
			// Accepted: the exact password (sent raw, not escaped) logs in.
			raw, _ := json.Marshal(passwordAuth(name, plain))
			r = e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Body: raw})
			if r.Status != http.StatusCreated {
				t.Fatalf("login with the new password: %d %s", r.Status, r.Body)
			}
			rememberSecret(r.Header.Get("X-Subject-Token"))
		})
	}
}

// TestRoutingUnknownPath: an unknown path under a family prefix is 404 in
// that family's envelope (IAM.0004, CH.000404, IDAAS.TENANT.PARAM.0001),
// with or without credentials; outside every family it is a plain 404.
func TestRoutingUnknownPath(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	e := fx.e
	cases := []struct {
		path   string
		family biFamily
		code   string
	}{
		{"/v3/nope", biKeystone, "IAM.0004"},
		{"/v3/auth/tokens/extra", biKeystone, "IAM.0004"},
		{"/v3/users/" + fx.userID + "/nope", biKeystone, "IAM.0004"},
		{"/v3/OS-USER/users", biKeystone, "IAM.0004"},
		{"/v3.0", biIAM, "IAM.0004"},
		{"/v3.0/nope", biIAM, "IAM.0004"},
		{"/v3.0/OS-USER/users/" + fx.userID + "/nope", biIAM, "IAM.0004"},
		{"/v3.0/OS-SECURITYPOLICY/domains", biIAM, "IAM.0004"},
		{"/v1/user", biRepoV2, "CH.000404"},
		{"/v1/user/" + fx.userID + "/validate-https-info", biRepoV2, "CH.000404"},
		{"/v2/user/" + fx.userID, biRepoV2, "CH.000404"},
		{"/v2/user/" + fx.userID + "/validate-https-info/x", biRepoV2, "CH.000404"},
		{"/v4", biRepoV4, "CH.000404"},
		{"/v4/nope", biRepoV4, "CH.000404"},
		{"/v4/user/https-password-settings", biRepoV4, "CH.000404"},
		{"/api/v2/tenant", biCIAM, "IDAAS.TENANT.PARAM.0001"},
		{"/api/v2/tenant/nope", biCIAM, "IDAAS.TENANT.PARAM.0001"},
		{"/api/v2/tenant/users/" + fx.userID + "/nope", biCIAM, "IDAAS.TENANT.PARAM.0001"},
		{"/api/v2/tenant/token/x", biCIAM, "IDAAS.TENANT.PARAM.0001"},
	}
	creds := map[string]map[string]string{
		"none":  nil,
		"token": {"X-Auth-Token": fx.admin},
		"bad":   {"X-Auth-Token": "garbage", "Authorization": "Bearer garbage"},
	}
	for _, c := range cases {
		for cn, h := range creds {
			for _, m := range []string{"GET", "POST", "DELETE"} {
				t.Run(c.path+"/"+m+"/"+cn, func(t *testing.T) {
					hh := map[string]string{}
					for k, v := range h {
						hh[k] = v
					}
					body := ""
					if m == "POST" {
						body, hh["Content-Type"] = `{}`, "application/json"
					}
					r := biRaw(biOn(e, t), m, c.path, hh, body, false)
					biEnvelope(t, c.family, r, http.StatusNotFound, c.code)
				})
			}
		}
	}
	// Just outside a family prefix: not in any family.
	for _, p := range []string{"/nope", "/v3.00/x", "/v30/x", "/v1/users", "/v2/users/x", "/v5/user", "/api/v2/tenantx", "/api/v2", "/api", "/v4x"} {
		t.Run("outside"+p, func(t *testing.T) {
			r := biRaw(biOn(e, t), "GET", p, nil, "", false)
			biEnvelope(t, biNone, r, http.StatusNotFound, "")
		})
	}
	// A HEAD of an unknown path: 404 and no body.
	t.Run("HEAD", func(t *testing.T) {
		r := biRaw(biOn(e, t), "HEAD", "/v3.0/nope", nil, "", false)
		if r.Status != http.StatusNotFound || len(r.Body) != 0 {
			t.Errorf("HEAD: %d %q, want 404 without a body", r.Status, r.Body)
		}
	})
}

// TestRoutingMethodNotAllowed: a wrong method on a known path is 405 with
// an Allow header listing the path's methods, in the family's envelope
// (IAM.0007, CH.010001, IDAAS.TENANT.PARAM.0001).
func TestRoutingMethodNotAllowed(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	e := fx.e
	cases := []struct {
		method, path string
		family       biFamily
		allow        []string
	}{
		{"PUT", "/v3/auth/tokens", biKeystone, []string{"DELETE", "GET", "HEAD", "POST"}},
		{"PATCH", "/v3/auth/tokens", biKeystone, []string{"DELETE", "GET", "HEAD", "POST"}},
		{"GET", "/v3/users/" + fx.userID + "/password", biKeystone, []string{"POST"}},
		{"DELETE", "/v3", biKeystone, []string{"GET"}},
		{"POST", "/", biKeystone, []string{"GET"}},
		{"PUT", "/v3/users", biKeystone, []string{"GET", "POST"}},
		{"PATCH", "/v3.0/OS-USER/users", biIAM, []string{"GET", "POST"}},
		{"POST", "/v3.0/OS-USER/users/" + fx.userID, biIAM, []string{"DELETE", "GET", "PUT"}},
		{"DELETE", "/v3.0/OS-USER/users/" + fx.userID + "/login-protect", biIAM, []string{"GET", "PUT"}},
		{"GET", "/v2/user/" + fx.userID + "/validate-https-info", biRepoV2, []string{"POST"}},
		{"PUT", "/v1/user/" + fx.userID + "/validateHttpsInfo", biRepoV2, []string{"POST"}},
		{"DELETE", "/v4/user/https-password-setting", biRepoV4, []string{"GET", "PUT"}},
		{"POST", "/v4/user/https-password", biRepoV4, []string{"PUT"}},
		{"GET", "/api/v2/tenant/users", biCIAM, []string{"POST"}},
		{"DELETE", "/api/v2/tenant/users/" + fx.userID + "/change-password", biCIAM, []string{"PUT"}},
		{"POST", "/api/v2/tenant/users/" + fx.userID, biCIAM, []string{"GET"}},
	}
	for _, c := range cases {
		for _, auth := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s %s auth=%v", c.method, c.path, auth), func(t *testing.T) {
				h := map[string]string{}
				if auth {
					h["X-Auth-Token"], h["Authorization"] = fx.admin, "Bearer "+fx.ciam
				}
				body := ""
				if c.method != "GET" && c.method != "DELETE" {
					body, h["Content-Type"] = `{}`, "application/json"
				}
				r := biRaw(biOn(e, t), c.method, c.path, h, body, false)
				biEnvelope(t, c.family, r, http.StatusMethodNotAllowed, biCodeTable[c.family].method)
				biAllow(t, r, c.allow)
			})
		}
	}
	// The CIAM token endpoint answers in RFC 6749 form as well.
	t.Run("GET /api/v2/tenant/token", func(t *testing.T) {
		r := biRaw(biOn(e, t), "GET", "/api/v2/tenant/token", nil, "", false)
		if r.Status != http.StatusMethodNotAllowed {
			t.Fatalf("status %d, want 405: %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		if got := biKeys(m); !slices.Equal(got, []string{"error", "error_code", "error_description", "error_msg"}) {
			t.Errorf("keys %v, want error, error_code, error_description, error_msg: %s", got, r.Body)
		}
		if m["error_code"] != "IDAAS.TENANT.PARAM.0001" || m["error"] != "invalid_request" {
			t.Errorf("error_code %v, error %v: %s", m["error_code"], m["error"], r.Body)
		}
		biAllow(t, r, []string{"POST"})
	})
	// A wrong method with an oversize body: still 405 (or 413), never 5xx.
	t.Run("PATCH oversize", func(t *testing.T) {
		r := biRaw(biOn(e, t), "PATCH", "/v3.0/OS-USER/users", map[string]string{"Content-Type": "application/json"},
			`{"x":"`+strings.Repeat("a", 64<<10)+`"}`, false)
		if r.Status != http.StatusMethodNotAllowed && r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 405 or 413: %s", r.Status, r.Body)
		}
	})
}

// biAllow compares the Allow header with the expected methods (any order;
// HEAD may be added for paths that have GET).
func biAllow(t testing.TB, r *resp, want []string) {
	t.Helper()
	var got []string
	for _, v := range r.Header.Values("Allow") {
		for _, m := range strings.Split(v, ",") {
			if m = strings.TrimSpace(m); m != "" {
				got = append(got, m)
			}
		}
	}
	sort.Strings(got)
	if slices.Equal(got, want) {
		return
	}
	if slices.Contains(want, "GET") && !slices.Contains(want, "HEAD") {
		w2 := append(slices.Clone(want), "HEAD")
		sort.Strings(w2)
		if slices.Equal(got, w2) {
			return
		}
	}
	t.Errorf("Allow = %v, want %v", got, want)
}

// TestRoutingTrailingSlash: a path with a trailing slash is never
// redirected (a 301 would turn a POST into a GET in many clients); it is a
// 404 in the family envelope.
func TestRoutingTrailingSlash(t *testing.T) {
	t.Parallel()
	fx := biSetup(t)
	e := fx.e
	cases := []struct {
		method, path string
		family       biFamily
		body         string
	}{
		{"POST", "/v3/auth/tokens/", biKeystone, fx.byName["keystone-token"].valid},
		{"GET", "/v3/users/", biKeystone, ""},
		{"POST", "/v3/users/" + fx.userID + "/password/", biKeystone, `{}`},
		{"GET", "/v3.0/OS-USER/users/", biIAM, ""},
		{"POST", "/v3.0/OS-USER/users/", biIAM, `{}`},
		{"GET", "/v3.0/OS-USER/users/" + fx.userID + "/", biIAM, ""},
		{"POST", "/v2/user/" + fx.userID + "/validate-https-info/", biRepoV2, `{"pwd":"x"}`},
		{"POST", "/v1/user/" + fx.userID + "/validateHttpsInfo/", biRepoV2, `{"pwd":"x"}`},
		{"PUT", "/v4/user/https-password-setting/", biRepoV4, `{"https_clone_iam_auth":true}`},
		{"GET", "/v4/user/https-password-setting/", biRepoV4, ""},
		{"POST", "/api/v2/tenant/users/", biCIAM, `{}`},
		{"GET", "/api/v2/tenant/users/" + fx.userID + "/", biCIAM, ""},
		{"POST", "/api/v2/tenant/token/", biCIAM, ``},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			h := map[string]string{"X-Auth-Token": fx.admin, "Authorization": "Bearer " + fx.ciam}
			if c.body != "" {
				h["Content-Type"] = "application/json"
			}
			r := biRaw(biOn(e, t), c.method, c.path, h, c.body, false)
			if r.Status >= 300 && r.Status < 400 {
				t.Fatalf("redirected: %d Location %q", r.Status, r.Header.Get("Location"))
			}
			biEnvelope(t, c.family, r, http.StatusNotFound, biCodeTable[c.family].notFound)
		})
	}
	// Paths outside the families are not redirected either.
	for _, p := range []string{"/healthz/", "/readyz/", "/openapi.json/"} {
		t.Run("GET "+p, func(t *testing.T) {
			r := biRaw(biOn(e, t), "GET", p, nil, "", false)
			if r.Status != http.StatusNotFound {
				t.Errorf("status %d, want 404 (Location %q)", r.Status, r.Header.Get("Location"))
			}
		})
	}
	// Nor is a doubled slash or a dot segment cleaned up by a redirect.
	for _, p := range []string{"/v3//auth/tokens", "/v3.0/OS-USER//users", "/v3/auth/./tokens"} {
		t.Run("GET "+p, func(t *testing.T) {
			r := biRaw(biOn(e, t), "GET", p, map[string]string{"X-Auth-Token": fx.admin}, "", false)
			if r.Status >= 300 && r.Status < 400 {
				t.Errorf("redirected: %d Location %q", r.Status, r.Header.Get("Location"))
			}
		})
	}
}
