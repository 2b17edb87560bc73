package tests

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/impl/config"
)

// metricsScrape reads /metrics and returns the raw text and every sample by
// its series (name and labels as written; labels come sorted by name).
func (e *env) metricsScrape() (string, map[string]float64) {
	e.t.Helper()
	r := e.do(req{Method: "GET", Path: "/metrics"})
	mustStatus(e.t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		e.t.Errorf("/metrics Content-Type %q, want the Prometheus text format", ct)
	}
	text := string(r.Body)
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			e.t.Fatalf("bad exposition line %q", line)
		}
		samples[line[:i]] = v
	}
	return text, samples
}

func httpSeries(method, route, status, family string) string {
	return `latchkey_http_requests_total{family="` + family + `",method="` + method + `",route="` + route + `",status="` + status + `"}`
}

func authSeries(outcome string) string {
	return `latchkey_authentications_total{outcome="` + outcome + `",scheme="XAuthToken"}`
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const (
		pw      = "Metr1cs-Secret-x!"
		newPw   = "Metr1cs-Changed-y?"
		wrongPw = "Wrong-Secret-9x!"
		phone   = "13800009876"
	)
	for _, s := range []string{pw, newPw, wrongPw} {
		rememberSecret(s)
	}
	admin := e.adminToken()
	rememberSecret(admin)
	// A password in the body.
	uid := e.createUser(admin, "metro", pw, map[string]any{"areacode": "0086", "phone": phone})
	// A user id in the path.
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users/" + uid, Token: admin}), http.StatusOK)
	tok := e.token("metro", pw)
	rememberSecret(tok)
	// Both: the id in the path, passwords in the body; it revokes tok.
	mustStatus(t, e.do(req{Method: "POST", Path: "/v3/users/" + uid + "/password", Token: tok,
		Body: map[string]any{"user": map[string]any{"original_password": pw, "password": newPw}}}), http.StatusNoContent)
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users/" + uid, Token: tok}), http.StatusUnauthorized)
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users/" + uid, Token: "not-a-token-" + uid}), http.StatusUnauthorized)
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users/" + uid}), http.StatusUnauthorized)
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/no-such/" + uid + "?password=" + pw}), http.StatusNotFound)

	// Login protection by SMS: the password step sends a code.
	mustStatus(t, e.mfaProtect(admin, uid, true, "sms"), http.StatusOK)
	r := e.mfaLogin("metro", newPw, "", nil)
	mfaKSError(t, r, http.StatusUnauthorized, "IAM.1061")
	rememberSecret(r.Header.Get("Openstack-Auth-Receipt"))

	// Five wrong passwords lock the account (default login policy); the
	// sixth check is refused without hashing.
	for i := range 6 {
		r = e.mfaLogin("metro", wrongPw, "", nil)
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d %s", i, r.Status, r.Body)
		}
	}
	if c := errorCode(t, r); c != "IAM.0061" {
		t.Fatalf("sixth wrong password: %s, want IAM.0061 (locked)", c)
	}

	text, got := e.metricsScrape()
	atLeast := map[string]float64{
		httpSeries("POST", "/v3/auth/tokens", "201", "keystone"):                                                  2,
		httpSeries("POST", "/v3/auth/tokens", "401", "keystone"):                                                  7,
		httpSeries("POST", "/v3.0/OS-USER/users", "201", "iam"):                                                   1,
		httpSeries("GET", "/v3/users/:user_id", "200", "keystone"):                                                1,
		httpSeries("GET", "/v3/users/:user_id", "401", "keystone"):                                                3,
		httpSeries("POST", "/v3/users/:user_id/password", "204", "keystone"):                                      1,
		httpSeries("PUT", "/v3.0/OS-USER/users/:user_id/login-protect", "200", "iam"):                             1,
		httpSeries("GET", "unmatched", "404", "keystone"):                                                         1,
		`latchkey_http_request_duration_seconds_count{family="keystone",method="GET",route="/v3/users/:user_id"}`: 4,
		authSeries("ok"):      4,
		authSeries("revoked"): 1,
		authSeries("invalid"): 1,
		authSeries("missing"): 1,
		`latchkey_lockout_refusals_total{kind="password"}`: 1,
		`latchkey_login_codes_sent_total{channel="sms"}`:   1,
		`latchkey_password_hash_slots`:                     1,
		`latchkey_http_requests_in_flight`:                 1, // this scrape
	}
	for series, min := range atLeast {
		if v, ok := got[series]; !ok || v < min {
			t.Errorf("%s = %v (present %v), want at least %v", series, v, ok, min)
		}
	}
	exactly := map[string]float64{
		httpSeries("GET", "/v3/users/:user_id", "200", "keystone"): 1,
		authSeries("revoked"):                              1,
		authSeries("expired"):                              0,
		`latchkey_lockout_refusals_total{kind="https"}`:    0,
		`latchkey_login_codes_sent_total{channel="email"}`: 0,
		`latchkey_password_hashes_in_flight`:               0,
		`latchkey_password_hashes_waiting`:                 0,
		`latchkey_password_hash_refusals_total`:            0,
	}
	for series, want := range exactly {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
	// Runtime and process collectors.
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	// No id, name, password, token or phone number in any label or value.
	for what, s := range map[string]string{
		"user id": uid, "admin id": e.AdminID, "domain id": e.DomainID, "user name": "metro", "phone": phone,
		"password": pw, "new password": newPw, "wrong password": wrongPw, "admin password": adminPassword,
		"admin token": admin, "user token": tok,
	} {
		if strings.Contains(text, s) {
			t.Errorf("/metrics contains the %s", what)
		}
	}
	// Nothing but the route template and fixed label values: every route
	// label is a template, a docs path or "unmatched".
	for series := range got {
		if i := strings.Index(series, `route="`); i >= 0 {
			route := series[i+len(`route="`):]
			route = route[:strings.IndexByte(route, '"')]
			if route != "unmatched" && !strings.HasPrefix(route, "/") {
				t.Errorf("odd route label in %s", series)
			}
		}
	}
}

func TestMetricsDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.Metrics = false })
	mustStatus(t, e.do(req{Method: "GET", Path: "/metrics"}), http.StatusNotFound)
}
