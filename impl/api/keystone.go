package api

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/tokens"
)

// catalogID and endpointID are fixed: there is one identity service.
const (
	catalogID  = "b2a2f2c5d1e04c5f9a7e3d6c8b1f0a42"
	endpointID = "3d9c1e7a5b2f4e6d8c0a9b7f1e3d5c2a"
)

func (h *Handlers) version() gen.KeystoneVersion {
	return gen.KeystoneVersion{
		Id:      "v3.6",
		Status:  gen.Stable,
		Updated: "2016-04-04T00:00:00Z",
		Links:   []gen.KeystoneVersionLink{{Rel: "self", Href: h.PublicURL + "/v3/"}},
		MediaTypes: []gen.KeystoneMediaType{{
			Base: "application/json", Type: "application/vnd.openstack.identity-v3+json",
		}},
	}
}

// KeystoneListVersions answers GET / (300 Multiple Choices).
func (h *Handlers) KeystoneListVersions(_ context.Context, _ gen.KeystoneListVersionsRequestObject) (gen.KeystoneListVersionsResponseObject, error) {
	return gen.KeystoneListVersions300JSONResponse{Versions: gen.KeystoneVersionList{Values: []gen.KeystoneVersion{h.version()}}}, nil
}

// KeystoneShowVersion answers GET /v3.
func (h *Handlers) KeystoneShowVersion(_ context.Context, _ gen.KeystoneShowVersionRequestObject) (gen.KeystoneShowVersionResponseObject, error) {
	return gen.KeystoneShowVersion200JSONResponse{Version: h.version()}, nil
}

// KeystoneListAuthDomains lists the domains the caller can scope to: its own.
func (h *Handlers) KeystoneListAuthDomains(ctx context.Context, _ gen.KeystoneListAuthDomainsRequestObject) (gen.KeystoneListAuthDomainsResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	d, err := h.Accounts.Domain(ctx, p.DomainID)
	if err != nil {
		return nil, err
	}
	return gen.KeystoneListAuthDomains200JSONResponse{
		Domains: []gen.KeystoneAuthDomain{{
			Id: d.ID, Name: d.Name, Enabled: true, Description: "",
			Links: gen.KeystoneSelfLink{Self: h.PublicURL + "/v3/domains/" + d.ID},
		}},
		Links: gen.KeystoneLinks{Self: h.PublicURL + "/v3/auth/domains"},
	}, nil
}

// KeystoneCreateUserToken issues a token (POST /v3/auth/tokens).
func (h *Handlers) KeystoneCreateUserToken(ctx context.Context, req gen.KeystoneCreateUserTokenRequestObject) (gen.KeystoneCreateUserTokenResponseObject, error) {
	ctx = reqCtx(ctx)
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	id := req.Body.Auth.Identity
	// An auth receipt (login protection by sms/email) stands for the
	// password step already done (mfa_login.go).
	receipt := deref(req.Params.OpenstackAuthReceipt)
	methods, err := authMethods(id.Methods, receipt != "")
	if err != nil {
		return nil, err
	}
	var claims tokens.Claims
	var user *store.User
	var domain *store.Domain
	switch {
	case methods["token"]:
		claims, user, domain, err = h.rescope(ctx, id)
	case !methods["password"]:
		claims, user, domain, err = h.receiptLogin(ctx, id, receipt)
	default:
		claims, user, domain, err = h.passwordLogin(ctx, id, methods, receipt)
	}
	if ch := asChallenge(err); ch != nil {
		// The password was right; a code was sent: 401 with the receipt.
		return h.challengeResponse(ch), nil
	}
	if err != nil {
		return nil, err
	}
	if req.Body.Auth.Scope != nil {
		if err := checkScope(req.Body.Auth.Scope, domain); err != nil {
			return nil, err
		}
		if req.Body.Auth.Scope.Domain != nil {
			claims.ScopeDomainID = domain.ID
		}
	}
	tok, claims, err := h.Tokens.Issue(ctx, claims)
	if err != nil {
		return nil, err
	}
	body := h.tokenBody(claims, user, domain, req.Params.Nocatalog == nil)
	return gen.KeystoneCreateUserToken201JSONResponse{
		Body:    gen.KeystoneTokenResponse{Token: body},
		Headers: gen.KeystoneCreateUserToken201ResponseHeaders{XSubjectToken: tok},
	}, nil
}

