package api

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

func pwdStrength(u *store.User) gen.IamUserPwdStrength {
	if u.PasswordHash == "" {
		return "None"
	}
	switch u.PwdStrength {
	case "Low", "Medium", "Strong":
		return gen.IamUserPwdStrength(u.PwdStrength)
	default:
		return "Medium"
	}
}

func accessMode(u *store.User) string {
	if u.AccessMode == "" {
		return "default"
	}
	return u.AccessMode
}

// iamUser is the GET shape of a user (apis.md §3.1).
func (h *Handlers) iamUser(u *store.User) gen.IamUser {
	phone := "-"
	if u.Phone != nil && *u.Phone != "" {
		phone = deref(u.AreaCode) + "-" + *u.Phone
	}
	return gen.IamUser{
		Id:              u.ID,
		Name:            u.Name,
		DomainId:        u.DomainID,
		Enabled:         u.Enabled,
		Description:     u.Description,
		Email:           deref(u.Email),
		Areacode:        deref(u.AreaCode),
		Phone:           phone,
		PwdStatus:       u.PwdStatus,
		PwdStrength:     pwdStrength(u),
		AccessMode:      gen.IamUserAccessMode(accessMode(u)),
		IsDomainOwner:   u.IsDomainOwner,
		XuserId:         deref(u.XUserID),
		XuserType:       deref(u.XUserType),
		CreateTime:      wireTime(u.CreatedAt),
		UpdateTime:      wireTime(u.UpdatedAt),
		LastLoginTime:   wireTimePtr(u.LastLoginAt),
		ModifyPwdTime:   wireTimePtr(u.PasswordChangedAt),
		Links:           gen.IamUserLinks{Self: h.PublicURL + "/v3.0/OS-USER/users/" + u.ID},
		LastPwdAuthTime: nil,
	}
}

// CreateUser creates a user with contact data (admin).
func (h *Handlers) CreateUser(ctx context.Context, req gen.CreateUserRequestObject) (gen.CreateUserResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body.User
	if in.DomainId != p.DomainID {
		if p.IsAdmin() {
			return nil, fault.New(fault.NotFound, "Could not find domain: %s.", printable(in.DomainId))
		}
		return nil, forbidden()
	}
	if err := requireAdmin(p, in.DomainId); err != nil {
		return nil, err
	}
	ui := accounts.UserInput{
		Name: &in.Name, Password: in.Password, Email: in.Email, AreaCode: in.Areacode, Phone: in.Phone,
		Description: in.Description, XUserType: in.XuserType, XUserID: in.XuserId,
		Enabled: in.Enabled, PwdStatus: in.PwdStatus,
	}
	if in.AccessMode != nil {
		ui.AccessMode = ptr(string(*in.AccessMode))
	}
	u, err := h.Accounts.CreateUser(ctx, p.DomainID, ui)
	if err != nil {
		return nil, err
	}
	return gen.CreateUser201JSONResponse{User: gen.IamCreatedUser{
		Id: u.ID, Name: u.Name, DomainId: u.DomainID, Enabled: u.Enabled, PwdStatus: u.PwdStatus,
		XuserId: deref(u.XUserID), XuserType: deref(u.XUserType),
		AccessMode: gen.IamCreatedUserAccessMode(accessMode(u)), Description: u.Description,
		Phone: deref(u.Phone), Areacode: deref(u.AreaCode), Email: deref(u.Email),
		IsDomainOwner: u.IsDomainOwner, CreateTime: wireTime(u.CreatedAt),
		XdomainId: "", XdomainType: "",
		PasswordExpiresAt: wireTimePtr(u.PasswordExpiresAt),
	}}, nil
}

// ListUsers lists the users of the caller's domain (admin; a latchkey extension).
func (h *Handlers) ListUsers(ctx context.Context, _ gen.ListUsersRequestObject) (gen.ListUsersResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := domainAdmin(ctx)
	if err != nil {
		return nil, err
	}
	users, err := h.Accounts.ListUsers(ctx, p.DomainID, accounts.ListFilter{})
	if err != nil {
		return nil, err
	}
	out := gen.ListUsers200JSONResponse{Users: make([]gen.IamUser, 0, len(users))}
	for i := range users {
		out.Users = append(out.Users, h.iamUser(&users[i]))
	}
	return out, nil
}

// ShowUser shows a user (admin, or the user itself).
func (h *Handlers) ShowUser(ctx context.Context, req gen.ShowUserRequestObject) (gen.ShowUserResponseObject, error) {
	ctx = reqCtx(ctx)
	u, err := h.userFor(ctx, req.UserId, false)
	if err != nil {
		return nil, err
	}
	return gen.ShowUser200JSONResponse{User: h.iamUser(u)}, nil
}

