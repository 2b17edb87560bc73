// Package accesskeys holds the permanent access keys (AK/SK) of users (IAM
// v3.0 OS-CREDENTIAL) and verifies requests signed with them
// (SDK-HMAC-SHA256, apis.md §7.2).
//
// Secret keys are needed in clear to verify a signature, so they cannot be
// hashed: they are sealed with AES-256-GCM under the server secret key,
// which never goes into the database (see LoadKey). The secret key is
// returned once, when the access key is created, and never logged.
//
// The package decides no roles: handlers say who may act on which user;
// every lookup here is scoped to a domain, so a foreign key does not exist.
//
// With WithAudit, creating, changing and deleting a key is recorded in the
// audit trail (package audit) after its commit: the actor is the caller in
// the context, the target the key's user; the record names the access key
// id (AK, an identifier like a user id), never the secret. Refused signed
// requests are not recorded one by one: anybody can send them, unsigned by
// any known key, at wire speed and at no cost (no lockout bounds them), so
// they would flood the trail and crowd out the events it exists for; an
// unknown key also has no domain to file the event under. They are answered
// 401 and appear in the request log; a key that no longer decrypts is
// logged as an error.
package accesskeys

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

// Access key states.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// MaxPerUser is how many access keys a user may have (active or not), as at
// the vendor.
const MaxPerUser = 2

// MaxDescription is the longest description, in characters.
const MaxDescription = 255

// DefaultSkew is how far X-Sdk-Date may be from the server's clock.
const DefaultSkew = 15 * time.Minute

// lastUsedWindow: last use is recorded once per window (the vendor shows
// the first use in each 15 minutes).
const lastUsedWindow = 15 * time.Minute

// Key is an access key without its secret.
type Key struct {
	Access      string
	UserID      string
	DomainID    string
	Status      string
	Description string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
}

func keyOf(k *store.AccessKey) Key {
	return Key{Access: k.Access, UserID: k.UserID, DomainID: k.DomainID, Status: k.Status,
		Description: k.Description, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}
}

// Auditor records audit events (package audit: *audit.Log).
type Auditor interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Service manages access keys and verifies signed requests. It is safe for
// concurrent use.
type Service struct {
	db    *store.DB
	log   *slog.Logger
	seal  *sealer // nil: no server secret key, access keys disabled
	clock func() time.Time
	skew  time.Duration
	audit Auditor // nil: nothing is recorded
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.clock = now } }

// WithSkew sets the accepted clock skew of X-Sdk-Date (default DefaultSkew).
func WithSkew(d time.Duration) Option { return func(s *Service) { s.skew = d } }

// WithAudit records created, changed and deleted access keys.
func WithAudit(a Auditor) Option { return func(s *Service) { s.audit = a } }

// record writes an audit event about key k after the change committed;
// failures are logged by the recorder and do not undo the change.
func (s *Service) record(ctx context.Context, typ audit.Type, k *store.AccessKey, detail map[string]string) {
	if s.audit == nil {
		return
	}
	d := map[string]string{"access_key": k.Access}
	maps.Copy(d, detail)
	_ = s.audit.Record(ctx, audit.Event{Type: typ, DomainID: k.DomainID, TargetID: k.UserID, Detail: d})
}

