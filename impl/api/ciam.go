package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/clients"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/tokens"
)

// The CIAM (OneAccess) tenant API, apis.md §5: the client-credentials token
// endpoint and the user operations of the calling client's domain.

const (
	grantClientCredentials = "client_credentials"
	defaultCIAMLifetime    = 1800 * time.Second
	// defaultMobileAreaCode is given to a CIAM mobile number sent as bare
	// digits (a mainland China mobile number, the product's home market).
	defaultMobileAreaCode = "+86"
)

// oauthError is a token-endpoint failure in RFC 6749 §5.2 terms; the CIAM
// envelope adds error/error_description to error_code/error_msg.
func oauthError(reason fault.Reason, oauth, format string, args ...any) *fault.Error {
	e := fault.New(reason, format, args...)
	e.OAuthError = oauth
	return e
}

func invalidRequest(format string, args ...any) *fault.Error {
	return oauthError(fault.PropertyInvalid, "invalid_request", format, args...)
}

func badClient() *fault.Error {
	return oauthError(fault.WrongPassword, "invalid_client", "Client authentication failed.")
}

// tokenForm returns the request and its form body. Only the body counts:
// the generated handler bound r.Form, which merges in the query string, and
// credentials in a URL end up in logs and histories.
func tokenForm(ctx context.Context) (*http.Request, url.Values, error) {
	c, ok := ctx.(*gin.Context)
	if !ok || c.Request == nil {
		return nil, nil, errors.New("ciam token: no HTTP request in the handler context")
	}
	r := c.Request
	if r.PostForm == nil {
		if err := r.ParseForm(); err != nil {
			return nil, nil, invalidRequest("The request body is not a valid form.")
		}
	}
	return r, r.PostForm, nil
}

// CiamCreateToken is the OAuth 2.0 client-credentials grant (apis.md §5.1).
func (h *Handlers) CiamCreateToken(ctx context.Context, _ gen.CiamCreateTokenRequestObject) (gen.CiamCreateTokenResponseObject, error) {
	r, form, err := tokenForm(ctx)
	if err != nil {
		return nil, err
	}
	ctx = reqCtx(ctx)
	for _, k := range []string{"grant_type", "client_id", "client_secret", "scope"} {
		if len(form[k]) > 1 {
			return nil, invalidRequest("The %s parameter must not be sent more than once.", k)
		}
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return nil, oauthError(fault.PropertyMissing, "invalid_request", "The grant_type parameter is required.")
	}
	if grant != grantClientCredentials {
		return nil, oauthError(fault.PropertyInvalid, "unsupported_grant_type",
			"The grant type %s is not supported; use client_credentials.", printable(grant))
	}
	cands, err := clientCredentials(r, form)
	if err != nil {
		return nil, err
	}
	client, err := h.authenticateClient(ctx, cands)
	if err != nil {
		return nil, err
	}
	lifetime := h.CIAMTokenLifetime
	if lifetime <= 0 {
		lifetime = defaultCIAMLifetime
	}
	tok, claims, err := h.Tokens.Issue(ctx, tokens.Claims{
		Kind:      tokens.KindClient,
		ClientID:  client.ID,
		DomainID:  client.DomainID,
		Methods:   []string{grantClientCredentials},
		ExpiresAt: h.now().Add(lifetime),
	})
	if err != nil {
		return nil, err
	}
	// A client deleted while its secret was being checked must not get a
	// token that outlives the deletion: Delete removes the row, then revokes
	// every token issued up to then. If the row is still here now, the
	// revocation (if any) comes later and covers this token.
	if _, err := h.Clients.Get(ctx, client.DomainID, client.ID); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, badClient()
		}
		return nil, err
	}
	return gen.CiamCreateToken200JSONResponse{
		Body: gen.CiamTokenResponse{
			AccessToken: tok,
			TokenType:   gen.CiamTokenResponseTokenTypeBearer,
			// Rounded: ExpiresAt was set a few microseconds before IssuedAt.
			ExpiresIn: int(claims.ExpiresAt.Sub(claims.IssuedAt).Round(time.Second) / time.Second),
			Scope:     "all",
		},
		Headers: gen.CiamCreateToken200ResponseHeaders{CacheControl: "no-store"},
	}, nil
}

// credentials is one reading of the client's id and secret.
type credentials struct{ id, secret string }

