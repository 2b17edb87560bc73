// Package policies stores the security policies of each domain: the
// password policy (apis.md §3.3) and the login (lockout) policy (§3.4).
//
// A domain that never changed a policy has no row and reads the defaults;
// the first update writes the row. Reads go to the database every time, with
// no cache: every password operation reads the password policy (it already
// costs an argon2 hash, next to which a primary-key read is noise), and so a
// change applies at once on every instance.
package policies

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
)

// Auditor records audit events (package audit); nil records nothing.
type Auditor interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Service reads and changes the policies. It is safe for concurrent use.
type Service struct {
	db    *store.DB
	log   *slog.Logger
	clock func() time.Time
	audit Auditor
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.clock = now } }

// WithAudit records policy changes.
func WithAudit(a Auditor) Option { return func(s *Service) { s.audit = a } }

// New returns a Service.
func New(db *store.DB, log *slog.Logger, opts ...Option) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, log: log, clock: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

func (s *Service) record(ctx context.Context, ev audit.Event) {
	if s.audit != nil {
		_ = s.audit.Record(ctx, ev) // best effort; the recorder logs its failures
	}
}

// invalid is the IAM.0073 error: the vendor's template naming the key and
// the value, followed by the rule.
func invalid(key string, value any, rule string) error {
	return fault.New(fault.PropertyInvalid, "Invalid input for field '%s'. The value is '%v'. %s", key, value, rule)
}

func checkRange(key string, v *int, lo, hi int) error {
	if v != nil && (*v < lo || *v > hi) {
		return invalid(key, *v, fmt.Sprintf("It must be between %d and %d.", lo, hi))
	}
	return nil
}

// changes collects "field": "old -> new" for the audit record.
type changes map[string]string

func (c changes) int(key string, old int, v *int) int {
	if v == nil {
		return old
	}
	if *v != old {
		c[key] = strconv.Itoa(old) + " -> " + strconv.Itoa(*v)
	}
	return *v
}

func (c changes) bool(key string, old bool, v *bool) bool {
	if v == nil {
		return old
	}
	if *v != old {
		c[key] = strconv.FormatBool(old) + " -> " + strconv.FormatBool(*v)
	}
	return *v
}

func (c changes) str(key, old string, v *string) string {
	if v == nil {
		return old
	}
	if *v != old {
		c[key] = strconv.Quote(old) + " -> " + strconv.Quote(*v)
	}
	return *v
}

