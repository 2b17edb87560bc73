// Package gitcreds holds the CodeArts Repo HTTPS Git credentials of users:
// the authentication mode (https_clone_iam_auth), the separate HTTPS
// password, and the check of an HTTPS Git password (validate-https-info).
// It knows nothing of HTTP; rows live in store.HTTPSCredential, one per user
// who ever changed anything (no row = the defaults).
//
// Rules (DESIGN §3, apis.md §4):
//   - Mode true (the default) means HTTPS Git authenticates with the account
//     password; false means with the separate HTTPS password. Switching the
//     mode never deletes a stored HTTPS password, and setting the HTTPS
//     password never switches the mode.
//   - Setting the HTTPS password re-authenticates with the current account
//     password first (wrong: fault.WrongPassword), then checks the fixed
//     format of passwords.HTTPSPolicy with the user as subject (8-32
//     characters, 3 of 4 character types, not the user name or its reverse:
//     fault.PasswordPolicy). Only an argon2id hash is stored.
//   - Validate in mode true checks only the 8-32 length bound, then the
//     account password; in mode false the full HTTPS format, then the HTTPS
//     password (none set: wrong password).
//
// Administrator resets. An HTTPS Git credential must never be one the user
// did not choose, silently:
//   - While the account password must be changed (pwd_status true, i.e. an
//     administrator set it and asked for a change, or it has expired), it does
//     not work for HTTPS Git: account-mode validation answers wrong password
//     even when it matches. Once the user changes it, it works again.
//   - An administrator reset of the account password (IAM/Keystone user
//     update with a password, CIAM change-password) clears the separate HTTPS
//     password in the same transaction (package accounts does it, so the
//     dependency stays gitcreds -> accounts). The mode is kept: a user in mode
//     false fails HTTPS Git until they set a new HTTPS password. A user's own
//     change of the account password keeps the HTTPS password.
//   - A disabled user's credentials never pass.
//
// With WithAudit, setting the HTTPS password (https_password.set, detail
// "replaced") and changing the mode (https_setting.changed, only when it
// changed) are recorded in the audit trail after their commit; the actor is
// the caller in the context, the target the user. The administrator reset's
// clearing of the HTTPS password is a fact of that reset's password.reset
// event (package accounts). No record holds a password.
package gitcreds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
)

// Service manages HTTPS Git credentials. It is safe for concurrent use.
type Service struct {
	db       *store.DB
	accounts *accounts.Service
	hasher   *passwords.Hasher
	log      *slog.Logger
	clock    func() time.Time
	guard    *lockout.Guard // nil: checks are not counted
	audit    Auditor        // nil: nothing is recorded
}

// Auditor records audit events (package audit: *audit.Log).
type Auditor interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Option configures a Service.
type Option func(*Service)

// WithLockout counts failed checks toward the login policy: HTTPS Git
// validation on its own counter (lockout.KindHTTPS), so a Git password
// guesser cannot lock out the console, and the account-password
// re-authentication of SetPassword on the account's (lockout.KindPassword).
func WithLockout(g *lockout.Guard) Option {
	return func(s *Service) { s.guard = g }
}

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.clock = now }
}

// WithAudit records HTTPS passwords set and mode changes.
func WithAudit(a Auditor) Option { return func(s *Service) { s.audit = a } }

// record writes an audit event after the change committed; failures are
// logged by the recorder and do not undo the change.
func (s *Service) record(ctx context.Context, ev audit.Event) {
	if s.audit != nil {
		_ = s.audit.Record(ctx, ev)
	}
}

// New returns a Service. hasher must be the one accounts uses (same
// parameters, same concurrency bound).
func New(db *store.DB, accts *accounts.Service, hasher *passwords.Hasher, log *slog.Logger, opts ...Option) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, accounts: accts, hasher: hasher, log: log, clock: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// Messages of the validate-https-info outcomes (seed 001); the API answers
// them verbatim.
const (
	MsgBadFormat     = "Incorrect password format."
	MsgNoSuchUser    = "User does not exist."
	MsgWrongPassword = "Invalid password."
)

func badFormat() error     { return fault.New(fault.PasswordPolicy, MsgBadFormat) }
func noSuchUser() error    { return fault.New(fault.UserNotFound, MsgNoSuchUser) }
func wrongPassword() error { return fault.New(fault.WrongPassword, MsgWrongPassword) }

// credential returns the user's row, or nil when there is none.
func (s *Service) credential(ctx context.Context, userID string) (*store.HTTPSCredential, error) {
	var c store.HTTPSCredential
	err := s.db.WithContext(ctx).Where("user_id = ?", userID).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read HTTPS credential of user %s: %w", userID, err)
	}
	return &c, nil
}

