package app

import (
	"context"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/impl/accesskeys"
	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/server"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/tokens"
)

// authenticator checks the credentials of the spec's security schemes.
type authenticator struct {
	tokens   *tokens.Service
	keys     *accesskeys.Service
	accounts *accounts.Service
}

func (a authenticator) Authenticate(ctx context.Context, scheme string, r *http.Request) (*authn.Principal, error) {
	switch scheme {
	case "XAuthToken":
		tok := r.Header.Get("X-Auth-Token")
		if tok == "" {
			return nil, fault.New(fault.Unauthenticated, "The request you have made requires authentication.")
		}
		c, err := a.tokens.Validate(ctx, tok)
		if err != nil {
			return nil, err
		}
		if c.Kind != tokens.KindUser {
			return nil, fault.New(fault.TokenInvalid, "Invalid token.")
		}
		return c.Principal(), nil
	case "CiamOAuth":
		h := r.Header.Get("Authorization")
		const prefix = "bearer "
		if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
			return nil, fault.New(fault.Unauthenticated, "A bearer access token is required.")
		}
		c, err := a.tokens.Validate(ctx, strings.TrimSpace(h[len(prefix):]))
		if err != nil {
			return nil, err
		}
		if c.Kind != tokens.KindClient {
			return nil, fault.New(fault.TokenInvalid, "The access token is invalid.")
		}
		return c.Principal(), nil
	case server.SchemeSdkHmacSha256:
		if !accesskeys.IsSigned(r.Header.Get("Authorization")) {
			return nil, fault.New(fault.Unauthenticated, "The request you have made requires authentication.")
		}
		body, _ := server.SignedPayload(ctx)
		v, err := a.keys.Verify(ctx, r, body)
		if err != nil {
			return nil, err
		}
		u := v.User
		// The key's user, with the user's roles; a password that must be
		// changed restricts it as it restricts a token.
		return &authn.Principal{
			Kind:       authn.KindAccessKey,
			UserID:     u.ID,
			UserName:   u.Name,
			DomainID:   u.DomainID,
			Roles:      userRoles(u),
			Restricted: a.accounts.MustChangePassword(u),
		}, nil
	default:
		return nil, fault.New(fault.Unauthenticated, "Unsupported security scheme %s.", scheme)
	}
}

// userRoles maps the stored role to the principal's roles (as tokens carry
// them: the owner holds both).
func userRoles(u *store.User) []authn.Role {
	switch u.Role {
	case accounts.RoleOwner:
		return []authn.Role{authn.RoleOwner, authn.RoleSecuAdmin}
	case accounts.RoleSecuAdmin:
		return []authn.Role{authn.RoleSecuAdmin}
	default:
		return nil
	}
}
