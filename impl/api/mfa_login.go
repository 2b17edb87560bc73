package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/envelope"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/mfa"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/tokens"
)

// Second factors at token issuance (apis.md §2.2, DESIGN.md §3): a user
// whose login protection is enabled never gets a token with the password
// alone.
//
//   - vmfa: the totp method with a code of the bound device.
//   - sms/email (Keystone auth receipts): the password step answers 401 with
//     an Openstack-Auth-Receipt header and sends a code; the request
//     repeated with that header and the code as the totp passcode (the
//     password may be repeated or left out) completes the login.
//   - no protection: totp is optional; when sent, it is checked against the
//     user's bound device.

// challenge is the "second factor needed, code sent" outcome of the
// password step. It travels as an error up to KeystoneCreateUserToken,
// which answers it as a typed 401 (the envelope cannot carry the header).
type challenge struct {
	c    *mfa.Challenge
	user *store.User
	dom  *store.Domain
}

func (c *challenge) Error() string { return "auth receipt issued" }

func asChallenge(err error) *challenge {
	var c *challenge
	if errors.As(err, &c) {
		return c
	}
	return nil
}

// totpUserMatches reports whether the totp block names user u of domain d
// (by id, or by name and domain); a block naming nobody names the password
// user.
func totpUserMatches(tu *gen.KeystoneAuthTotpUser, u *store.User, d *store.Domain) bool {
	if tu.Id != nil {
		return *tu.Id == u.ID
	}
	if tu.Name != nil {
		if *tu.Name != u.Name {
			return false
		}
		if tu.Domain != nil {
			if (tu.Domain.Id != nil && *tu.Domain.Id != d.ID) || (tu.Domain.Name != nil && *tu.Domain.Name != d.Name) {
				return false
			}
		}
	}
	return true
}

func otherTOTPUser() error {
	return fault.New(fault.TOTPInvalid, "Invalid TOTP passcode: auth.identity.totp.user must name the same user as the password.")
}

