// Package envelope is the one place where an error becomes an HTTP response.
// Each API family (Keystone, IAM v3.0, CodeArts Repo v1/v2 and v4, CIAM) has
// its own table from fault.Reason to status, error code and standard message
// (keystone.go, iam.go, repo.go, ciam.go) and its own body shape. Handlers,
// middleware and the strict-server error hooks all call Write.
package envelope

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/latchkey/latchkey/impl/fault"
)

// Family is an API family: it decides the error body and the codes.
type Family int

// API families, told apart by path (FamilyOf).
const (
	None     Family = iota // outside every family (/healthz, /docs, unknown top-level paths)
	Keystone               // /, /v3, /v3/...
	IAM                    // /v3.0/...
	RepoV2                 // /v1/user/..., /v2/user/...
	RepoV4                 // /v4/...
	CIAM                   // /api/v2/tenant/...
)

var familyNames = [...]string{"none", "keystone", "iam", "repo-v2", "repo-v4", "ciam"}

func (f Family) String() string {
	if f < 0 || int(f) >= len(familyNames) {
		return "family(" + strconv.Itoa(int(f)) + ")"
	}
	return familyNames[f]
}

// CIAMTokenPath is the OAuth2 token endpoint, whose errors also carry the
// RFC 6749 §5.2 fields error and error_description.
const CIAMTokenPath = "/api/v2/tenant/token"

// FamilyOf returns the family a request path belongs to.
func FamilyOf(path string) Family {
	switch {
	case path == "/" || path == "/v3" || strings.HasPrefix(path, "/v3/"):
		return Keystone
	case under(path, "/v3.0"):
		return IAM
	case under(path, "/v1/user") || under(path, "/v2/user"):
		return RepoV2
	case under(path, "/v4"):
		return RepoV4
	case under(path, "/api/v2/tenant"):
		return CIAM
	}
	return None
}

// under reports whether path is prefix or lies below it (segment-wise).
func under(path, prefix string) bool {
	return strings.HasPrefix(path, prefix) && (len(path) == len(prefix) || path[len(prefix)] == '/')
}

// entry is one row of a family table.
type entry struct {
	status int
	code   string
	msg    string // the family's standard text
	// fixed: the vendor's text always wins over fault.Error.Message (vendor
	// codes whose clients match the text, and 500s whose domain message is
	// meant for logs).
	fixed bool
}

// resolved is an error ready for the wire.
type resolved struct {
	status int
	code   string
	msg    string
	oauth  string // RFC 6749 error (CIAM token endpoint only)
	basic  bool   // answer WWW-Authenticate: Basic (token endpoint, Basic credentials rejected)
}

// Map returns the status, code and message of e in family f. A CIAM error
// whose OAuthError is set is mapped as a token-endpoint error.
func Map(f Family, e *fault.Error) (status int, code string, message string) {
	r, _ := resolve(f, e, f == CIAM && e.OAuthError != "", false)
	return r.status, r.code, r.msg
}

// resolve maps e; known is false when the family has no row for the reason
// (it is then answered as Internal).
func resolve(f Family, e *fault.Error, token, basic bool) (resolved, bool) {
	if f == CIAM {
		if token {
			if r, ok := ciamToken(e, basic); ok {
				return r, true
			}
		}
		return ciamResolve(e)
	}
	var table map[fault.Reason]entry
	switch f {
	case Keystone:
		table = keystoneTable
	case IAM:
		table = iamTable
	case RepoV2:
		table = repoV2Table
	case RepoV4:
		table = repoV4Table
	default:
		table = keystoneTable // statuses only: the None body carries no code
	}
	ent, known := table[e.Reason]
	if !known {
		ent = table[fault.Internal]
	}
	r := resolved{status: ent.status, code: ent.code, msg: pick(ent, e, known)}
	if f == None {
		r.code = ""
		r.msg = strings.ToLower(http.StatusText(r.status))
	}
	return r, known
}

// pick chooses the caller-facing message: the domain's (caller-safe) message
// unless the row's text is fixed.
func pick(ent entry, e *fault.Error, known bool) string {
	if known && !ent.fixed && e.Message != "" {
		return e.Message
	}
	return ent.msg
}

// Context keys (gin Keys) set once per request by the server.
type (
	loggerKey    struct{}
	requestIDKey struct{}
)

// Attach records the request's logger and request id for Write (and for
// handlers that want them). The server calls it first thing in a request.
func Attach(c *gin.Context, log *slog.Logger, requestID string) {
	c.Set(loggerKey{}, log)
	c.Set(requestIDKey{}, requestID)
}

// Logger returns the logger recorded by Attach. Without one it returns
// slog.Default(), so that an internal error is never silently lost.
func Logger(c *gin.Context) *slog.Logger {
	if v, ok := c.Get(loggerKey{}); ok {
		if l, ok := v.(*slog.Logger); ok && l != nil {
			return l
		}
	}
	return slog.Default()
}

// RequestID returns the request id recorded by Attach, or "".
func RequestID(c *gin.Context) string {
	if v, ok := c.Get(requestIDKey{}); ok {
		s, _ := v.(string)
		return s
	}
	return ""
}

// Resetter is implemented by a buffering response writer (the server's
// response-validation writer): Write calls Reset to drop whatever a handler
// had already buffered before writing the error.
type Resetter interface {
	Reset()
}

const genericInternal = "An unexpected error prevented the server from fulfilling your request."

