package tests

// Black-box tests of the CIAM (OneAccess) tenant API (seed 003, apis.md §5,
// §6.4, §7.1 items 21-24) and of the administration of CIAM OAuth clients
// (/v3.0/OS-CIAM/clients). Tokens are fetched with the real OAuth2 client
// golang.org/x/oauth2/clientcredentials. Helpers of this file are prefixed
// "ciam".

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/impl/app"
	"github.com/latchkey/latchkey/impl/config"
)

const (
	ciamTokenPath = "/api/v2/tenant/token"
	ciamUsersPath = "/api/v2/tenant/users"
	ciamClients   = "/v3.0/OS-CIAM/clients"
	// The bootstrap client of ciamEnv, configured like an operator would.
	ciamBootID     = "ciam-bootstrap.app"
	ciamBootSecret = "Boot-Str@p secret+1"
	// A secret with every character that breaks a naive Basic decoder.
	ciamSpecialSecret = "p@ss word+/:="
	// Passwords that satisfy the default policy.
	ciamPw  = "Bright#Harbor-2026"
	ciamPw2 = "Quiet-Lantern-58"
	ciamPw3 = "Silver!Canyon-31"
	ciamPw4 = "Velvet_Orchard-64"
)

func init() {
	for _, s := range []string{ciamBootSecret, ciamSpecialSecret, ciamPw, ciamPw2, ciamPw3, ciamPw4} {
		rememberSecret(s)
	}
}

var ciamWireTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$`)

// ciamEnv starts a server whose bootstrap domain has the configured CIAM
// client ciamBootID / ciamBootSecret.
func ciamEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	return newEnv(t, append([]envOption{func(c *config.Config) {
		c.BootstrapClientID, c.BootstrapClientSecret = ciamBootID, ciamBootSecret
	}}, opts...)...)
}

// ciamCC is the x/oauth2 client-credentials configuration of a client.
func ciamCC(e *env, id, secret string, style oauth2.AuthStyle) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID: id, ClientSecret: secret, TokenURL: e.URL + ciamTokenPath,
		Scopes: []string{"all"}, AuthStyle: style,
	}
}

// ciamToken fetches an access token with x/oauth2 (credentials in the body).
func ciamToken(t testing.TB, e *env, id, secret string) string {
	t.Helper()
	tok, err := ciamCC(e, id, secret, oauth2.AuthStyleInParams).Token(context.Background())
	if err != nil {
		t.Fatalf("token for client %s: %v", id, err)
	}
	rememberSecret(tok.AccessToken)
	return tok.AccessToken
}

// ciamBootToken is a token of the bootstrap client.
func ciamBootToken(t testing.TB, e *env) string { return ciamToken(t, e, ciamBootID, ciamBootSecret) }

// ciamDo sends a CIAM request with a bearer token ("" for none).
func ciamDo(e *env, tok, method, path string, body any) *resp {
	e.t.Helper()
	h := map[string]string{}
	if tok != "" {
		h["Authorization"] = "Bearer " + tok
	}
	return e.do(req{Method: method, Path: path, Header: h, Body: body})
}

// ciamError asserts a CIAM error: the status and exactly {"error_code":
// code, "error_msg": "<non-empty>"}. It returns error_msg.
func ciamError(t testing.TB, r *resp, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d (%s): %s", r.Status, status, code, r.Body)
	}
	m := r.JSON(t)
	if len(m) != 2 {
		t.Errorf("CIAM error envelope must have exactly error_code and error_msg: %s", r.Body)
	}
	if got, _ := m["error_code"].(string); got != code {
		t.Fatalf("error_code = %v, want %q: %s", m["error_code"], code, r.Body)
	}
	msg, _ := m["error_msg"].(string)
	if msg == "" {
		t.Errorf("error_msg missing or empty: %s", r.Body)
	}
	return msg
}

// ciamPwdError asserts a password-policy error with its exact message.
func ciamPwdError(t testing.TB, r *resp, code, msg string) {
	t.Helper()
	if got := ciamError(t, r, http.StatusBadRequest, code); got != msg {
		t.Errorf("%s error_msg = %q, want %q", code, got, msg)
	}
}

// ciamCreateUser creates a user and returns its id.
func ciamCreateUser(t testing.TB, e *env, tok string, body map[string]any) string {
	t.Helper()
	r := ciamDo(e, tok, "POST", ciamUsersPath, body)
	mustStatus(t, r, http.StatusCreated)
	m := r.JSON(t)
	id, _ := m["user_id"].(string)
	if len(m) != 1 || !iaHexID.MatchString(id) {
		t.Fatalf("create user answer: %s", r.Body)
	}
	return id
}

func ciamShow(t testing.TB, e *env, tok, id string) map[string]any {
	t.Helper()
	r := ciamDo(e, tok, "GET", ciamUsersPath+"/"+id, nil)
	mustStatus(t, r, http.StatusOK)
	return r.JSON(t)
}

func ciamSetPassword(e *env, tok, id string, body map[string]any) *resp {
	e.t.Helper()
	return ciamDo(e, tok, "PUT", ciamUsersPath+"/"+id+"/change-password", body)
}

func ciamVerifyPassword(e *env, tok, id, old, pw string) *resp {
	e.t.Helper()
	return ciamDo(e, tok, "PUT", ciamUsersPath+"/"+id+"/change-password-verify",
		map[string]any{"old_password": old, "password": pw})
}

// ciamNewClient creates a client through the admin endpoint; secret "" lets
// the server generate one. It returns the id and the secret.
func ciamNewClient(t testing.TB, e *env, adminTok, name, secret string) (string, string) {
	t.Helper()
	c := map[string]any{"name": name}
	if secret != "" {
		c["client_secret"] = secret
	}
	r := e.do(req{Method: "POST", Path: ciamClients, Token: adminTok, Body: map[string]any{"client": c}})
	mustStatus(t, r, http.StatusCreated)
	got, _ := r.JSON(t)["client"].(map[string]any)
	id, _ := got["client_id"].(string)
	sec, _ := got["client_secret"].(string)
	if !iaHexID.MatchString(id) || sec == "" {
		t.Fatalf("create client answer: %s", r.Body)
	}
	rememberSecret(sec)
	return id, sec
}

// ciamForm posts a raw token request.
func ciamForm(e *env, form url.Values, header map[string]string) *resp {
	e.t.Helper()
	return e.do(req{Method: "POST", Path: ciamTokenPath, Body: form.Encode(),
		CT: "application/x-www-form-urlencoded", Header: header})
}

func ciamBasic(id, secret string) map[string]string {
	return map[string]string{"Authorization": "Basic " +
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))}
}

// ciamTokenOK checks a successful token answer and returns the token.
func ciamTokenOK(t testing.TB, r *resp) string {
	t.Helper()
	mustStatus(t, r, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	m := r.JSON(t)
	tok, _ := m["access_token"].(string)
	if tok == "" || m["token_type"] != "Bearer" || m["expires_in"] != float64(1800) || m["scope"] != "all" {
		t.Fatalf("token answer: %s", r.Body)
	}
	rememberSecret(tok)
	return tok
}

// TestCiamOAuth2ClientCredentials drives the token endpoint with the real
// x/oauth2 client in every authentication style, with a secret full of
// special characters, then calls the API through the oauth2 http.Client.
func TestCiamOAuth2ClientCredentials(t *testing.T) {
	e := ciamEnv(t)
	adm := e.adminToken()
	specialID, _ := ciamNewClient(t, e, adm, "special", ciamSpecialSecret)
	genID, genSecret := ciamNewClient(t, e, adm, "generated", "")
	if len(genSecret) != 43 {
		t.Errorf("generated secret has %d characters, want 43", len(genSecret))
	}
	clients := []struct{ name, id, secret string }{
		{"special-character secret", specialID, ciamSpecialSecret},
		{"generated secret", genID, genSecret},
		{"configured bootstrap client", ciamBootID, ciamBootSecret},
	}
	styles := []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"basic", oauth2.AuthStyleInHeader},
		{"body", oauth2.AuthStyleInParams},
		{"autodetect", oauth2.AuthStyleAutoDetect},
	}
	n := 0
	for _, c := range clients {
		for _, s := range styles {
			t.Run(c.name+"/"+s.name, func(t *testing.T) {
				ctx := context.Background()
				cc := ciamCC(e, c.id, c.secret, s.style)
				tok, err := cc.Token(ctx)
				if err != nil {
					t.Fatalf("Token: %v", err)
				}
				rememberSecret(tok.AccessToken)
				if tok.TokenType != "Bearer" || tok.Extra("scope") != "all" {
					t.Errorf("token_type %q, scope %v", tok.TokenType, tok.Extra("scope"))
				}
				if d := time.Until(tok.Expiry); d < 1790*time.Second || d > 1800*time.Second {
					t.Errorf("expires in %v, want about 1800s", d)
				}
				// The API through the oauth2 transport: create a user, set its
				// password (admin reset), change it with the old one.
				hc := cc.Client(ctx)
				n++
				name := fmt.Sprintf("oauth.user%d", n)
				id := ciamHTTP(t, hc, http.MethodPost, e.URL+ciamUsersPath, fmt.Sprintf(
					`{"user_name":%q,"mobile":"+86-1380000%04d","password":%q,"pwd_must_modify":false}`, name, n, ciamPw), http.StatusCreated)["user_id"].(string)
				got := ciamHTTP(t, hc, http.MethodPut, e.URL+ciamUsersPath+"/"+id+"/change-password",
					fmt.Sprintf(`{"password":%q,"must_modify":false}`, ciamPw2), http.StatusOK)
				if len(got) != 1 || got["user_id"] != id {
					t.Errorf("change-password answer %v", got)
				}
				ciamHTTP(t, hc, http.MethodPut, e.URL+ciamUsersPath+"/"+id+"/change-password-verify",
					fmt.Sprintf(`{"old_password":%q,"password":%q}`, ciamPw2, ciamPw3), http.StatusOK)
				// The user is an IAM user too: it logs in with the new password.
				e.token(name, ciamPw3)
			})
		}
	}
}

// ciamHTTP sends a JSON request with an http.Client (the oauth2 transport
// adds the bearer) and decodes the JSON answer.
func ciamHTTP(t testing.TB, hc *http.Client, method, u, body string, want int) map[string]any {
	t.Helper()
	hr, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json;charset=utf8")
	res, err := hc.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := &resp{Status: res.StatusCode, Header: res.Header, Body: raw}
	mustStatus(t, r, want)
	return r.JSON(t)
}

// Raw token requests: every success shape.
func TestCiamTokenRaw(t *testing.T) {
	e := ciamEnv(t)
	adm := e.adminToken()
	id, _ := ciamNewClient(t, e, adm, "raw", ciamSpecialSecret)
	grant := url.Values{"grant_type": {"client_credentials"}}
	withCreds := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {ciamSpecialSecret}}

	t.Run("basic, form-encoded", func(t *testing.T) { ciamTokenOK(t, ciamForm(e, grant, ciamBasic(id, ciamSpecialSecret))) })
	t.Run("basic, not form-encoded (curl -u)", func(t *testing.T) {
		h := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+ciamSpecialSecret))}
		ciamTokenOK(t, ciamForm(e, grant, h))
	})
	t.Run("basic scheme in lower case", func(t *testing.T) {
		h := ciamBasic(id, ciamSpecialSecret)
		h["Authorization"] = "basic" + strings.TrimPrefix(h["Authorization"], "Basic")
		ciamTokenOK(t, ciamForm(e, grant, h))
	})
	t.Run("basic with the same client_id in the body", func(t *testing.T) {
		f := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}
		ciamTokenOK(t, ciamForm(e, f, ciamBasic(id, ciamSpecialSecret)))
	})
	t.Run("body", func(t *testing.T) { ciamTokenOK(t, ciamForm(e, withCreds, nil)) })
	t.Run("extra parameters ignored", func(t *testing.T) {
		f := url.Values{"scope": {"openid profile"}, "audience": {"https://api.example.com"}}
		for k, v := range withCreds {
			f[k] = v
		}
		ciamTokenOK(t, ciamForm(e, f, nil))
	})
	t.Run("form content type with charset", func(t *testing.T) {
		r := e.do(req{Method: "POST", Path: ciamTokenPath, Body: withCreds.Encode(), CT: "application/x-www-form-urlencoded; charset=UTF-8"})
		ciamTokenOK(t, r)
	})
	t.Run("tokens stay valid side by side", func(t *testing.T) {
		a := ciamTokenOK(t, ciamForm(e, withCreds, nil))
		b := ciamTokenOK(t, ciamForm(e, withCreds, nil))
		if a == b {
			t.Error("two token requests gave the same token")
		}
		for _, tok := range []string{a, b} {
			mustStatus(t, ciamDo(e, tok, "GET", ciamUsersPath+"/"+e.AdminID, nil), http.StatusOK)
		}
	})
}

// Every error of the token endpoint (apis.md §5.1), in both envelopes.
func TestCiamTokenErrors(t *testing.T) {
	e := ciamEnv(t)
	id, _ := ciamNewClient(t, e, e.adminToken(), "errors", ciamSpecialSecret)
	cc := "client_credentials"
	tests := []struct {
		name      string
		form      url.Values
		header    map[string]string
		ct        string
		status    int
		oauth     string
		code      string
		wantBasic bool // WWW-Authenticate: Basic
	}{
		{name: "no credentials", form: url.Values{"grant_type": {cc}}, status: 400, oauth: "invalid_client", code: "APP.0002"},
		{name: "empty body", ct: "application/x-www-form-urlencoded", status: 400, oauth: "invalid_request", code: "IDAAS.TENANT.TOKEN.0001"},
		{name: "unknown client (body)", form: url.Values{"grant_type": {cc}, "client_id": {"nobody"}, "client_secret": {"whatever-1"}}, status: 400, oauth: "invalid_client", code: "APP.0001"},
		{name: "wrong secret (body)", form: url.Values{"grant_type": {cc}, "client_id": {id}, "client_secret": {"p@ss word+/:"}}, status: 400, oauth: "invalid_client", code: "APP.0001"},
		{name: "client_id without secret", form: url.Values{"grant_type": {cc}, "client_id": {id}}, status: 400, oauth: "invalid_client", code: "APP.0001"},
		{name: "wrong secret (basic)", form: url.Values{"grant_type": {cc}}, header: ciamBasic(id, "p@ss word+/:"), status: 401, oauth: "invalid_client", code: "APP.0001", wantBasic: true},
		{name: "unknown client (basic)", form: url.Values{"grant_type": {cc}}, header: ciamBasic("nobody", "whatever-1"), status: 401, oauth: "invalid_client", code: "APP.0001", wantBasic: true},
		{name: "basic not base64", form: url.Values{"grant_type": {cc}}, header: map[string]string{"Authorization": "Basic %%%"}, status: 401, oauth: "invalid_client", code: "APP.0001", wantBasic: true},
		{name: "basic without colon", form: url.Values{"grant_type": {cc}}, header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(id))}, status: 401, oauth: "invalid_client", code: "APP.0001", wantBasic: true},
		{name: "grant_type missing", form: url.Values{"client_id": {id}, "client_secret": {ciamSpecialSecret}}, status: 400, oauth: "invalid_request", code: "IDAAS.TENANT.TOKEN.0001"},
		{name: "grant_type password", form: url.Values{"grant_type": {"password"}, "client_id": {id}, "client_secret": {ciamSpecialSecret}}, status: 400, oauth: "unsupported_grant_type", code: "IDAAS.TENANT.TOKEN.0001"},
		{name: "grant_type authorization_code with basic", form: url.Values{"grant_type": {"authorization_code"}}, header: ciamBasic(id, ciamSpecialSecret), status: 400, oauth: "unsupported_grant_type", code: "IDAAS.TENANT.TOKEN.0001"},
		{name: "basic and body", form: url.Values{"grant_type": {cc}, "client_id": {id}, "client_secret": {ciamSpecialSecret}}, header: ciamBasic(id, ciamSpecialSecret), status: 400, oauth: "invalid_request", code: "IDAAS.TENANT.TOKEN.0001"},
		{name: "basic and another client_id in the body", form: url.Values{"grant_type": {cc}, "client_id": {"other"}}, header: ciamBasic(id, ciamSpecialSecret), status: 400, oauth: "invalid_request", code: "IDAAS.TENANT.TOKEN.0001"},
		{name: "parameter twice", form: url.Values{"grant_type": {cc, cc}, "client_id": {id}, "client_secret": {ciamSpecialSecret}}, status: 400, oauth: "invalid_request", code: "IDAAS.TENANT.TOKEN.0001"},
		{name: "JSON body", ct: "application/json", status: 415, oauth: "invalid_request", code: "IDAAS.TENANT.PARAM.0001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *resp
			switch {
			case tt.ct == "application/json":
				r = e.do(req{Method: "POST", Path: ciamTokenPath, Body: map[string]any{"grant_type": cc, "client_id": id, "client_secret": ciamSpecialSecret}})
			case tt.form == nil:
				r = e.do(req{Method: "POST", Path: ciamTokenPath, Body: "", CT: tt.ct})
			default:
				r = ciamForm(e, tt.form, tt.header)
			}
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			m := r.JSON(t)
			if m["error"] != tt.oauth || m["error_code"] != tt.code {
				t.Errorf("error %v / %v, want %s / %s: %s", m["error"], m["error_code"], tt.oauth, tt.code, r.Body)
			}
			if d, _ := m["error_description"].(string); d == "" || d != m["error_msg"] {
				t.Errorf("error_description %q must repeat error_msg %q", d, m["error_msg"])
			}
			if len(m) != 4 {
				t.Errorf("want exactly error, error_description, error_code, error_msg: %s", r.Body)
			}
			if strings.Contains(string(r.Body), ciamSpecialSecret) {
				t.Error("the error echoes the secret")
			}
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			wa := r.Header.Get("WWW-Authenticate")
			if tt.wantBasic != strings.HasPrefix(wa, "Basic") {
				t.Errorf("WWW-Authenticate = %q, want Basic: %v", wa, tt.wantBasic)
			}
		})
	}

	// Exact texts of the documented codes.
	m := ciamForm(e, url.Values{"grant_type": {cc}}, nil).JSON(t)
	if m["error_msg"] != "Application ID required." {
		t.Errorf("APP.0002 text %q", m["error_msg"])
	}
	m = ciamForm(e, url.Values{"grant_type": {cc}, "client_id": {id}, "client_secret": {"nope-nope"}}, nil).JSON(t)
	if m["error_msg"] != "Client authentication failed." {
		t.Errorf("APP.0001 text %q", m["error_msg"])
	}

	t.Run("credentials only in the query string are ignored", func(t *testing.T) {
		q := url.Values{"client_id": {id}, "client_secret": {ciamSpecialSecret}}
		r := e.do(req{Method: "POST", Path: ciamTokenPath + "?" + q.Encode(), Body: "grant_type=client_credentials",
			CT: "application/x-www-form-urlencoded"})
		if r.Status != 400 || r.JSON(t)["error_code"] != "APP.0002" {
			t.Fatalf("query-string credentials: %d %s", r.Status, r.Body)
		}
		q = url.Values{"grant_type": {cc}}
		r = e.do(req{Method: "POST", Path: ciamTokenPath + "?" + q.Encode(), Body: url.Values{"client_id": {id}, "client_secret": {ciamSpecialSecret}}.Encode(),
			CT: "application/x-www-form-urlencoded"})
		if r.Status != 400 || r.JSON(t)["error"] != "invalid_request" {
			t.Fatalf("query-string grant_type: %d %s", r.Status, r.Body)
		}
	})

	t.Run("x/oauth2 sees RFC 6749 errors", func(t *testing.T) {
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams, oauth2.AuthStyleAutoDetect} {
			_, err := ciamCC(e, id, "wrong secret", style).Token(context.Background())
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.ErrorDescription != "Client authentication failed." {
				t.Errorf("style %d: %v", style, err)
			}
		}
	})
}

// Bearer problems answer 401 IDAAS.TENANT.AUTH.0001 with a Bearer challenge.
func TestCiamBearerErrors(t *testing.T) {
	e := ciamEnv(t)
	adm := e.adminToken()
	id, secret := ciamNewClient(t, e, adm, "doomed", "")
	doomed := ciamToken(t, e, id, secret)
	mustStatus(t, e.do(req{Method: "DELETE", Path: ciamClients + "/" + id, Token: adm}), http.StatusNoContent)
	path := ciamUsersPath + "/" + e.AdminID
	tests := []struct {
		name   string
		header map[string]string
	}{
		{"missing", nil},
		{"garbage", map[string]string{"Authorization": "Bearer not-a-token"}},
		{"empty bearer", map[string]string{"Authorization": "Bearer "}},
		{"basic instead of bearer", ciamBasic(ciamBootID, ciamBootSecret)},
		{"keystone user token as bearer", map[string]string{"Authorization": "Bearer " + adm}},
		{"keystone token header only", map[string]string{"X-Auth-Token": adm}},
		{"token of a deleted client", map[string]string{"Authorization": "Bearer " + doomed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []*resp{
				e.do(req{Method: "GET", Path: path, Header: tt.header}),
				e.do(req{Method: "PUT", Path: path + "/change-password", Header: tt.header, Body: map[string]any{"password": ciamPw}}),
				e.do(req{Method: "POST", Path: ciamUsersPath, Header: tt.header, Body: map[string]any{"user_name": "x", "mobile": "13800000000"}}),
			} {
				ciamError(t, r, http.StatusUnauthorized, "IDAAS.TENANT.AUTH.0001")
				if wa := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer") || !strings.Contains(wa, "invalid_token") {
					t.Errorf("WWW-Authenticate = %q", wa)
				}
			}
		})
	}
	// The deleted client cannot get new tokens either.
	m := ciamForm(e, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}, nil).JSON(t)
	if m["error"] != "invalid_client" {
		t.Errorf("deleted client got %v", m)
	}
}

// Create a user with every field, read every field back (apis.md §5.2, §5.3).
func TestCiamCreateAndShowUser(t *testing.T) {
	e := ciamEnv(t)
	tok := ciamBootToken(t, e)
	before := time.Now().UTC().Add(-time.Second)
	id := ciamCreateUser(t, e, tok, map[string]any{
		"user_name": "zhang.wei", "mobile": "+86-13812345678", "password": ciamPw,
		"email": "zhang.wei@example.com", "name": "张伟",
		"extension": map[string]any{"department": "R&D", "level": 3, "tags": []any{"a", "b"}, "nested": map[string]any{"x": true}},
		"org_code":  "ORG-1", "employee_id": "E-1", "first_name": "Wei", "last_name": "Zhang", "attr_gender": "male",
		"user_org_relation_list": []any{map[string]any{"org_id": "o1", "relation_type": "0"}},
	})
	u := ciamShow(t, e, tok, id)
	want := map[string]any{
		"user_id": id, "user_name": "zhang.wei", "name": "张伟", "mobile": "+86-13812345678",
		"email": "zhang.wei@example.com", "org_id": "", "pwd_must_modify": true, "disabled": false,
		"locked": "false", "grade": float64(0),
	}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("%s = %#v, want %#v", k, u[k], v)
		}
	}
	keys := []string{"user_id", "user_name", "name", "mobile", "email", "org_id", "pwd_must_modify", "pwd_change_at",
		"created_at", "updated_at", "disabled", "locked", "grade", "extension", "user_org_relation_list"}
	if len(u) != len(keys) {
		t.Errorf("%d fields, want %d: %v", len(u), len(keys), u)
	}
	for _, k := range []string{"pwd_change_at", "created_at", "updated_at"} {
		s, _ := u[k].(string)
		ts, err := time.Parse(time.RFC3339Nano, s)
		if !ciamWireTime.MatchString(s) || err != nil || ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
			t.Errorf("%s = %v", k, u[k])
		}
	}
	ext, _ := u["extension"].(map[string]any)
	if ext["department"] != "R&D" || ext["level"] != float64(3) || fmt.Sprint(ext["tags"]) != "[a b]" || fmt.Sprint(ext["nested"]) != "map[x:true]" {
		t.Errorf("extension = %v", u["extension"])
	}
	if l, ok := u["user_org_relation_list"].([]any); !ok || len(l) != 0 {
		t.Errorf("user_org_relation_list = %#v", u["user_org_relation_list"])
	}

	t.Run("defaults", func(t *testing.T) {
		id := ciamCreateUser(t, e, tok, map[string]any{"user_name": "li.na", "mobile": "13900000001"})
		u := ciamShow(t, e, tok, id)
		for k, v := range map[string]any{"name": "li.na", "mobile": "+86-13900000001", "email": "", "pwd_must_modify": false, "pwd_change_at": nil, "locked": "false"} {
			if u[k] != v {
				t.Errorf("%s = %#v, want %#v", k, u[k], v)
			}
		}
		if ext, ok := u["extension"].(map[string]any); !ok || len(ext) != 0 {
			t.Errorf("extension = %#v, want {}", u["extension"])
		}
		// pwd_must_modify false with a password: an unrestricted IAM user.
		id = ciamCreateUser(t, e, tok, map[string]any{"user_name": "wang.fang", "mobile": "0086-13900000002", "password": ciamPw, "pwd_must_modify": false})
		u = ciamShow(t, e, tok, id)
		if u["pwd_must_modify"] != false || u["mobile"] != "0086-13900000002" {
			t.Errorf("user %v", u)
		}
		utok := e.token("wang.fang", ciamPw)
		mustStatus(t, e.do(req{Method: "GET", Path: "/v3.0/OS-USER/users/" + id + "/login-protect", Token: utok}), http.StatusNotFound)
	})

	t.Run("IAM users are CIAM users", func(t *testing.T) {
		u := ciamShow(t, e, tok, e.AdminID)
		if u["user_name"] != adminName || u["name"] != adminName || u["mobile"] != "" {
			t.Errorf("admin as a CIAM user: %v", u)
		}
	})

	t.Run("errors", func(t *testing.T) {
		base := func(kv ...any) map[string]any {
			m := map[string]any{"user_name": "new.user", "mobile": "+86-13700000000"}
			for i := 0; i < len(kv); i += 2 {
				if kv[i+1] == nil {
					delete(m, kv[i].(string))
				} else {
					m[kv[i].(string)] = kv[i+1]
				}
			}
			return m
		}
		tests := []struct {
			name string
			body any
			code string
		}{
			{"user_name taken", base("user_name", "zhang.wei"), "IDAAS.TENANT.USER.0002"},
			{"user_name taken by an IAM user", base("user_name", adminName), "IDAAS.TENANT.USER.0002"},
			{"mobile taken", base("mobile", "+86-13812345678"), "IDAAS.TENANT.USER.0003"},
			{"mobile taken, other spelling", base("mobile", "0086-13812345678"), "IDAAS.TENANT.USER.0003"},
			{"mobile taken, bare digits", base("mobile", "13812345678"), "IDAAS.TENANT.USER.0003"},
			{"email taken", base("email", "zhang.wei@example.com"), "IDAAS.TENANT.USER.0004"},
			{"mobile with plus and no dash", base("mobile", "+8613700000000"), "USER.0038"},
			{"mobile too short", base("mobile", "1370000"), "USER.0038"},
			{"mobile not Chinese without code", base("mobile", "07700900123"), "USER.0038"},
			{"mobile with letters", base("mobile", "+86-1370000000x"), "USER.0038"},
			{"mobile with spaces", base("mobile", "137 0000 0000"), "USER.0038"},
			{"mobile bad country code", base("mobile", "+0-13700000000"), "USER.0038"},
			{"mobile empty", base("mobile", ""), "USER.0038"},
			{"mobile missing", base("mobile", nil), "IDAAS.TENANT.PARAM.0001"},
			{"mobile not a string", base("mobile", 13700000000), "IDAAS.TENANT.PARAM.0001"},
			{"user_name missing", base("user_name", nil), "IDAAS.TENANT.PARAM.0001"},
			{"user_name invalid", base("user_name", "9lives"), "IDAAS.TENANT.PARAM.0001"},
			{"user_name too long", base("user_name", strings.Repeat("a", 65)), "IDAAS.TENANT.PARAM.0001"},
			{"email invalid", base("email", "not-an-email"), "IDAAS.TENANT.PARAM.0001"},
			{"name too long", base("name", strings.Repeat("名", 129)), "IDAAS.TENANT.PARAM.0001"},
			{"extension not an object", base("extension", "x"), "IDAAS.TENANT.PARAM.0001"},
			{"pwd_must_modify not a bool", base("pwd_must_modify", "yes"), "IDAAS.TENANT.PARAM.0001"},
			{"password too short", base("password", "Ab1-xyz"), "IDAAS.TENANT.PWD.0007"},
			{"password contains the mobile", base("password", "Pw-13700000000"), "IDAAS.TENANT.PWD.0003"},
			{"password is the name in pinyin", base("name", "王小明", "password", "Wangxiaoming-1"), "IDAAS.TENANT.PWD.0003"},
			{"body not JSON", "{", "IDAAS.TENANT.PARAM.0001"},
			{"body an array", []any{}, "IDAAS.TENANT.PARAM.0001"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ciamError(t, ciamDo(e, tok, "POST", ciamUsersPath, tt.body), http.StatusBadRequest, tt.code)
			})
		}
		if msg := ciamError(t, ciamDo(e, tok, "POST", ciamUsersPath, base("mobile", "12")), 400, "USER.0038"); msg != "Invalid mobile number." {
			t.Errorf("USER.0038 text %q", msg)
		}
	})
}

// Unknown users and users of another domain are "not found" (400 USER.0001).
func TestCiamUserNotFound(t *testing.T) {
	e := ciamEnv(t)
	tok := ciamBootToken(t, e)
	mine := ciamCreateUser(t, e, tok, map[string]any{"user_name": "mine", "mobile": "13800000001", "password": ciamPw})
	_, ownerTok := e.otherDomain("elsewhere")
	oid, osecret := ciamNewClient(t, e, ownerTok, "elsewhere", "")
	otherTok := ciamToken(t, e, oid, osecret)
	theirs := ciamCreateUser(t, e, otherTok, map[string]any{"user_name": "mine", "mobile": "13800000001", "password": ciamPw})

	cases := []struct {
		name, tok, id string
	}{
		{"unknown id", tok, "ffffffffffffffffffffffffffffffff"},
		{"not a hex id", tok, "20201028102749564-9082-DC8CD2722"},
		{"user of another domain", tok, theirs},
		{"seen from the other domain", otherTok, mine},
		{"other domain's owner", tok, func() string {
			u, _ := e.App.Accounts.UserByName(context.Background(), mustDomain(t, e, "elsewhere"), "owner-elsewhere")
			return u.ID
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range []*resp{
				ciamDo(e, c.tok, "GET", ciamUsersPath+"/"+c.id, nil),
				ciamSetPassword(e, c.tok, c.id, map[string]any{"password": ciamPw2}),
				ciamVerifyPassword(e, c.tok, c.id, ciamPw, ciamPw2),
			} {
				if msg := ciamError(t, r, http.StatusBadRequest, "IDAAS.TENANT.USER.0001"); msg != "User not found" {
					t.Errorf("error_msg %q, want the seed's %q", msg, "User not found")
				}
			}
		})
	}
	// Nothing changed on either side.
	e.token("mine", ciamPw)
	if u := ciamShow(t, e, otherTok, theirs); u["pwd_change_at"] == nil {
		t.Error("foreign user lost its password")
	}
}

func mustDomain(t testing.TB, e *env, name string) string {
	t.Helper()
	d, err := e.App.Accounts.DomainByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// change-password (seed 003): the flags and their default, the answer, the
// side effects.
func TestCiamChangePassword(t *testing.T) {
	e := ciamEnv(t)
	tok := ciamBootToken(t, e)
	id := ciamCreateUser(t, e, tok, map[string]any{"user_name": "flags", "mobile": "13800000002", "password": ciamPw, "pwd_must_modify": false})
	pws := []string{ciamPw2, ciamPw3, ciamPw4, "Maple&River-19", "Coral^Summit-27", "Onyx~Garden-45"}
	tests := []struct {
		name string
		body map[string]any
		want bool
	}{
		{"default is true", map[string]any{}, true},
		{"must_modify false (seed name)", map[string]any{"must_modify": false}, false},
		{"pwd_must_modify false (product name)", map[string]any{"pwd_must_modify": false}, false},
		{"pwd_must_modify true", map[string]any{"pwd_must_modify": true}, true},
		{"pwd_must_modify wins over must_modify", map[string]any{"must_modify": true, "pwd_must_modify": false}, false},
		{"pwd_must_modify wins the other way", map[string]any{"must_modify": false, "pwd_must_modify": true}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rememberSecret(pws[i])
			var userTok string
			if u := ciamShow(t, e, tok, id); u["pwd_must_modify"] == false {
				userTok = e.token("flags", []string{ciamPw, ciamPw2, ciamPw3, ciamPw4, "Maple&River-19", "Coral^Summit-27"}[i])
			}
			body := map[string]any{"password": pws[i]}
			for k, v := range tt.body {
				body[k] = v
			}
			r := ciamSetPassword(e, tok, id, body)
			mustStatus(t, r, http.StatusOK)
			if m := r.JSON(t); len(m) != 1 || m["user_id"] != id {
				t.Errorf("answer %s, want {\"user_id\":%q}", r.Body, id)
			}
			if u := ciamShow(t, e, tok, id); u["pwd_must_modify"] != tt.want {
				t.Errorf("pwd_must_modify = %v, want %v", u["pwd_must_modify"], tt.want)
			}
			if userTok != "" { // the user's tokens were revoked
				r := e.do(req{Method: "GET", Path: "/v3/users/" + id, Token: userTok})
				mustStatus(t, r, http.StatusUnauthorized)
			}
		})
	}
	t.Run("password missing", func(t *testing.T) {
		ciamError(t, ciamSetPassword(e, tok, id, map[string]any{"must_modify": false}), 400, "IDAAS.TENANT.PARAM.0001")
	})
	t.Run("must_modify not a bool", func(t *testing.T) {
		ciamError(t, ciamSetPassword(e, tok, id, map[string]any{"password": "Tidal+Beacon-88", "must_modify": "no"}), 400, "IDAAS.TENANT.PARAM.0001")
	})
	t.Run("seed content type", func(t *testing.T) {
		r := e.do(req{Method: "PUT", Path: ciamUsersPath + "/" + id + "/change-password", CT: "application/json; charset=utf-8",
			Header: map[string]string{"Authorization": "Bearer " + tok}, Body: `{"password":"Tidal+Beacon-88","must_modify":false}`})
		mustStatus(t, r, http.StatusOK)
		rememberSecret("Tidal+Beacon-88")
	})
}

// change-password-verify: the old password is checked, the new one must
// differ, the must-change flag is cleared.
func TestCiamChangePasswordVerify(t *testing.T) {
	e := ciamEnv(t)
	tok := ciamBootToken(t, e)
	id := ciamCreateUser(t, e, tok, map[string]any{"user_name": "verify", "mobile": "13800000003", "password": ciamPw})
	if u := ciamShow(t, e, tok, id); u["pwd_must_modify"] != true {
		t.Fatalf("a created password must be changed by default: %v", u)
	}

	msg := ciamError(t, ciamVerifyPassword(e, tok, id, "Wrong-Password-1", ciamPw2), 400, "LOGIN.0002")
	if !strings.HasPrefix(msg, "Invalid account name or password.") {
		t.Errorf("LOGIN.0002 text %q", msg)
	}
	ciamPwdError(t, ciamVerifyPassword(e, tok, id, ciamPw, ciamPw), "IDAAS.TENANT.PWD.0001", "The password is used before, cannot be used again")
	ciamPwdError(t, ciamVerifyPassword(e, tok, id, ciamPw, "short"), "IDAAS.TENANT.PWD.0007", "The password must contain 8 to 32 characters")
	// A wrong old password is reported before any rule of the new one.
	ciamError(t, ciamVerifyPassword(e, tok, id, "Wrong-Password-1", "short"), 400, "LOGIN.0002")
	ciamError(t, ciamDo(e, tok, "PUT", ciamUsersPath+"/"+id+"/change-password-verify", map[string]any{"password": ciamPw2}), 400, "IDAAS.TENANT.PARAM.0001")

	r := ciamVerifyPassword(e, tok, id, ciamPw, ciamPw2)
	mustStatus(t, r, http.StatusOK)
	if m := r.JSON(t); len(m) != 1 || m["user_id"] != id {
		t.Errorf("answer %s", r.Body)
	}
	if u := ciamShow(t, e, tok, id); u["pwd_must_modify"] != false {
		t.Errorf("pwd_must_modify = %v after the change", u["pwd_must_modify"])
	}
	// The old password no longer works; the new one gives an unrestricted token.
	mustStatus(t, e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth("verify", ciamPw)}), http.StatusUnauthorized)
	utok := e.token("verify", ciamPw2)
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3.0/OS-USER/users/" + id + "/login-protect", Token: utok}), http.StatusNotFound)
}

// Every IDAAS.TENANT.PWD.000x rule of seed 003, at its boundary, with the
// placeholders filled from the live policy.
func TestCiamPasswordRules(t *testing.T) {
	e := ciamEnv(t)
	adm := e.adminToken()
	tok := ciamBootToken(t, e)
	setPolicy := func(p map[string]any) {
		t.Helper()
		r := e.do(req{Method: "PUT", Path: "/v3.0/OS-SECURITYPOLICY/domains/" + e.DomainID + "/password-policy", Token: adm,
			Body: map[string]any{"password_policy": p}})
		mustStatus(t, r, http.StatusOK)
	}
	id := ciamCreateUser(t, e, tok, map[string]any{
		"user_name": "Jo.Smith9", "mobile": "+86-13812345678", "email": "jo.smith@example.com", "name": "张伟", "password": ciamPw,
	})
	set := func(pw string) *resp {
		t.Helper()
		return ciamSetPassword(e, tok, id, map[string]any{"password": pw, "must_modify": false})
	}
	ok := func(pw string) {
		t.Helper()
		rememberSecret(pw)
		mustStatus(t, set(pw), http.StatusOK)
	}
	const (
		pwd1 = "IDAAS.TENANT.PWD.0001"
		pwd2 = "IDAAS.TENANT.PWD.0002"
		pwd3 = "IDAAS.TENANT.PWD.0003"
		pwd4 = "IDAAS.TENANT.PWD.0004"
		pwd5 = "IDAAS.TENANT.PWD.0005"
		pwd6 = "IDAAS.TENANT.PWD.0006"
		pwd7 = "IDAAS.TENANT.PWD.0007"
	)
	len8to32 := "The password must contain 8 to 32 characters"
	long := func(n int) string { return ("Ab1-" + "qwertyuiopasdfghjklzxcvbnmqwertyuiop")[:n] }

	t.Run("PWD.0007 length, default 8 to 32", func(t *testing.T) {
		ciamPwdError(t, set(long(7)), pwd7, len8to32)
		ok(long(8))
		ok(long(32))
		ciamPwdError(t, set(long(33)), pwd7, len8to32)
		ciamPwdError(t, set(""), pwd7, len8to32)
	})
	t.Run("PWD.0007 length follows the policy", func(t *testing.T) {
		setPolicy(map[string]any{"minimum_password_length": 10})
		ciamPwdError(t, set(long(9)), pwd7, "The password must contain 10 to 32 characters")
		ok(long(10))
		setPolicy(map[string]any{"minimum_password_length": 8})
	})
	t.Run("PWD.0002 user name or its reverse", func(t *testing.T) {
		ciamPwdError(t, set("Jo.Smith9"), pwd2, "Password cannot username in reverse order")
		ciamPwdError(t, set("9htimS.oJ"), pwd2, "Password cannot username in reverse order")
		ciamPwdError(t, set("9HTIMS.OJ"), pwd2, "Password cannot username in reverse order")
	})
	t.Run("PWD.0003 personal data", func(t *testing.T) {
		want := "Password cannot contain :username, mobile number, email prefix, name in PinYing"
		for _, pw := range []string{
			"x-jo.smith9-X",                      // user name
			"Pw-13812345678", "Pw+8613812345678", // mobile
			"Jo.Smith@2026",                                   // e-mail prefix
			"Zhangwei#2026", "zhang.wei-77X", "WeiZhang!2026", // real name in pinyin
		} {
			ciamPwdError(t, set(pw), pwd3, want)
		}
		ok("Pw-1381234567") // one digit short of the mobile
	})
	t.Run("PWD.0004 character types", func(t *testing.T) {
		ciamPwdError(t, set("abcdefgh"), pwd4, "Your password complexity is low, use at least 2 of: uppercase letters, lowercase letters, digits, special characters")
		setPolicy(map[string]any{"password_char_combination": 3})
		ciamPwdError(t, set("abcdefg12"), pwd4, "Your password complexity is low, use at least 3 of: uppercase letters, lowercase letters, digits, special characters")
		ok("abcdefg12X")
		setPolicy(map[string]any{"password_char_combination": 2})
	})
	t.Run("PWD.0005 weak", func(t *testing.T) {
		ciamPwdError(t, set("P@ssw0rd"), pwd5, "The password is weak")
		ciamPwdError(t, set("Password123"), pwd5, "The password is weak")
	})
	t.Run("PWD.0006 repeated characters", func(t *testing.T) {
		setPolicy(map[string]any{"maximum_consecutive_identical_chars": 2})
		ciamPwdError(t, set("Abc-111x9q"), pwd6, "Number of character repeat in password should not exceed 2")
		ok("Abc-11x9qz")
		setPolicy(map[string]any{"maximum_consecutive_identical_chars": 4})
		ciamPwdError(t, set("Abc-11111x9"), pwd6, "Number of character repeat in password should not exceed 4")
		ok("Abc-1111x9q")
		setPolicy(map[string]any{"maximum_consecutive_identical_chars": 0})
	})
	t.Run("PWD.0001 current and recent passwords", func(t *testing.T) {
		ok("Hist-One-2026")
		ciamPwdError(t, set("Hist-One-2026"), pwd1, "The password is used before, cannot be used again")
		setPolicy(map[string]any{"number_of_recent_passwords_disallowed": 3})
		ok("Hist-Two-2026")
		ok("Hist-Three-2026")
		ciamPwdError(t, set("Hist-One-2026"), pwd1, "The password is used before, cannot be used again") // 3rd most recent
		ok("Hist-Four-2026")
		ok("Hist-One-2026") // now the 4th: allowed again
		setPolicy(map[string]any{"number_of_recent_passwords_disallowed": 0})
	})
	t.Run("PWD.0004 minimum password age (change with the old password)", func(t *testing.T) {
		setPolicy(map[string]any{"minimum_password_age": 60})
		ciamPwdError(t, ciamVerifyPassword(e, tok, id, "Hist-One-2026", "Fresh-Start-2026"), pwd4,
			"Your password complexity is low, the password can be changed again in 60 minutes")
		ok("Fresh-Start-2026") // an administrator's reset is exempt
		setPolicy(map[string]any{"minimum_password_age": 0})
	})
}

// A user whose password must be changed gets a restricted Keystone token
// until it changes the password itself (DESIGN.md §3, apis.md §0).
func TestCiamMustModifyRestrictsKeystoneToken(t *testing.T) {
	e := ciamEnv(t)
	tok := ciamBootToken(t, e)
	id := ciamCreateUser(t, e, tok, map[string]any{"user_name": "restricted.admin", "mobile": "13800000004", "password": ciamPw, "pwd_must_modify": false})
	e.setRole(id, "secu_admin") // so the probe below is allowed once unrestricted
	probe := req{Method: "GET", Path: "/v3.0/OS-USER/login-protects"}

	probe.Token = e.token("restricted.admin", ciamPw)
	mustStatus(t, e.do(probe), http.StatusOK)

	// The administrator's reset with the default must_modify (true).
	mustStatus(t, ciamSetPassword(e, tok, id, map[string]any{"password": ciamPw2}), http.StatusOK)
	mustStatus(t, e.do(probe), http.StatusUnauthorized) // the old token was revoked

	restricted := e.token("restricted.admin", ciamPw2)
	probe.Token = restricted
	msg := iaIAMError(t, e.do(probe), http.StatusForbidden, "IAM.0002")
	if !strings.Contains(msg, "must be changed first") {
		t.Errorf("403 message %q does not say the password must be changed first", msg)
	}
	// The restricted token may read its own user and change its password.
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users/" + id, Token: restricted}), http.StatusOK)
	r := e.do(req{Method: "POST", Path: "/v3/users/" + id + "/password", Token: restricted,
		Body: map[string]any{"user": map[string]any{"original_password": ciamPw2, "password": ciamPw3}}})
	mustStatus(t, r, http.StatusNoContent)

	if u := ciamShow(t, e, tok, id); u["pwd_must_modify"] != false {
		t.Errorf("pwd_must_modify = %v after the user's own change", u["pwd_must_modify"])
	}
	mustStatus(t, e.do(probe), http.StatusUnauthorized) // revoked by the change
	probe.Token = e.token("restricted.admin", ciamPw3)
	mustStatus(t, e.do(probe), http.StatusOK)
}

// The client administration endpoint: admins of the domain only.
func TestCiamClientAdmin(t *testing.T) {
	e := ciamEnv(t)
	adm := e.adminToken()
	list := func(tok string) []any {
		t.Helper()
		r := e.do(req{Method: "GET", Path: ciamClients, Token: tok})
		mustStatus(t, r, http.StatusOK)
		m := r.JSON(t)
		l, ok := m["clients"].([]any)
		if len(m) != 1 || !ok {
			t.Fatalf("list answer %s", r.Body)
		}
		return l
	}
	ids := func(l []any) []string {
		var out []string
		for _, c := range l {
			m := c.(map[string]any)
			out = append(out, m["client_id"].(string))
			if _, leaked := m["client_secret"]; leaked {
				t.Error("a listed client shows its secret")
			}
			if len(m) != 4 || !ciamWireTime.MatchString(m["created_at"].(string)) {
				t.Errorf("listed client %v", m)
			}
		}
		return out
	}
	if got := ids(list(adm)); len(got) != 1 || got[0] != ciamBootID {
		t.Fatalf("clients at start %v, want the bootstrap client", got)
	}

	r := e.do(req{Method: "POST", Path: ciamClients, Token: adm, Body: map[string]any{"client": map[string]any{"name": "member-portal"}}})
	mustStatus(t, r, http.StatusCreated)
	c := r.JSON(t)["client"].(map[string]any)
	id, secret := c["client_id"].(string), c["client_secret"].(string)
	rememberSecret(secret)
	if c["name"] != "member-portal" || c["domain_id"] != e.DomainID || !ciamWireTime.MatchString(c["created_at"].(string)) || len(c) != 5 {
		t.Errorf("created client %v", c)
	}
	if got := ids(list(adm)); len(got) != 2 || got[1] != id {
		t.Errorf("clients %v", got)
	}
	// Minimal body.
	mustStatus(t, e.do(req{Method: "POST", Path: ciamClients, Token: adm, Body: map[string]any{"client": map[string]any{}}}), http.StatusCreated)

	t.Run("invalid input", func(t *testing.T) {
		for name, body := range map[string]any{
			"secret too short": map[string]any{"client": map[string]any{"client_secret": "1234567"}},
			"name too long":    map[string]any{"client": map[string]any{"name": strings.Repeat("n", 65)}},
			"name not string":  map[string]any{"client": map[string]any{"name": 5}},
		} {
			r := e.do(req{Method: "POST", Path: ciamClients, Token: adm, Body: body})
			iaIAMError(t, r, http.StatusBadRequest, "IAM.0073")
			if strings.Contains(string(r.Body), "1234567") {
				t.Errorf("%s: the error echoes the secret", name)
			}
		}
		iaIAMError(t, e.do(req{Method: "POST", Path: ciamClients, Token: adm, Body: map[string]any{}}), http.StatusBadRequest, "IAM.0072")
	})

	t.Run("non-admin", func(t *testing.T) {
		e.createUser(adm, "plain.user", iaPw, nil)
		ut := e.token("plain.user", iaPw)
		iaIAMError(t, e.do(req{Method: "GET", Path: ciamClients, Token: ut}), http.StatusForbidden, "IAM.0002")
		iaIAMError(t, e.do(req{Method: "POST", Path: ciamClients, Token: ut, Body: map[string]any{"client": map[string]any{}}}), http.StatusForbidden, "IAM.0002")
		iaIAMError(t, e.do(req{Method: "DELETE", Path: ciamClients + "/" + id, Token: ut}), http.StatusForbidden, "IAM.0002")
	})
	t.Run("unauthenticated", func(t *testing.T) {
		iaIAMError(t, e.do(req{Method: "GET", Path: ciamClients}), http.StatusUnauthorized, "IAM.0001")
		// A CIAM bearer is no IAM credential.
		ctok := ciamToken(t, e, id, secret)
		r := e.do(req{Method: "GET", Path: ciamClients, Header: map[string]string{"Authorization": "Bearer " + ctok}})
		iaIAMError(t, r, http.StatusUnauthorized, "IAM.0001")
	})
	t.Run("another domain", func(t *testing.T) {
		_, other := e.otherDomain("foreign")
		if got := list(other); len(got) != 0 {
			t.Errorf("the other domain sees %d clients", len(got))
		}
		iaIAMError(t, e.do(req{Method: "DELETE", Path: ciamClients + "/" + id, Token: other}), http.StatusNotFound, "IAM.0004")
		// Its own client manages its own users only.
		oid, osec := ciamNewClient(t, e, other, "foreign", "")
		otok := ciamToken(t, e, oid, osec)
		ciamError(t, ciamDo(e, otok, "GET", ciamUsersPath+"/"+e.AdminID, nil), 400, "IDAAS.TENANT.USER.0001")
	})
	t.Run("secu_admin may manage clients", func(t *testing.T) {
		sid := e.createUser(adm, "secu.user", iaPw2, nil)
		e.setRole(sid, "secu_admin")
		st := e.token("secu.user", iaPw2)
		if got := list(st); len(got) != 3 {
			t.Errorf("secu_admin sees %d clients", len(got))
		}
	})

	t.Run("delete ends the client's tokens", func(t *testing.T) {
		ctok := ciamToken(t, e, id, secret)
		mustStatus(t, ciamDo(e, ctok, "GET", ciamUsersPath+"/"+e.AdminID, nil), http.StatusOK)
		r := e.do(req{Method: "DELETE", Path: ciamClients + "/" + id, Token: adm})
		mustStatus(t, r, http.StatusNoContent)
		if len(r.Body) != 0 {
			t.Errorf("204 with a body: %s", r.Body)
		}
		ciamError(t, ciamDo(e, ctok, "GET", ciamUsersPath+"/"+e.AdminID, nil), http.StatusUnauthorized, "IDAAS.TENANT.AUTH.0001")
		iaIAMError(t, e.do(req{Method: "DELETE", Path: ciamClients + "/" + id, Token: adm}), http.StatusNotFound, "IAM.0004")
		_, err := ciamCC(e, id, secret, oauth2.AuthStyleInHeader).Token(context.Background())
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
			t.Errorf("token of a deleted client: %v", err)
		}
		// The bootstrap client is unaffected.
		mustStatus(t, ciamDo(e, ciamBootToken(t, e), "GET", ciamUsersPath+"/"+e.AdminID, nil), http.StatusOK)
	})

	t.Run("deletion reaches another instance", func(t *testing.T) {
		id, secret := ciamNewClient(t, e, adm, "shared", "")
		e2 := newEnvOn(t, e.DSN)
		ctok := ciamToken(t, e, id, secret)
		mustStatus(t, ciamDo(e2, ctok, "GET", ciamUsersPath+"/"+e.AdminID, nil), http.StatusOK)
		mustStatus(t, e.do(req{Method: "DELETE", Path: ciamClients + "/" + id, Token: adm}), http.StatusNoContent)
		deadline := time.Now().Add(2 * time.Second)
		for ciamDo(e2, ctok, "GET", ciamUsersPath+"/"+e.AdminID, nil).Status != http.StatusUnauthorized {
			if time.Now().After(deadline) {
				t.Fatal("the other instance still accepts the deleted client's token after 2s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// The bootstrap client (DESIGN.md §5): generated and printed once on the
// first start, a configured one created once and never overwritten.
func TestCiamBootstrapClient(t *testing.T) {
	t.Run("generated and printed once", func(t *testing.T) {
		dsn := testDSN(t)
		out := ciamBootstrapOutput(t, dsn, "", "")
		idRe := regexp.MustCompile(`CIAM OAuth client ([0-9a-f]{32}) `)
		secRe := regexp.MustCompile(`CIAM client secret \(shown only now\): (\S+)`)
		idm, secm := idRe.FindStringSubmatch(out), secRe.FindStringSubmatch(out)
		if idm == nil || secm == nil {
			t.Fatalf("bootstrap output lacks the client:\n%s", out)
		}
		rememberSecret(secm[1])
		// A restart prints nothing new and keeps the client.
		if again := ciamBootstrapOutput(t, dsn, "", ""); strings.Contains(again, "CIAM") {
			t.Errorf("restart printed %q", again)
		}
		e := newEnvOn(t, dsn)
		ciamToken(t, e, idm[1], secm[1])
	})
	t.Run("configured, never overwritten", func(t *testing.T) {
		e := ciamEnv(t)
		ciamBootToken(t, e)
		// A second instance configured with another secret changes nothing.
		e2 := newEnvOn(t, e.DSN, func(c *config.Config) {
			c.BootstrapClientID, c.BootstrapClientSecret = ciamBootID, "Another-Secret-9"
		})
		rememberSecret("Another-Secret-9")
		ciamBootToken(t, e2)
		_, err := ciamCC(e2, ciamBootID, "Another-Secret-9", oauth2.AuthStyleInParams).Token(context.Background())
		if err == nil {
			t.Error("the configured secret overwrote the stored one")
		}
	})
	t.Run("configured id added to an existing domain", func(t *testing.T) {
		e := newEnv(t) // first start without a configured client
		e2 := newEnvOn(t, e.DSN, func(c *config.Config) {
			c.BootstrapClientID, c.BootstrapClientSecret = "late-app", ciamSpecialSecret
		})
		ciamToken(t, e2, "late-app", ciamSpecialSecret)
	})
	t.Run("invalid configured id refuses to start", func(t *testing.T) {
		cfg := ciamConfig(testDSN(t))
		cfg.BootstrapClientID = "bad id"
		a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if err := a.Bootstrap(context.Background(), io.Discard); err == nil {
			t.Error("bootstrap accepted the client id \"bad id\"")
		}
	})
}

func ciamConfig(dsn string) config.Config {
	cfg := config.Defaults()
	cfg.Database = dsn
	cfg.BootstrapDomain, cfg.BootstrapAdmin, cfg.BootstrapPassword = domainName, adminName, adminPassword
	cfg.Argon2Memory, cfg.Argon2Time, cfg.Argon2Threads = 64, 1, 1
	return cfg
}

// ciamBootstrapOutput runs one instance's bootstrap on dsn and returns what
// it printed for the operator.
func ciamBootstrapOutput(t *testing.T, dsn, clientID, clientSecret string) string {
	t.Helper()
	cfg := ciamConfig(dsn)
	cfg.BootstrapClientID, cfg.BootstrapClientSecret = clientID, clientSecret
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("start app: %v", err)
	}
	defer a.Close()
	var out bytes.Buffer
	if err := a.Bootstrap(context.Background(), &out); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return out.String()
}

// Wrong old passwords on change-password-verify count toward the login
// policy's lockout (DESIGN.md §4): LOGIN.0002 with the attempts left, then
// LOGIN.0001, and GET shows locked "true".
func TestCiamChangePasswordVerifyLockout(t *testing.T) {
	e := ciamEnv(t)
	tok := ciamBootToken(t, e)
	id := ciamCreateUser(t, e, tok, map[string]any{"user_name": "guessed", "mobile": "13800000005", "password": ciamPw})
	if u := ciamShow(t, e, tok, id); u["locked"] != "false" {
		t.Fatalf("locked = %#v, want the string \"false\"", u["locked"])
	}
	sawRemaining := false
	for i := 0; i < 5; i++ { // a new domain locks after 5 failures
		msg := ciamError(t, ciamVerifyPassword(e, tok, id, "Wrong-Guess-1", ciamPw2), 400, "LOGIN.0002")
		if strings.Contains(msg, "Remaining attempts: ") {
			sawRemaining = true
		}
	}
	if !sawRemaining {
		t.Error("LOGIN.0002 never told the remaining attempts")
	}
	// Locked now: even the right old password is refused, without a change.
	ciamError(t, ciamVerifyPassword(e, tok, id, ciamPw, ciamPw2), 400, "LOGIN.0001")
	if u := ciamShow(t, e, tok, id); u["locked"] != "true" {
		t.Errorf("locked = %#v, want the string \"true\"", u["locked"])
	}
	// Other users are not affected.
	other := ciamCreateUser(t, e, tok, map[string]any{"user_name": "unguessed", "mobile": "13800000006", "password": ciamPw})
	if u := ciamShow(t, e, tok, other); u["locked"] != "false" {
		t.Errorf("another user is locked: %v", u["locked"])
	}
}