// lockRow makes sure the policy row of domainID exists (with def's values)
// and reads it under a row lock, so concurrent partial updates of different
// fields do not overwrite each other. (SQLite transactions are immediate, so
// they serialize anyway.)
func lockRow[T any](tx *gorm.DB, domainID string, def *T, out *T) error {
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(def).Error; err != nil {
		return fmt.Errorf("create policy row: %w", err)
	}
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("domain_id = ?", domainID).Take(out).Error; err != nil {
		return fmt.Errorf("read policy row: %w", err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Password policy

// PasswordChange lists the fields of an update; nil keeps a field. Ages and
// periods are in the wire units (minutes, days).
type PasswordChange struct {
	MinimumPasswordLength             *int
	PasswordCharCombination           *int
	NumberOfRecentPasswordsDisallowed *int
	MaximumConsecutiveIdenticalChars  *int
	MinimumPasswordAge                *int // minutes
	PasswordValidityPeriod            *int // days
	PasswordNotUsernameOrInvert       *bool
	WeakPasswordCheck                 *bool
	PersonalInfoCheck                 *bool
}

// validate checks each given field against its range (apis.md §3.3); the
// error names the wire key and the value.
func (c PasswordChange) validate() error {
	const p = "password_policy."
	for _, err := range []error{
		checkRange(p+"minimum_password_length", c.MinimumPasswordLength, 8, 32),
		checkRange(p+"password_char_combination", c.PasswordCharCombination, 2, 4),
		checkRange(p+"number_of_recent_passwords_disallowed", c.NumberOfRecentPasswordsDisallowed, 0, 24),
		checkRange(p+"maximum_consecutive_identical_chars", c.MaximumConsecutiveIdenticalChars, 0, 32),
		checkRange(p+"minimum_password_age", c.MinimumPasswordAge, 0, 1440),
		checkRange(p+"password_validity_period", c.PasswordValidityPeriod, 0, 180),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func defaultPasswordRow(domainID string) store.PasswordPolicy {
	return passwordRow(domainID, passwords.DefaultPolicy())
}

func passwordRow(domainID string, p passwords.Policy) store.PasswordPolicy {
	return store.PasswordPolicy{
		DomainID:                          domainID,
		MinimumPasswordLength:             p.MinLength,
		PasswordCharCombination:           p.CharCombination,
		NumberOfRecentPasswordsDisallowed: p.RecentDisallowed,
		MaximumConsecutiveIdenticalChars:  p.MaxConsecutiveIdentical,
		MinimumPasswordAge:                int(p.MinAge / time.Minute),
		PasswordValidityPeriod:            int(p.ValidityPeriod / (24 * time.Hour)),
		PasswordNotUsernameOrInvert:       p.NotUsernameOrInvert,
		WeakPasswordCheck:                 p.CheckWeak,
		PersonalInfoCheck:                 p.CheckPersonalInfo,
	}
}

func passwordPolicyOf(r *store.PasswordPolicy) passwords.Policy {
	return passwords.Policy{
		MinLength:               r.MinimumPasswordLength,
		MaxLength:               passwords.MaxPasswordLength,
		CharCombination:         r.PasswordCharCombination,
		RecentDisallowed:        r.NumberOfRecentPasswordsDisallowed,
		MaxConsecutiveIdentical: r.MaximumConsecutiveIdenticalChars,
		MinAge:                  time.Duration(r.MinimumPasswordAge) * time.Minute,
		ValidityPeriod:          time.Duration(r.PasswordValidityPeriod) * 24 * time.Hour,
		NotUsernameOrInvert:     r.PasswordNotUsernameOrInvert,
		CheckWeak:               r.WeakPasswordCheck,
		CheckPersonalInfo:       r.PersonalInfoCheck,
	}
}

// Password returns the password policy of domainID: the stored one, or
// passwords.DefaultPolicy when the domain never changed it. Its signature
// fits accounts.WithPolicySource.
func (s *Service) Password(ctx context.Context, domainID string) (passwords.Policy, error) {
	var r store.PasswordPolicy
	err := s.db.WithContext(ctx).Where("domain_id = ?", domainID).Limit(1).Find(&r).Error
	if err != nil {
		return passwords.Policy{}, fmt.Errorf("read password policy of domain %s: %w", domainID, err)
	}
	if r.DomainID == "" {
		return passwords.DefaultPolicy(), nil
	}
	return passwordPolicyOf(&r), nil
}

// UpdatePassword changes the given fields of domainID's password policy and
// returns the whole policy. A value out of range is fault.PropertyInvalid
// naming the key and the value. A new password_validity_period moves the
// password_expires_at of every user of the domain who has a password
// (counted from when it was set), in the same transaction.
func (s *Service) UpdatePassword(ctx context.Context, domainID string, c PasswordChange) (passwords.Policy, error) {
	if err := c.validate(); err != nil {
		return passwords.Policy{}, err
	}
	now := s.now()
	diff := changes{}
	var out passwords.Policy
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		def := defaultPasswordRow(domainID)
		def.UpdatedAt = now
		var r store.PasswordPolicy
		if err := lockRow(tx, domainID, &def, &r); err != nil {
			return err
		}
		oldValidity := r.PasswordValidityPeriod
		r.MinimumPasswordLength = diff.int("minimum_password_length", r.MinimumPasswordLength, c.MinimumPasswordLength)
		r.PasswordCharCombination = diff.int("password_char_combination", r.PasswordCharCombination, c.PasswordCharCombination)
		r.NumberOfRecentPasswordsDisallowed = diff.int("number_of_recent_passwords_disallowed", r.NumberOfRecentPasswordsDisallowed, c.NumberOfRecentPasswordsDisallowed)
		r.MaximumConsecutiveIdenticalChars = diff.int("maximum_consecutive_identical_chars", r.MaximumConsecutiveIdenticalChars, c.MaximumConsecutiveIdenticalChars)
		r.MinimumPasswordAge = diff.int("minimum_password_age", r.MinimumPasswordAge, c.MinimumPasswordAge)
		r.PasswordValidityPeriod = diff.int("password_validity_period", r.PasswordValidityPeriod, c.PasswordValidityPeriod)
		r.PasswordNotUsernameOrInvert = diff.bool("password_not_username_or_invert", r.PasswordNotUsernameOrInvert, c.PasswordNotUsernameOrInvert)
		r.WeakPasswordCheck = diff.bool("weak_password_check", r.WeakPasswordCheck, c.WeakPasswordCheck)
		r.PersonalInfoCheck = diff.bool("personal_info_check", r.PersonalInfoCheck, c.PersonalInfoCheck)
		out = passwordPolicyOf(&r)
		if err := out.Validate(); err != nil { // the whole policy, as the engine sees it
			return err
		}
		if len(diff) == 0 {
			return nil
		}
		r.UpdatedAt = now
		if err := tx.Save(&r).Error; err != nil {
			return fmt.Errorf("store password policy: %w", err)
		}
		if r.PasswordValidityPeriod != oldValidity {
			return s.moveExpiry(tx, domainID, out.ValidityPeriod)
		}
		return nil
	})
	if err != nil {
		if fault.As(err) != nil {
			return passwords.Policy{}, err
		}
		return passwords.Policy{}, fmt.Errorf("update password policy of domain %s: %w", domainID, err)
	}
	if len(diff) > 0 {
		s.log.InfoContext(ctx, "password policy changed", "domain_id", domainID, "fields", len(diff))
		s.record(ctx, audit.Event{Type: audit.PasswordPolicyChanged, DomainID: domainID, TargetID: domainID, Detail: diff})
	}
	return out, nil
}

// moveExpiry sets password_expires_at = password_changed_at + validity for
// every user of the domain with a password (NULL when validity is 0). It does
// not touch updated_at: the users did not change. PostgreSQL does it in one
// statement; SQLite stores times as text, so there the rows are updated one
// by one inside the transaction (a local file: fast enough for a rare admin
// action).
func (s *Service) moveExpiry(tx *gorm.DB, domainID string, validity time.Duration) error {
	q := tx.Model(&store.User{}).Where("domain_id = ? AND password_hash <> '' AND password_changed_at IS NOT NULL", domainID)
	if validity <= 0 {
		if err := q.UpdateColumn("password_expires_at", nil).Error; err != nil {
			return fmt.Errorf("clear password expiry: %w", err)
		}
		return nil
	}
	if s.db.Dialect == "postgres" {
		expr := gorm.Expr("password_changed_at + make_interval(secs => ?)", validity.Seconds())
		if err := q.UpdateColumn("password_expires_at", expr).Error; err != nil {
			return fmt.Errorf("move password expiry: %w", err)
		}
		return nil
	}
	type row struct {
		ID                string
		PasswordChangedAt time.Time
	}
	var rows []row
	if err := q.Select("id", "password_changed_at").Find(&rows).Error; err != nil {
		return fmt.Errorf("read password change times: %w", err)
	}
	for _, r := range rows {
		exp := r.PasswordChangedAt.Add(validity).UTC()
		if err := tx.Model(&store.User{}).Where("id = ?", r.ID).UpdateColumn("password_expires_at", exp).Error; err != nil {
			return fmt.Errorf("move password expiry: %w", err)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Login policy

// LoginPolicy is the login (lockout) policy of a domain (apis.md §3.4).
type LoginPolicy struct {
	FailedTimes         int           // 3..10, default 5: failures that lock
	Period              time.Duration // 15..60 min, default 15: window the failures are counted in
	LockoutDuration     time.Duration // 15..30 min, default 15: how long a lock lasts
	AccountValidity     time.Duration // 0..240 days, default 0 = off: unused this long -> disabled
	SessionTimeout      time.Duration // 15..1440 min, default 60: console only, stored and returned
	ShowRecentLoginInfo bool          // console only, stored and returned
	CustomInfoForLogin  string        // at most 64 characters, none of @#%&<>\$^*
}

// DefaultLoginPolicy is the login policy of a new domain.
func DefaultLoginPolicy() LoginPolicy {
	return LoginPolicy{
		FailedTimes:     5,
		Period:          15 * time.Minute,
		LockoutDuration: 15 * time.Minute,
		SessionTimeout:  60 * time.Minute,
	}
}

// customInfoForbidden are the characters custom_info_for_login may not hold
// (the v5 rule).
const customInfoForbidden = `@#%&<>\$^*`

// LoginChange lists the fields of an update; nil keeps a field. Periods are
// in the wire units (minutes, days).
type LoginChange struct {
	LoginFailedTimes        *int
	PeriodWithLoginFailures *int // minutes
	LockoutDuration         *int // minutes
	AccountValidityPeriod   *int // days
	SessionTimeout          *int // minutes
	ShowRecentLoginInfo     *bool
	CustomInfoForLogin      *string
}

func (c LoginChange) validate() error {
	const p = "login_policy."
	for _, err := range []error{
		checkRange(p+"login_failed_times", c.LoginFailedTimes, 3, 10),
		checkRange(p+"period_with_login_failures", c.PeriodWithLoginFailures, 15, 60),
		checkRange(p+"lockout_duration", c.LockoutDuration, 15, 30),
		checkRange(p+"account_validity_period", c.AccountValidityPeriod, 0, 240),
		checkRange(p+"session_timeout", c.SessionTimeout, 15, 1440),
	} {
		if err != nil {
			return err
		}
	}
	if c.CustomInfoForLogin != nil {
		v := *c.CustomInfoForLogin
		shown := v
		if r := []rune(v); len(r) > 64 {
			shown = string(r[:64]) + "..."
		}
		if n := len([]rune(v)); n > 64 {
			return invalid(p+"custom_info_for_login", shown, "It must be at most 64 characters long.")
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return invalid(p+"custom_info_for_login", "(control characters)", "It must not contain control characters.")
			}
			for _, f := range customInfoForbidden {
				if r == f {
					return invalid(p+"custom_info_for_login", shown, "It must not contain any of @ # % & < > \\ $ ^ *.")
				}
			}
		}
	}
	return nil
}

// Validate checks the ranges of apis.md §3.4 (fault.PropertyInvalid).
func (p LoginPolicy) Validate() error {
	mins := func(d time.Duration) *int { v := int(d / time.Minute); return &v }
	days := func(d time.Duration) *int { v := int(d / (24 * time.Hour)); return &v }
	return LoginChange{
		LoginFailedTimes:        &p.FailedTimes,
		PeriodWithLoginFailures: mins(p.Period),
		LockoutDuration:         mins(p.LockoutDuration),
		AccountValidityPeriod:   days(p.AccountValidity),
		SessionTimeout:          mins(p.SessionTimeout),
		CustomInfoForLogin:      &p.CustomInfoForLogin,
	}.validate()
}

func loginRow(domainID string, p LoginPolicy) store.LoginPolicy {
	return store.LoginPolicy{
		DomainID:                domainID,
		LoginFailedTimes:        p.FailedTimes,
		PeriodWithLoginFailures: int(p.Period / time.Minute),
		LockoutDuration:         int(p.LockoutDuration / time.Minute),
		AccountValidityPeriod:   int(p.AccountValidity / (24 * time.Hour)),
		SessionTimeout:          int(p.SessionTimeout / time.Minute),
		ShowRecentLoginInfo:     p.ShowRecentLoginInfo,
		CustomInfoForLogin:      p.CustomInfoForLogin,
	}
}

func loginPolicyOf(r *store.LoginPolicy) LoginPolicy {
	return LoginPolicy{
		FailedTimes:         r.LoginFailedTimes,
		Period:              time.Duration(r.PeriodWithLoginFailures) * time.Minute,
		LockoutDuration:     time.Duration(r.LockoutDuration) * time.Minute,
		AccountValidity:     time.Duration(r.AccountValidityPeriod) * 24 * time.Hour,
		SessionTimeout:      time.Duration(r.SessionTimeout) * time.Minute,
		ShowRecentLoginInfo: r.ShowRecentLoginInfo,
		CustomInfoForLogin:  r.CustomInfoForLogin,
	}
}

// Login returns the login policy of domainID: the stored one, or
// DefaultLoginPolicy when the domain never changed it.
func (s *Service) Login(ctx context.Context, domainID string) (LoginPolicy, error) {
	var r store.LoginPolicy
	err := s.db.WithContext(ctx).Where("domain_id = ?", domainID).Limit(1).Find(&r).Error
	if err != nil {
		return LoginPolicy{}, fmt.Errorf("read login policy of domain %s: %w", domainID, err)
	}
	if r.DomainID == "" {
		return DefaultLoginPolicy(), nil
	}
	return loginPolicyOf(&r), nil
}

// UpdateLogin changes the given fields of domainID's login policy and
// returns the whole policy. Locks already set keep their end; the new limits
// apply to verifications from now on.
func (s *Service) UpdateLogin(ctx context.Context, domainID string, c LoginChange) (LoginPolicy, error) {
	if err := c.validate(); err != nil {
		return LoginPolicy{}, err
	}
	now := s.now()
	diff := changes{}
	var out LoginPolicy
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		def := loginRow(domainID, DefaultLoginPolicy())
		def.UpdatedAt = now
		var r store.LoginPolicy
		if err := lockRow(tx, domainID, &def, &r); err != nil {
			return err
		}
		r.LoginFailedTimes = diff.int("login_failed_times", r.LoginFailedTimes, c.LoginFailedTimes)
		r.PeriodWithLoginFailures = diff.int("period_with_login_failures", r.PeriodWithLoginFailures, c.PeriodWithLoginFailures)
		r.LockoutDuration = diff.int("lockout_duration", r.LockoutDuration, c.LockoutDuration)
		r.AccountValidityPeriod = diff.int("account_validity_period", r.AccountValidityPeriod, c.AccountValidityPeriod)
		r.SessionTimeout = diff.int("session_timeout", r.SessionTimeout, c.SessionTimeout)
		r.ShowRecentLoginInfo = diff.bool("show_recent_login_info", r.ShowRecentLoginInfo, c.ShowRecentLoginInfo)
		r.CustomInfoForLogin = diff.str("custom_info_for_login", r.CustomInfoForLogin, c.CustomInfoForLogin)
		out = loginPolicyOf(&r)
		if err := out.Validate(); err != nil {
			return err
		}
		if len(diff) == 0 {
			return nil
		}
		r.UpdatedAt = now
		if err := tx.Save(&r).Error; err != nil {
			return fmt.Errorf("store login policy: %w", err)
		}
		return nil
	})
	if err != nil {
		if fault.As(err) != nil {
			return LoginPolicy{}, err
		}
		return LoginPolicy{}, fmt.Errorf("update login policy of domain %s: %w", domainID, err)
	}
	if len(diff) > 0 {
		s.log.InfoContext(ctx, "login policy changed", "domain_id", domainID, "fields", len(diff))
		s.record(ctx, audit.Event{Type: audit.LoginPolicyChanged, DomainID: domainID, TargetID: domainID, Detail: diff})
	}
	return out, nil
}

// AccountValidity returns the login policy's account_validity_period of
// domainID (0: off). Its signature fits accounts.WithAccountValidity.
func (s *Service) AccountValidity(ctx context.Context, domainID string) (time.Duration, error) {
	lp, err := s.Login(ctx, domainID)
	if err != nil {
		return 0, err
	}
	return lp.AccountValidity, nil
}
