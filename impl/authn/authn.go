// Package authn holds the authenticated principal of a request and the
// context plumbing that carries it from the authentication step to handlers.
package authn

import (
	"context"
	"time"
)

// Role is a domain-level role.
type Role string

// Roles known to latchkey. The domain owner holds both owner and secu_admin.
const (
	RoleOwner     Role = "te_admin"
	RoleSecuAdmin Role = "secu_admin"
)

// Kind tells what kind of credential authenticated the request.
type Kind int

// Principal kinds.
const (
	KindUserToken  Kind = iota + 1 // Keystone token of a user (X-Auth-Token)
	KindCIAMClient                 // OAuth2 client-credentials bearer of a CIAM client
	KindAccessKey                  // AK/SK-signed request (a later capability)
)

// Principal is who is calling.
type Principal struct {
	Kind     Kind
	TokenID  string // id of the token (for revocation)
	UserID   string // empty for CIAM clients
	UserName string
	DomainID string
	ClientID string // CIAM client id
	Roles    []Role
	// Restricted is true when the user must change the password first.
	Restricted bool
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// IsAdmin reports whether the principal administers its domain (owner or
// security administrator). CIAM clients administer their domain's users.
func (p *Principal) IsAdmin() bool {
	if p == nil {
		return false
	}
	if p.Kind == KindCIAMClient {
		return true
	}
	for _, r := range p.Roles {
		if r == RoleOwner || r == RoleSecuAdmin {
			return true
		}
	}
	return false
}

// ActsAsUser reports whether a user is calling in person: with its token or
// a request signed with its access key (not a CIAM client).
func (p *Principal) ActsAsUser() bool {
	return p != nil && (p.Kind == KindUserToken || p.Kind == KindAccessKey)
}

// CanManage reports whether the principal may act on user (userID, domainID):
// itself, or any user of its domain when it is an admin.
func (p *Principal) CanManage(userID, domainID string) bool {
	if p == nil || domainID != p.DomainID {
		return false
	}
	return p.UserID == userID || p.IsAdmin()
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of ctx, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
