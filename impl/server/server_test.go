package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/envelope"
	"github.com/latchkey/latchkey/impl/fault"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// Test credentials (distinctive, so the log can be searched for them).
const (
	tokGood       = "tok-good-5b1d"
	tokRestricted = "tok-restricted-9c2e"
	tokExpired    = "tok-expired-1a7f"
	tokBoom       = "tok-boom-33aa"
)

// testAuth resolves the test tokens for both schemes.
type testAuth struct{ calls atomic.Int32 }

func (a *testAuth) Authenticate(_ context.Context, scheme string, r *http.Request) (*authn.Principal, error) {
	a.calls.Add(1)
	var tok string
	kind := authn.KindUserToken
	switch scheme {
	case SchemeXAuthToken:
		tok = r.Header.Get("X-Auth-Token")
	case SchemeCiamOAuth:
		kind = authn.KindCIAMClient
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			tok = h[len("Bearer "):]
		}
	default:
		return nil, errors.New("unknown scheme " + scheme)
	}
	switch tok {
	case "":
		return nil, fault.New(fault.Unauthenticated, "The request you have made requires authentication.")
	case tokGood:
		return &authn.Principal{Kind: kind, UserID: "u-good", DomainID: "d1"}, nil
	case tokRestricted:
		return &authn.Principal{Kind: kind, UserID: "u-restricted", DomainID: "d1", Restricted: true}, nil
	case tokExpired:
		return nil, fault.New(fault.TokenExpired, "The token has expired.")
	case tokBoom:
		return nil, errors.New("token store: database is down")
	}
	return nil, fault.New(fault.TokenInvalid, "Invalid token.")
}

// register stands in for gen.RegisterHandlersWithOptions: plain gin
// handlers for the operations of testdata/spec.yaml.
func register(r gin.IRouter, _ func(*gin.Context, error, int)) {
	r.GET("/healthz", func(c *gin.Context) { c.JSON(200, gin.H{"status": "ok"}) })
	token := gin.H{"token": gin.H{"methods": []string{"password"}, "expires_at": "2026-11-23T12:00:00.000000Z"}}
	r.POST("/v3/auth/tokens", func(c *gin.Context) {
		c.Header("X-Subject-Token", "issued")
		c.JSON(201, token)
	})
	r.GET("/v3/auth/tokens", func(c *gin.Context) {
		if c.GetHeader("X-Subject-Token") == "bad" {
			envelope.Write(c, fault.New(fault.SubjectTokenInvalid, "X-Subject-Token is invalid in the request."))
			return
		}
		c.JSON(200, token)
	})
	r.HEAD("/v3/auth/tokens", func(c *gin.Context) {
		if c.GetHeader("X-Subject-Token") == "bad" {
			envelope.Write(c, fault.New(fault.SubjectTokenInvalid, "X-Subject-Token is invalid in the request."))
			return
		}
		c.Status(200)
	})
	r.GET("/v3/users/:user_id", func(c *gin.Context) {
		id := c.Param("user_id")
		switch id {
		case "panic":
			panic("boom: internal detail")
		case "offspec":
			c.JSON(200, gin.H{"user": gin.H{"id": 1, "name": "alice", "enabled": "yes"}})
			return
		case "missing":
			envelope.Write(c, fault.New(fault.UserNotFound, "Could not find user: missing."))
			return
		case "plainerr":
			HandlerErrorHandler(c, errors.New("sql: connection refused"))
			return
		case "half":
			// A handler that starts a success and then fails: only the error goes out.
			c.Header("X-Partial", "1")
			c.JSON(200, gin.H{"user": gin.H{"id": "half"}})
			HandlerErrorHandler(c, fault.New(fault.Overloaded, "The service is temporarily unavailable."))
			return
		case "whoami":
			// The principal reaches the handler via the request context, and
			// via the gin context itself (ContextWithFallback).
			p1 := authn.FromContext(c.Request.Context())
			p2 := authn.FromContext(c)
			if p1 == nil || p2 == nil || p1 != p2 {
				c.JSON(200, gin.H{"user": gin.H{"id": "none", "name": "none", "enabled": false}})
				return
			}
			id = p1.UserID
		}
		c.JSON(200, gin.H{"user": gin.H{"id": id, "name": "alice", "enabled": true}})
	})
	r.DELETE("/v3/users/:user_id", func(c *gin.Context) {
		if c.Param("user_id") == "withbody" {
			c.Writer.WriteHeader(204)
			_, _ = c.Writer.Write([]byte(`{}`))
			return
		}
		c.Status(204)
	})
	r.PUT("/v3.0/OS-USER/users/:user_id/login-protect", func(c *gin.Context) {
		var in struct {
			LoginProtect struct {
				Enabled            bool   `json:"enabled"`
				VerificationMethod string `json:"verification_method"`
			} `json:"login_protect"`
		}
		if err := c.ShouldBindJSON(&in); err != nil {
			RequestErrorHandler(c, err)
			return
		}
		c.JSON(200, gin.H{"login_protect": gin.H{"user_id": c.Param("user_id"),
			"enabled": in.LoginProtect.Enabled, "verification_method": in.LoginProtect.VerificationMethod}})
	})
	r.POST("/v2/user/:iam_user_uuid/validate-https-info", func(c *gin.Context) {
		c.JSON(200, gin.H{"result": "verificationPassed", "status": "success"})
	})
	r.GET("/v4/user/https-password-setting", func(c *gin.Context) { c.String(200, "true") })
	r.PUT("/v4/user/https-password-setting", func(c *gin.Context) { c.String(200, "success") })
	r.POST("/api/v2/tenant/token", func(c *gin.Context) {
		if c.PostForm("grant_type") != "client_credentials" {
			e := fault.New(fault.ParameterInvalid, "grant_type must be client_credentials.")
			e.OAuthError = "unsupported_grant_type"
			envelope.Write(c, e)
			return
		}
		id, secret, basic := c.Request.BasicAuth()
		if !basic {
			id, secret = c.PostForm("client_id"), c.PostForm("client_secret")
		}
		if id == "" {
			e := fault.New(fault.Unauthenticated, "")
			e.OAuthError = "invalid_client"
			envelope.Write(c, e)
			return
		}
		if id != "app" || secret != "s3cret" {
			e := fault.New(fault.WrongPassword, "Client authentication failed.")
			e.OAuthError = "invalid_client"
			envelope.Write(c, e)
			return
		}
		c.JSON(200, gin.H{"access_token": tokGood, "token_type": "Bearer", "expires_in": 1800})
	})
	r.PUT("/api/v2/tenant/users/:user_id/change-password", func(c *gin.Context) {
		c.JSON(200, gin.H{"user_id": c.Param("user_id")})
	})
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	engine *gin.Engine
	auth   *testAuth
	logs   *syncBuf
	yaml   []byte
}

