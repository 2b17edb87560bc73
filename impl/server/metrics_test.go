package server

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func withMetrics(reg *prometheus.Registry) func(*Options) {
	return func(o *Options) { o.Metrics = reg }
}

// scrape reads /metrics and returns the raw text and every sample by its
// series (name and labels as written, labels sorted by name).
func scrape(t *testing.T, f *fixture) (string, map[string]float64) {
	t.Helper()
	rec := f.do(req{method: "GET", path: MetricsPath})
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the Prometheus text format", ct)
	}
	text := rec.Body.String()
	return text, parseExposition(t, text)
}

func parseExposition(t *testing.T, text string) map[string]float64 {
	t.Helper()
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad exposition line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad value in %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples
}

func requests(method, route, status, family string) string {
	return `latchkey_http_requests_total{family="` + family + `",method="` + method + `",route="` + route + `",status="` + status + `"}`
}

func durationCount(method, route, family string) string {
	return `latchkey_http_request_duration_seconds_count{family="` + family + `",method="` + method + `",route="` + route + `"}`
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, withMetrics(prometheus.NewRegistry()))
	const id = "0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4"
	calls := []struct {
		r    req
		want int
	}{
		{req{method: "GET", path: "/v3/users/" + id, hdr: tok(tokGood)}, 200},
		{req{method: "GET", path: "/v3/users/" + id, hdr: tok(tokGood)}, 200},
		{req{method: "GET", path: "/v3/users/missing", hdr: tok(tokGood)}, 404},
		{req{method: "GET", path: "/v3/users/" + id, hdr: tok("tok-bogus-77aa")}, 401},
		{req{method: "PUT", path: "/v3.0/OS-USER/users/" + id + "/login-protect", hdr: tok(tokGood),
			body: `{"login_protect":{"enabled":true,"verification_method":"vmfa"}}`}, 200},
		{req{method: "GET", path: "/v3/nope/" + id + "?password=hunter2-secret"}, 404},
		{req{method: "GET", path: "/nope-" + id}, 404},
		{req{method: "PUT", path: "/v3/auth/tokens"}, 405},
		{req{method: "BREW", path: "/v3/users/" + id}, 405},
		{req{method: "GET", path: "/healthz"}, 200},
	}
	for _, c := range calls {
		if rec := f.do(c.r); rec.Code != c.want {
			t.Fatalf("%s %s: %d, want %d: %s", c.r.method, c.r.path, rec.Code, c.want, rec.Body.String())
		}
	}
	text, got := scrape(t, f)

	want := map[string]float64{
		requests("GET", "/v3/users/:user_id", "200", "keystone"):                    2,
		requests("GET", "/v3/users/:user_id", "404", "keystone"):                    1,
		requests("GET", "/v3/users/:user_id", "401", "keystone"):                    1,
		requests("PUT", "/v3.0/OS-USER/users/:user_id/login-protect", "200", "iam"): 1,
		requests("GET", "unmatched", "404", "keystone"):                             1,
		requests("GET", "unmatched", "404", "none"):                                 1,
		requests("PUT", "unmatched", "405", "keystone"):                             1,
		requests("other", "unmatched", "405", "keystone"):                           1,
		requests("GET", "/healthz", "200", "none"):                                  1,
		durationCount("GET", "/v3/users/:user_id", "keystone"):                      4,
		durationCount("GET", "unmatched", "none"):                                   1,
		// Routes not called yet have their histogram from the start.
		durationCount("POST", "/v3/auth/tokens", "keystone"): 0,
		// The scrape itself is in flight while it is gathered.
		"latchkey_http_requests_in_flight": 1,
	}
	for series, v := range want {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
		}
	}
	for _, leak := range []string{id, "missing", "hunter2", "nope", "BREW", tokGood, "tok-bogus"} {
		if strings.Contains(text, leak) {
			t.Errorf("/metrics contains %q", leak)
		}
	}

	// The scrape is counted like any route, with the next one.
	_, got = scrape(t, f)
	if g := got[requests("GET", MetricsPath, "200", "none")]; g != 1 {
		t.Errorf("scrapes counted %v, want 1", g)
	}
}

// Many requests at once: counts add up exactly and the in-flight gauge
// returns to zero (run with -race).
func TestMetricsConcurrent(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, withMetrics(reg))
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				path := "/v3/users/u" + strconv.Itoa(w*each+i)
				if rec := f.do(req{method: "GET", path: path, hdr: tok(tokGood)}); rec.Code != 200 {
					t.Errorf("GET %s: %d", path, rec.Code)
				}
			}
		}()
	}
	wg.Wait()
	_, got := scrape(t, f)
	if g := got[requests("GET", "/v3/users/:user_id", "200", "keystone")]; g != workers*each {
		t.Errorf("counted %v, want %d", g, workers*each)
	}
	if g := got["latchkey_http_requests_in_flight"]; g != 1 { // the scrape
		t.Errorf("in flight %v, want 1", g)
	}
}

func TestMetricsOff(t *testing.T) {
	f := newFixture(t)
	if rec := f.do(req{method: "GET", path: MetricsPath}); rec.Code != http.StatusNotFound {
		t.Errorf("GET /metrics without Options.Metrics: %d, want 404", rec.Code)
	}
}

func TestMetricsOneRegistryPerServer(t *testing.T) {
	reg := prometheus.NewRegistry()
	newFixture(t, withMetrics(reg))
	// Many servers in one process: each has its own registry; the same one
	// twice is refused rather than silently double counted.
	newFixture(t, withMetrics(prometheus.NewRegistry()))
	spec, raw := loadSpec(t)
	_, err := New(Options{Spec: spec, Auth: &testAuth{}, Register: register, SpecYAML: raw, Metrics: reg})
	if err == nil || !strings.Contains(err.Error(), "register metrics") {
		t.Errorf("second server on one registry: %v", err)
	}
}

func TestMetricsNoRouteWarning(t *testing.T) {
	f := newFixture(t, withMetrics(prometheus.NewRegistry()))
	if strings.Contains(f.logs.String(), MetricsPath) {
		t.Errorf("/metrics reported as a route outside the spec: %s", f.logs.String())
	}
}
