// Package mfa is the second factor of latchkey: virtual MFA devices (TOTP,
// RFC 6238) and the one-time codes that login protection by SMS or e-mail
// sends (the Keystone auth-receipt pattern). It knows nothing of HTTP and
// does no authorization by role: handlers decide who may call.
//
// Everything that must hold across instances lives in the database:
//
//   - devices and their TOTP keys (mfa_devices, one row per user);
//   - the used TOTP time steps (mfa_used_codes): a code is accepted at most
//     once per user and time step, by one INSERT on a primary key;
//   - the SMS/e-mail codes (login_codes), hashed, with their expiry, use and
//     attempt counters changed only by single conditional UPDATEs;
//   - failed second factors count toward the domain's lockout (package
//     lockout, kind "totp"), separately from the password; the lockout
//     records each failure (and lock) in the audit trail.
//
// With WithAudit, every change of a device (created, bound, unbound — by
// the user or, as the MFA reset, by an administrator — and deleted) and
// every login code sent is recorded in the audit trail (package audit),
// after its commit. The actor is the caller in the context; no record holds
// a TOTP key, a code, a receipt or the number or address a code went to.
// A failed bind is not recorded: it proves nothing about anyone but the
// device's own user, who holds the key anyway.
//
// TOTP keys are stored as they are: a code can only be verified with the key
// itself. They are never returned after the create call and never logged.
package mfa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/notify"
	"github.com/latchkey/latchkey/impl/store"
)

// Login-protection methods (store.LoginProtect.VerificationMethod).
const (
	MethodSMS   = "sms"
	MethodEmail = "email"
	MethodVMFA  = "vmfa"
)

// Lockout guards second-factor checks with the domain's login policy
// (package lockout: *lockout.Guard).
type Lockout interface {
	Verify(ctx context.Context, domainID, userID string, kind lockout.Kind, check func(context.Context) (bool, error)) (lockout.Outcome, error)
}

// Outbox queues messages for delivery (package notify: *notify.Outbox).
type Outbox interface {
	// Enqueue writes m inside tx (so the message exists exactly when the
	// code does).
	Enqueue(tx *gorm.DB, m notify.Message) (*store.OutboxMessage, error)
	// Kick wakes the local delivery worker after a commit.
	Kick()
	// CanSend reports whether a notifier serves a channel.
	CanSend(channel string) bool
}

// Auditor records audit events (package audit: *audit.Log).
type Auditor interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Config are the limits of the SMS/e-mail one-time codes.
type Config struct {
	// Issuer labels authenticator entries (otpauth URI); default "latchkey".
	Issuer string
	// CodeTTL is how long a sent code is valid; default 5 minutes.
	CodeTTL time.Duration
	// CodeAttempts is how many wrong codes a receipt survives; default 5.
	CodeAttempts int
	// SendsPerHour limits the codes sent to one user per hour; default 5.
	SendsPerHour int
}

// Service manages devices and verifies second factors. It is safe for
// concurrent use.
type Service struct {
	db     *store.DB
	log    *slog.Logger
	cfg    Config
	clock  func() time.Time
	lock   Lockout // nil: failures are not counted
	outbox Outbox  // nil: SMS/e-mail codes cannot be sent
	audit  Auditor // nil: nothing is recorded
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.clock = now } }

// WithLockout counts failed second factors toward the lockout (kind totp).
func WithLockout(l Lockout) Option { return func(s *Service) { s.lock = l } }

// WithOutbox sets where SMS and e-mail codes are queued.
func WithOutbox(o Outbox) Option { return func(s *Service) { s.outbox = o } }

// WithAudit records device changes and sent login codes.
func WithAudit(a Auditor) Option { return func(s *Service) { s.audit = a } }

// New returns a Service.
func New(db *store.DB, log *slog.Logger, cfg Config, opts ...Option) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "latchkey"
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = 5 * time.Minute
	}
	if cfg.CodeAttempts <= 0 {
		cfg.CodeAttempts = 5
	}
	if cfg.SendsPerHour <= 0 {
		cfg.SendsPerHour = 5
	}
	s := &Service{db: db, log: log, cfg: cfg, clock: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Service) now() time.Time { return s.clock().UTC() }

// record writes an audit event after the change committed; failures are
// logged by the recorder and do not undo the change.
func (s *Service) record(ctx context.Context, ev audit.Event) {
	if s.audit != nil {
		_ = s.audit.Record(ctx, ev)
	}
}

func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

func userNotFound(id string) error {
	return fault.New(fault.UserNotFound, "Could not find user: %s.", clip(id))
}

// lockUser reads user userID of domainID and locks its row until the end of
// tx: every change of a user's second factor (device, login protection)
// takes this lock, so checks like "protection depends on this device" hold
// until commit. (SQLite transactions are serialized anyway.)
func lockUser(tx *gorm.DB, domainID, userID string) (*store.User, error) {
	var u store.User
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
		Where("id = ? AND domain_id = ?", userID, domainID).Take(&u).Error
	if isNotFound(err) {
		return nil, userNotFound(userID)
	}
	if err != nil {
		return nil, fmt.Errorf("lock user %s: %w", userID, err)
	}
	return &u, nil
}

// Protection returns the enabled login-protection method of a user ("" when
// protection is off or was never set).
func (s *Service) Protection(ctx context.Context, userID string) (string, error) {
	return protection(s.db.WithContext(ctx), userID)
}

func protection(tx *gorm.DB, userID string) (string, error) {
	var lp store.LoginProtect
	err := tx.Where("user_id = ?", userID).Limit(1).Find(&lp).Error
	if err != nil {
		return "", fmt.Errorf("read login protection of user %s: %w", userID, err)
	}
	if lp.UserID == "" || !lp.Enabled {
		return "", nil
	}
	return lp.VerificationMethod, nil
}

// clip keeps a client-supplied value short and printable for a message.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= 0x20 && r != 0x7f {
			out = append(out, r)
		}
	}
	return string(out)
}