func loadSpec(t testing.TB) (*openapi3.T, []byte) {
	t.Helper()
	raw, err := os.ReadFile("testdata/spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	return spec, raw
}

func newFixture(t testing.TB, mods ...func(*Options)) *fixture {
	t.Helper()
	spec, raw := loadSpec(t)
	f := &fixture{auth: &testAuth{}, logs: &syncBuf{}, yaml: raw}
	o := Options{
		Spec:              spec,
		Logger:            slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Auth:              f.auth,
		ValidateResponses: true,
		Register:          register,
		SpecYAML:          raw,
	}
	for _, m := range mods {
		m(&o)
	}
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.engine = e
	return f
}

type req struct {
	method, path string
	body         string
	ct           string
	hdr          map[string]string
}

func (f *fixture) do(r req) *httptest.ResponseRecorder {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.body != "" {
		ct := r.ct
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	for k, v := range r.hdr {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.engine.ServeHTTP(rec, hr)
	return rec
}

func tok(t string) map[string]string    { return map[string]string{"X-Auth-Token": t} }
func bearer(t string) map[string]string { return map[string]string{"Authorization": "Bearer " + t} }

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

type tcase struct {
	name    string
	req     req
	status  int
	body    string            // exact (without the trailing newline); "" = not checked unless emptyBody
	empty   bool              // the body must be empty
	headers map[string]string // exact header values ("" = absent)
	absent  []string          // strings the body must not contain
}

func (f *fixture) run(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.do(tc.req)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d (body %s)", rec.Code, tc.status, rec.Body.String())
			}
			got := strings.TrimSuffix(rec.Body.String(), "\n")
			if tc.body != "" && got != tc.body {
				t.Errorf("body\n got %s\nwant %s", got, tc.body)
			}
			if tc.empty && rec.Body.Len() != 0 {
				t.Errorf("body should be empty, got %q", rec.Body.String())
			}
			for k, v := range tc.headers {
				if g := rec.Header().Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(rec.Body.String(), s) {
					t.Errorf("body contains %q: %s", s, rec.Body.String())
				}
			}
			if id := rec.Header().Get(HeaderRequestID); !hex32.MatchString(id) {
				t.Errorf("X-Request-Id = %q", id)
			}
		})
	}
}

func keystoneErr(status int, title, code, msg string) string {
	return `{"error":{"code":` + strconv.Itoa(status) + `,"title":"` + title + `","message":"` + msg +
		`","error_code":"` + code + `","error_msg":"` + msg + `"}}`
}

func flat(code, msg string) string { return `{"error_code":"` + code + `","error_msg":"` + msg + `"}` }

func repoV2(code, msg string) string {
	return `{"error":{"code":"` + code + `","message":"` + msg + `"},"status":"failed"}`
}

