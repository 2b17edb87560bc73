// Package server builds latchkey's gin engine: request id, access log,
// recovery, body limit, request validation with authentication by the
// spec's security schemes, the restricted-token rule, response validation,
// 404/405 in the family envelopes, the spec documents and Swagger UI. The
// caller registers the generated routes through Options.Register.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/oasdiff/yaml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/envelope"
	"github.com/latchkey/latchkey/impl/fault"
)

// Security scheme names of the spec.
const (
	SchemeXAuthToken = "XAuthToken"
	SchemeCiamOAuth  = "CiamOAuth"
	// SchemeSdkHmacSha256 is a request signed with an access key
	// (Authorization: SDK-HMAC-SHA256 ...); its signature covers the body.
	SchemeSdkHmacSha256 = "SdkHmacSha256"
)

// DefaultMaxBodyBytes is the vendor's request body limit (32 KiB).
const DefaultMaxBodyBytes = 32 << 10

// Authenticator checks the credentials of one security scheme.
type Authenticator interface {
	// Authenticate checks the credentials of scheme ("XAuthToken" or
	// "CiamOAuth") on r and returns the principal, or a *fault.Error
	// (Unauthenticated when absent, TokenExpired, TokenInvalid). Any other
	// error is answered as internal (or 503 for a fault.Overloaded).
	// Authentication runs before the body is read: r.Body is http.NoBody, and
	// r must not be kept after the call. For a request whose Authorization
	// starts with SDK-HMAC-SHA256 the server has read the exact body bytes
	// first (SignedPayload(ctx) gives them).
	Authenticate(ctx context.Context, scheme string, r *http.Request) (*authn.Principal, error)
}

// Options configure New.
type Options struct {
	// Spec is the contract (gen.GetSwagger()). New clears its servers so
	// that nothing matches on Host.
	Spec   *openapi3.T
	Logger *slog.Logger
	Auth   Authenticator
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes); a
	// larger body is answered 413 in the family envelope before
	// authentication or validation read it.
	MaxBodyBytes int64
	// ValidateResponses validates every response of a spec operation; an
	// off-spec response is logged and replaced by a 500.
	ValidateResponses bool
	// Register registers the generated routes (gen.RegisterHandlersWithOptions)
	// on r, passing errorHandler as GinServerOptions.ErrorHandler. It runs
	// after the middleware is installed, as gin fixes a route's chain at
	// registration.
	Register func(r gin.IRouter, errorHandler func(*gin.Context, error, int))
	// SpecYAML and SpecJSON are served at /openapi.yaml and /openapi.json;
	// when empty they are rendered from Spec.
	SpecYAML, SpecJSON []byte
	// Metrics, when set, receives the HTTP metrics (metrics.go) and is
	// served at /metrics; the caller adds runtime and domain collectors.
	// Nil: no instrumentation and no /metrics.
	Metrics *prometheus.Registry
}

// server holds what the middleware needs; everything is computed in New.
type server struct {
	log       *slog.Logger
	auth      Authenticator
	maxBody   int64
	validResp bool
	routes    map[string]map[string]*route // method -> gin path -> route
	pool      statePool
	metrics   *httpMetrics // nil: not instrumented
}

// New builds the engine.
func New(o Options) (*gin.Engine, error) {
	if o.Spec == nil {
		return nil, errors.New("server: Options.Spec is required")
	}
	if o.Auth == nil {
		return nil, errors.New("server: Options.Auth is required")
	}
	if o.Register == nil {
		return nil, errors.New("server: Options.Register is required")
	}
	useStrictJSON()
	s := &server{log: o.Logger, auth: o.Auth, maxBody: o.MaxBodyBytes, validResp: o.ValidateResponses}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	clearServers(o.Spec)
	if err := o.Spec.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("server: invalid spec: %w", err)
	}
	routes, err := buildRoutes(o.Spec)
	if err != nil {
		return nil, err
	}
	s.routes = routes
	s.pool.init(s)

	specJSON, specYAML := specDocuments(o)

	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	// Strict handlers receive the *gin.Context as ctx: let it reach the
	// request context (principal, deadline, cancellation).
	e.ContextWithFallback = true
	// Nothing reads the client IP; trusting no proxy keeps it honest.
	if err := e.SetTrustedProxies(nil); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	chain := []gin.HandlerFunc{s.requestID, s.accessLog, s.recovery, s.bodyLimit, s.validate}
	if o.Metrics != nil {
		if s.metrics, err = newHTTPMetrics(o.Metrics, s.log); err != nil {
			return nil, err
		}
		chain = append([]gin.HandlerFunc{s.metrics.handle}, chain...)
	}
	e.Use(chain...)
	e.NoRoute(s.noRoute)
	e.NoMethod(s.noMethod)

	o.Register(e, ParamErrorHandler)
	serveDocs(e, specJSON, specYAML)
	if s.metrics != nil {
		s.metrics.serve(e)
		s.metrics.prepare(e.Routes())
	}
	s.checkRoutes(e)
	return e, nil
}