// New returns a Service sealing secrets with key (KeySize bytes). A nil key
// disables access keys: Create answers fault.NotImplemented and no signed
// request verifies.
func New(db *store.DB, key []byte, log *slog.Logger, opts ...Option) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, log: log, clock: time.Now, skew: DefaultSkew}
	if key != nil {
		sl, err := newSealer(key)
		if err != nil {
			return nil, err
		}
		s.seal = sl
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Enabled reports whether the server has a secret key to seal access keys.
func (s *Service) Enabled() bool { return s.seal != nil }

func (s *Service) now() time.Time { return s.clock().UTC() }

func disabled() *fault.Error {
	return fault.New(fault.NotImplemented,
		"Access keys are disabled: the server has no secret key (set --secret-key or LATCHKEY_SECRET_KEY).")
}

// KeyNotFound is the answer for access key access when it does not exist
// or the caller may not see it.
func KeyNotFound(access string) *fault.Error { return keyNotFound(access) }

func keyNotFound(access string) *fault.Error {
	return fault.New(fault.NotFound, "Could not find access key: %s.", printable(access))
}

func userNotFound(userID string) *fault.Error {
	return fault.New(fault.UserNotFound, "Could not find user: %s.", printable(userID))
}

// printable clips an id for a message and keeps only harmless characters.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

// Random strings in the vendor's shapes: a 20-character AK of uppercase
// letters and digits, a 40-character SK of letters and digits.
const (
	akAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	skAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	akLen      = 20
	skLen      = 40
)

// randomString draws n characters uniformly from alphabet (rejection
// sampling: no modulo bias).
func randomString(alphabet string, n int) string {
	limit := byte(256 - 256%len(alphabet))
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		_, _ = rand.Read(buf) // never fails (Go 1.24+)
		for _, b := range buf {
			if b < limit {
				out = append(out, alphabet[int(b)%len(alphabet)])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}

func checkDescription(d string) error {
	if !utf8.ValidString(d) || utf8.RuneCountInString(d) > MaxDescription {
		return fault.New(fault.PropertyInvalid,
			"Invalid input for field 'credential.description'. It must be at most %d characters.", MaxDescription)
	}
	return nil
}

// Create makes an access key for user userID of domainID and returns it
// with its secret key, which is never shown again. A user has at most
// MaxPerUser keys.
func (s *Service) Create(ctx context.Context, domainID, userID, description string) (Key, string, error) {
	if s.seal == nil {
		return Key{}, "", disabled()
	}
	if err := checkDescription(description); err != nil {
		return Key{}, "", err
	}
	secret := randomString(skAlphabet, skLen)
	row := store.AccessKey{
		UserID: userID, DomainID: domainID, KeyID: s.seal.keyID,
		Status: StatusActive, Description: description,
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Locking the user serializes concurrent creations for one user, so
		// the quota holds across instances.
		var u store.User
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id").
			Where("id = ? AND domain_id = ?", userID, domainID).Take(&u).Error
		if isNotFound(err) {
			return userNotFound(userID)
		}
		if err != nil {
			return fmt.Errorf("lock user %s: %w", userID, err)
		}
		var n int64
		if err := tx.Model(&store.AccessKey{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
			return fmt.Errorf("count access keys: %w", err)
		}
		if n >= MaxPerUser {
			// The vendor answers 400 with the message akSkNumExceed.
			return fault.New(fault.PropertyInvalid,
				"akSkNumExceed: the user already has %d access keys, the maximum; delete one first.", MaxPerUser)
		}
		for range 3 { // an AK collision is astronomically rare; retry anyway
			row.Access = randomString(akAlphabet, akLen)
			row.SecretEnc = s.seal.seal(row.Access, secret)
			err = tx.Create(&row).Error
			if !errors.Is(err, gorm.ErrDuplicatedKey) {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("store access key: %w", err)
		}
		return nil
	})
	if err != nil {
		return Key{}, "", err
	}
	s.log.InfoContext(ctx, "access key created", "access_key", row.Access, "user_id", userID, "domain_id", domainID)
	s.record(ctx, audit.AccessKeyCreated, &row, map[string]string{"status": row.Status})
	return keyOf(&row), secret, nil
}

// List returns the access keys of user userID of domainID, oldest first.
func (s *Service) List(ctx context.Context, domainID, userID string) ([]Key, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&store.User{}).
		Where("id = ? AND domain_id = ?", userID, domainID).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("find user %s: %w", userID, err)
	}
	if n == 0 {
		return nil, userNotFound(userID)
	}
	var rows []store.AccessKey
	if err := s.db.WithContext(ctx).Where("user_id = ? AND domain_id = ?", userID, domainID).
		Order("created_at, access").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	out := make([]Key, 0, len(rows))
	for i := range rows {
		out = append(out, keyOf(&rows[i]))
	}
	return out, nil
}

// Get returns access key access of domainID.
func (s *Service) Get(ctx context.Context, domainID, access string) (Key, error) {
	var row store.AccessKey
	err := s.db.WithContext(ctx).Where("access = ? AND domain_id = ?", access, domainID).Take(&row).Error
	if isNotFound(err) {
		return Key{}, keyNotFound(access)
	}
	if err != nil {
		return Key{}, fmt.Errorf("get access key: %w", err)
	}
	return keyOf(&row), nil
}

// Update changes the status and/or the description of access key access of
// domainID; at least one must be given. Deactivation takes effect on the
// next signed request, on every instance.
func (s *Service) Update(ctx context.Context, domainID, access string, status, description *string) (Key, error) {
	if status == nil && description == nil {
		return Key{}, fault.New(fault.PropertyMissing,
			"'credential.status' or 'credential.description' is a required property.")
	}
	set := map[string]any{"updated_at": s.now()}
	if status != nil {
		if *status != StatusActive && *status != StatusInactive {
			return Key{}, fault.New(fault.PropertyInvalid,
				"Invalid input for field 'credential.status'. The value is '%s'.", printable(*status))
		}
		set["status"] = *status
	}
	if description != nil {
		if err := checkDescription(*description); err != nil {
			return Key{}, err
		}
		set["description"] = *description
	}
	var before, after store.AccessKey
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The row lock makes "before" the state this update replaced, for the
		// audit record, even under concurrent updates.
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("access = ? AND domain_id = ?", access, domainID).Take(&before).Error
		if isNotFound(err) {
			return keyNotFound(access)
		}
		if err != nil {
			return fmt.Errorf("read access key: %w", err)
		}
		if err := tx.Model(&store.AccessKey{}).Where("access = ?", access).Updates(set).Error; err != nil {
			return fmt.Errorf("update access key: %w", err)
		}
		if err := tx.Where("access = ?", access).Take(&after).Error; err != nil {
			return fmt.Errorf("read access key: %w", err)
		}
		return nil
	})
	if err != nil {
		return Key{}, err
	}
	s.log.InfoContext(ctx, "access key updated", "access_key", access, "status", after.Status)
	changed := map[string]string{}
	if before.Status != after.Status {
		changed["status"] = before.Status + " -> " + after.Status
	}
	if before.Description != after.Description {
		changed["description"] = "changed" // free text: not copied into the trail
	}
	if len(changed) > 0 {
		s.record(ctx, audit.AccessKeyUpdated, &after, changed)
	}
	return keyOf(&after), nil
}

// Delete removes access key access of domainID; it stops working at once.
func (s *Service) Delete(ctx context.Context, domainID, access string) error {
	// Read first: the audit record names the key's user. A key's user never
	// changes, so the read cannot go stale; a concurrent delete shows as no
	// row deleted.
	var row store.AccessKey
	err := s.db.WithContext(ctx).Where("access = ? AND domain_id = ?", access, domainID).Take(&row).Error
	if isNotFound(err) {
		return keyNotFound(access)
	}
	if err != nil {
		return fmt.Errorf("read access key: %w", err)
	}
	res := s.db.WithContext(ctx).Where("access = ? AND domain_id = ?", access, domainID).Delete(&store.AccessKey{})
	if res.Error != nil {
		return fmt.Errorf("delete access key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return keyNotFound(access)
	}
	s.log.InfoContext(ctx, "access key deleted", "access_key", access)
	s.record(ctx, audit.AccessKeyDeleted, &row, map[string]string{"status": row.Status})
	return nil
}