func TestRequestValidation(t *testing.T) {
	f := newFixture(t)
	const tokens = "/v3/auth/tokens"
	const lp = "/v3.0/OS-USER/users/u1/login-protect"
	const vhi = "/v2/user/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4/validate-https-info"
	const cp = "/api/v2/tenant/users/u1/change-password"
	good := tok(tokGood)
	f.run(t, []tcase{
		// Keystone.
		{name: "keystone ok", req: req{method: "POST", path: tokens,
			body: `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alice","password":"x"}}}}}`},
			status: 201, headers: map[string]string{"X-Subject-Token": "issued"}},
		{name: "keystone charset variant accepted", req: req{method: "POST", path: tokens, ct: "application/json;charset=utf8",
			body: `{"auth":{"identity":{"methods":["password"]}}}` + "\n"}, status: 201},
		{name: "keystone missing property", req: req{method: "POST", path: tokens, body: `{"auth":{"identity":{}}}`},
			status: 400, body: keystoneErr(400, "Bad Request", "IAM.0072", "'auth.identity.methods' is a required property.")},
		{name: "keystone missing top-level", req: req{method: "POST", path: tokens, body: `{}`},
			status: 400, body: keystoneErr(400, "Bad Request", "IAM.0072", "'auth' is a required property.")},
		{name: "keystone wrong type", req: req{method: "POST", path: tokens, body: `{"auth":{"identity":{"methods":"password"}}}`},
			status: 400, body: keystoneErr(400, "Bad Request", "IAM.0073", "Invalid input for field 'auth.identity.methods'. The value is 'password'.")},
		{name: "keystone array item", req: req{method: "POST", path: tokens, body: `{"auth":{"identity":{"methods":["password",7]}}}`},
			status: 400, body: keystoneErr(400, "Bad Request", "IAM.0073", "Invalid input for field 'auth.identity.methods[1]'. The value is '7'.")},
		{name: "keystone secret never echoed", req: req{method: "POST", path: tokens,
			body: `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alice","password":87654321}}}}}`},
			status: 400, body: keystoneErr(400, "Bad Request", "IAM.0073", "Invalid input for field 'auth.identity.password.user.password'. The value is '(hidden)'."),
			absent: []string{"87654321"}},
		{name: "keystone object value not echoed", req: req{method: "POST", path: tokens,
			body: `{"auth":{"identity":{"methods":{"password":"p4ss"}}}}`},
			status: 400, body: keystoneErr(400, "Bad Request", "IAM.0073", "Invalid input for field 'auth.identity.methods'. The value is '(object)'."),
			absent: []string{"p4ss"}},
		{name: "keystone malformed JSON", req: req{method: "POST", path: tokens, body: `{"auth":`},
			status: 400, body: keystoneErr(400, "Bad Request", "IAM.0011", "Request body is invalid.")},
		{name: "keystone body not an object", req: req{method: "POST", path: tokens, body: `[1,2]`},
			status: 400, body: keystoneErr(400, "Bad Request", "IAM.0011", "Request body is invalid: it must be a JSON object.")},
		{name: "keystone empty body", req: req{method: "POST", path: tokens},
			status: 400, body: keystoneErr(400, "Bad Request", "IAM.0011", "Request body is invalid: the body is required.")},
		{name: "keystone 415", req: req{method: "POST", path: tokens, ct: "text/xml", body: `<auth/>`},
			status: 415, body: keystoneErr(415, "Unsupported Media Type", "IAM.0011", "Request body is invalid: unsupported content type text/xml.")},
		{name: "keystone header parameter missing", req: req{method: "GET", path: tokens, hdr: good},
			status: 400, body: keystoneErr(400, "Bad Request", "IAM.0007", "Request parameter X-Subject-Token is invalid.")},
		{name: "keystone content type on GET is fine", req: req{method: "GET", path: tokens,
			hdr: map[string]string{"X-Auth-Token": tokGood, "X-Subject-Token": "s", "Content-Type": "application/json"}}, status: 200},

		// IAM v3.0.
		{name: "iam ok", req: req{method: "PUT", path: lp, hdr: good, body: `{"login_protect":{"enabled":true,"verification_method":"vmfa"}}`},
			status: 200, body: `{"login_protect":{"enabled":true,"user_id":"u1","verification_method":"vmfa"}}`},
		{name: "iam string for boolean", req: req{method: "PUT", path: lp, hdr: good, body: `{"login_protect":{"enabled":"true","verification_method":"sms"}}`},
			status: 400, body: flat("IAM.0073", "Invalid input for field 'login_protect.enabled'. The value is 'true'.")},
		{name: "iam enum", req: req{method: "PUT", path: lp, hdr: good, body: `{"login_protect":{"enabled":true,"verification_method":"fax"}}`},
			status: 400, body: flat("IAM.0073", "Invalid input for field 'login_protect.verification_method'. The value is 'fax'.")},
		{name: "iam missing", req: req{method: "PUT", path: lp, hdr: good, body: `{"login_protect":{"enabled":true}}`},
			status: 400, body: flat("IAM.0072", "'login_protect.verification_method' is a required property.")},
		{name: "iam shallowest error wins", req: req{method: "PUT", path: lp, hdr: good, body: `{"login_protect":{"enabled":"yes"}}`},
			status: 400, body: flat("IAM.0072", "'login_protect.verification_method' is a required property.")},
		{name: "iam malformed", req: req{method: "PUT", path: lp, hdr: good, body: `{"login_protect":{"enabled":true,}}`},
			status: 400, body: flat("IAM.0011", "Request body is invalid.")},

		// CodeArts Repo v2 and v4.
		{name: "repo v2 ok", req: req{method: "POST", path: vhi, hdr: good, body: `{"pwd":"Secret-123"}`},
			status: 200, body: `{"result":"verificationPassed","status":"success"}`},
		{name: "repo v2 path parameter pattern", req: req{method: "POST", path: "/v2/user/short/validate-https-info", hdr: good, body: `{"pwd":"x"}`},
			status: 400, body: repoV2("CH.010001", "Request parameter iam_user_uuid is invalid.")},
		{name: "repo v2 pwd hidden", req: req{method: "POST", path: vhi, hdr: good, body: `{"pwd":12345678}`},
			status: 400, body: repoV2("CH.010001", "Invalid input for field 'pwd'. The value is '(hidden)'."), absent: []string{"12345678"}},
		{name: "repo v2 missing", req: req{method: "POST", path: vhi, hdr: good, body: `{}`},
			status: 400, body: repoV2("CH.010001", "'pwd' is a required property.")},
		{name: "repo v2 malformed", req: req{method: "POST", path: vhi, hdr: good, body: `pwd=x`},
			status: 400, body: repoV2("CH.010001", "Request body is invalid.")},
		{name: "repo v4 text/plain", req: req{method: "GET", path: "/v4/user/https-password-setting", hdr: good},
			status: 200, body: "true", headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{name: "repo v4 oneOf string", req: req{method: "PUT", path: "/v4/user/https-password-setting", hdr: good, body: `{"https_clone_iam_auth":"false"}`},
			status: 200, body: "success"},
		{name: "repo v4 oneOf boolean", req: req{method: "PUT", path: "/v4/user/https-password-setting", hdr: good, body: `{"https_clone_iam_auth":true}`},
			status: 200, body: "success"},
		{name: "repo v4 oneOf neither", req: req{method: "PUT", path: "/v4/user/https-password-setting", hdr: good, body: `{"https_clone_iam_auth":"maybe"}`},
			status: 400, body: flat("CH.010001", "Invalid input for field 'https_clone_iam_auth'. The value is 'maybe'.")},

		// CIAM.
		{name: "ciam ok", req: req{method: "PUT", path: cp, hdr: bearer(tokGood), ct: "application/json; charset=utf-8", body: `{"password":"N3w-pass!","must_modify":false}`},
			status: 200, body: `{"user_id":"u1"}`},
		{name: "ciam missing", req: req{method: "PUT", path: cp, hdr: bearer(tokGood), body: `{"must_modify":false}`},
			status: 400, body: flat("IDAAS.TENANT.PARAM.0001", "'password' is a required property.")},
		{name: "ciam wrong type", req: req{method: "PUT", path: cp, hdr: bearer(tokGood), body: `{"password":"x","must_modify":"no"}`},
			status: 400, body: flat("IDAAS.TENANT.PARAM.0001", "Invalid input for field 'must_modify'. The value is 'no'.")},
		{name: "ciam 415", req: req{method: "PUT", path: cp, hdr: bearer(tokGood), ct: "text/plain", body: `password`},
			status: 415, body: flat("IDAAS.TENANT.PARAM.0001", "Request body is invalid: unsupported content type text/plain.")},
		{name: "ciam token ok", req: req{method: "POST", path: "/api/v2/tenant/token", ct: "application/x-www-form-urlencoded",
			body: "grant_type=client_credentials&client_id=app&client_secret=s3cret"}, status: 200},
		{name: "ciam token missing grant_type", req: req{method: "POST", path: "/api/v2/tenant/token", ct: "application/x-www-form-urlencoded",
			body: "client_id=app"}, status: 400,
			body:    `{"error_code":"IDAAS.TENANT.TOKEN.0001","error_msg":"'grant_type' is a required property.","error":"invalid_request","error_description":"'grant_type' is a required property."}`,
			headers: map[string]string{"Cache-Control": "no-store"}},
		{name: "ciam token unsupported grant", req: req{method: "POST", path: "/api/v2/tenant/token", ct: "application/x-www-form-urlencoded",
			body: "grant_type=password"}, status: 400,
			body: `{"error_code":"IDAAS.TENANT.TOKEN.0001","error_msg":"grant_type must be client_credentials.","error":"unsupported_grant_type","error_description":"grant_type must be client_credentials."}`},
		{name: "ciam token bad Basic", req: req{method: "POST", path: "/api/v2/tenant/token", ct: "application/x-www-form-urlencoded",
			body: "grant_type=client_credentials", hdr: map[string]string{"Authorization": "Basic YXBwOndyb25n"}}, status: 401,
			body:    `{"error_code":"APP.0001","error_msg":"Client authentication failed.","error":"invalid_client","error_description":"Client authentication failed."}`,
			headers: map[string]string{"WWW-Authenticate": `Basic realm="latchkey"`}},
		{name: "ciam token JSON is 415", req: req{method: "POST", path: "/api/v2/tenant/token", body: `{"grant_type":"client_credentials"}`}, status: 415,
			body: `{"error_code":"IDAAS.TENANT.PARAM.0001","error_msg":"Request body is invalid: unsupported content type application/json.","error":"invalid_request","error_description":"Request body is invalid: unsupported content type application/json."}`},
	})
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	const lp = "/v3.0/OS-USER/users/u1/login-protect"
	const cp = "/api/v2/tenant/users/u1/change-password"
	okLP := `{"login_protect":{"enabled":true,"verification_method":"vmfa"}}`
	f.run(t, []tcase{
		{name: "keystone no token", req: req{method: "GET", path: "/v3/users/u1"},
			status: 401, body: keystoneErr(401, "Unauthorized", "IAM.0001", "The request you have made requires authentication.")},
		{name: "keystone expired", req: req{method: "GET", path: "/v3/users/u1", hdr: tok(tokExpired)},
			status: 401, body: keystoneErr(401, "Unauthorized", "IAM.0066", "The token has expired.")},
		{name: "keystone invalid", req: req{method: "GET", path: "/v3/users/u1", hdr: tok("nonsense")},
			status: 401, body: keystoneErr(401, "Unauthorized", "IAM.0067", "Invalid token.")},
		{name: "authenticator failure is a 500, not a 401", req: req{method: "GET", path: "/v3/users/u1", hdr: tok(tokBoom)},
			status: 500, body: keystoneErr(500, "Internal Server Error", "IAM.0006", "An unexpected error prevented the server from fulfilling your request."),
			absent: []string{"database"}},
		{name: "restricted token may read itself", req: req{method: "GET", path: "/v3/users/u1", hdr: tok(tokRestricted)}, status: 200},
		{name: "restricted token may check tokens", req: req{method: "HEAD", path: "/v3/auth/tokens",
			hdr: map[string]string{"X-Auth-Token": tokRestricted, "X-Subject-Token": "s"}}, status: 200, empty: true},
		{name: "restricted token elsewhere is 403", req: req{method: "DELETE", path: "/v3/users/u1", hdr: tok(tokRestricted)},
			status: 403, body: keystoneErr(403, "Forbidden", "IAM.0002", "The password must be changed first.")},
		{name: "restricted beats a bad body", req: req{method: "PUT", path: lp, hdr: tok(tokRestricted), body: `{"login_protect":`},
			status: 403, body: flat("IAM.0002", "The password must be changed first.")},
		{name: "restricted iam", req: req{method: "PUT", path: lp, hdr: tok(tokRestricted), body: okLP},
			status: 403, body: flat("IAM.0002", "The password must be changed first.")},
		{name: "401 beats a bad body", req: req{method: "PUT", path: lp, body: `{"login_protect":`},
			status: 401, body: flat("IAM.0001", "The request you have made requires authentication.")},
		{name: "repo v2 401", req: req{method: "POST", path: "/v2/user/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4/validate-https-info", body: `{"pwd":"x"}`},
			status: 401, body: repoV2("CH.080401", "No Permission: the request requires a valid X-Auth-Token.")},
		{name: "repo v2 restricted", req: req{method: "POST", path: "/v2/user/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4/validate-https-info", hdr: tok(tokRestricted), body: `{"pwd":"x"}`},
			status: 403, body: repoV2("CH.080403", "The password must be changed first.")},
		{name: "repo v4 401", req: req{method: "GET", path: "/v4/user/https-password-setting", hdr: tok(tokExpired)},
			status: 401, body: flat("DEV.00000003", "Authentication information expired.")},
		{name: "repo v4 restricted", req: req{method: "GET", path: "/v4/user/https-password-setting", hdr: tok(tokRestricted)},
			status: 403, body: flat("CH.004403", "The password must be changed first.")},
		{name: "ciam no bearer", req: req{method: "PUT", path: cp, body: `{"password":"x"}`},
			status: 401, body: flat("IDAAS.TENANT.AUTH.0001", "The access token is missing, invalid or expired."),
			headers: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}},
		{name: "ciam X-Auth-Token is not a bearer", req: req{method: "PUT", path: cp, hdr: tok(tokGood), body: `{"password":"x"}`},
			status: 401, body: flat("IDAAS.TENANT.AUTH.0001", "The access token is missing, invalid or expired.")},
		{name: "public operation ignores tokens", req: req{method: "GET", path: "/healthz", hdr: tok("nonsense")}, status: 200, body: `{"status":"ok"}`},
		{name: "principal reaches the handler", req: req{method: "GET", path: "/v3/users/whoami", hdr: tok(tokGood)},
			status: 200, body: `{"user":{"enabled":true,"id":"u-good","name":"alice"}}`},
	})
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	f := newFixture(t)
	f.run(t, []tcase{
		{name: "keystone 404", req: req{method: "GET", path: "/v3/nope?password=x"},
			status: 404, body: keystoneErr(404, "Not Found", "IAM.0004", "Could not find path: /v3/nope.")},
		{name: "keystone root 404", req: req{method: "GET", path: "/"},
			status: 404, body: keystoneErr(404, "Not Found", "IAM.0004", "Could not find path: /.")},
		{name: "trailing slash is not redirected", req: req{method: "GET", path: "/v3/auth/tokens/"},
			status: 404, body: keystoneErr(404, "Not Found", "IAM.0004", "Could not find path: /v3/auth/tokens/.")},
		{name: "iam 404", req: req{method: "GET", path: "/v3.0/OS-USER/nope"},
			status: 404, body: flat("IAM.0004", "Could not find path: /v3.0/OS-USER/nope.")},
		{name: "repo v1 404", req: req{method: "POST", path: "/v1/user/x/nope"},
			status: 404, body: repoV2("CH.000404", "Could not find path: /v1/user/x/nope.")},
		{name: "repo v2 404", req: req{method: "GET", path: "/v2/user/x/nope"},
			status: 404, body: repoV2("CH.000404", "Could not find path: /v2/user/x/nope.")},
		{name: "repo v4 404", req: req{method: "GET", path: "/v4/nope"},
			status: 404, body: flat("CH.000404", "Could not find path: /v4/nope.")},
		{name: "ciam 404", req: req{method: "GET", path: "/api/v2/tenant/nope"},
			status: 404, body: flat("IDAAS.TENANT.PARAM.0001", "Could not find path: /api/v2/tenant/nope.")},
		{name: "outside every family", req: req{method: "GET", path: "/nope"},
			status: 404, body: `{"error":"not found"}`},
		{name: "keystone 405", req: req{method: "PUT", path: "/v3/auth/tokens"},
			status: 405, body: keystoneErr(405, "Method Not Allowed", "IAM.0007", "Request method PUT is not allowed for /v3/auth/tokens."),
			headers: map[string]string{"Allow": "GET, HEAD, POST"}},
		{name: "repo v4 405", req: req{method: "DELETE", path: "/v4/user/https-password-setting"},
			status: 405, body: flat("CH.010001", "Request method DELETE is not allowed for /v4/user/https-password-setting."),
			headers: map[string]string{"Allow": "GET, PUT"}},
		{name: "iam 405 on a templated path", req: req{method: "GET", path: "/v3.0/OS-USER/users/u1/login-protect"},
			status: 405, body: flat("IAM.0007", "Request method GET is not allowed for /v3.0/OS-USER/users/u1/login-protect."),
			headers: map[string]string{"Allow": "PUT"}},
		{name: "ciam token 405", req: req{method: "GET", path: "/api/v2/tenant/token"},
			status: 405, headers: map[string]string{"Allow": "POST"},
			body: `{"error_code":"IDAAS.TENANT.PARAM.0001","error_msg":"Request method GET is not allowed for /api/v2/tenant/token.","error":"invalid_request","error_description":"Request method GET is not allowed for /api/v2/tenant/token."}`},
		{name: "none 405", req: req{method: "POST", path: "/healthz"},
			status: 405, body: `{"error":"method not allowed"}`, headers: map[string]string{"Allow": "GET"}},
	})
}

