package app

import (
	"context"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/tokens"
)

// authenticator checks the credentials of the spec's security schemes.
type authenticator struct {
	tokens *tokens.Service
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
	default:
		return nil, fault.New(fault.Unauthenticated, "Unsupported security scheme %s.", scheme)
	}
}
