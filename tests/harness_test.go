package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/app"
	"github.com/latchkey/latchkey/impl/config"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

// Test credentials of the bootstrap admin.
const (
	adminName     = "admin"
	adminPassword = "Adm1n-Secret!x"
	domainName    = "default"
)

// env is one real latchkey server (the real engine over httptest) on its own
// database: a fresh SQLite file, or a fresh PostgreSQL schema when
// LATCHKEY_TEST_POSTGRES_DSN is set.
type env struct {
	t        testing.TB
	URL      string
	App      *app.App
	DSN      string
	DomainID string
	AdminID  string
	logs     *syncBuffer
	srv      *httptest.Server
}

type envOption func(*config.Config)

// newEnv starts a server. Response validation is always on: an off-spec
// response becomes a 500 and fails the test that sees it.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, testDSN(t), opts...)
}

// newEnvOn starts a server on an existing database (a second instance).
func newEnvOn(t testing.TB, dsn string, opts ...envOption) *env {
	t.Helper()
	cfg := config.Defaults()
	cfg.Database = dsn
	cfg.BootstrapDomain = domainName
	cfg.BootstrapAdmin = adminName
	cfg.BootstrapPassword = adminPassword
	// Fast hashing keeps the suite quick; the parameters are still argon2id.
	cfg.Argon2Memory, cfg.Argon2Time, cfg.Argon2Threads = 64, 1, 1
	cfg.RevocationSync = 200 * time.Millisecond
	cfg.ValidateResponses = true
	for _, o := range opts {
		o(&cfg)
	}
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	cfg.Addr = srv.Listener.Addr().String()

	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		t.Fatalf("start app: %v", err)
	}
	var out bytes.Buffer
	if err := a.Bootstrap(ctx, &out); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	a.Start(ctx)
	srv.Config.Handler = a.Handler()
	srv.Start()
	e := &env{t: t, URL: srv.URL, App: a, DSN: dsn, logs: logs, srv: srv}
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close()
		e.assertNoSecretsLogged()
	})
	d, err := a.Accounts.DomainByName(ctx, domainName)
	if err != nil {
		t.Fatalf("bootstrap domain: %v", err)
	}
	e.DomainID = d.ID
	u, err := a.Accounts.ListUsers(ctx, d.ID, accountsFilterName(adminName))
	if err != nil || len(u) != 1 {
		t.Fatalf("bootstrap admin: %v (%d)", err, len(u))
	}
	e.AdminID = u[0].ID
	return e
}

// testDSN returns a fresh database for one test.
func testDSN(t testing.TB) string {
	t.Helper()
	return storetest.DSN(t)
}

// resp is a response read whole.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *resp) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object (%d): %v: %s", r.Status, err, r.Body)
	}
	return m
}

// req describes one request.
type req struct {
	Method string
	Path   string
	Token  string            // X-Auth-Token
	Header map[string]string // extra headers
	Body   any               // marshalled as JSON unless []byte or string
	CT     string            // Content-Type (default application/json when Body is set)
}