// authMethods trims and checks the method names (one SDK sends " totp").
// With an auth receipt, totp may come alone.
func authMethods(raw []string, receipt bool) (map[string]bool, error) {
	if len(raw) == 0 {
		return nil, fault.New(fault.PropertyInvalid, "Invalid input for field 'auth.identity.methods'. The value is '[]'.")
	}
	m := map[string]bool{}
	for _, r := range raw {
		name := strings.TrimSpace(r)
		switch name {
		case "password", "totp", "token":
			m[name] = true
		default:
			return nil, fault.New(fault.UnsupportedMethod, "Unsupported authentication method: %s.", printable(name))
		}
	}
	if m["totp"] && !m["password"] && !receipt {
		return nil, fault.New(fault.UnsupportedMethod, "The totp method must be used together with password.")
	}
	if m["token"] && (m["password"] || m["totp"]) {
		return nil, fault.New(fault.UnsupportedMethod, "The token method cannot be combined with other methods.")
	}
	return m, nil
}

// printable keeps a client-supplied name safe to echo in a message.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func (h *Handlers) passwordLogin(ctx context.Context, id gen.KeystoneAuthIdentity, methods map[string]bool, receipt string) (tokens.Claims, *store.User, *store.Domain, error) {
	var none tokens.Claims
	if id.Password == nil {
		return none, nil, nil, fault.New(fault.PropertyMissing, "'auth.identity.password' is a required property.")
	}
	pu := id.Password.User
	if pu == nil {
		return none, nil, nil, fault.New(fault.PropertyMissing, "'auth.identity.password.user' is a required property.")
	}
	if pu.Password == nil {
		return none, nil, nil, fault.New(fault.PropertyMissing, "'auth.identity.password.user.password' is a required property.")
	}
	ref := accounts.UserRef{ID: deref(pu.Id), Name: deref(pu.Name)}
	if pu.Domain != nil {
		ref.DomainID, ref.DomainName = deref(pu.Domain.Id), deref(pu.Domain.Name)
	}
	if ref.ID == "" {
		if ref.Name == "" {
			return none, nil, nil, fault.New(fault.PropertyMissing, "'auth.identity.password.user.id' is a required property.")
		}
		if ref.DomainID == "" && ref.DomainName == "" {
			return none, nil, nil, fault.New(fault.PropertyMissing, "'auth.identity.password.user.domain' is a required property.")
		}
	}
	if methods["totp"] {
		if id.Totp == nil || id.Totp.User == nil || id.Totp.User.Passcode == nil {
			return none, nil, nil, fault.New(fault.PropertyMissing, "'auth.identity.totp.user.passcode' is a required property.")
		}
	}
	user, domain, err := h.Accounts.Authenticate(ctx, ref, *pu.Password)
	if err != nil {
		return none, nil, nil, err
	}
	if user.AccessMode == "console" {
		return none, nil, nil, fault.New(fault.ConsoleOnly, "This user only supports console access, not programmatic access.")
	}
	// Login protection: the second factor, or a challenge (mfa_login.go).
	names, mfaAt, err := h.secondFactor(ctx, user, domain, id, methods, receipt)
	if err != nil {
		return none, nil, nil, err
	}
	return tokens.Claims{
		Kind:       tokens.KindUser,
		UserID:     user.ID,
		UserName:   user.Name,
		DomainID:   user.DomainID,
		Methods:    names,
		Roles:      rolesOf(user),
		Restricted: h.mustChangePassword(user),
		MFAAuthnAt: mfaAt,
	}, user, domain, nil
}

