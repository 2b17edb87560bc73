package api

import (
	"bytes"
	"context"
	"time"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

// Virtual MFA devices, /v3.0/OS-MFA (apis.md §3.5). Restricted tokens never
// get here: the validation middleware refuses them for these operations.

// self refuses callers whose own user is not userID: 403 whether or not
// userID exists.
func self(ctx context.Context, userID string) (*authn.Principal, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !p.ActsAsUser() || p.UserID != userID {
		return nil, forbidden()
	}
	return p, nil
}

func mfaDevice(d *store.MFADevice) gen.IamMfaDevice {
	return gen.IamMfaDevice{UserId: d.UserID, SerialNumber: d.SerialNumber}
}

// CreateMfaDevice creates the caller's virtual MFA device (self).
func (h *Handlers) CreateMfaDevice(ctx context.Context, req gen.CreateMfaDeviceRequestObject) (gen.CreateMfaDeviceResponseObject, error) {
	ctx = reqCtx(ctx)
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body.VirtualMfaDevice
	p, err := self(ctx, in.UserId)
	if err != nil {
		return nil, err
	}
	c, err := h.MFA.Create(ctx, p.DomainID, p.UserID, in.Name)
	if err != nil {
		return nil, err
	}
	png := c.QRCodePNG
	return gen.CreateMfaDevice201JSONResponse{VirtualMfaDevice: gen.IamCreatedMfaDevice{
		SerialNumber:     c.Device.SerialNumber,
		Base32StringSeed: c.Device.Secret,
		OtpauthUri:       &c.URI,
		QrCodePng:        &png,
	}}, nil
}

// CreateBindingDevice binds the caller's device with two consecutive codes
// (self).
func (h *Handlers) CreateBindingDevice(ctx context.Context, req gen.CreateBindingDeviceRequestObject) (gen.CreateBindingDeviceResponseObject, error) {
	ctx = reqCtx(ctx)
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body
	p, err := self(ctx, in.UserId)
	if err != nil {
		return nil, err
	}
	if err := h.MFA.Bind(ctx, p.DomainID, p.UserID, in.SerialNumber, in.AuthenticationCodeFirst, in.AuthenticationCodeSecond); err != nil {
		return nil, err
	}
	return gen.CreateBindingDevice204Response{}, nil
}

// DeleteBindingDevice unbinds and removes a device: users their own (the
// code is checked), administrators another user's of their domain (the code
// must only be six digits).
func (h *Handlers) DeleteBindingDevice(ctx context.Context, req gen.DeleteBindingDeviceRequestObject) (gen.DeleteBindingDeviceResponseObject, error) {
	ctx = reqCtx(ctx)
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	own := p.ActsAsUser() && p.UserID == in.UserId
	if !own && !p.IsAdmin() {
		return nil, forbidden()
	}
	if err := h.MFA.Unbind(ctx, p.DomainID, in.UserId, in.SerialNumber, in.AuthenticationCode, own); err != nil {
		return nil, err
	}
	return gen.DeleteBindingDevice204Response{}, nil
}

// DeleteMfaDevice deletes the caller's own device; only administrators may
// (apis.md §3.5).
func (h *Handlers) DeleteMfaDevice(ctx context.Context, req gen.DeleteMfaDeviceRequestObject) (gen.DeleteMfaDeviceResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := self(ctx, req.Params.UserId)
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin() {
		return nil, forbidden()
	}
	if err := h.MFA.Delete(ctx, p.DomainID, p.UserID, req.Params.SerialNumber); err != nil {
		return nil, err
	}
	return gen.DeleteMfaDevice204Response{}, nil
}

// ListUserMfaDevices lists the devices of the caller's domain (admin).
func (h *Handlers) ListUserMfaDevices(ctx context.Context, _ gen.ListUserMfaDevicesRequestObject) (gen.ListUserMfaDevicesResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := domainAdmin(ctx)
	if err != nil {
		return nil, err
	}
	list, err := h.MFA.List(ctx, p.DomainID)
	if err != nil {
		return nil, err
	}
	out := gen.ListUserMfaDevices200JSONResponse{VirtualMfaDevices: make([]gen.IamMfaDevice, 0, len(list))}
	for i := range list {
		out.VirtualMfaDevices = append(out.VirtualMfaDevices, mfaDevice(&list[i]))
	}
	return out, nil
}

// ShowUserMfaDevice shows a user's device (admin, or the user itself).
func (h *Handlers) ShowUserMfaDevice(ctx context.Context, req gen.ShowUserMfaDeviceRequestObject) (gen.ShowUserMfaDeviceResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if p.UserID != req.UserId && !p.IsAdmin() {
		return nil, forbidden()
	}
	d, err := h.MFA.Show(ctx, p.DomainID, req.UserId)
	if err != nil {
		return nil, err
	}
	return gen.ShowUserMfaDevice200JSONResponse{VirtualMfaDevice: mfaDevice(d)}, nil
}

// ListMfaOutbox lists the development outbox of the caller's domain, codes
// included: it is the delivery channel when no SMTP server or SMS webhook
// is configured (admin).
func (h *Handlers) ListMfaOutbox(ctx context.Context, req gen.ListMfaOutboxRequestObject) (gen.ListMfaOutboxResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := domainAdmin(ctx)
	if err != nil {
		return nil, err
	}
	limit := 100
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	rows, err := h.Outbox.ListDev(ctx, p.DomainID, deref(req.Params.UserId), limit)
	if err != nil {
		return nil, err
	}
	out := gen.ListMfaOutbox200JSONResponse{Messages: make([]gen.IamOutboxMessage, 0, len(rows))}
	for _, m := range rows {
		exp := ""
		if m.ExpiresAt > 0 {
			exp = wireTime(time.UnixMicro(m.ExpiresAt))
		}
		out.Messages = append(out.Messages, gen.IamOutboxMessage{
			Id: m.ID, UserId: m.UserID, Channel: gen.IamOutboxMessageChannel(m.Channel), Recipient: m.Recipient,
			Subject: m.Subject, Body: m.Body, Code: m.Code,
			CreatedAt: wireTime(time.UnixMicro(m.CreatedAt)), ExpiresAt: exp,
		})
	}
	return out, nil
}

// ShowMfaDeviceQrCode shows the QR code of the caller's unbound device as a
// PNG, which Swagger UI renders for a person to scan (latchkey extension).
func (h *Handlers) ShowMfaDeviceQrCode(ctx context.Context, req gen.ShowMfaDeviceQrCodeRequestObject) (gen.ShowMfaDeviceQrCodeResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := self(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	png, err := h.MFA.EnrolmentQR(ctx, p.DomainID, req.UserId)
	if err != nil {
		return nil, err
	}
	return gen.ShowMfaDeviceQrCode200ImagepngResponse{Body: bytes.NewReader(png), ContentLength: int64(len(png))}, nil
}
