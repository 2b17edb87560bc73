package api

import (
	"bytes"
	"context"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/gitcreds"
)

// CodeArts Repo (apis.md §4): the HTTPS Git authentication mode, the
// separate HTTPS password and validate-https-info. Domain rules are in
// package gitcreds.

// UpdateHttpsPasswordSetting answers PUT /v4/user/https-password-setting.
func (h *Handlers) UpdateHttpsPasswordSetting(ctx context.Context, req gen.UpdateHttpsPasswordSettingRequestObject) (gen.UpdateHttpsPasswordSettingResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	mode, err := cloneIamAuth(req.Body.HttpsCloneIamAuth)
	if err != nil {
		return nil, err
	}
	if err := h.GitCreds.SetSetting(ctx, p.DomainID, p.UserID, mode); err != nil {
		return nil, err
	}
	return gen.UpdateHttpsPasswordSetting200TextResponse("success"), nil
}

// cloneIamAuth reads https_clone_iam_auth: a JSON boolean or the string
// "true"/"false" (the validation middleware has already refused anything
// else; this repeats the rule so the handler stands on its own).
func cloneIamAuth(v gen.RepoHttpsCloneIamAuth) (bool, error) {
	raw, _ := v.MarshalJSON() // a raw message: never fails
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		// Unmarshalling null into a bool would quietly give false.
		return false, fault.New(fault.PropertyMissing, "'https_clone_iam_auth' is a required property.")
	}
	if b, err := v.AsRepoHttpsCloneIamAuthBool(); err == nil {
		return b, nil
	}
	if s, err := v.AsRepoHttpsCloneIamAuthString(); err == nil && s.Valid() {
		return s == gen.RepoHttpsCloneIamAuthStringTrue, nil
	}
	return false, fault.New(fault.PropertyInvalid,
		"Invalid input for field 'https_clone_iam_auth'. The value must be true or false.")
}

// ShowHttpsPasswordSetting answers GET /v4/user/https-password-setting.
func (h *Handlers) ShowHttpsPasswordSetting(ctx context.Context, _ gen.ShowHttpsPasswordSettingRequestObject) (gen.ShowHttpsPasswordSettingResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	mode, err := h.GitCreds.Setting(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if mode {
		return gen.ShowHttpsPasswordSetting200TextResponse(gen.RepoHttpsPasswordSettingValueTrue), nil
	}
	return gen.ShowHttpsPasswordSetting200TextResponse(gen.RepoHttpsPasswordSettingValueFalse), nil
}

// UpdateHttpsPassword answers PUT /v4/user/https-password: the caller's own
// separate HTTPS password, after re-authentication with the account password.
func (h *Handlers) UpdateHttpsPassword(ctx context.Context, req gen.UpdateHttpsPasswordRequestObject) (gen.UpdateHttpsPasswordResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	if err := h.GitCreds.SetPassword(ctx, p.DomainID, p.UserID, req.Body.AccountPassword, req.Body.Password); err != nil {
		return nil, err
	}
	return gen.UpdateHttpsPassword200TextResponse("success"), nil
}

// ValidateHttpsInfoV2 answers POST /v2/user/{iam_user_uuid}/validate-https-info.
func (h *Handlers) ValidateHttpsInfoV2(ctx context.Context, req gen.ValidateHttpsInfoV2RequestObject) (gen.ValidateHttpsInfoV2ResponseObject, error) {
	out, err := h.validateHTTPS(reqCtx(ctx), req.IamUserUuid, req.Body)
	if err != nil {
		return nil, err
	}
	return gen.ValidateHttpsInfoV2200JSONResponse(out), nil
}

// ValidateHttpsInfo answers the deprecated POST /v1/user/{iam_user_uuid}/validateHttpsInfo.
func (h *Handlers) ValidateHttpsInfo(ctx context.Context, req gen.ValidateHttpsInfoRequestObject) (gen.ValidateHttpsInfoResponseObject, error) {
	out, err := h.validateHTTPS(reqCtx(ctx), req.IamUserUuid, req.Body)
	if err != nil {
		return nil, err
	}
	return gen.ValidateHttpsInfo200JSONResponse(out), nil
}

// validateHTTPS is both versions of validate-https-info. Every verification
// outcome is a 200 body (apis.md §4.2); only request, authorization and
// service failures are errors in the v1/v2 envelope.
//
// Who may ask: the user itself, or an admin of its domain. The user is
// looked up in the caller's domain, so a user of another domain is "User
// does not exist." for every caller, as is an unknown id; another existing
// user of the caller's domain is 403 for a non-admin.
func (h *Handlers) validateHTTPS(ctx context.Context, userID string, body *gen.RepoValidateHttpsInfoRequest) (gen.RepoValidateHttpsInfoResponse, error) {
	var none gen.RepoValidateHttpsInfoResponse
	p, err := caller(ctx)
	if err != nil {
		return none, err
	}
	if body == nil {
		return none, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	if p.UserID != userID && !p.IsAdmin() {
		if _, err := h.Accounts.User(ctx, p.DomainID, userID); err != nil {
			if fault.Is(err, fault.UserNotFound) {
				return failed("CH.010112", gitcreds.MsgNoSuchUser), nil
			}
			return none, err
		}
		return none, forbidden()
	}
	err = h.GitCreds.Validate(ctx, p.DomainID, userID, body.Pwd)
	if err == nil {
		return gen.RepoValidateHttpsInfoResponse{
			Result: ptr(gen.RepoValidateHttpsInfoResponseResultVerificationPassed),
			Status: gen.RepoValidateHttpsInfoResponseStatusSuccess,
		}, nil
	}
	if e := fault.As(err); e != nil {
		switch e.Reason {
		case fault.PasswordPolicy:
			return failed("CH.080002", gitcreds.MsgBadFormat), nil
		case fault.UserNotFound:
			return failed("CH.010112", gitcreds.MsgNoSuchUser), nil
		case fault.WrongPassword:
			return failed("CH.010008", gitcreds.MsgWrongPassword), nil
		}
	}
	return none, err
}

func failed(code, msg string) gen.RepoValidateHttpsInfoResponse {
	return gen.RepoValidateHttpsInfoResponse{
		Error:  &gen.RepoErrorDetail{Code: code, Message: msg},
		Status: gen.RepoValidateHttpsInfoResponseStatusFailed,
	}
}
