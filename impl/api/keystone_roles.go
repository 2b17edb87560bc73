package api

import (
	"context"
	"slices"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

// assignableRoles are the roles an owner may grant. te_admin stays the
// owner's alone: a domain has exactly one owner, made at bootstrap.
var assignableRoles = []authn.Role{authn.RoleSecuAdmin}

func (h *Handlers) keystoneRoleRef(r authn.Role) gen.KeystoneRoleRef {
	return gen.KeystoneRoleRef{
		Id:    string(r),
		Name:  string(r),
		Links: gen.KeystoneSelfLink{Self: h.PublicURL + "/v3/roles/" + string(r)},
	}
}

// KeystoneListRoles lists the assignable roles (any non-restricted caller).
func (h *Handlers) KeystoneListRoles(ctx context.Context, _ gen.KeystoneListRolesRequestObject) (gen.KeystoneListRolesResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	out := gen.KeystoneListRoles200JSONResponse{
		Roles: make([]gen.KeystoneRoleRef, 0, len(assignableRoles)),
		Links: gen.KeystoneLinks{Self: h.PublicURL + "/v3/roles"},
	}
	for _, r := range assignableRoles {
		out.Roles = append(out.Roles, h.keystoneRoleRef(r))
	}
	return out, nil
}

// KeystoneListDomainRolesForUser lists a user's domain roles (admin of the
// domain, or the user itself).
func (h *Handlers) KeystoneListDomainRolesForUser(ctx context.Context, req gen.KeystoneListDomainRolesForUserRequestObject) (gen.KeystoneListDomainRolesForUserResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.DomainId != p.DomainID {
		return nil, fault.New(fault.NotFound, "Could not find domain: %s.", printable(req.DomainId))
	}
	u, err := h.userFor(ctx, req.UserId, false)
	if err != nil {
		return nil, err
	}
	roles := rolesOf(u)
	out := gen.KeystoneListDomainRolesForUser200JSONResponse{
		Roles: make([]gen.KeystoneRoleRef, 0, len(roles)),
		Links: gen.KeystoneLinks{Self: h.PublicURL + "/v3/domains/" + u.DomainID + "/users/" + u.ID + "/roles"},
	}
	for _, r := range roles {
		out.Roles = append(out.Roles, h.keystoneRoleRef(r))
	}
	return out, nil
}

// KeystoneAssignDomainRoleToUser grants an assignable role (owner only).
func (h *Handlers) KeystoneAssignDomainRoleToUser(ctx context.Context, req gen.KeystoneAssignDomainRoleToUserRequestObject) (gen.KeystoneAssignDomainRoleToUserResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := h.roleTarget(ctx, req.DomainId, req.UserId, req.RoleId); err != nil {
		return nil, err
	}
	if err := h.Accounts.SetRole(ctx, req.DomainId, req.UserId, accounts.RoleSecuAdmin); err != nil {
		return nil, err
	}
	return gen.KeystoneAssignDomainRoleToUser204Response{}, nil
}

// KeystoneUnassignDomainRoleFromUser takes an assignable role back (owner
// only); the user becomes a plain user.
func (h *Handlers) KeystoneUnassignDomainRoleFromUser(ctx context.Context, req gen.KeystoneUnassignDomainRoleFromUserRequestObject) (gen.KeystoneUnassignDomainRoleFromUserResponseObject, error) {
	ctx = reqCtx(ctx)
	u, err := h.roleTarget(ctx, req.DomainId, req.UserId, req.RoleId)
	if err != nil {
		return nil, err
	}
	if u.Role != accounts.RoleSecuAdmin {
		return nil, fault.New(fault.NotFound, "Could not find role assignment: %s of user %s.", printable(req.RoleId), u.ID)
	}
	if err := h.Accounts.SetRole(ctx, req.DomainId, req.UserId, accounts.RoleUser); err != nil {
		return nil, err
	}
	return gen.KeystoneUnassignDomainRoleFromUser204Response{}, nil
}

// roleTarget runs the checks shared by grant and revoke, in an order that
// tells an outsider nothing: the domain must be the caller's (404), the
// caller its owner (403), the role assignable (404), the user in the domain
// (404) and not the owner, whose roles never change (403).
func (h *Handlers) roleTarget(ctx context.Context, domainID, userID, roleID string) (*store.User, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if domainID != p.DomainID {
		return nil, fault.New(fault.NotFound, "Could not find domain: %s.", printable(domainID))
	}
	if !p.ActsAsUser() || !slices.Contains(p.Roles, authn.RoleOwner) {
		return nil, forbidden()
	}
	if !slices.Contains(assignableRoles, authn.Role(roleID)) {
		return nil, fault.New(fault.NotFound, "Could not find role: %s.", printable(roleID))
	}
	u, err := h.Accounts.User(ctx, domainID, userID)
	if err != nil {
		return nil, err
	}
	if u.Role == accounts.RoleOwner {
		return nil, fault.New(fault.Forbidden, "The roles of the domain owner cannot change.")
	}
	return u, nil
}