// rescope issues a new token from an existing one (method "token").
func (h *Handlers) rescope(ctx context.Context, id gen.KeystoneAuthIdentity) (tokens.Claims, *store.User, *store.Domain, error) {
	var none tokens.Claims
	if id.Token == nil || id.Token.Id == nil || *id.Token.Id == "" {
		return none, nil, nil, fault.New(fault.PropertyMissing, "'auth.identity.token.id' is a required property.")
	}
	old, err := h.Tokens.Validate(ctx, *id.Token.Id)
	if err != nil {
		return none, nil, nil, err
	}
	if old.Kind != tokens.KindUser {
		return none, nil, nil, fault.New(fault.TokenInvalid, "Invalid token.")
	}
	user, err := h.Accounts.UserByID(ctx, old.UserID)
	if err != nil {
		return none, nil, nil, fault.New(fault.TokenInvalid, "Invalid token.")
	}
	if !user.Enabled {
		return none, nil, nil, fault.New(fault.Disabled, "The user %s is disabled.", user.Name)
	}
	domain, err := h.Accounts.Domain(ctx, user.DomainID)
	if err != nil {
		return none, nil, nil, err
	}
	return tokens.Claims{
		Kind:       tokens.KindUser,
		UserID:     user.ID,
		UserName:   user.Name,
		DomainID:   user.DomainID,
		Methods:    []string{"token"},
		Roles:      rolesOf(user),
		Restricted: h.mustChangePassword(user),
		ExpiresAt:  old.ExpiresAt, // a re-scoped token never outlives its source
		MFAAuthnAt: old.MFAAuthnAt,
	}, user, domain, nil
}

// checkScope accepts the user's own domain; projects are not modelled yet.
func checkScope(s *gen.KeystoneAuthScope, d *store.Domain) error {
	denied := fault.New(fault.ScopeDenied, "The user has no access to the requested scope.")
	if s.Project != nil {
		return denied
	}
	if s.Domain != nil {
		id, name := deref(s.Domain.Id), deref(s.Domain.Name)
		if id == "" && name == "" {
			return fault.New(fault.PropertyMissing, "'auth.scope.domain.id' is a required property.")
		}
		if (id != "" && id != d.ID) || (name != "" && name != d.Name) {
			return denied
		}
	}
	return nil
}

// mustChangePassword: pwd_status set, or the password has expired.
func (h *Handlers) mustChangePassword(u *store.User) bool {
	if u.PwdStatus {
		return true
	}
	return u.PasswordExpiresAt != nil && !h.now().Before(*u.PasswordExpiresAt)
}

func rolesOf(u *store.User) []authn.Role {
	switch u.Role {
	case "owner":
		return []authn.Role{authn.RoleOwner, authn.RoleSecuAdmin}
	case "secu_admin":
		return []authn.Role{authn.RoleSecuAdmin}
	default:
		return nil
	}
}

func (h *Handlers) tokenBody(c tokens.Claims, u *store.User, d *store.Domain, catalog bool) gen.KeystoneToken {
	roles := make([]gen.KeystoneRole, 0, len(c.Roles))
	for _, r := range c.Roles {
		roles = append(roles, gen.KeystoneRole{Id: "0", Name: string(r)})
	}
	expires := ""
	if u.PasswordExpiresAt != nil {
		expires = wireTime(*u.PasswordExpiresAt)
	}
	dom := gen.KeystoneDomainRef{Id: d.ID, Name: d.Name}
	t := gen.KeystoneToken{
		Methods:   c.Methods,
		ExpiresAt: wireTime(c.ExpiresAt),
		IssuedAt:  wireTime(c.IssuedAt),
		User: gen.KeystoneTokenUser{
			Id: u.ID, Name: u.Name, Domain: dom, PasswordExpiresAt: expires,
		},
		Roles: roles,
	}
	if c.MFAAuthnAt != nil {
		t.MfaAuthnAt = ptr(wireTime(*c.MFAAuthnAt))
	}
	if c.ScopeDomainID != "" {
		t.Domain = &dom
	}
	if catalog {
		t.Catalog = &[]gen.KeystoneCatalogEntry{{
			Id: catalogID, Name: "iam", Type: "identity",
			Endpoints: []gen.KeystoneEndpoint{{
				Id: endpointID, Interface: gen.Public, Region: "*", RegionId: "*", Url: h.PublicURL,
			}},
		}}
	}
	return t
}

