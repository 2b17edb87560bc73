package api

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/envelope"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/policies"
)

// Security policies of a domain (apis.md §3.3, §3.4): any user of the domain
// reads them, an admin of the domain changes them; another domain's id is
// answered as if it did not exist.

// policyCaller returns the caller if domainID is its own domain (else 404),
// and, when write is set, only if it administers it (else 403).
func policyCaller(ctx context.Context, domainID string, write bool) (*authn.Principal, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if p.DomainID != domainID {
		return nil, fault.New(fault.NotFound, "Could not find domain: %s.", printable(domainID))
	}
	if write {
		if err := requireAdmin(p, domainID); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func passwordPolicyWire(p passwords.Policy) gen.IamPasswordPolicy {
	maxLen := p.MaxLength
	if maxLen <= 0 {
		maxLen = passwords.MaxPasswordLength
	}
	return gen.IamPasswordPolicy{
		MinimumPasswordLength:             p.MinLength,
		MaximumPasswordLength:             maxLen,
		PasswordCharCombination:           p.CharCombination,
		NumberOfRecentPasswordsDisallowed: p.RecentDisallowed,
		MaximumConsecutiveIdenticalChars:  p.MaxConsecutiveIdentical,
		MinimumPasswordAge:                int(p.MinAge / time.Minute),
		PasswordValidityPeriod:            int(p.ValidityPeriod / (24 * time.Hour)),
		PasswordNotUsernameOrInvert:       p.NotUsernameOrInvert,
		PasswordRequirements:              p.Requirements(),
		WeakPasswordCheck:                 ptr(p.CheckWeak),
		PersonalInfoCheck:                 ptr(p.CheckPersonalInfo),
	}
}

func loginPolicyWire(p policies.LoginPolicy) gen.IamLoginPolicy {
	return gen.IamLoginPolicy{
		LoginFailedTimes:        p.FailedTimes,
		PeriodWithLoginFailures: int(p.Period / time.Minute),
		LockoutDuration:         int(p.LockoutDuration / time.Minute),
		AccountValidityPeriod:   int(p.AccountValidity / (24 * time.Hour)),
		SessionTimeout:          int(p.SessionTimeout / time.Minute),
		ShowRecentLoginInfo:     p.ShowRecentLoginInfo,
		CustomInfoForLogin:      p.CustomInfoForLogin,
	}
}

// ShowDomainPasswordPolicy returns the domain's password policy.
func (h *Handlers) ShowDomainPasswordPolicy(ctx context.Context, req gen.ShowDomainPasswordPolicyRequestObject) (gen.ShowDomainPasswordPolicyResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := policyCaller(ctx, req.DomainId, false); err != nil {
		return nil, err
	}
	p, err := h.Policies.Password(ctx, req.DomainId)
	if err != nil {
		return nil, err
	}
	return gen.ShowDomainPasswordPolicy200JSONResponse{PasswordPolicy: passwordPolicyWire(p)}, nil
}

// UpdateDomainPasswordPolicy changes the given fields of the password policy.
func (h *Handlers) UpdateDomainPasswordPolicy(ctx context.Context, req gen.UpdateDomainPasswordPolicyRequestObject) (gen.UpdateDomainPasswordPolicyResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := policyCaller(ctx, req.DomainId, true); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body.PasswordPolicy
	p, err := h.Policies.UpdatePassword(ctx, req.DomainId, policies.PasswordChange{
		MinimumPasswordLength:             in.MinimumPasswordLength,
		PasswordCharCombination:           in.PasswordCharCombination,
		NumberOfRecentPasswordsDisallowed: in.NumberOfRecentPasswordsDisallowed,
		MaximumConsecutiveIdenticalChars:  in.MaximumConsecutiveIdenticalChars,
		MinimumPasswordAge:                in.MinimumPasswordAge,
		PasswordValidityPeriod:            in.PasswordValidityPeriod,
		PasswordNotUsernameOrInvert:       in.PasswordNotUsernameOrInvert,
		WeakPasswordCheck:                 in.WeakPasswordCheck,
		PersonalInfoCheck:                 in.PersonalInfoCheck,
	})
	if err != nil {
		return nil, err
	}
	return gen.UpdateDomainPasswordPolicy200JSONResponse{PasswordPolicy: passwordPolicyWire(p)}, nil
}

// ShowDomainLoginPolicy returns the domain's login (lockout) policy.
func (h *Handlers) ShowDomainLoginPolicy(ctx context.Context, req gen.ShowDomainLoginPolicyRequestObject) (gen.ShowDomainLoginPolicyResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := policyCaller(ctx, req.DomainId, false); err != nil {
		return nil, err
	}
	p, err := h.Policies.Login(ctx, req.DomainId)
	if err != nil {
		return nil, err
	}
	return gen.ShowDomainLoginPolicy200JSONResponse{LoginPolicy: loginPolicyWire(p)}, nil
}

// UpdateDomainLoginPolicy changes the given fields of the login policy.
func (h *Handlers) UpdateDomainLoginPolicy(ctx context.Context, req gen.UpdateDomainLoginPolicyRequestObject) (gen.UpdateDomainLoginPolicyResponseObject, error) {
	ctx = reqCtx(ctx)
	if _, err := policyCaller(ctx, req.DomainId, true); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body.LoginPolicy
	p, err := h.Policies.UpdateLogin(ctx, req.DomainId, policies.LoginChange{
		LoginFailedTimes:        in.LoginFailedTimes,
		PeriodWithLoginFailures: in.PeriodWithLoginFailures,
		LockoutDuration:         in.LockoutDuration,
		AccountValidityPeriod:   in.AccountValidityPeriod,
		SessionTimeout:          in.SessionTimeout,
		ShowRecentLoginInfo:     in.ShowRecentLoginInfo,
		CustomInfoForLogin:      in.CustomInfoForLogin,
	})
	if err != nil {
		return nil, err
	}
	return gen.UpdateDomainLoginPolicy200JSONResponse{LoginPolicy: loginPolicyWire(p)}, nil
}

// EvaluateDomainPasswordPolicy reports every rule a candidate password would
// break for a user, with the code each family would answer (a latchkey
// extension; nothing is stored and nothing is hashed).
func (h *Handlers) EvaluateDomainPasswordPolicy(ctx context.Context, req gen.EvaluateDomainPasswordPolicyRequestObject) (gen.EvaluateDomainPasswordPolicyResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := policyCaller(ctx, req.DomainId, false)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body.Candidate
	userID := p.UserID
	if in.UserId != nil && *in.UserId != "" {
		userID = *in.UserId
	}
	self := userID == p.UserID
	// Another user's password is an admin's business, and not for a token
	// that must change its own password first.
	if !self && (!p.IsAdmin() || p.Restricted) {
		return nil, forbidden()
	}
	ev, err := h.Accounts.EvaluatePassword(ctx, req.DomainId, userID, in.Password, !self)
	if err != nil {
		return nil, err
	}
	out := gen.IamPasswordEvaluation{
		UserId:       userID,
		Valid:        len(ev.Violations) == 0,
		Violations:   make([]gen.IamPasswordViolation, 0, len(ev.Violations)),
		NotEvaluated: make([]gen.IamPasswordRule, 0, len(ev.NotEvaluated)),
	}
	for _, v := range ev.Violations {
		e := v.Err()
		wv := gen.IamPasswordViolation{Rule: gen.IamPasswordRule(v.Rule), Message: v.Message, Params: v.Params}
		if wv.Params == nil {
			wv.Params = []string{}
		}
		_, wv.Codes.Keystone, _ = envelope.Map(envelope.Keystone, e)
		_, wv.Codes.Iam, _ = envelope.Map(envelope.IAM, e)
		_, wv.Codes.Ciam, wv.CiamMessage = envelope.Map(envelope.CIAM, e)
		out.Violations = append(out.Violations, wv)
	}
	for _, r := range ev.NotEvaluated {
		out.NotEvaluated = append(out.NotEvaluated, gen.IamPasswordRule(r))
	}
	return gen.EvaluateDomainPasswordPolicy200JSONResponse{Evaluation: out, PasswordPolicy: passwordPolicyWire(ev.Policy)}, nil
}