// clientCredentials reads the client authentication of a token request:
// HTTP Basic or the form body, never both. Basic values are form-decoded
// after base64 (RFC 6749 §2.3.1); when that changes them, the raw values are
// tried as well, for clients that do not encode (curl -u id:secret).
func clientCredentials(r *http.Request, form url.Values) ([]credentials, error) {
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	_, hasFormSecret := form["client_secret"]
	auth := r.Header.Get("Authorization")
	const basic = "basic "
	if len(auth) >= len(basic) && strings.EqualFold(auth[:len(basic)], basic) {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth[len(basic):]))
		if err != nil {
			return nil, badClient()
		}
		rawID, rawSecret, ok := strings.Cut(string(raw), ":")
		if !ok || rawID == "" {
			return nil, badClient()
		}
		id, errID := url.QueryUnescape(rawID)
		secret, errSecret := url.QueryUnescape(rawSecret)
		// A client_id in the body that names the same client is harmless
		// (some libraries add it); a secret there, or another id, is a second
		// authentication method.
		if hasFormSecret || (formID != "" && formID != id && formID != rawID) {
			return nil, invalidRequest("Client credentials must be sent either in the Authorization header or in the body, not both.")
		}
		var out []credentials
		if errID == nil && errSecret == nil {
			out = append(out, credentials{id, secret})
		}
		if errID != nil || errSecret != nil || id != rawID || secret != rawSecret {
			out = append(out, credentials{rawID, rawSecret})
		}
		return out, nil
	}
	if formID == "" && !hasFormSecret {
		return nil, oauthError(fault.Unauthenticated, "invalid_client", "Application ID required.")
	}
	if formID == "" || !hasFormSecret {
		return nil, badClient()
	}
	return []credentials{{formID, formSecret}}, nil
}

// authenticateClient tries each reading of the credentials in turn.
func (h *Handlers) authenticateClient(ctx context.Context, cands []credentials) (clients.Client, error) {
	for _, c := range cands {
		client, err := h.Clients.Authenticate(ctx, c.id, c.secret)
		if err == nil {
			return client, nil
		}
		if !fault.Is(err, fault.WrongPassword) {
			return clients.Client{}, err // overloaded, database down
		}
	}
	// The id is not a secret; the secret is never logged.
	id := ""
	if len(cands) > 0 {
		id = printable(cands[0].id)
	}
	h.Log.InfoContext(ctx, "ciam client authentication failed", "client_id", id)
	return clients.Client{}, badClient()
}

// ciamCaller returns the calling CIAM client; its token fixes the domain.
func ciamCaller(ctx context.Context) (*authn.Principal, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	// A CIAM client, or an administrator of the domain signing with an
	// access key (the spec lists SdkHmacSha256 on every CIAM operation).
	if p.Kind != authn.KindCIAMClient && !(p.Kind == authn.KindAccessKey && p.IsAdmin()) {
		return nil, fault.New(fault.TokenInvalid, "The access token is invalid.")
	}
	return p, nil
}

// parseCIAMMobile reads a CIAM mobile number: "<country code>-<number>"
// ("+86-13812345678", "0086-...", "86-...") or, as bare digits, a mainland
// China mobile number (11 digits starting with 1), given the code +86.
// Anything else is fault.PhoneInvalid (USER.0038).
func parseCIAMMobile(m string) (areaCode, phone string, err error) {
	if strings.Contains(m, "-") {
		return accounts.ParseMobile(m)
	}
	if len(m) == 11 && m[0] == '1' && strings.Trim(m, "0123456789") == "" {
		return defaultMobileAreaCode, m, nil
	}
	return "", "", fault.New(fault.PhoneInvalid, "Invalid mobile number.")
}

// CiamCreateUser creates a user of the client's domain (apis.md §5.2).
func (h *Handlers) CiamCreateUser(ctx context.Context, req gen.CiamCreateUserRequestObject) (gen.CiamCreateUserResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := ciamCaller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	b := req.Body
	ac, phone, err := parseCIAMMobile(b.Mobile)
	if err != nil {
		return nil, err
	}
	display := b.UserName
	if b.Name != nil && *b.Name != "" {
		display = *b.Name
	}
	in := accounts.UserInput{
		Name: &b.UserName, AreaCode: &ac, Phone: &phone, DisplayName: &display,
		Password: b.Password, PwdStatus: b.PwdMustModify,
	}
	if b.Email != nil && *b.Email != "" {
		in.Email = b.Email
	}
	if b.Extension != nil {
		raw, err := json.Marshal(*b.Extension)
		if err != nil {
			return nil, fault.New(fault.PropertyInvalid, "Invalid input for field 'extension': a JSON object is required.")
		}
		in.Extension = ptr(string(raw))
	}
	u, err := h.Accounts.CreateUser(ctx, p.DomainID, in)
	if err != nil {
		return nil, err
	}
	return gen.CiamCreateUser201JSONResponse{UserId: u.ID}, nil
}

