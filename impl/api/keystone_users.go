package api

import (
	"context"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

func (h *Handlers) keystoneUser(u *store.User) gen.KeystoneUser {
	return gen.KeystoneUser{
		Id:                u.ID,
		Name:              u.Name,
		DomainId:          u.DomainID,
		Enabled:           u.Enabled,
		Description:       u.Description,
		PasswordExpiresAt: wireTimePtr(u.PasswordExpiresAt),
		PwdStatus:         u.PwdStatus,
		Links:             gen.KeystoneLinks{Self: h.PublicURL + "/v3/users/" + u.ID},
	}
}

// KeystoneCreateUser creates a user in the caller's domain (admin).
func (h *Handlers) KeystoneCreateUser(ctx context.Context, req gen.KeystoneCreateUserRequestObject) (gen.KeystoneCreateUserResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := domainAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body.User
	if in.DomainId != nil && *in.DomainId != p.DomainID {
		return nil, fault.New(fault.NotFound, "Could not find domain: %s.", printable(*in.DomainId))
	}
	u, err := h.Accounts.CreateUser(ctx, p.DomainID, accounts.UserInput{
		Name:        &in.Name,
		Password:    in.Password,
		Description: in.Description,
		Enabled:     in.Enabled,
		// Users created through the Keystone API start with pwd_status true.
		PwdStatus: ptr(true),
	})
	if err != nil {
		return nil, err
	}
	return gen.KeystoneCreateUser201JSONResponse{User: h.keystoneUser(u)}, nil
}

// KeystoneListUsers lists the users of the caller's domain (admin).
func (h *Handlers) KeystoneListUsers(ctx context.Context, req gen.KeystoneListUsersRequestObject) (gen.KeystoneListUsersResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := domainAdmin(ctx)
	if err != nil {
		return nil, err
	}
	out := gen.KeystoneListUsers200JSONResponse{
		Users: []gen.KeystoneUser{},
		Links: gen.KeystoneLinks{Self: h.PublicURL + "/v3/users"},
	}
	if req.Params.DomainId != nil && *req.Params.DomainId != p.DomainID {
		return out, nil // nothing crosses domains
	}
	f := accounts.ListFilter{Name: req.Params.Name, Enabled: req.Params.Enabled}
	if req.Params.PasswordExpiresAt != nil {
		ef, err := accounts.ParseExpiryFilter(*req.Params.PasswordExpiresAt)
		if err != nil {
			return nil, err
		}
		f.PasswordExpires = ef
	}
	users, err := h.Accounts.ListUsers(ctx, p.DomainID, f)
	if err != nil {
		return nil, err
	}
	for i := range users {
		ku := h.keystoneUser(&users[i])
		ku.PwdStrength = keystoneStrength(&users[i])
		out.Users = append(out.Users, ku)
	}
	return out, nil
}

// userFor loads a user the caller may read: itself, or any user of the
// domain it administers. A foreign or unknown user is 404; another user of
// the same domain, for a non-admin, is 403.
func (h *Handlers) userFor(ctx context.Context, userID string, adminOnly bool) (*store.User, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	self := p.UserID == userID
	if p.Restricted && !self {
		// A restricted token may read only its own user, whatever the role.
		return nil, fault.New(fault.Restricted, "The password must be changed first.")
	}
	if !p.IsAdmin() && (!self || adminOnly) {
		return nil, forbidden()
	}
	return h.Accounts.User(ctx, p.DomainID, userID)
}

// KeystoneShowUser shows a user (admin, or the user itself).
func (h *Handlers) KeystoneShowUser(ctx context.Context, req gen.KeystoneShowUserRequestObject) (gen.KeystoneShowUserResponseObject, error) {
	ctx = reqCtx(ctx)
	u, err := h.userFor(ctx, req.UserId, false)
	if err != nil {
		return nil, err
	}
	return gen.KeystoneShowUser200JSONResponse{User: h.keystoneUser(u)}, nil
}

// KeystoneUpdateUserByAdmin updates a user (admin).
func (h *Handlers) KeystoneUpdateUserByAdmin(ctx context.Context, req gen.KeystoneUpdateUserByAdminRequestObject) (gen.KeystoneUpdateUserByAdminResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := h.userFor(ctx, req.UserId, true); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	p, _ := caller(ctx)
	in := req.Body.User
	if in.DomainId != nil && *in.DomainId != p.DomainID {
		return nil, fault.New(fault.PropertyInvalid, "Invalid input for field 'user.domain_id'. A user cannot move to another domain.")
	}
	u, err := h.Accounts.UpdateUser(ctx, p.DomainID, req.UserId, accounts.UserInput{
		Name: in.Name, Password: in.Password, Description: in.Description,
		Enabled: in.Enabled, PwdStatus: in.PwdStatus,
	})
	if err != nil {
		return nil, err
	}
	ku := h.keystoneUser(u)
	return gen.KeystoneUpdateUserByAdmin200JSONResponse{User: gen.KeystoneUpdatedUser{
		Id: ku.Id, Name: ku.Name, DomainId: ku.DomainId, Enabled: ku.Enabled,
		Description: ku.Description, PasswordExpiresAt: ku.PasswordExpiresAt,
		PwdStatus: ku.PwdStatus, Links: ku.Links,
		Extra: gen.KeystoneUserExtra{Description: u.Description, PwdStatus: u.PwdStatus},
	}}, nil
}

// KeystoneDeleteUser deletes a user (admin) and revokes its tokens.
func (h *Handlers) KeystoneDeleteUser(ctx context.Context, req gen.KeystoneDeleteUserRequestObject) (gen.KeystoneDeleteUserResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := h.userFor(ctx, req.UserId, true); err != nil {
		return nil, err
	}
	p, _ := caller(ctx)
	if err := h.Accounts.DeleteUser(ctx, p.DomainID, req.UserId); err != nil {
		return nil, err
	}
	return gen.KeystoneDeleteUser204Response{}, nil
}

// keystoneStrength rates the password in the Keystone list wording.
func keystoneStrength(u *store.User) *gen.KeystoneUserPwdStrength {
	if u.PasswordHash == "" {
		return nil
	}
	s := gen.KeystoneUserPwdStrengthMid
	switch u.PwdStrength {
	case "Strong":
		s = gen.KeystoneUserPwdStrengthHigh
	case "Low":
		s = gen.KeystoneUserPwdStrengthLow
	}
	return &s
}