func TestBodyLimitBeforeAuth(t *testing.T) {
	f := newFixture(t)
	big := `{"password":"` + strings.Repeat("a", 40000) + `"}`
	rec := f.do(req{method: "PUT", path: "/api/v2/tenant/users/u1/change-password", body: big})
	if rec.Code != 413 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	want := flat("IDAAS.TENANT.PARAM.0001", "The request body size 40015 is invalid: the limit is 32768 bytes.")
	if got := strings.TrimSpace(rec.Body.String()); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}

	if n := f.auth.calls.Load(); n != 0 {
		t.Errorf("authenticator called %d times for a declared oversize body", n)
	}

	// Chunked (no Content-Length): the limit trips while validation reads
	// the body, which happens only after authentication; an unauthenticated
	// caller gets 401 and its body is never read.
	chunked := func(token string) *httptest.ResponseRecorder {
		body := &countingReader{r: strings.NewReader(big)}
		hr := httptest.NewRequest("PUT", "/v3.0/OS-USER/users/u1/login-protect", body)
		hr.ContentLength = -1
		hr.Header.Set("Content-Type", "application/json")
		if token != "" {
			hr.Header.Set("X-Auth-Token", token)
		}
		rec := httptest.NewRecorder()
		f.engine.ServeHTTP(rec, hr)
		if token == "" && body.n != 0 {
			t.Errorf("unauthenticated body was read (%d bytes)", body.n)
		}
		return rec
	}
	if rec = chunked(""); rec.Code != 401 {
		t.Errorf("chunked without token: status %d: %s", rec.Code, rec.Body.String())
	}
	rec = chunked(tokGood)
	if rec.Code != 413 {
		t.Fatalf("chunked: status %d: %s", rec.Code, rec.Body.String())
	}
	if got, want := strings.TrimSpace(rec.Body.String()), flat("IAM.1101", "The request body size is invalid: the limit is 32768 bytes."); got != want {
		t.Errorf("chunked body\n got %s\nwant %s", got, want)
	}

	// A custom limit applies.
	small := newFixture(t, func(o *Options) { o.MaxBodyBytes = 64 })
	rec = small.do(req{method: "POST", path: "/v3/auth/tokens", body: `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alice"}}}}}`})
	if rec.Code != 413 {
		t.Errorf("limit 64: status %d", rec.Code)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestHandlerFailures(t *testing.T) {
	f := newFixture(t)
	generic := keystoneErr(500, "Internal Server Error", "IAM.0006", "An unexpected error prevented the server from fulfilling your request.")
	f.run(t, []tcase{
		{name: "panic is a 500 envelope", req: req{method: "GET", path: "/v3/users/panic", hdr: tok(tokGood)},
			status: 500, body: generic, absent: []string{"boom", "goroutine", ".go:"}},
		{name: "off-spec response is a 500", req: req{method: "GET", path: "/v3/users/offspec", hdr: tok(tokGood)},
			status: 500, body: generic, absent: []string{"alice"}},
		{name: "body on a no-content response is off-spec", req: req{method: "DELETE", path: "/v3/users/withbody", hdr: tok(tokGood)},
			status: 500, body: generic},
		{name: "204 passes", req: req{method: "DELETE", path: "/v3/users/u1", hdr: tok(tokGood)}, status: 204, empty: true},
		{name: "handler fault in the envelope", req: req{method: "GET", path: "/v3/users/missing", hdr: tok(tokGood)},
			status: 404, body: keystoneErr(404, "Not Found", "IAM.0004", "Could not find user: missing.")},
		{name: "handler plain error", req: req{method: "GET", path: "/v3/users/plainerr", hdr: tok(tokGood)},
			status: 500, body: generic, absent: []string{"sql"}},
		{name: "half-written success is replaced by the error", req: req{method: "GET", path: "/v3/users/half", hdr: tok(tokGood)},
			status: 503, body: keystoneErr(503, "Service Unavailable", "IAM.0006", "The service is temporarily unavailable."),
			headers: map[string]string{"X-Partial": "", "Retry-After": "1"}},
		{name: "HEAD ok", req: req{method: "HEAD", path: "/v3/auth/tokens", hdr: map[string]string{"X-Auth-Token": tokGood, "X-Subject-Token": "s"}},
			status: 200, empty: true},
		{name: "HEAD error has no body", req: req{method: "HEAD", path: "/v3/auth/tokens", hdr: map[string]string{"X-Auth-Token": tokGood, "X-Subject-Token": "bad"}},
			status: 404, empty: true},
		{name: "HEAD 401 has no body", req: req{method: "HEAD", path: "/v3/auth/tokens", hdr: map[string]string{"X-Subject-Token": "s"}},
			status: 401, empty: true},
		{name: "GET subject token invalid", req: req{method: "GET", path: "/v3/auth/tokens", hdr: map[string]string{"X-Auth-Token": tokGood, "X-Subject-Token": "bad"}},
			status: 404, body: keystoneErr(404, "Not Found", "IAM.0009", "X-Subject-Token is invalid in the request.")},
	})
	logs := f.logs.String()
	for _, want := range []string{"panic while serving a request", "boom: internal detail", "response does not match the spec",
		"KeystoneShowUser", "sql: connection refused", "declares no content"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	// The off-spec log names the problem but never the values.
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "response does not match") && strings.Contains(line, "alice") {
			t.Errorf("off-spec log echoes a value: %s", line)
		}
	}
}

