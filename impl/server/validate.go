package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"

	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/envelope"
	"github.com/latchkey/latchkey/impl/fault"
)

// ExtRestricted marks operations a restricted token may call
// (`x-latchkey-restricted: allow`).
const ExtRestricted = "x-latchkey-restricted"

// route is one spec operation, prepared once at startup.
type route struct {
	// kin is the route handed to kin-openapi. Its Operation is a copy whose
	// security is emptied: security runs first, separately (see validate).
	kin        routers.Route
	security   openapi3.SecurityRequirements // effective requirements; empty = public
	id         string                        // operationId, for logs
	family     envelope.Family
	restricted bool // x-latchkey-restricted: allow
	hasParams  bool // path has {params}
	body       *openapi3.RequestBody
	reqOpts    openapi3filter.Options // AuthenticationFunc is bound per request
	respOpts   *openapi3filter.Options
}

// buildRoutes indexes every operation by method and gin path, so the
// middleware finds it with two map hits on gin's own match.
func buildRoutes(spec *openapi3.T) (map[string]map[string]*route, error) {
	routes := map[string]map[string]*route{}
	if spec.Paths == nil {
		return routes, nil
	}
	for path, pi := range spec.Paths.Map() {
		gp := ginPath(path)
		for method, op := range pi.Operations() {
			security := spec.Security
			if op.Security != nil {
				security = *op.Security
			}
			noSec := *op
			noSec.Security = &openapi3.SecurityRequirements{}
			rt := &route{
				kin:       routers.Route{Spec: spec, Path: path, PathItem: pi, Method: method, Operation: &noSec},
				security:  security,
				id:        op.OperationID,
				family:    envelope.FamilyOf(path),
				hasParams: gp != path,
				respOpts:  respOpts,
				reqOpts: openapi3filter.Options{
					// All problems at once, so the most relevant one is answered.
					MultiError: true,
					// Defaults are the handlers' business: the request stays as
					// sent, whether or not validation runs.
					SkipSettingDefaults: true,
				},
			}
			if v, _ := op.Extensions[ExtRestricted].(string); v == "allow" {
				rt.restricted = true
			}
			if op.RequestBody != nil {
				if op.RequestBody.Value == nil {
					return nil, fmt.Errorf("server: %s %s: unresolved request body", method, path)
				}
				rt.body = op.RequestBody.Value
			}
			if routes[method] == nil {
				routes[method] = map[string]*route{}
			}
			if prev := routes[method][gp]; prev != nil {
				return nil, fmt.Errorf("server: %s %s and %s map to the same gin route %s", method, prev.kin.Path, path, gp)
			}
			routes[method][gp] = rt
		}
	}
	return routes, nil
}

func (s *server) lookup(method, ginPath string) *route {
	return s.routes[method][ginPath]
}

