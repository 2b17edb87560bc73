package api

import (
	"context"

	"github.com/latchkey/latchkey/gen"
)

// Virtual MFA devices (issue 5) answer 501 in their envelope until built.
// (Security policies: policies.go.)

func (h *Handlers) CreateMfaDevice(context.Context, gen.CreateMfaDeviceRequestObject) (gen.CreateMfaDeviceResponseObject, error) {
	return nil, notImplemented("Virtual MFA devices")
}

func (h *Handlers) DeleteMfaDevice(context.Context, gen.DeleteMfaDeviceRequestObject) (gen.DeleteMfaDeviceResponseObject, error) {
	return nil, notImplemented("Virtual MFA devices")
}

func (h *Handlers) ListUserMfaDevices(context.Context, gen.ListUserMfaDevicesRequestObject) (gen.ListUserMfaDevicesResponseObject, error) {
	return nil, notImplemented("Virtual MFA devices")
}

func (h *Handlers) ShowUserMfaDevice(context.Context, gen.ShowUserMfaDeviceRequestObject) (gen.ShowUserMfaDeviceResponseObject, error) {
	return nil, notImplemented("Virtual MFA devices")
}

func (h *Handlers) CreateBindingDevice(context.Context, gen.CreateBindingDeviceRequestObject) (gen.CreateBindingDeviceResponseObject, error) {
	return nil, notImplemented("Virtual MFA devices")
}

func (h *Handlers) DeleteBindingDevice(context.Context, gen.DeleteBindingDeviceRequestObject) (gen.DeleteBindingDeviceResponseObject, error) {
	return nil, notImplemented("Virtual MFA devices")
}
