package api

import (
	"context"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/accesskeys"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
)

// Permanent access keys, /v3.0/OS-CREDENTIAL/credentials (IAM v3.0; Huawei
// SDK Create/List/Show/Update/DeletePermanentAccessKey). A user manages its
// own keys, an admin those of its domain's users. Secrets and signature
// checks are in package accesskeys.

// keyOwner refuses a caller that may not act on the keys of userID: 403
// for a non-admin naming another user (whether or not it exists).
func keyOwner(p *authn.Principal, userID string) error {
	if p.UserID == "" || (userID != p.UserID && !p.IsAdmin()) {
		return forbidden()
	}
	return nil
}

// visibleKey returns access key ak if the caller may see it: its own, or
// any of its domain when it is an admin. Others read as not found.
func (h *Handlers) visibleKey(ctx context.Context, ak string) (*authn.Principal, accesskeys.Key, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, accesskeys.Key{}, err
	}
	k, err := h.AccessKeys.Get(ctx, p.DomainID, ak)
	if err != nil {
		return nil, accesskeys.Key{}, err
	}
	if k.UserID != p.UserID && !p.IsAdmin() {
		return nil, accesskeys.Key{}, accesskeys.KeyNotFound(ak)
	}
	return p, k, nil
}

func iamCredential(k accesskeys.Key) gen.IamCredential {
	return gen.IamCredential{
		Access: k.Access, Status: gen.IamCredentialStatus(k.Status), UserId: k.UserID,
		Description: k.Description, CreateTime: wireTime(k.CreatedAt),
	}
}

// CreatePermanentAccessKey creates an access key; the secret is in this
// answer only.
func (h *Handlers) CreatePermanentAccessKey(ctx context.Context, req gen.CreatePermanentAccessKeyRequestObject) (gen.CreatePermanentAccessKeyResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body.Credential
	if err := keyOwner(p, in.UserId); err != nil {
		return nil, err
	}
	k, secret, err := h.AccessKeys.Create(ctx, p.DomainID, in.UserId, deref(in.Description))
	if err != nil {
		return nil, err
	}
	return gen.CreatePermanentAccessKey201JSONResponse{
		Body: gen.IamCreateCredentialResponse{Credential: gen.IamCreatedCredential{
			Access: k.Access, Secret: secret, Status: gen.IamCredentialStatus(k.Status), UserId: k.UserID,
			Description: k.Description, CreateTime: wireTime(k.CreatedAt),
		}},
		Headers: gen.CreatePermanentAccessKey201ResponseHeaders{CacheControl: ptr("no-store")},
	}, nil
}

// ListPermanentAccessKeys lists a user's access keys (default: the caller's).
func (h *Handlers) ListPermanentAccessKeys(ctx context.Context, req gen.ListPermanentAccessKeysRequestObject) (gen.ListPermanentAccessKeysResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	userID := deref(req.Params.UserId)
	if userID == "" {
		userID = p.UserID
	}
	if err := keyOwner(p, userID); err != nil {
		return nil, err
	}
	keys, err := h.AccessKeys.List(ctx, p.DomainID, userID)
	if err != nil {
		return nil, err
	}
	out := gen.ListPermanentAccessKeys200JSONResponse{Credentials: make([]gen.IamCredential, 0, len(keys))}
	for _, k := range keys {
		out.Credentials = append(out.Credentials, iamCredential(k))
	}
	return out, nil
}

// ShowPermanentAccessKey shows an access key (no secret).
func (h *Handlers) ShowPermanentAccessKey(ctx context.Context, req gen.ShowPermanentAccessKeyRequestObject) (gen.ShowPermanentAccessKeyResponseObject, error) {
	ctx = reqCtx(ctx)
	_, k, err := h.visibleKey(ctx, req.AccessKey)
	if err != nil {
		return nil, err
	}
	return gen.ShowPermanentAccessKey200JSONResponse{Credential: gen.IamShowCredential{
		Access: k.Access, Status: gen.IamCredentialStatus(k.Status), UserId: k.UserID,
		Description: k.Description, CreateTime: wireTime(k.CreatedAt), LastUseTime: wireTimePtr(k.LastUsedAt),
	}}, nil
}

// UpdatePermanentAccessKey activates, deactivates or describes an access key.
func (h *Handlers) UpdatePermanentAccessKey(ctx context.Context, req gen.UpdatePermanentAccessKeyRequestObject) (gen.UpdatePermanentAccessKeyResponseObject, error) {
	ctx = reqCtx(ctx)
	p, _, err := h.visibleKey(ctx, req.AccessKey)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body.Credential
	var status *string
	if in.Status != nil {
		status = ptr(string(*in.Status))
	}
	k, err := h.AccessKeys.Update(ctx, p.DomainID, req.AccessKey, status, in.Description)
	if err != nil {
		return nil, err
	}
	return gen.UpdatePermanentAccessKey200JSONResponse{Credential: iamCredential(k)}, nil
}

// DeletePermanentAccessKey deletes an access key.
func (h *Handlers) DeletePermanentAccessKey(ctx context.Context, req gen.DeletePermanentAccessKeyRequestObject) (gen.DeletePermanentAccessKeyResponseObject, error) {
	ctx = reqCtx(ctx)
	p, _, err := h.visibleKey(ctx, req.AccessKey)
	if err != nil {
		return nil, err
	}
	if err := h.AccessKeys.Delete(ctx, p.DomainID, req.AccessKey); err != nil {
		return nil, err
	}
	return gen.DeletePermanentAccessKey204Response{}, nil
}