func (e *env) do(r req) *resp {
	e.t.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal body: %v", err)
		}
		body = bytes.NewReader(raw)
	}
	hr, err := http.NewRequest(r.Method, e.URL+r.Path, body)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if r.Body != nil {
		ct := r.CT
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if r.Token != "" {
		hr.Header.Set("X-Auth-Token", r.Token)
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	if res.Header.Get("X-Request-Id") == "" {
		e.t.Errorf("%s %s: no X-Request-Id", r.Method, r.Path)
	}
	if res.StatusCode >= 500 && res.StatusCode != http.StatusNotImplemented && res.StatusCode != http.StatusServiceUnavailable {
		e.t.Errorf("%s %s: server error %d: %s", r.Method, r.Path, res.StatusCode, raw)
	}
	return &resp{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// token gets a token by user name and password in the bootstrap domain.
func (e *env) token(name, password string) string {
	e.t.Helper()
	r := e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog=true", Body: passwordAuth(name, password)})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("token for %s: %d %s", name, r.Status, r.Body)
	}
	tok := r.Header.Get("X-Subject-Token")
	if tok == "" {
		e.t.Fatal("token: no X-Subject-Token")
	}
	return tok
}

func (e *env) adminToken() string { return e.token(adminName, adminPassword) }

func passwordAuth(name, password string) map[string]any {
	return map[string]any{"auth": map[string]any{"identity": map[string]any{
		"methods": []string{"password"},
		"password": map[string]any{"user": map[string]any{
			"name": name, "password": password, "domain": map[string]any{"name": domainName},
		}},
	}}}
}

// createUser creates a user through the IAM v3.0 API and returns its id.
// pwd_status is false so the user gets an unrestricted token.
func (e *env) createUser(adminTok, name, password string, extra map[string]any) string {
	e.t.Helper()
	u := map[string]any{"name": name, "domain_id": e.DomainID, "password": password, "pwd_status": false}
	for k, v := range extra {
		u[k] = v
	}
	r := e.do(req{Method: "POST", Path: "/v3.0/OS-USER/users", Token: adminTok, Body: map[string]any{"user": u}})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create user %s: %d %s", name, r.Status, r.Body)
	}
	return r.JSON(e.t)["user"].(map[string]any)["id"].(string)
}

// secrets logged would be a defect: every password and token the test used
// is checked against the captured log.
var knownSecrets = struct {
	sync.Mutex
	list []string
}{}

func rememberSecret(s string) {
	knownSecrets.Lock()
	knownSecrets.list = append(knownSecrets.list, s)
	knownSecrets.Unlock()
}

func (e *env) assertNoSecretsLogged() {
	logs := e.logs.String()
	knownSecrets.Lock()
	defer knownSecrets.Unlock()
	for _, s := range append([]string{adminPassword}, knownSecrets.list...) {
		if len(s) >= 6 && strings.Contains(logs, s) {
			e.t.Errorf("a secret appeared in the logs: %q", s[:3]+"...")
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testWriter sends log lines to the test log (shown on failure or -v).
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func errorCode(t testing.TB, r *resp) string {
	t.Helper()
	m := r.JSON(t)
	if e, ok := m["error"].(map[string]any); ok {
		if c, ok := e["error_code"].(string); ok {
			return c
		}
		if c, ok := e["code"].(string); ok {
			return c
		}
	}
	if c, ok := m["error_code"].(string); ok {
		return c
	}
	t.Fatalf("no error code in %s", r.Body)
	return ""
}

func mustStatus(t testing.TB, r *resp, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
}

var _ = fmt.Sprintf

func accountsFilterName(n string) accounts.ListFilter { return accounts.ListFilter{Name: &n} }

// otherDomain creates a second domain with its own owner and returns the
// domain id and a token of that owner (for cross-domain checks).
func (e *env) otherDomain(name string) (domainID, ownerToken string) {
	e.t.Helper()
	ctx := context.Background()
	res, err := e.App.Accounts.Bootstrap(ctx, name, "owner-"+name, adminPassword)
	if err != nil {
		e.t.Fatalf("create domain %s: %v", name, err)
	}
	r := e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Body: map[string]any{"auth": map[string]any{"identity": map[string]any{
		"methods": []string{"password"},
		"password": map[string]any{"user": map[string]any{
			"name": "owner-" + name, "password": adminPassword, "domain": map[string]any{"name": name},
		}},
	}}}})
	mustStatus(e.t, r, http.StatusCreated)
	return res.Domain.ID, r.Header.Get("X-Subject-Token")
}

// setRole makes a user a security administrator ("secu_admin") or a plain
// user ("user") through the domain layer of the same running instance (the
// role API itself is tested in roles_test.go).
func (e *env) setRole(userID, role string) {
	e.t.Helper()
	if err := e.App.Accounts.SetRole(context.Background(), e.DomainID, userID, role); err != nil {
		e.t.Fatalf("set role: %v", err)
	}
}