// Setting returns the user's HTTPS authentication mode: true (the default)
// = account password, false = separate HTTPS password.
func (s *Service) Setting(ctx context.Context, userID string) (bool, error) {
	c, err := s.credential(ctx, userID)
	if err != nil {
		return false, err
	}
	if c == nil {
		return true, nil
	}
	return c.UseAccountPassword, nil
}

// SetSetting stores the HTTPS authentication mode of user userID of domain
// domainID. A stored HTTPS password is kept.
func (s *Service) SetSetting(ctx context.Context, domainID, userID string, useAccountPassword bool) error {
	if _, err := s.accounts.User(ctx, domainID, userID); err != nil {
		return err
	}
	var before *store.HTTPSCredential
	err := s.write(ctx, userID, func(tx *gorm.DB, cur *store.HTTPSCredential) error {
		before = cur
		return upsert(tx, map[string]any{
			"user_id": userID, "use_account_password": useAccountPassword, "password_hash": "", "updated_at": s.now(),
		}, "use_account_password", "updated_at")
	})
	if err != nil {
		if fault.As(err) != nil {
			return err
		}
		return fmt.Errorf("store HTTPS setting of user %s: %w", userID, err)
	}
	s.log.InfoContext(ctx, "HTTPS authentication mode set", "user_id", userID, "https_clone_iam_auth", useAccountPassword)
	old := before == nil || before.UseAccountPassword // no row: the default, true
	if old != useAccountPassword {
		s.record(ctx, audit.Event{Type: audit.HTTPSSettingChanged, DomainID: domainID, TargetID: userID,
			Detail: map[string]string{"https_clone_iam_auth": strconv.FormatBool(old) + " -> " + strconv.FormatBool(useAccountPassword)}})
	}
	return nil
}

// SetPassword sets (or replaces) the separate HTTPS password of user userID
// of domain domainID. accountPassword re-authenticates the user: a wrong one
// is fault.WrongPassword, checked before the format so that nobody without
// the account password learns anything. A password that breaks the HTTPS
// format is fault.PasswordPolicy (Rule names the broken rule). The mode is
// not changed.
func (s *Service) SetPassword(ctx context.Context, domainID, userID, accountPassword, newPassword string) error {
	u, err := s.accounts.User(ctx, domainID, userID)
	if err != nil {
		return err
	}
	if err := s.verify(ctx, u, lockout.KindPassword, func(ctx context.Context) (bool, error) {
		_, err := s.accounts.VerifyPassword(ctx, u.ID, accountPassword)
		return matched(err)
	}); err != nil {
		return err
	}
	if err := passwords.HTTPSPolicy().Check(ctx, s.hasher, newPassword, passwords.Subject{UserName: u.Name}, passwords.CheckOptions{}); err != nil {
		if fe := fault.As(err); fe != nil && fe.Reason == fault.PasswordPolicy {
			out := fault.New(fault.PasswordPolicy, "Incorrect password format. %s", fe.Message)
			out.Rule, out.Params = fe.Rule, fe.Params
			return out
		}
		return err
	}
	h, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return fmt.Errorf("set HTTPS password: %w", err)
	}
	var replaced bool
	err = s.write(ctx, u.ID, func(tx *gorm.DB, cur *store.HTTPSCredential) error {
		replaced = cur != nil && cur.PasswordHash != ""
		return upsert(tx, map[string]any{
			"user_id": u.ID, "use_account_password": true, "password_hash": h, "updated_at": s.now(),
		}, "password_hash", "updated_at")
	})
	if err != nil {
		if fault.As(err) != nil {
			return err
		}
		return fmt.Errorf("store HTTPS password of user %s: %w", u.ID, err)
	}
	s.log.InfoContext(ctx, "HTTPS password set", "user_id", u.ID, "replaced", replaced)
	s.record(ctx, audit.Event{Type: audit.HTTPSPasswordSet, DomainID: u.DomainID, TargetID: u.ID,
		Detail: map[string]string{"replaced": strconv.FormatBool(replaced)}})
	return nil
}

// write runs change in a transaction that holds the user's row lock and
// passes it the user's credential row as it is (nil: none). The lock
// serializes the credential changes of one user (and the administrator
// reset, which takes the same lock before clearing the HTTPS password), so
// what change sees as "before" is exact for the audit record. A user
// deleted meanwhile is fault.UserNotFound.
func (s *Service) write(ctx context.Context, userID string, change func(tx *gorm.DB, cur *store.HTTPSCredential) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u store.User
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id").Where("id = ?", userID).Take(&u).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fault.New(fault.UserNotFound, "Could not find user: %s.", userID)
		}
		if err != nil {
			return err
		}
		var rows []store.HTTPSCredential
		if err := tx.Where("user_id = ?", userID).Limit(1).Find(&rows).Error; err != nil {
			return err
		}
		var cur *store.HTTPSCredential
		if len(rows) == 1 {
			cur = &rows[0]
		}
		return change(tx, cur)
	})
}