// validate is the contract middleware: authentication by the operation's
// security requirements, the restricted-token rule, request validation
// (parameters, body), then the handler into a buffer, response validation,
// and only then the response goes out.
func (s *server) validate(c *gin.Context) {
	rt := s.lookup(c.Request.Method, c.FullPath())
	if rt == nil {
		c.Next() // no route (404/405 handlers) or a route outside the spec
		return
	}
	st := s.pool.get()
	st.route = rt
	st.in.Request = c.Request
	st.in.Route = &rt.kin
	st.opts = rt.reqOpts
	st.opts.AuthenticationFunc = st.authFn
	st.in.Options = &st.opts
	if rt.hasParams {
		for _, p := range c.Params {
			st.params[p.Key] = p.Value
		}
		st.in.PathParams = st.params
	}

	ctx := c.Request.Context()

	// Security first, on a body-less shallow copy of the request: the
	// credentials are headers, so an unauthenticated caller never gets its
	// body read or parsed (kin-openapi would read it once more for this step).
	if len(rt.security) > 0 {
		st.secReq = *c.Request
		st.secReq.Body = http.NoBody
		st.secIn = st.in
		st.secIn.Request = &st.secReq
		secCtx := ctx
		signed := strings.HasPrefix(c.Request.Header.Get("Authorization"), signedPrefix)
		if signed {
			// A signature covers the exact body bytes: read them once (bounded
			// by bodyLimit) for the authenticator, and put them back for
			// validation and the handler.
			body, err := s.readBody(c.Request)
			if err != nil {
				envelope.Write(c, err)
				s.pool.put(st)
				return
			}
			secCtx = context.WithValue(ctx, payloadKey{}, body)
		}
		if err := openapi3filter.ValidateSecurityRequirements(secCtx, &st.secIn, rt.security); err != nil {
			envelope.Write(c, securityFault(err, signed))
			s.pool.put(st)
			return
		}
	}
	p := st.principal
	if p != nil && p.Restricted && !rt.restricted {
		envelope.Write(c, restrictedFault())
		s.pool.put(st)
		return
	}

	// Parameters and body (the route's operation carries no security).
	if name := badParam(c); name != "" {
		envelope.Write(c, badParamFault(name))
		s.pool.put(st)
		return
	}
	if err := openapi3filter.ValidateRequest(ctx, &st.in); err != nil {
		envelope.Write(c, s.requestFault(c.Request, rt, err))
		s.pool.put(st)
		return
	}
	if p != nil {
		c.Request = c.Request.WithContext(authn.WithPrincipal(ctx, p))
		st.in.Request = c.Request
	}
	if !s.validResp {
		s.pool.put(st)
		c.Next()
		return
	}

	real := c.Writer
	st.w.real = real
	c.Writer = &st.w
	done := false
	defer func() {
		// On a panic the recovery middleware answers on the real writer; the
		// state is dropped, not pooled, as the handler may still hold it.
		c.Writer = real
		if done {
			s.pool.put(st)
		}
	}()
	c.Next()
	c.Writer = real
	s.respond(c, st)
	done = true
}

// respond validates the buffered response and sends it, or logs why it is
// off-spec and answers 500 instead: an off-spec response never leaves.
func (s *server) respond(c *gin.Context, st *state) {
	w, rt := &st.w, st.route
	status := w.Status()
	head := c.Request.Method == http.MethodHead
	var err error
	if head {
		// kin-openapi skips HEAD; at least the status must be documented.
		if rt.kin.Operation.Responses.Status(status) == nil && rt.kin.Operation.Responses.Default() == nil {
			err = fmt.Errorf("status %d is not documented", status)
		}
	} else {
		st.rd.Reset(w.buf.Bytes())
		st.out = openapi3filter.ResponseValidationInput{
			RequestValidationInput: &st.in,
			Status:                 status,
			Header:                 w.header,
			Body:                   &st.rd,
			Options:                rt.respOpts,
		}
		err = validateResponse(c.Request.Context(), &st.out, w.buf.Bytes())
		if err == nil && w.buf.Len() > 0 && !declaresContent(rt.kin.Operation, status) {
			err = fmt.Errorf("status %d declares no content but the body has %d bytes", status, w.buf.Len())
		}
	}
	if err != nil {
		s.log.LogAttrs(c.Request.Context(), slog.LevelError, "response does not match the spec; answered 500",
			slog.String("request_id", envelope.RequestID(c)),
			slog.String("operation", rt.id),
			slog.String("method", c.Request.Method),
			slog.String("route", rt.kin.Path),
			slog.Int("status", status),
			slog.String("problem", describe(err)),
		)
		envelope.Write(c, fault.New(fault.Internal, "off-spec response"))
		return
	}
	dst := c.Writer.Header()
	for k, v := range w.header {
		dst[k] = v
	}
	c.Writer.WriteHeader(status)
	if head || w.buf.Len() == 0 {
		c.Writer.WriteHeaderNow()
		return
	}
	_, _ = c.Writer.Write(w.buf.Bytes())
}

// respOpts validate every response: an undocumented status is off-spec too.
var respOpts = &openapi3filter.Options{IncludeResponseStatus: true}

// respSchemaOpts are the schema options openapi3filter.ValidateResponse
// derives from respOpts (no MultiError: one problem is enough for a 500).
var respSchemaOpts = []openapi3.SchemaValidationOption{openapi3.VisitAsResponse()}