// UpdateUser changes a user (admin).
func (h *Handlers) UpdateUser(ctx context.Context, req gen.UpdateUserRequestObject) (gen.UpdateUserResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := h.userFor(ctx, req.UserId, true); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	p, _ := caller(ctx)
	in := req.Body.User
	ui := accounts.UserInput{
		Name: in.Name, Password: in.Password, Email: in.Email, AreaCode: in.Areacode, Phone: in.Phone,
		Description: in.Description, XUserType: in.XuserType, XUserID: in.XuserId,
		Enabled: in.Enabled, PwdStatus: in.PwdStatus,
	}
	if in.AccessMode != nil {
		ui.AccessMode = ptr(string(*in.AccessMode))
	}
	u, err := h.Accounts.UpdateUser(ctx, p.DomainID, req.UserId, ui)
	if err != nil {
		return nil, err
	}
	return gen.UpdateUser200JSONResponse{User: gen.IamUpdatedUser{
		Id: u.ID, Name: u.Name, DomainId: u.DomainID, Enabled: u.Enabled, PwdStatus: u.PwdStatus,
		XuserId: deref(u.XUserID), XuserType: deref(u.XUserType),
		AccessMode: gen.IamUpdatedUserAccessMode(accessMode(u)), Description: u.Description,
		Phone: deref(u.Phone), Areacode: deref(u.AreaCode), Email: deref(u.Email),
		PasswordExpiresAt: wireTimePtr(u.PasswordExpiresAt),
		Links:             gen.IamLinksSelf{Self: h.PublicURL + "/v3.0/OS-USER/users/" + u.ID},
	}}, nil
}

// DeleteUser deletes a user (admin; a latchkey extension of the v3.0 family).
func (h *Handlers) DeleteUser(ctx context.Context, req gen.DeleteUserRequestObject) (gen.DeleteUserResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := h.userFor(ctx, req.UserId, true); err != nil {
		return nil, err
	}
	p, _ := caller(ctx)
	if err := h.Accounts.DeleteUser(ctx, p.DomainID, req.UserId); err != nil {
		return nil, err
	}
	return gen.DeleteUser204Response{}, nil
}

// UpdateUserInformation changes the caller's own e-mail and mobile.
func (h *Handlers) UpdateUserInformation(ctx context.Context, req gen.UpdateUserInformationRequestObject) (gen.UpdateUserInformationResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if p.UserID != req.UserId {
		return nil, forbidden()
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	if err := h.Accounts.UpdateContact(ctx, p.DomainID, req.UserId, req.Body.User.Email, req.Body.User.Mobile); err != nil {
		return nil, err
	}
	return gen.UpdateUserInformation204Response{}, nil
}

func loginProtectBody(lp *store.LoginProtect) gen.IamLoginProtect {
	return gen.IamLoginProtect{
		UserId:             lp.UserID,
		Enabled:            lp.Enabled,
		VerificationMethod: gen.IamLoginProtectVerificationMethod(strings.ToLower(lp.VerificationMethod)),
	}
}

// UpdateLoginProtect sets a user's login protection (admin, or the user itself).
func (h *Handlers) UpdateLoginProtect(ctx context.Context, req gen.UpdateLoginProtectRequestObject) (gen.UpdateLoginProtectResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := h.userFor(ctx, req.UserId, false); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	p, _ := caller(ctx)
	in := req.Body.LoginProtect
	lp, err := h.Accounts.SetLoginProtect(ctx, p.DomainID, req.UserId, in.Enabled, string(in.VerificationMethod))
	if err != nil {
		return nil, err
	}
	return gen.UpdateLoginProtect200JSONResponse{LoginProtect: loginProtectBody(lp)}, nil
}

// ShowUserLoginProtect shows a user's login protection (admin, or the user itself).
func (h *Handlers) ShowUserLoginProtect(ctx context.Context, req gen.ShowUserLoginProtectRequestObject) (gen.ShowUserLoginProtectResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := h.userFor(ctx, req.UserId, false); err != nil {
		return nil, err
	}
	p, _ := caller(ctx)
	lp, err := h.Accounts.LoginProtect(ctx, p.DomainID, req.UserId)
	if err != nil {
		return nil, err
	}
	return gen.ShowUserLoginProtect200JSONResponse{LoginProtect: loginProtectBody(lp)}, nil
}

// ListUserLoginProtects lists the login protection of the domain's users (admin).
func (h *Handlers) ListUserLoginProtects(ctx context.Context, _ gen.ListUserLoginProtectsRequestObject) (gen.ListUserLoginProtectsResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := domainAdmin(ctx)
	if err != nil {
		return nil, err
	}
	list, err := h.Accounts.ListLoginProtects(ctx, p.DomainID)
	if err != nil {
		return nil, err
	}
	out := gen.ListUserLoginProtects200JSONResponse{LoginProtects: make([]gen.IamLoginProtect, 0, len(list))}
	for i := range list {
		out.LoginProtects = append(out.LoginProtects, loginProtectBody(&list[i]))
	}
	return out, nil
}