// Write answers err in the envelope of the request path's family and aborts
// the gin chain. Errors that are not *fault.Error are internal: they are
// logged and the caller gets the generic 500 text, never the raw error.
// HEAD responses get the status and headers only.
func Write(c *gin.Context, err error) {
	if err == nil {
		return
	}
	r := c.Request
	e := fault.As(err)
	if e == nil {
		e = fromPlain(c, err)
	}
	path := r.URL.Path
	f := FamilyOf(path)
	token := f == CIAM && (path == CIAMTokenPath || e.OAuthError != "")
	basic := token && hasBasic(r)
	res, known := resolve(f, e, token, basic)
	if !known {
		Logger(c).LogAttrs(r.Context(), slog.LevelError, "error reason has no mapping; answered as internal",
			slog.String("request_id", RequestID(c)), slog.String("family", f.String()),
			slog.String("reason", string(e.Reason)), slog.String("err", err.Error()))
	} else if res.status >= 500 && fault.As(err) != nil && errors.Unwrap(e) != nil {
		// A 5xx fault with a cause: the cause is for the log. (One without a
		// cause was raised on purpose and logged, if at all, by its maker.)
		Logger(c).LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", RequestID(c)), slog.String("reason", string(e.Reason)),
			slog.Int("status", res.status), slog.String("err", err.Error()))
	}

	if rs, ok := c.Writer.(Resetter); ok {
		rs.Reset()
	} else if c.Writer.Written() {
		// Headers are gone already: nothing sane can be sent any more.
		Logger(c).LogAttrs(r.Context(), slog.LevelError, "error after the response was written",
			slog.String("request_id", RequestID(c)), slog.String("err", err.Error()))
		c.Abort()
		return
	}

	h := c.Writer.Header()
	h.Set("Content-Type", "application/json")
	if s := retryAfter(e, res.status); s != "" {
		h.Set("Retry-After", s)
	}
	if res.status == http.StatusMethodNotAllowed && len(e.Allow) > 0 {
		h.Set("Allow", strings.Join(e.Allow, ", "))
	}
	if res.status == http.StatusUnauthorized && f == CIAM {
		if res.basic {
			h.Set("WWW-Authenticate", `Basic realm="latchkey"`)
		} else if !token {
			h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
	}
	if token {
		// RFC 6749 §5.1 asks token responses not to be cached; errors too.
		h.Set("Cache-Control", "no-store")
	}
	c.Abort()
	c.Writer.WriteHeader(res.status)
	if r.Method == http.MethodHead {
		c.Writer.WriteHeaderNow()
		return
	}
	_, _ = c.Writer.Write(render(f, res))
}

// fromPlain turns an error that is not a *fault.Error into one, logging it.
func fromPlain(c *gin.Context, err error) *fault.Error {
	reason, level, msg := fault.Internal, slog.LevelError, "internal error"
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		// A dependency (database) too slow: unavailable, retry later.
		reason, msg = fault.Overloaded, "request timed out"
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		level, msg = slog.LevelWarn, "request canceled"
	}
	Logger(c).LogAttrs(c.Request.Context(), level, msg,
		slog.String("request_id", RequestID(c)), slog.String("err", err.Error()))
	return &fault.Error{Reason: reason, Remaining: -1}
}

func hasBasic(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	return len(a) > 6 && strings.EqualFold(a[:6], "basic ")
}

// retryAfter returns the Retry-After value in whole seconds (rounded up):
// the error's RetryAfter, or 1 for 429/503 without one.
func retryAfter(e *fault.Error, status int) string {
	if e.RetryAfter > 0 {
		return strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		return "1"
	}
	return ""
}

// Body shapes.
type (
	keystoneBody struct {
		Error keystoneDetail `json:"error"`
	}
	keystoneDetail struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorCode string `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
	}
	// flatBody serves IAM v3.0, Repo v4 and CIAM (the RFC 6749 fields only
	// on the CIAM token endpoint).
	flatBody struct {
		ErrorCode        string `json:"error_code"`
		ErrorMsg         string `json:"error_msg"`
		Error            string `json:"error,omitempty"`
		ErrorDescription string `json:"error_description,omitempty"`
	}
	repoV2Body struct {
		Error  repoV2Detail `json:"error"`
		Status string       `json:"status"`
	}
	repoV2Detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	noneBody struct {
		Error string `json:"error"`
	}
)

// render encodes the family's body. Like the generated handlers it ends the
// body with a newline, and it leaves <, > and & unescaped for readability.
func render(f Family, r resolved) []byte {
	var v any
	switch f {
	case Keystone:
		v = keystoneBody{Error: keystoneDetail{Code: r.status, Title: http.StatusText(r.status),
			Message: r.msg, ErrorCode: r.code, ErrorMsg: r.msg}}
	case IAM, RepoV4:
		v = flatBody{ErrorCode: r.code, ErrorMsg: r.msg}
	case CIAM:
		b := flatBody{ErrorCode: r.code, ErrorMsg: r.msg}
		if r.oauth != "" {
			b.Error, b.ErrorDescription = r.oauth, r.msg
		}
		v = b
	case RepoV2:
		v = repoV2Body{Error: repoV2Detail{Code: r.code, Message: r.msg}, Status: "failed"}
	default:
		v = noneBody{Error: r.msg}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // plain strings and ints: cannot fail
	return buf.Bytes()
}