// validateResponse is openapi3filter.ValidateResponse (in.Body must hold
// body), minus its copies of a body already buffered when it can: see
// validateJSONResponse.
func validateResponse(ctx context.Context, in *openapi3filter.ResponseValidationInput, body []byte) error {
	if done, err := validateJSONResponse(in, body); done {
		return err
	}
	return openapi3filter.ValidateResponse(ctx, in)
}

// validateJSONResponse takes ValidateResponse's steps for a JSON body and a
// response that declares no headers (nearly every response), on body as it
// is: ValidateResponse reads the body again (io.ReadAll, two readers) and
// looks the decoder up under a lock before the same decode (strictJSON, the
// registered decoder) and schema walk; here the decoded objects are also
// reused once the walk passes (checkJSON). Together about a fifth of the
// cost of validating a small response. done is false, and nothing checked,
// for any other case (HEAD, a status kin-openapi skips, declared headers,
// another media type, OpenAPI 3.1), which ValidateResponse then takes.
// TestValidateResponseMatchesKin holds it to ValidateResponse.
func validateJSONResponse(in *openapi3filter.ResponseValidationInput, body []byte) (done bool, err error) {
	route := in.RequestValidationInput.Route
	if in.RequestValidationInput.Request.Method == http.MethodHead || in.Options != respOpts || route.Spec.IsOpenAPI31OrLater() {
		return false, nil
	}
	switch in.Status {
	case http.StatusNotModified, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusMovedPermanently:
		return false, nil
	}
	responses := route.Operation.Responses
	if responses.Len() == 0 {
		return false, nil
	}
	ref := responses.Status(in.Status)
	if ref == nil {
		ref = responses.Default()
	}
	if ref == nil || ref.Value == nil || len(ref.Value.Headers) > 0 {
		return false, nil
	}
	ct := in.Header.Get("Content-Type")
	mt := ref.Value.Content.Get(ct)
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || len(mt.Encoding) > 0 || !isJSON(ct) || isBinarySchema(mt.Schema) {
		return false, nil
	}
	schema := mt.Schema.Value
	decodeErr, err := checkJSON(body, func(value any) error { return schema.VisitJSON(value, respSchemaOpts...) })
	if decodeErr != nil {
		return true, &openapi3filter.ResponseError{Input: in, Reason: "failed to decode response body", Err: decodeErr}
	}
	if err != nil {
		id := strings.TrimSpace(mt.Schema.Ref) // as ValidateResponse names the schema
		if id == "" {
			id = strings.TrimSpace(mt.Schema.Value.Title)
		}
		if id != "" {
			id = " " + id
		}
		return true, &openapi3filter.ResponseError{Input: in, Reason: "response body doesn't match schema" + id, Err: err}
	}
	return true, nil
}

// isJSON reports whether the media type of a Content-Type is
// application/json, the one strictJSON is registered for.
func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// isBinarySchema: kin-openapi reads such a body as a file, not as JSON.
func isBinarySchema(s *openapi3.SchemaRef) bool {
	return s.Value != nil && s.Value.Type.Is("string") && s.Value.Format == "binary"
}

// declaresContent reports whether the response documented for status has
// content; kin-openapi does not check that an undocumented body is absent.
func declaresContent(op *openapi3.Operation, status int) bool {
	ref := op.Responses.Status(status)
	if ref == nil {
		ref = op.Responses.Default()
	}
	return ref == nil || ref.Value == nil || len(ref.Value.Content) > 0
}

func restrictedFault() *fault.Error {
	return fault.New(fault.Restricted, "The password must be changed first.")
}

// securityFault maps a failed security check: the authenticator's fault
// (see authFault), or internal for anything unexpected. For a signed request
// the signature's own refusal says more than "no token" of the others.
func securityFault(err error, signed bool) error {
	if sre, ok := err.(*openapi3filter.SecurityRequirementsError); ok { //nolint:errorlint // kin-openapi returns it unwrapped
		if signed {
			if f := signatureFault(sre); f != nil {
				return f
			}
		}
		return authFault(sre)
	}
	return fault.Wrap(fault.Internal, err, "security validation")
}