func TestResponseValidationOff(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ValidateResponses = false })
	rec := f.do(req{method: "GET", path: "/v3/users/offspec", hdr: tok(tokGood)})
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	rec = f.do(req{method: "GET", path: "/v3/users/panic", hdr: tok(tokGood)})
	if rec.Code != 500 {
		t.Fatalf("panic without buffering: status %d", rec.Code)
	}
	rec = f.do(req{method: "PUT", path: "/v3.0/OS-USER/users/u1/login-protect", hdr: tok(tokGood), body: `{"login_protect":{"enabled":"true","verification_method":"sms"}}`})
	if rec.Code != 400 {
		t.Fatalf("request validation still on: status %d", rec.Code)
	}
}

func TestRequestID(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		in   string
		keep bool
	}{
		{"", false},
		{"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", true},
		{"abc_DEF.123", true},
		{"has space", false},
		{"semi;colon", false},
		{strings.Repeat("a", 129), false},
	} {
		rec := f.do(req{method: "GET", path: "/healthz", hdr: map[string]string{HeaderRequestID: tc.in}})
		got := rec.Header().Get(HeaderRequestID)
		if tc.keep && got != tc.in || !tc.keep && !hex32.MatchString(got) {
			t.Errorf("in %q -> %q", tc.in, got)
		}
	}
	// Also on middleware-produced errors.
	rec := f.do(req{method: "GET", path: "/nope", hdr: map[string]string{HeaderRequestID: "trace-1"}})
	if rec.Header().Get(HeaderRequestID) != "trace-1" {
		t.Error("404 lacks the request id")
	}
}

