// Package accounts is the identity core: domains, users, roles, bootstrap,
// authentication by password, password changes and login-protection
// settings, over the shared GORM store. It knows nothing of HTTP and does no
// authorization by role: handlers decide who may call; every lookup here is
// scoped to a domain, so a user of another domain is simply "not found".
package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
)

// Roles stored in store.User.Role.
const (
	RoleOwner     = "owner"
	RoleSecuAdmin = "secu_admin"
	RoleUser      = "user"
)

// Access modes (IAM access_mode).
const (
	AccessDefault      = "default"
	AccessProgrammatic = "programmatic"
	AccessConsole      = "console"
)

// HistoryKept is how many previous password hashes are kept per user: the
// largest number_of_recent_passwords_disallowed a policy may set.
const HistoryKept = 24

// Revoker revokes every token of a user issued at or before at.
type Revoker interface {
	RevokeUser(ctx context.Context, userID string, at time.Time) error
}

// Service is the identity core. It is safe for concurrent use.
type Service struct {
	db     *store.DB
	hasher *passwords.Hasher
	rev    Revoker
	log    *slog.Logger
	clock  func() time.Time
	policy func(ctx context.Context, domainID string) (passwords.Policy, error)
	lock   Lockout // nil: nothing is locked (security.go)
	audit  Auditor // nil: nothing is recorded
	// validity reads account_validity_period (security.go); nil: off.
	validity func(ctx context.Context, domainID string) (time.Duration, error)
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.clock = now }
}

// WithPolicySource sets where PolicyFor reads a domain's password policy
// (default: passwords.DefaultPolicy for every domain). It is the hook for
// per-domain policy storage, and lets tests use a stricter policy.
func WithPolicySource(f func(ctx context.Context, domainID string) (passwords.Policy, error)) Option {
	return func(s *Service) { s.policy = f }
}

// New returns a Service. rev may be nil only in tools that never change
// passwords or users (then revocation is skipped).
func New(db *store.DB, h *passwords.Hasher, rev Revoker, log *slog.Logger, opts ...Option) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, hasher: h, rev: rev, log: log, clock: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// now is UTC with microsecond precision, so values round-trip through both
// databases unchanged (PostgreSQL keeps microseconds).
func (s *Service) now() time.Time {
	return s.clock().UTC().Truncate(time.Microsecond)
}

// NewID returns 32 lowercase hex characters from crypto/rand.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics itself).
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// revoke revokes the user's tokens after a committed change. It runs after
// the commit so that every token issued before the change is covered; a
// failure is reported because the change is then not fully in effect.
func (s *Service) revoke(ctx context.Context, userID string) error {
	if s.rev == nil {
		return nil
	}
	if err := s.rev.RevokeUser(ctx, userID, s.now()); err != nil {
		s.log.ErrorContext(ctx, "revoke user tokens failed", "user_id", userID, "err", err)
		return fmt.Errorf("revoke tokens of user %s: %w", userID, err)
	}
	return nil
}

func userNotFound(id string) error {
	return fault.New(fault.UserNotFound, "Could not find user: %s.", id)
}

func domainNotFound(id string) error {
	return fault.New(fault.NotFound, "Could not find domain: %s.", id)
}

func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

func isDuplicate(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }

// Domain returns the domain with id.
func (s *Service) Domain(ctx context.Context, id string) (*store.Domain, error) {
	var d store.Domain
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&d).Error
	if isNotFound(err) {
		return nil, domainNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get domain %s: %w", id, err)
	}
	return &d, nil
}

// DomainByName returns the domain called name.
func (s *Service) DomainByName(ctx context.Context, name string) (*store.Domain, error) {
	var d store.Domain
	err := s.db.WithContext(ctx).Where("name = ?", name).Take(&d).Error
	if isNotFound(err) {
		return nil, domainNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("get domain by name: %w", err)
	}
	return &d, nil
}

// User returns the user userID of domain domainID; a user of another domain
// is not found.
func (s *Service) User(ctx context.Context, domainID, userID string) (*store.User, error) {
	return s.user(ctx, s.db.DB.WithContext(ctx), domainID, userID)
}

func (s *Service) user(_ context.Context, tx *gorm.DB, domainID, userID string) (*store.User, error) {
	var u store.User
	err := tx.Where("id = ? AND domain_id = ?", userID, domainID).Take(&u).Error
	if isNotFound(err) {
		return nil, userNotFound(userID)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", userID, err)
	}
	return &u, nil
}

// UserByID returns the user userID of any domain (token validation paths,
// where the token already fixes the domain).
func (s *Service) UserByID(ctx context.Context, userID string) (*store.User, error) {
	var u store.User
	err := s.db.WithContext(ctx).Where("id = ?", userID).Take(&u).Error
	if isNotFound(err) {
		return nil, userNotFound(userID)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", userID, err)
	}
	return &u, nil
}

// UserByName returns the user called name in domain domainID.
func (s *Service) UserByName(ctx context.Context, domainID, name string) (*store.User, error) {
	var u store.User
	err := s.db.WithContext(ctx).Where("domain_id = ? AND name = ?", domainID, name).Take(&u).Error
	if isNotFound(err) {
		return nil, userNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("get user by name: %w", err)
	}
	return &u, nil
}