// signedPrefix starts the Authorization header of a signed request.
const signedPrefix = "SDK-HMAC-SHA256 "

// payloadKey carries the body bytes of a signed request to the
// authenticator (SignedPayload).
type payloadKey struct{}

// SignedPayload returns the exact body of a request signed with
// SDK-HMAC-SHA256, as read before authentication (empty for no body); ok is
// false outside the authentication of a signed request.
func SignedPayload(ctx context.Context) (body []byte, ok bool) {
	body, ok = ctx.Value(payloadKey{}).([]byte)
	return body, ok
}

// readBody reads r's body whole and puts an equal one back.
func (s *server) readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, s.tooLarge()
		}
		return nil, fault.Wrap(fault.BodyInvalid, err, "Request body is invalid: it could not be read.")
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// signatureFault returns the refusal of the signature scheme's requirement,
// unless it is a service failure (authFault ranks those first).
func signatureFault(sre *openapi3filter.SecurityRequirementsError) *fault.Error {
	for i, req := range sre.SecurityRequirements {
		if _, ok := req[SchemeSdkHmacSha256]; !ok || i >= len(sre.Errors) {
			continue
		}
		f := fault.As(sre.Errors[i])
		if f == nil {
			return nil
		}
		switch f.Reason {
		case fault.Internal, fault.Overloaded, fault.RateLimited:
			return nil
		}
		return f
	}
	return nil
}

// requestFault maps a request validation failure, by error type, to the
// fault the client sees. Priority: body too large, unsupported media type,
// parameters, body. (Authentication and the restricted rule ran before.)
func (s *server) requestFault(r *http.Request, rt *route, err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return s.tooLarge()
	}
	errs := []error{err}
	if me, ok := err.(openapi3.MultiError); ok { //nolint:errorlint // kin-openapi returns it unwrapped
		errs = me
	}
	var params, body, other *openapi3filter.RequestError
	for _, e := range errs {
		re, ok := e.(*openapi3filter.RequestError) //nolint:errorlint
		switch {
		case !ok:
		case re.Parameter != nil:
			if params == nil {
				params = re
			}
		case re.RequestBody != nil:
			if body == nil {
				body = re
			}
		default:
			if other == nil {
				other = re
			}
		}
	}
	if body != nil && body.Err == nil && rt.body != nil {
		// The one body error without a cause: the content type is not declared.
		if ct := r.Header.Get("Content-Type"); rt.body.Content.Get(ct) == nil {
			return unsupportedMedia(ct)
		}
	}
	switch {
	case params != nil:
		return fault.Wrap(fault.ParameterInvalid, params, "Request parameter %s is invalid.", params.Parameter.Name)
	case body != nil:
		return bodyFault(body)
	case other != nil:
		// E.g. a security scheme the spec does not declare: a spec bug.
		return fault.Wrap(fault.Internal, other, "request validation")
	}
	return fault.Wrap(fault.Internal, err, "request validation")
}

func unsupportedMedia(ct string) *fault.Error {
	if ct == "" {
		return fault.New(fault.UnsupportedMediaType, "Request body is invalid: the content type is missing.")
	}
	return fault.New(fault.UnsupportedMediaType, "Request body is invalid: unsupported content type %s.", clip(ct, 100))
}

// authFault picks the most telling of the failed security requirements: a
// service failure (so an outage is not disguised as 401), then a presented
// but bad credential, then any other fault, then "no credentials".
func authFault(sre *openapi3filter.SecurityRequirementsError) error {
	var best error
	bestRank := 99
	for _, e := range sre.Errors {
		rank := 4
		if f := fault.As(e); f != nil {
			switch f.Reason {
			case fault.Internal, fault.Overloaded, fault.RateLimited:
				rank = 0
			case fault.Unauthenticated:
				rank = 3
			case fault.TokenExpired, fault.TokenInvalid:
				rank = 1
			default:
				rank = 2
			}
		} else if _, ok := e.(*openapi3filter.RequestError); !ok { //nolint:errorlint
			rank = 0 // the authenticator failed: internal
		}
		if rank < bestRank {
			best, bestRank = e, rank
		}
	}
	if best == nil || bestRank == 4 {
		return fault.New(fault.Unauthenticated, "The request you have made requires authentication.")
	}
	return best
}

