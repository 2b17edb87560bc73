package accounts

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/store"
)

// Lockout guards credential checks with the domain's login policy (package
// lockout: *lockout.Guard). Without one nothing is ever locked.
type Lockout interface {
	Verify(ctx context.Context, domainID, userID string, kind lockout.Kind, check func(context.Context) (bool, error)) (lockout.Outcome, error)
}

// Auditor records audit events (package audit: *audit.Log).
type Auditor interface {
	Record(ctx context.Context, ev audit.Event) error
}

// WithLockout makes every account-password check (Authenticate,
// ChangePassword) count toward the lockout, as kind "password".
func WithLockout(l Lockout) Option { return func(s *Service) { s.lock = l } }

// WithAudit records password changes and resets and login-protection
// changes.
func WithAudit(a Auditor) Option { return func(s *Service) { s.audit = a } }

// checkPassword verifies password against u's current hash under the
// lockout of u's account password. A locked account is refused with
// fault.Locked before any hashing; a mismatch is wrong() with the attempts
// remaining (CIAM shows them). rehash reports outdated hash parameters.
func (s *Service) checkPassword(ctx context.Context, u *store.User, password string, wrong func() *fault.Error) (rehash bool, err error) {
	check := func(ctx context.Context) (bool, error) {
		ok, rh, err := s.hasher.Verify(ctx, password, u.PasswordHash)
		rehash = rh
		return ok, err
	}
	var out lockout.Outcome
	if s.lock == nil {
		ok, cerr := check(ctx)
		out, err = lockout.Outcome{OK: ok, Remaining: -1}, cerr
	} else {
		out, err = s.lock.Verify(ctx, u.DomainID, u.ID, lockout.KindPassword, check)
	}
	if err != nil {
		if fault.As(err) != nil { // locked, or hashing overloaded
			return false, err
		}
		s.log.ErrorContext(ctx, "password check failed", "user_id", u.ID, "err", err)
		return false, fmt.Errorf("check password of user %s: %w", u.ID, err)
	}
	if !out.OK {
		e := wrong()
		e.Remaining = out.Remaining
		return false, e
	}
	return rehash, nil
}

// record writes an audit event; failures are logged by the recorder and do
// not undo the committed change.
func (s *Service) record(ctx context.Context, ev audit.Event) {
	if s.audit != nil {
		_ = s.audit.Record(ctx, ev)
	}
}

// recordPassword records a password change (the user's own) or reset (by an
// administrator or CIAM client). httpsCleared: the reset also cleared the
// user's separate HTTPS Git password (clearHTTPSPassword) — recorded as a
// fact of the reset, since it is part of the same change.
func (s *Service) recordPassword(ctx context.Context, domainID, userID string, reset, mustChange, httpsCleared bool) {
	typ := audit.PasswordChanged
	if reset {
		typ = audit.PasswordReset
	}
	detail := map[string]string{"must_change": strconv.FormatBool(mustChange)}
	if httpsCleared {
		detail["https_password_cleared"] = "true"
	}
	s.record(ctx, audit.Event{Type: typ, DomainID: domainID, TargetID: userID, Detail: detail})
}

// recordLoginProtect records a stored login-protection setting.
func (s *Service) recordLoginProtect(ctx context.Context, lp *store.LoginProtect) {
	s.record(ctx, audit.Event{Type: audit.LoginProtectChanged, DomainID: lp.DomainID, TargetID: lp.UserID,
		Detail: map[string]string{"enabled": strconv.FormatBool(lp.Enabled), "verification_method": lp.VerificationMethod}})
}

// WithAccountValidity sets where Authenticate reads the login policy's
// account_validity_period of a domain (0 = off). A user whose last sign of
// life (login, password change, creation, administrative update) is older
// than that is disabled at its next login: Authenticate stores enabled=false
// and answers fault.Disabled. An administrator re-enabling the user updates
// it, which starts the period again.
func WithAccountValidity(f func(ctx context.Context, domainID string) (time.Duration, error)) Option {
	return func(s *Service) { s.validity = f }
}

// dormant disables u when it has been unused for longer than its domain's
// account validity period (see WithAccountValidity).
func (s *Service) dormant(ctx context.Context, u *store.User) error {
	if s.validity == nil {
		return nil
	}
	v, err := s.validity(ctx, u.DomainID)
	if err != nil {
		return fmt.Errorf("read account validity of domain %s: %w", u.DomainID, err)
	}
	if v <= 0 {
		return nil
	}
	last := u.CreatedAt
	for _, t := range []*time.Time{&u.UpdatedAt, u.LastLoginAt, u.PasswordChangedAt} {
		if t != nil && t.After(last) {
			last = *t
		}
	}
	if s.now().Sub(last) <= v {
		return nil
	}
	// UpdateColumn: updated_at stays, so the user stays dormant until an
	// administrator acts on it.
	if err := s.db.WithContext(ctx).Model(&store.User{}).Where("id = ?", u.ID).UpdateColumn("enabled", false).Error; err != nil {
		return fmt.Errorf("disable dormant user %s: %w", u.ID, err)
	}
	s.log.InfoContext(ctx, "dormant user disabled", "user_id", u.ID, "last_active", last)
	if err := s.revoke(ctx, u.ID); err != nil {
		return err
	}
	return fault.New(fault.Disabled, "The user %s is disabled: it was not used for %d days.", u.Name, int(v/(24*time.Hour)))
}