// upsert inserts the user's row with the values of row or, when it exists,
// updates only the columns named in update: one statement, safe against a
// concurrent first write. A map, not a struct: GORM replaces a zero field
// that has a column default (UseAccountPassword false) by the default.
func upsert(tx *gorm.DB, row map[string]any, update ...string) error {
	return tx.Model(&store.HTTPSCredential{}).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns(update),
	}).Create(row).Error
}

// Validate checks pwd as the HTTPS Git password of user userID of domain
// domainID. nil means the password is right. The three documented failures
// are faults with the seed's messages: fault.PasswordPolicy (bad format),
// fault.UserNotFound (no such user in the domain) and fault.WrongPassword;
// any other error means the check could not be made (overload, database).
func (s *Service) Validate(ctx context.Context, domainID, userID, pwd string) error {
	u, err := s.accounts.User(ctx, domainID, userID)
	if err != nil {
		if fault.Is(err, fault.UserNotFound) {
			return noSuchUser()
		}
		return err
	}
	c, err := s.credential(ctx, u.ID)
	if err != nil {
		return err
	}
	if c == nil || c.UseAccountPassword {
		return s.validateAccount(ctx, u, pwd)
	}
	return s.validateHTTPS(ctx, u, c, pwd)
}

// validateAccount: mode true, the account password.
func (s *Service) validateAccount(ctx context.Context, u *store.User, pwd string) error {
	// Only the length bound: account passwords follow the domain's policy,
	// not the HTTPS format (DESIGN §3).
	if n := utf8.RuneCountInString(pwd); n < 8 || n > passwords.MaxPasswordLength {
		return badFormat()
	}
	var cur *store.User
	if err := s.verify(ctx, u, lockout.KindHTTPS, func(ctx context.Context) (bool, error) {
		c, err := s.accounts.VerifyPassword(ctx, u.ID, pwd)
		cur = c
		return matched(err)
	}); err != nil {
		return err
	}
	// Checked after the hash, so these states cost the same time as a
	// wrong password and look the same.
	if !cur.Enabled || s.accounts.MustChangePassword(cur) {
		return wrongPassword()
	}
	return nil
}

// validateHTTPS: mode false, the separate HTTPS password.
func (s *Service) validateHTTPS(ctx context.Context, u *store.User, c *store.HTTPSCredential, pwd string) error {
	if err := passwords.HTTPSPolicy().Check(ctx, s.hasher, pwd, passwords.Subject{UserName: u.Name}, passwords.CheckOptions{}); err != nil {
		if fault.Is(err, fault.PasswordPolicy) {
			return badFormat()
		}
		return err
	}
	var rehash bool
	if err := s.verify(ctx, u, lockout.KindHTTPS, func(ctx context.Context) (bool, error) {
		if c.PasswordHash == "" {
			return false, s.hasher.DummyVerify(ctx, pwd)
		}
		ok, again, err := s.hasher.Verify(ctx, pwd, c.PasswordHash)
		if err != nil {
			if fault.As(err) != nil { // overloaded
				return false, err
			}
			s.log.ErrorContext(ctx, "stored HTTPS password hash unusable", "user_id", u.ID, "err", err)
			return false, fmt.Errorf("verify HTTPS password of user %s: %w", u.ID, err)
		}
		rehash = again
		return ok, nil
	}); err != nil {
		return err
	}
	if !u.Enabled {
		return wrongPassword()
	}
	if rehash {
		s.rehash(ctx, c, pwd)
	}
	return nil
}

// rehash stores a hash made with the current parameters, replacing only the
// hash that was verified (a password set meanwhile is never undone).
func (s *Service) rehash(ctx context.Context, c *store.HTTPSCredential, pwd string) {
	h, err := s.hasher.Hash(ctx, pwd)
	if err != nil {
		s.log.WarnContext(ctx, "rehash HTTPS password failed", "user_id", c.UserID, "err", err)
		return
	}
	err = s.db.WithContext(ctx).Model(&store.HTTPSCredential{}).
		Where("user_id = ? AND password_hash = ?", c.UserID, c.PasswordHash).
		UpdateColumn("password_hash", h).Error
	if err != nil {
		s.log.WarnContext(ctx, "store rehashed HTTPS password failed", "user_id", c.UserID, "err", err)
	}
}

// verify runs check under the lockout guard: a locked credential answers
// fault.Locked without hashing; a mismatch is counted and answered as the
// seed's "Invalid password.".
func (s *Service) verify(ctx context.Context, u *store.User, kind lockout.Kind, check func(context.Context) (bool, error)) error {
	out, err := s.guard.Verify(ctx, u.DomainID, u.ID, kind, check)
	if err != nil {
		return err
	}
	if !out.OK {
		return wrongPassword()
	}
	return nil
}

// matched turns an account-password check into the guard's (matched, err).
func matched(err error) (bool, error) {
	if fault.Is(err, fault.WrongPassword) {
		return false, nil
	}
	return err == nil, err
}