// CiamShowUser reads a user of the client's domain (apis.md §5.3).
func (h *Handlers) CiamShowUser(ctx context.Context, req gen.CiamShowUserRequestObject) (gen.CiamShowUserResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := ciamCaller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := h.Accounts.User(ctx, p.DomainID, req.UserId)
	if err != nil {
		return nil, err
	}
	locked, err := h.passwordLocked(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return gen.CiamShowUser200JSONResponse(h.ciamUser(u, locked)), nil
}

func (h *Handlers) ciamUser(u *store.User, locked bool) gen.CiamUser {
	mobile := ""
	if u.Phone != nil && *u.Phone != "" {
		mobile = deref(u.AreaCode) + "-" + *u.Phone
	}
	name := u.DisplayName
	if name == "" {
		name = u.Name // users created through IAM have no real name
	}
	ext := map[string]any{}
	if u.Extension != "" {
		if err := json.Unmarshal([]byte(u.Extension), &ext); err != nil || ext == nil {
			// Validated when stored; an unreadable value is shown as empty.
			h.Log.Warn("stored CIAM extension is not a JSON object", "user_id", u.ID)
			ext = map[string]any{}
		}
	}
	lk := gen.CiamUserLockedFalse
	if locked {
		lk = gen.CiamUserLockedTrue
	}
	return gen.CiamUser{
		UserId:              u.ID,
		UserName:            u.Name,
		Name:                name,
		Mobile:              mobile,
		Email:               deref(u.Email),
		OrgId:               "",
		PwdMustModify:       u.PwdStatus,
		PwdChangeAt:         wireTimePtr(u.PasswordChangedAt),
		CreatedAt:           wireTime(u.CreatedAt),
		UpdatedAt:           wireTime(u.UpdatedAt),
		Disabled:            !u.Enabled,
		Locked:              lk,
		Grade:               0,
		Extension:           ext,
		UserOrgRelationList: []gen.CiamUserOrgRelation{},
	}
}

// passwordLocked reports whether the login policy currently locks the
// user's account password; the lockout guard is the one source of truth.
func (h *Handlers) passwordLocked(ctx context.Context, userID string) (bool, error) {
	st, err := h.Lockout.Status(ctx, userID, lockout.KindPassword)
	if err != nil {
		return false, err
	}
	return st.Locked, nil
}

// CiamUpdateUserPwd sets a user's password without the old one (seed 003,
// apis.md §5.4). pwd_must_modify wins over must_modify; default true.
func (h *Handlers) CiamUpdateUserPwd(ctx context.Context, req gen.CiamUpdateUserPwdRequestObject) (gen.CiamUpdateUserPwdResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := ciamCaller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	must := true
	if req.Body.MustModify != nil {
		must = *req.Body.MustModify
	}
	if req.Body.PwdMustModify != nil {
		must = *req.Body.PwdMustModify
	}
	if err := h.Accounts.ResetPassword(ctx, p.DomainID, req.UserId, req.Body.Password, must); err != nil {
		return nil, err
	}
	return gen.CiamUpdateUserPwd200JSONResponse{UserId: req.UserId}, nil
}

// CiamUpdateUserPwdWithOldPwd changes a user's password after checking the
// current one (apis.md §5.5); it clears the must-change flag.
func (h *Handlers) CiamUpdateUserPwdWithOldPwd(ctx context.Context, req gen.CiamUpdateUserPwdWithOldPwdRequestObject) (gen.CiamUpdateUserPwdWithOldPwdResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := ciamCaller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	// The domain first: ChangePassword looks the user up by id alone.
	if _, err := h.Accounts.User(ctx, p.DomainID, req.UserId); err != nil {
		return nil, err
	}
	if err := h.Accounts.ChangePassword(ctx, req.UserId, req.Body.OldPassword, req.Body.Password); err != nil {
		return nil, err
	}
	return gen.CiamUpdateUserPwdWithOldPwd200JSONResponse{UserId: req.UserId}, nil
}
