// Package api implements the generated strict server interface: one file per
// API family. Handlers are thin: they decode, authorize, call the domain and
// shape the wire types; errors are *fault.Error values written in the
// family's envelope by the central error writer (package envelope).
package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/accesskeys"
	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/clients"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/gitcreds"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/mfa"
	"github.com/latchkey/latchkey/impl/notify"
	"github.com/latchkey/latchkey/impl/policies"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/tokens"
)

// Deps are what the handlers need.
type Deps struct {
	Log      *slog.Logger
	DB       *store.DB
	Accounts *accounts.Service
	Tokens   *tokens.Service
	// GitCreds serves the CodeArts Repo HTTPS Git credentials.
	GitCreds *gitcreds.Service
	// Policies holds the password and login policies of each domain.
	Policies *policies.Service
	// Audit is the security audit trail.
	Audit *audit.Log
	// Clients holds the CIAM OAuth clients of each domain.
	Clients *clients.Service
	// MFA holds virtual MFA devices and verifies second factors (issue 5).
	MFA *mfa.Service
	// Outbox queues SMS/e-mail messages; its development outbox is listed
	// by GET /v3.0/OS-MFA/outbox.
	Outbox *notify.Outbox
	// AccessKeys holds the permanent access keys (AK/SK) of users (issue 6).
	AccessKeys *accesskeys.Service
	// Lockout answers whether a credential is locked (CIAM "locked").
	Lockout   *lockout.Guard
	PublicURL string
	// CIAMTokenLifetime is the life of CIAM access tokens (expires_in);
	// 0 means 1800 s.
	CIAMTokenLifetime time.Duration
	// Now is the clock (tests may set it); nil means time.Now.
	Now func() time.Time
}

// Handlers implements gen.StrictServerInterface.
type Handlers struct {
	Deps
}

var _ gen.StrictServerInterface = (*Handlers)(nil)

// New returns the handlers.
func New(d Deps) *Handlers { return &Handlers{Deps: d} }

// wireTime formats t the way every latchkey timestamp goes on the wire.
func wireTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// wireTimePtr formats an optional timestamp; nil stays nil.
func wireTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := wireTime(*t)
	return &s
}

// caller returns the authenticated principal; the validation middleware has
// already refused unauthenticated requests to secured operations.
func caller(ctx context.Context) (*authn.Principal, error) {
	p := authn.FromContext(ctx)
	if p == nil {
		return nil, fault.New(fault.Unauthenticated, "The request you have made requires authentication.")
	}
	return p, nil
}

// forbidden is the standard refusal of a role or ownership check.
func forbidden() error {
	return fault.New(fault.Forbidden, "You are not authorized to perform the requested action.")
}

// domainAdmin returns the caller when it administers its own domain.
func domainAdmin(ctx context.Context) (*authn.Principal, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := requireAdmin(p, p.DomainID); err != nil {
		return nil, err
	}
	return p, nil
}

// requireAdmin refuses callers that do not administer domainID.
func requireAdmin(p *authn.Principal, domainID string) error {
	if p.DomainID != domainID || !p.IsAdmin() {
		return forbidden()
	}
	return nil
}

func notImplemented(what string) error {
	return fault.New(fault.NotImplemented, "%s is not implemented yet.", what)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// reqCtx returns the request's own context. The strict handlers receive the
// *gin.Context, which gin recycles after the request: it must never reach
// the database or a goroutine.
func reqCtx(ctx context.Context) context.Context {
	if c, ok := ctx.(*gin.Context); ok && c.Request != nil {
		// The source address travels with the request for the audit trail
		// (the server trusts no proxy headers: it is the peer address).
		return authn.WithClientIP(c.Request.Context(), c.ClientIP())
	}
	return ctx
}

func (h *Handlers) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