// secondFactor runs after the password of u matched: it returns the token's
// methods and, when a second factor was used, its time.
func (h *Handlers) secondFactor(ctx context.Context, u *store.User, d *store.Domain, id gen.KeystoneAuthIdentity, methods map[string]bool, receipt string) ([]string, *time.Time, error) {
	protect, err := h.MFA.Protection(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	passcode := ""
	if methods["totp"] {
		if !totpUserMatches(id.Totp.User, u, d) {
			return nil, nil, otherTOTPUser()
		}
		passcode = *id.Totp.User.Passcode
	}
	switch protect {
	case mfa.MethodVMFA:
		if !methods["totp"] {
			return nil, nil, fault.New(fault.TOTPInvalid, "Login protection requires the totp method.")
		}
		err = h.MFA.VerifyTOTP(ctx, u, passcode)
	case mfa.MethodSMS, mfa.MethodEmail:
		if receipt == "" {
			ch, err := h.MFA.Challenge(ctx, u, protect)
			if err != nil {
				return nil, nil, err
			}
			return nil, nil, &challenge{c: ch, user: u, dom: d}
		}
		if !methods["totp"] {
			return nil, nil, fault.New(fault.TOTPInvalid, "Login protection requires the totp method: send the code that was sent by %s as the totp passcode.", protect)
		}
		err = h.MFA.Redeem(ctx, u, receipt, passcode)
	default:
		if !methods["totp"] {
			return []string{"password"}, nil, nil
		}
		if receipt != "" {
			// Protection was switched off after the code was sent.
			err = h.MFA.Redeem(ctx, u, receipt, passcode)
		} else {
			err = h.MFA.VerifyTOTP(ctx, u, passcode)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	at := h.now().UTC()
	return []string{"password", "totp"}, &at, nil
}

// receiptLogin completes a login protected by sms/email from the receipt and
// the code alone (methods ["totp"], as keystoneauth sends it).
func (h *Handlers) receiptLogin(ctx context.Context, id gen.KeystoneAuthIdentity, receipt string) (tokens.Claims, *store.User, *store.Domain, error) {
	var none tokens.Claims
	if id.Totp == nil || id.Totp.User == nil || id.Totp.User.Passcode == nil {
		return none, nil, nil, fault.New(fault.PropertyMissing, "'auth.identity.totp.user.passcode' is a required property.")
	}
	userID, err := h.MFA.ReceiptUser(ctx, receipt)
	if err != nil {
		return none, nil, nil, err
	}
	u, err := h.Accounts.UserByID(ctx, userID)
	if err != nil {
		return none, nil, nil, fault.New(fault.TOTPInvalid, "The auth receipt is invalid or has expired; authenticate with the password again.")
	}
	d, err := h.Accounts.Domain(ctx, u.DomainID)
	if err != nil {
		return none, nil, nil, err
	}
	if !totpUserMatches(id.Totp.User, u, d) {
		return none, nil, nil, otherTOTPUser()
	}
	if err := h.MFA.Redeem(ctx, u, receipt, *id.Totp.User.Passcode); err != nil {
		return none, nil, nil, err
	}
	// The state of the account may have changed since the password step.
	if !u.Enabled {
		return none, nil, nil, fault.New(fault.Disabled, "The user %s is disabled.", u.Name)
	}
	if u.AccessMode == "console" {
		return none, nil, nil, fault.New(fault.ConsoleOnly, "This user only supports console access, not programmatic access.")
	}
	at := h.now().UTC()
	return tokens.Claims{
		Kind:       tokens.KindUser,
		UserID:     u.ID,
		UserName:   u.Name,
		DomainID:   u.DomainID,
		Methods:    []string{"password", "totp"},
		Roles:      rolesOf(u),
		Restricted: h.mustChangePassword(u),
		MFAAuthnAt: &at,
	}, u, d, nil
}

// challengeResponse is the 401 of the password step under sms/email login
// protection: the Keystone envelope (IAM.1061) with the receipt, as Keystone
// and keystoneauth have it, and the header.
func (h *Handlers) challengeResponse(ch *challenge) gen.KeystoneCreateUserToken401JSONResponse {
	c := ch.c
	msg := "Login protection requires the totp method: a verification code was sent by " + c.Method + " to " + c.Recipient +
		". Repeat the request with the Openstack-Auth-Receipt header and the code as the totp passcode."
	status, code, _ := envelope.Map(envelope.Keystone, fault.New(fault.TOTPInvalid, "%s", msg))
	required := [][]string{{"password", "totp"}}
	var body gen.KeystoneError
	body.Error.Code = status
	body.Error.Title = http.StatusText(status)
	body.Error.Message, body.Error.ErrorMsg = msg, msg
	body.Error.ErrorCode = code
	body.Error.Receipt = &gen.KeystoneReceiptSummary{
		Methods: []string{"password"}, ExpiresAt: wireTime(c.ExpiresAt), RequiredAuthMethods: required,
	}
	body.Receipt = &gen.KeystoneAuthReceipt{
		Methods: []string{"password"}, ExpiresAt: wireTime(c.ExpiresAt), IssuedAt: wireTime(c.IssuedAt),
		User: gen.KeystoneTokenUserRef{Id: ch.user.ID, Name: ch.user.Name,
			Domain: gen.KeystoneDomainRef{Id: ch.dom.ID, Name: ch.dom.Name}},
	}
	body.RequiredAuthMethods = &required
	receipt := c.Receipt
	return gen.KeystoneCreateUserToken401JSONResponse{KeystoneAuthReceipt401JSONResponse: gen.KeystoneAuthReceipt401JSONResponse{
		Body:    body,
		Headers: gen.KeystoneAuthReceipt401ResponseHeaders{OpenstackAuthReceipt: &receipt},
	}}
}
