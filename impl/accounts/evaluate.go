package accounts

import (
	"context"

	"github.com/latchkey/latchkey/impl/passwords"
)

// Evaluation is what EvaluatePassword found.
type Evaluation struct {
	// Policy is the domain's password policy the candidate was checked
	// against.
	Policy passwords.Policy
	// Violations lists every broken rule, in the order Check reports them.
	Violations []passwords.Violation
	// NotEvaluated lists the rules that apply when the password is set but
	// were not checked here (same_as_current, history).
	NotEvaluated []passwords.Rule
}

// EvaluatePassword reports every rule candidate would break if it became the
// password of user userID of domainID now: as a self-service change, or, with
// reset, as an administrator's reset (exempt from minimum_age, like the
// reset paths). Nothing is stored.
//
// It does no hashing. same_as_current and history need the stored hashes, and
// answering them here would let whoever holds a token test guesses of the
// current or a previous password at no cost and outside the lockout; they
// are listed in NotEvaluated whenever setting the password would check them.
func (s *Service) EvaluatePassword(ctx context.Context, domainID, userID, candidate string, reset bool) (Evaluation, error) {
	u, err := s.User(ctx, domainID, userID)
	if err != nil {
		return Evaluation{}, err
	}
	pol, err := s.PolicyFor(ctx, domainID)
	if err != nil {
		return Evaluation{}, err
	}
	subj := subjectOf(u, nil)
	subj.CurrentHash = "" // no hashing: see above
	vs, err := pol.Evaluate(ctx, nil, candidate, subj, passwords.CheckOptions{Now: s.now(), AdminReset: reset})
	if err != nil {
		return Evaluation{}, err
	}
	ev := Evaluation{Policy: pol, Violations: vs, NotEvaluated: []passwords.Rule{}}
	if u.PasswordHash != "" {
		ev.NotEvaluated = append(ev.NotEvaluated, passwords.RuleSameAsCurrent)
	}
	if pol.RecentDisallowed > 0 {
		ev.NotEvaluated = append(ev.NotEvaluated, passwords.RuleHistory)
	}
	return ev, nil
}