// subject validates X-Subject-Token for the caller: its own token, or one
// of a user of the domain the caller administers.
func (h *Handlers) subject(ctx context.Context, subjectToken string) (tokens.Claims, error) {
	p, err := caller(ctx)
	if err != nil {
		return tokens.Claims{}, err
	}
	invalid := fault.New(fault.SubjectTokenInvalid, "X-Subject-Token is invalid in the request.")
	c, err := h.Tokens.Validate(ctx, subjectToken)
	if err != nil {
		if fault.As(err) != nil {
			return tokens.Claims{}, invalid
		}
		return tokens.Claims{}, err
	}
	if c.Kind != tokens.KindUser {
		return tokens.Claims{}, invalid
	}
	if c.UserID != p.UserID && (c.DomainID != p.DomainID || !p.IsAdmin()) {
		return tokens.Claims{}, forbidden()
	}
	return c, nil
}

// KeystoneValidateToken answers GET /v3/auth/tokens.
func (h *Handlers) KeystoneValidateToken(ctx context.Context, req gen.KeystoneValidateTokenRequestObject) (gen.KeystoneValidateTokenResponseObject, error) {
	ctx = reqCtx(ctx)
	c, err := h.subject(ctx, req.Params.XSubjectToken)
	if err != nil {
		return nil, err
	}
	u, err := h.Accounts.UserByID(ctx, c.UserID)
	if err != nil {
		return nil, fault.New(fault.SubjectTokenInvalid, "X-Subject-Token is invalid in the request.")
	}
	d, err := h.Accounts.Domain(ctx, u.DomainID)
	if err != nil {
		return nil, err
	}
	return gen.KeystoneValidateToken200JSONResponse{
		Body:    gen.KeystoneTokenResponse{Token: h.tokenBody(c, u, d, req.Params.Nocatalog == nil)},
		Headers: gen.KeystoneValidateToken200ResponseHeaders{XSubjectToken: req.Params.XSubjectToken},
	}, nil
}

// KeystoneCheckToken answers HEAD /v3/auth/tokens.
func (h *Handlers) KeystoneCheckToken(ctx context.Context, req gen.KeystoneCheckTokenRequestObject) (gen.KeystoneCheckTokenResponseObject, error) {
	if _, err := h.subject(reqCtx(ctx), req.Params.XSubjectToken); err != nil {
		return nil, err
	}
	return gen.KeystoneCheckToken200Response{}, nil
}

// KeystoneRevokeToken answers DELETE /v3/auth/tokens.
func (h *Handlers) KeystoneRevokeToken(ctx context.Context, req gen.KeystoneRevokeTokenRequestObject) (gen.KeystoneRevokeTokenResponseObject, error) {
	ctx = reqCtx(ctx)
	c, err := h.subject(ctx, req.Params.XSubjectToken)
	if err != nil {
		return nil, err
	}
	if err := h.Tokens.Revoke(ctx, c); err != nil {
		return nil, err
	}
	return gen.KeystoneRevokeToken204Response{}, nil
}

// KeystoneUpdateUserPassword changes the caller's own password (seed 002).
func (h *Handlers) KeystoneUpdateUserPassword(ctx context.Context, req gen.KeystoneUpdateUserPasswordRequestObject) (gen.KeystoneUpdateUserPasswordResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	// Ownership before anything else: an unknown user_id is 403 too.
	if p.UserID != req.UserId || !p.ActsAsUser() {
		return nil, forbidden()
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	if err := h.Accounts.ChangePassword(ctx, req.UserId, req.Body.User.OriginalPassword, req.Body.User.Password); err != nil {
		return nil, err
	}
	return gen.KeystoneUpdateUserPassword204Response{}, nil
}