func TestAccessLogNeverLogsSecrets(t *testing.T) {
	f := newFixture(t)
	f.do(req{method: "GET", path: "/v3/users/u1?password=hunter2&token=abc", hdr: map[string]string{"X-Auth-Token": tokGood, HeaderRequestID: "trace-42"}})
	f.do(req{method: "PUT", path: "/api/v2/tenant/users/u1/change-password", hdr: bearer(tokGood), body: `{"password":"Sup3r-s3cret!"}`})
	logs := f.logs.String()
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		if m["msg"] == "request" && m["request_id"] == "trace-42" {
			line = m
		}
	}
	if line == nil {
		t.Fatalf("no access log line:\n%s", logs)
	}
	if line["method"] != "GET" || line["path"] != "/v3/users/u1" || line["route"] != "/v3/users/:user_id" || line["status"] != float64(200) {
		t.Errorf("access log line: %v", line)
	}
	if _, ok := line["duration"]; !ok {
		t.Error("no duration")
	}
	for _, secret := range []string{"hunter2", tokGood, "Sup3r-s3cret", "X-Auth-Token", "Authorization"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

func TestDocsAndSpec(t *testing.T) {
	f := newFixture(t)
	rec := f.do(req{method: "GET", path: "/docs"})
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/docs/" {
		t.Errorf("/docs: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for _, p := range []string{"/docs/", "/docs/index.html"} {
		rec = f.do(req{method: "GET", path: p})
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %q", p, rec.Code, rec.Header().Get("Content-Type"))
		}
		html := rec.Body.String()
		if !strings.Contains(html, `src="./swagger-ui-bundle.js"`) || !strings.Contains(html, `href="./swagger-ui.css"`) {
			t.Errorf("%s does not load the local assets:\n%s", p, html)
		}
		if m := external.FindString(html); m != "" {
			t.Errorf("%s references another host: %s", p, m)
		}
	}
	rec = f.do(req{method: "GET", path: "/docs/swagger-initializer.js"})
	js := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(js, "validatorUrl: null") || !strings.Contains(js, `url: "../openapi.json"`) ||
		!strings.Contains(js, "persistAuthorization: true") || external.MatchString(js) || strings.Contains(js, "petstore") {
		t.Errorf("initializer: %d\n%s", rec.Code, js)
	}
	rec = f.do(req{method: "GET", path: "/docs/swagger-ui-bundle.js"})
	if rec.Code != 200 || rec.Body.Len() < 100_000 || !strings.Contains(rec.Header().Get("Content-Type"), "javascript") {
		t.Errorf("bundle: %d, %d bytes, %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Type"))
	}
	for _, p := range []string{"/docs/swagger-ui.css", "/docs/index.css", "/docs/oauth2-redirect.html", "/docs/favicon-32x32.png"} {
		if rec = f.do(req{method: "GET", path: p}); rec.Code != 200 {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	if rec = f.do(req{method: "GET", path: "/docs/nope.js"}); rec.Code != 404 {
		t.Errorf("/docs/nope.js: %d", rec.Code)
	}

	rec = f.do(req{method: "GET", path: "/openapi.json"})
	var doc map[string]any
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
		t.Fatalf("/openapi.json: %d, valid JSON: %v", rec.Code, json.Valid(rec.Body.Bytes()))
	}
	if doc["openapi"] != "3.0.3" || doc["paths"].(map[string]any)["/v3/auth/tokens"] == nil {
		t.Errorf("/openapi.json content: %v", doc["openapi"])
	}
	if _, ok := doc["servers"]; ok {
		t.Error("/openapi.json still has servers")
	}
	if _, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes()); err != nil {
		t.Errorf("/openapi.json does not load: %v", err)
	}
	rec = f.do(req{method: "GET", path: "/openapi.yaml"})
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), f.yaml) {
		t.Errorf("/openapi.yaml: %d", rec.Code)
	}
}