// clearServers drops every servers list, so validation never matches on
// Host or a base path.
func clearServers(t *openapi3.T) {
	t.Servers = nil
	if t.Paths == nil {
		return
	}
	for _, pi := range t.Paths.Map() {
		pi.Servers = nil
		for _, op := range pi.Operations() {
			op.Servers = nil
		}
	}
}

// specDocuments returns the documents to serve. One not given is rendered
// from the spec on first request (rendering YAML takes ~100 ms: not at startup).
func specDocuments(o Options) (jsonDoc, yamlDoc func() ([]byte, error)) {
	given := func(b []byte) func() ([]byte, error) { return func() ([]byte, error) { return b, nil } }
	if len(o.SpecJSON) > 0 {
		jsonDoc = given(o.SpecJSON)
	} else {
		jsonDoc = sync.OnceValues(func() ([]byte, error) { return json.Marshal(o.Spec) })
	}
	if len(o.SpecYAML) > 0 {
		yamlDoc = given(o.SpecYAML)
	} else {
		yamlDoc = sync.OnceValues(func() ([]byte, error) { return yaml.Marshal(o.Spec) })
	}
	return jsonDoc, yamlDoc
}

// checkRoutes logs spec operations without a registered route (they would
// answer 404) and registered routes outside the spec (never validated).
func (s *server) checkRoutes(e *gin.Engine) {
	seen := map[string]bool{}
	for _, r := range e.Routes() {
		seen[r.Method+" "+r.Path] = true
		if s.lookup(r.Method, r.Path) == nil && !isDocsRoute(r.Path) && r.Path != MetricsPath {
			s.log.Warn("route is not in the spec: requests to it are not validated",
				slog.String("method", r.Method), slog.String("path", r.Path))
		}
	}
	var missing []string
	for m, byPath := range s.routes {
		for p := range byPath {
			if !seen[m+" "+p] {
				missing = append(missing, m+" "+p)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		s.log.Warn("spec operation has no route: it answers 404", slog.String("operation", m))
	}
}

// ginPath converts an OpenAPI path template to gin's syntax ({id} -> :id),
// as oapi-codegen's gin generator does.
func ginPath(p string) string {
	if !strings.Contains(p, "{") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '{':
			b.WriteByte(':')
		case '}':
		default:
			b.WriteByte(p[i])
		}
	}
	return b.String()
}

// noRoute answers an unknown path: 404 in the path's family envelope
// ({"error":"not found"} outside every family).
func (s *server) noRoute(c *gin.Context) {
	envelope.Write(c, fault.New(fault.PathNotFound, "Could not find path: %s.", clip(c.Request.URL.Path, 200)))
}

// noMethod answers a known path with a wrong method: 405 with Allow (gin has
// already listed the allowed methods in the Allow header).
func (s *server) noMethod(c *gin.Context) {
	var allow []string
	for _, m := range strings.Split(c.Writer.Header().Get("Allow"), ",") {
		if m = strings.TrimSpace(m); m != "" {
			allow = append(allow, m)
		}
	}
	sort.Strings(allow)
	e := fault.New(fault.MethodNotAllowed, "Request method %s is not allowed for %s.",
		clip(c.Request.Method, 20), clip(c.Request.URL.Path, 200))
	e.Allow = allow
	envelope.Write(c, e)
}

// clip shortens s to at most n bytes (on a rune boundary).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