// bodyFault maps a request body error: not decodable or not an object ->
// BodyInvalid; otherwise the most relevant schema error (the shallowest,
// as Keystone's jsonschema best_match) -> PropertyMissing/PropertyInvalid.
func bodyFault(re *openapi3filter.RequestError) *fault.Error {
	if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
		return fault.Wrap(fault.BodyInvalid, re, "Request body is invalid: the body is required.")
	}
	var pe *openapi3filter.ParseError
	if errors.As(re.Err, &pe) {
		return fault.Wrap(fault.BodyInvalid, re, "Request body is invalid.")
	}
	se := bestSchemaError(re.Err)
	if se == nil {
		return fault.Wrap(fault.BodyInvalid, re, "Request body is invalid.")
	}
	path := se.JSONPointer()
	if se.SchemaField == "required" {
		if len(path) == 0 {
			return fault.Wrap(fault.BodyInvalid, re, "Request body is invalid.")
		}
		return fault.Wrap(fault.PropertyMissing, re, "'%s' is a required property.", dotted(path))
	}
	if len(path) == 0 {
		return fault.Wrap(fault.BodyInvalid, re, "Request body is invalid: it must be a JSON object.")
	}
	return fault.Wrap(fault.PropertyInvalid, re, "Invalid input for field '%s'. The value is '%s'.",
		dotted(path), shownValue(path, se.Value))
}

// bestSchemaError returns the shallowest schema error in err (first wins on
// a tie). A missing property counts at the depth of its parent object.
func bestSchemaError(err error) *openapi3.SchemaError {
	var best *openapi3.SchemaError
	bestDepth := 1 << 30
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) { //nolint:errorlint // kin-openapi's own, unwrapped, types
		case openapi3.MultiError:
			for _, x := range e {
				walk(x)
			}
		case *openapi3.SchemaError:
			d := len(e.JSONPointer())
			if e.SchemaField == "required" {
				d--
			}
			if d < bestDepth {
				best, bestDepth = e, d
			}
		}
	}
	walk(err)
	return best
}

func dotted(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if isIndex(p) {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// secretWords mark fields whose values are never echoed.
var secretWords = []string{"password", "pwd", "secret", "passcode", "token", "seed"}

// shownValue renders an invalid value for a message: scalars (and arrays of
// scalars) as they are, clipped; objects never (they may hold secrets);
// anything at or under a secret field as "(hidden)". A secret field is one
// whose own name is a secret's (password, pwd, secret, passcode, token, or
// ending in _password/_secret/_token): "password_policy" and
// "minimum_password_length" are settings and are shown.
func shownValue(path []string, v any) string {
	for _, p := range path {
		if secretField(strings.ToLower(p)) {
			return "(hidden)"
		}
	}
	return clip(scalarText(v), 64)
}

func secretField(name string) bool {
	for _, w := range secretWords {
		if name == w || strings.HasSuffix(name, "_"+w) {
			return true
		}
	}
	return false
}

func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case map[string]any:
		return "(object)"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				return "(array)"
			}
			parts = append(parts, scalarText(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		return fmt.Sprint(x)
	}
}

// describe renders a validation error for the log without echoing values
// (a response may carry secrets): paths, schema keywords and reasons only.
func describe(err error) string {
	var parts []string
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) { //nolint:errorlint
		case nil:
		case openapi3.MultiError:
			for _, x := range e {
				walk(x)
			}
		case *openapi3.SchemaError:
			parts = append(parts, fmt.Sprintf("/%s: %s: %s", strings.Join(e.JSONPointer(), "/"), e.SchemaField, e.Reason))
		case *openapi3filter.ResponseError:
			if e.Err == nil {
				parts = append(parts, e.Reason)
				return
			}
			parts = append(parts, e.Reason)
			walk(e.Err)
		case *openapi3filter.ParseError:
			parts = append(parts, "cannot decode: "+e.Reason)
		default:
			parts = append(parts, err.Error())
		}
	}
	walk(err)
	return strings.Join(parts, "; ")
}