func TestRenderedYAMLWhenNotGiven(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.SpecYAML = nil })
	rec := f.do(req{method: "GET", path: "/openapi.yaml"})
	if rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	if _, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes()); err != nil {
		t.Errorf("rendered YAML does not load: %v", err)
	}
}

func TestNewChecks(t *testing.T) {
	spec, _ := loadSpec(t)
	if _, err := New(Options{Spec: spec, Register: register}); err == nil {
		t.Error("New without Auth succeeded")
	}
	if _, err := New(Options{Auth: &testAuth{}, Register: register}); err == nil {
		t.Error("New without Spec succeeded")
	}
	// A spec operation without a route is reported at startup.
	logs := &syncBuf{}
	_, err := New(Options{Spec: spec, Auth: &testAuth{}, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Register: func(r gin.IRouter, _ func(*gin.Context, error, int)) {
			r.GET("/healthz", func(c *gin.Context) {})
			r.GET("/extra", func(c *gin.Context) {})
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "spec operation has no route") || !strings.Contains(logs.String(), "/extra") {
		t.Errorf("startup checks did not log:\n%s", logs.String())
	}
}

func TestGinPath(t *testing.T) {
	for in, want := range map[string]string{
		"/v3/auth/tokens":                   "/v3/auth/tokens",
		"/v3/users/{user_id}":               "/v3/users/:user_id",
		"/v2/user/{iam_user_uuid}/validate": "/v2/user/:iam_user_uuid/validate",
		"/a/{x}/b/{y}":                      "/a/:x/b/:y",
	} {
		if got := ginPath(in); got != want {
			t.Errorf("ginPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParamErrorHandler(t *testing.T) {
	for _, tc := range []struct{ err, want string }{
		{"Invalid format for parameter user_id: error binding string parameter: secret-value", "Request parameter user_id is invalid."},
		{"Header parameter X-Subject-Token is required, but not found", "Request parameter X-Subject-Token is invalid."},
		{"Query argument nocatalog is required, but not found", "Request parameter nocatalog is invalid."},
		{"something else entirely", "Request parameter is invalid."},
	} {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest("GET", "/v3.0/OS-USER/users/x", nil)
		ParamErrorHandler(c, errors.New(tc.err), 400)
		if got, want := strings.TrimSpace(rec.Body.String()), flat("IAM.0007", tc.want); got != want || rec.Code != 400 {
			t.Errorf("%q -> %d %s", tc.err, rec.Code, got)
		}
	}
}

func TestStrictOptionsShape(t *testing.T) {
	// The struct must stay convertible to gen.StrictGinServerOptions.
	o := StrictOptions()
	if o.RequestErrorHandlerFunc == nil || o.HandlerErrorFunc == nil || o.ResponseErrorHandlerFunc == nil {
		t.Fatal("nil hook")
	}
	type genShape struct {
		RequestErrorHandlerFunc  func(ctx *gin.Context, err error)
		HandlerErrorFunc         func(ctx *gin.Context, err error)
		ResponseErrorHandlerFunc func(ctx *gin.Context, err error)
	}
	_ = genShape(o)

	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest("PUT", "/v4/user/https-password", nil)
	RequestErrorHandler(c, &http.MaxBytesError{Limit: 32768})
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != 413 || got != flat("CH.010001", "The request body size is invalid: the limit is 32768 bytes.") {
		t.Errorf("max bytes: %d %s", rec.Code, got)
	}
}

func TestConcurrentRequests(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				var rec *httptest.ResponseRecorder
				switch (i + j) % 4 {
				case 0:
					rec = f.do(req{method: "GET", path: "/v3/users/u1", hdr: tok(tokGood)})
				case 1:
					rec = f.do(req{method: "GET", path: "/v3/users/offspec", hdr: tok(tokGood)})
				case 2:
					rec = f.do(req{method: "PUT", path: "/v3.0/OS-USER/users/u1/login-protect", hdr: tok(tokGood), body: `{"login_protect":{"enabled":"x","verification_method":"sms"}}`})
				case 3:
					rec = f.do(req{method: "GET", path: "/v3/users/panic", hdr: tok(tokGood)})
				}
				want := []int{200, 500, 400, 500}[(i+j)%4]
				if rec.Code != want {
					t.Errorf("case %d: status %d", (i+j)%4, rec.Code)
				}
			}
		}(i)
	}
	wg.Wait()
}
