package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// The same JSON handler behind the full engine and behind a bare gin.
func benchUser(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"user": gin.H{"id": c.Param("user_id"), "name": "alice", "enabled": true}})
}

func benchLoginProtect(c *gin.Context) {
	var in struct {
		LoginProtect struct {
			Enabled            bool   `json:"enabled"`
			VerificationMethod string `json:"verification_method"`
		} `json:"login_protect"`
	}
	if err := c.ShouldBindJSON(&in); err != nil {
		c.Status(http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusOK, gin.H{"login_protect": gin.H{"user_id": c.Param("user_id"),
		"enabled": in.LoginProtect.Enabled, "verification_method": in.LoginProtect.VerificationMethod}})
}

func benchRegister(r gin.IRouter, _ func(*gin.Context, error, int)) {
	r.GET("/v3/users/:user_id", benchUser)
	r.PUT("/v3.0/OS-USER/users/:user_id/login-protect", benchLoginProtect)
}

func benchEngine(b *testing.B, validateResponses bool) *gin.Engine {
	spec, raw := loadSpec(b)
	e, err := New(Options{Spec: spec, Logger: slog.New(slog.DiscardHandler), Auth: &testAuth{},
		ValidateResponses: validateResponses, Register: benchRegister, SpecYAML: raw})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func bareEngine() *gin.Engine {
	e := gin.New()
	benchRegister(e, nil)
	return e
}

const lpBody = `{"login_protect":{"enabled":true,"verification_method":"vmfa"}}`

// nullWriter keeps the harness out of the measurement (httptest.NewRequest
// and NewRecorder cost about as much as a bare gin handler).
type nullWriter struct {
	h    http.Header
	code int
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(code int)        { w.code = code }

func serve(b *testing.B, e http.Handler, method, path, body string) {
	b.ReportAllocs()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		w := &nullWriter{h: http.Header{}}
		for pb.Next() {
			var rd io.Reader
			if body != "" {
				rd = strings.NewReader(body)
			}
			r, _ := http.NewRequest(method, "http://bench"+path, rd)
			if body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			r.Header.Set("X-Auth-Token", tokGood)
			clear(w.h)
			w.code = 0
			e.ServeHTTP(w, r)
			if w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
		}
	})
}

// reportCPU resets the timer and returns a func that reports the process
// CPU time per operation (cpu-ns/op: user+system, GC included). On a shared
// machine wall time per op swings with other load; CPU time per op does not,
// so compare ratios of cpu-ns/op across benchmarks measured in the same run.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	b.ResetTimer()
	return func() {
		b.StopTimer()
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serveHTTP measures over real loopback HTTP (keep-alive), net/http included.
func serveHTTP(b *testing.B, e http.Handler, path string) {
	srv := httptest.NewServer(e)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			r.Header.Set("X-Auth-Token", tokGood)
			resp, err := client.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkValidatedRequest: an authenticated read through the whole chain
// (request id, access log, recovery, body limit, request validation with
// authentication, response validation).
func BenchmarkValidatedRequest(b *testing.B) {
	serve(b, benchEngine(b, true), http.MethodGet, "/v3/users/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4", "")
}

// BenchmarkValidatedRequestNoResponseValidation isolates the response side.
func BenchmarkValidatedRequestNoResponseValidation(b *testing.B) {
	serve(b, benchEngine(b, false), http.MethodGet, "/v3/users/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4", "")
}

// BenchmarkBareGin: the same handler on gin.New() with nothing else.
func BenchmarkBareGin(b *testing.B) {
	serve(b, bareEngine(), http.MethodGet, "/v3/users/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4", "")
}

// The same pair for a write with a JSON body.
func BenchmarkValidatedWrite(b *testing.B) {
	serve(b, benchEngine(b, true), http.MethodPut, "/v3.0/OS-USER/users/u1/login-protect", lpBody)
}

func BenchmarkBareGinWrite(b *testing.B) {
	serve(b, bareEngine(), http.MethodPut, "/v3.0/OS-USER/users/u1/login-protect", lpBody)
}

// The read pair over loopback HTTP.
func BenchmarkValidatedRequestHTTP(b *testing.B) {
	serveHTTP(b, benchEngine(b, true), "/v3/users/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4")
}

func BenchmarkBareGinHTTP(b *testing.B) {
	serveHTTP(b, bareEngine(), "/v3/users/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4")
}
