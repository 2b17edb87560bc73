package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// The metrics middleware's cost: the same engines as BenchmarkValidatedRequest
// and BenchmarkBareGin, with and without Options.Metrics, in the same run:
//
//	go test ./impl/server -run '^$' -bench 'ValidatedRequest$|Metrics|BareGin$'
func metricsEngine(b *testing.B, metrics bool) *gin.Engine {
	spec, raw := loadSpec(b)
	o := Options{Spec: spec, Logger: slog.New(slog.DiscardHandler), Auth: &testAuth{},
		ValidateResponses: true, Register: benchRegister, SpecYAML: raw}
	if metrics {
		o.Metrics = prometheus.NewRegistry()
	}
	e, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

const benchUserPath = "/v3/users/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4"

func BenchmarkValidatedRequestMetrics(b *testing.B) {
	serve(b, metricsEngine(b, true), http.MethodGet, benchUserPath, "")
}

func BenchmarkValidatedRequestNoMetrics(b *testing.B) {
	serve(b, metricsEngine(b, false), http.MethodGet, benchUserPath, "")
}

// BenchmarkMetricsMiddleware isolates the middleware: a bare gin with only
// it, against BenchmarkBareGin.
func BenchmarkMetricsMiddleware(b *testing.B) {
	m, err := newHTTPMetrics(prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	e := gin.New()
	e.Use(m.handle)
	benchRegister(e, nil)
	m.prepare(e.Routes())
	serve(b, e, http.MethodGet, benchUserPath, "")
}

// BenchmarkMetricsRecord is the middleware's own work per request (in-flight
// gauge, route lookup, counter, histogram), measured inside one request so
// that nothing else is timed; Unmatched takes the 404 path.
func BenchmarkMetricsRecord(b *testing.B) {
	for _, tc := range []struct{ name, path string }{
		{"Matched", benchUserPath},
		{"Unmatched", "/v3/nope/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, err := newHTTPMetrics(prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			e := gin.New()
			run := func(c *gin.Context) {
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						start := time.Now()
						m.inFlight.Inc()
						m.record(c, start)
						m.inFlight.Dec()
					}
				})
			}
			e.GET("/v3/users/:user_id", run)
			e.NoRoute(run)
			m.prepare(e.Routes())
			e.ServeHTTP(&nullWriter{h: http.Header{}}, httptest.NewRequest(http.MethodGet, tc.path, nil))
		})
	}
}
