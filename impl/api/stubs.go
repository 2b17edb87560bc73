package api

import (
	"context"

	"github.com/latchkey/latchkey/gen"
)

// Operations of the contract whose capability has not landed yet answer 501
// in their family's envelope (issue 3: CodeArts Repo and CIAM).

func (h *Handlers) CiamCreateToken(context.Context, gen.CiamCreateTokenRequestObject) (gen.CiamCreateTokenResponseObject, error) {
	return nil, notImplemented("The CIAM token endpoint")
}

func (h *Handlers) CiamCreateUser(context.Context, gen.CiamCreateUserRequestObject) (gen.CiamCreateUserResponseObject, error) {
	return nil, notImplemented("CIAM user creation")
}

func (h *Handlers) CiamShowUser(context.Context, gen.CiamShowUserRequestObject) (gen.CiamShowUserResponseObject, error) {
	return nil, notImplemented("CIAM user details")
}

func (h *Handlers) CiamUpdateUserPwd(context.Context, gen.CiamUpdateUserPwdRequestObject) (gen.CiamUpdateUserPwdResponseObject, error) {
	return nil, notImplemented("CIAM change-password")
}

func (h *Handlers) CiamUpdateUserPwdWithOldPwd(context.Context, gen.CiamUpdateUserPwdWithOldPwdRequestObject) (gen.CiamUpdateUserPwdWithOldPwdResponseObject, error) {
	return nil, notImplemented("CIAM change-password-verify")
}

func (h *Handlers) ValidateHttpsInfo(context.Context, gen.ValidateHttpsInfoRequestObject) (gen.ValidateHttpsInfoResponseObject, error) {
	return nil, notImplemented("HTTPS password validation")
}

func (h *Handlers) ValidateHttpsInfoV2(context.Context, gen.ValidateHttpsInfoV2RequestObject) (gen.ValidateHttpsInfoV2ResponseObject, error) {
	return nil, notImplemented("HTTPS password validation")
}

func (h *Handlers) UpdateHttpsPassword(context.Context, gen.UpdateHttpsPasswordRequestObject) (gen.UpdateHttpsPasswordResponseObject, error) {
	return nil, notImplemented("Setting the HTTPS password")
}

func (h *Handlers) ShowHttpsPasswordSetting(context.Context, gen.ShowHttpsPasswordSettingRequestObject) (gen.ShowHttpsPasswordSettingResponseObject, error) {
	return nil, notImplemented("The HTTPS password setting")
}

func (h *Handlers) UpdateHttpsPasswordSetting(context.Context, gen.UpdateHttpsPasswordSettingRequestObject) (gen.UpdateHttpsPasswordSettingResponseObject, error) {
	return nil, notImplemented("The HTTPS password setting")
}

// Issue 4: security policies. Issue 5: virtual MFA devices.

func (h *Handlers) ShowDomainPasswordPolicy(context.Context, gen.ShowDomainPasswordPolicyRequestObject) (gen.ShowDomainPasswordPolicyResponseObject, error) {
	return nil, notImplemented("The password policy API")
}

func (h *Handlers) UpdateDomainPasswordPolicy(context.Context, gen.UpdateDomainPasswordPolicyRequestObject) (gen.UpdateDomainPasswordPolicyResponseObject, error) {
	return nil, notImplemented("The password policy API")
}

func (h *Handlers) ShowDomainLoginPolicy(context.Context, gen.ShowDomainLoginPolicyRequestObject) (gen.ShowDomainLoginPolicyResponseObject, error) {
	return nil, notImplemented("The login policy API")
}

func (h *Handlers) UpdateDomainLoginPolicy(context.Context, gen.UpdateDomainLoginPolicyRequestObject) (gen.UpdateDomainLoginPolicyResponseObject, error) {
	return nil, notImplemented("The login policy API")
}

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