// state is the per-request scratch of the validation middleware, pooled so
// that a validated request allocates little beyond what kin-openapi does.
type state struct {
	s         *server
	route     *route
	in        openapi3filter.RequestValidationInput
	secIn     openapi3filter.RequestValidationInput
	secReq    http.Request // body-less shallow copy for the security step
	out       openapi3filter.ResponseValidationInput
	opts      openapi3filter.Options
	authFn    openapi3filter.AuthenticationFunc // st.authenticate, bound once
	params    map[string]string
	principal *authn.Principal
	w         bufWriter
	rd        bodyReader
}

// authenticate is the AuthenticationFunc: it asks the Authenticator and
// keeps the principal for after validation.
func (st *state) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	p, err := st.s.auth.Authenticate(ctx, in.SecuritySchemeName, in.RequestValidationInput.Request)
	if err != nil {
		return err
	}
	if p == nil {
		return fault.New(fault.Unauthenticated, "The request you have made requires authentication.")
	}
	st.principal = p
	return nil
}

type statePool struct{ p sync.Pool }

func (sp *statePool) init(s *server) {
	sp.p.New = func() any {
		st := &state{s: s, params: make(map[string]string, 2)}
		st.authFn = st.authenticate
		st.w.header = make(http.Header, 4)
		return st
	}
}

func (sp *statePool) get() *state { return sp.p.Get().(*state) }

func (sp *statePool) put(st *state) {
	st.route, st.principal = nil, nil
	st.in = openapi3filter.RequestValidationInput{}
	st.secIn = openapi3filter.RequestValidationInput{}
	st.secReq = http.Request{}
	st.out = openapi3filter.ResponseValidationInput{}
	st.opts = openapi3filter.Options{}
	clear(st.params)
	st.w.Reset()
	st.w.real = nil
	if st.w.buf.Cap() > 64<<10 {
		st.w.buf = bytes.Buffer{} // do not pin a big response in the pool
	}
	st.rd.Reset(nil)
	sp.p.Put(st)
}

// bodyReader gives kin-openapi the buffered body as an io.ReadCloser
// without allocating.
type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

// bufWriter buffers a handler's response (status, headers, body) until it
// has been validated. It implements gin.ResponseWriter and envelope.Resetter.
type bufWriter struct {
	real   gin.ResponseWriter
	header http.Header
	buf    bytes.Buffer
	status int
	wrote  bool
}

var (
	_ gin.ResponseWriter = (*bufWriter)(nil)
	_ envelope.Resetter  = (*bufWriter)(nil)
)

func (w *bufWriter) Header() http.Header { return w.header }

func (w *bufWriter) WriteHeader(code int) {
	if code > 0 && !w.wrote {
		w.status = code
	}
}

func (w *bufWriter) WriteHeaderNow() { w.wrote = true }

func (w *bufWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.buf.Write(b)
}

func (w *bufWriter) WriteString(s string) (int, error) {
	w.wrote = true
	return w.buf.WriteString(s)
}

func (w *bufWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func (w *bufWriter) Size() int {
	if !w.wrote {
		return -1
	}
	return w.buf.Len()
}

func (w *bufWriter) Written() bool { return w.wrote }

// Flush is a no-op: nothing leaves before validation.
func (w *bufWriter) Flush() {}

func (w *bufWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("server: a validated response cannot be hijacked")
}

func (w *bufWriter) CloseNotify() <-chan bool { return w.real.CloseNotify() } //nolint:staticcheck // gin.ResponseWriter needs it

func (w *bufWriter) Pusher() http.Pusher { return nil }

// Reset drops everything buffered (envelope.Write calls it before writing an
// error, so a half-written success never mixes into the error).
func (w *bufWriter) Reset() {
	clear(w.header)
	w.buf.Reset()
	w.status = http.StatusOK
	w.wrote = false
}
