// Package clients manages the OAuth 2.0 clients (CIAM "applications") of a
// domain: create (the secret is shown once), list, delete, and authenticate
// a client by id and secret for the client-credentials grant. It knows
// nothing of HTTP; every lookup by an administrator is scoped to a domain,
// so a client of another domain is simply "not found".
//
// Secrets are stored hashed. A secret generated here has 256 random bits, so
// one SHA-256 ("sha256$<hex>") is enough and keeps the token endpoint cheap;
// a secret chosen by a person (bootstrap configuration, or given to the
// administration API) may be guessable, so it is stored as an argon2id PHC
// string like a password. Comparisons are constant-time.
//
// With WithAudit, every client created (ciam_client.created: "client_id",
// "name") and deleted (ciam_client.deleted: "client_id") is recorded in the
// audit trail after its commit, with the client as the target. The actor is
// the caller in the context; the bootstrap client is created by latchkey
// itself (audit.ActorSystem, no actor id) — account bootstrap records
// nothing and runs without a principal, so there is no caller to name. No
// record holds a secret or its hash.
package clients

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
)

// Limits of client fields.
const (
	MaxIDLen         = 64  // store.OAuthClient.ID
	MaxNameLen       = 64  // store.OAuthClient.Name
	MinSecretLen     = 8   // a chosen secret, in characters
	MaxSecretLen     = 128 // a chosen secret, in characters
	generatedSecretN = 32  // random bytes of a generated secret
)

// sha256Prefix marks the hash of a generated secret.
const sha256Prefix = "sha256$"

// Client is an OAuth client of a domain. The secret is never kept in clear.
type Client struct {
	ID        string
	DomainID  string
	Name      string
	CreatedAt time.Time
}

// Input describes a client to create.
type Input struct {
	// ID is the client_id; "" generates 32 lowercase hex characters. A given
	// id has 1-64 characters of A-Z a-z 0-9 . _ ~ - (URL-safe, so HTTP Basic
	// needs no escaping).
	ID string
	// Name is a label for administrators, at most 64 characters.
	Name string
	// Secret is the client_secret; "" generates one (43 URL-safe
	// characters, 256 bits). A given secret has 8-128 characters and no
	// control characters.
	Secret string
}

// Revoker ends every token of a client issued at or before at.
type Revoker interface {
	RevokeClient(ctx context.Context, clientID string, at time.Time) error
}

// Service manages clients. It is safe for concurrent use.
type Service struct {
	db     *store.DB
	hasher *passwords.Hasher
	rev    Revoker
	log    *slog.Logger
	clock  func() time.Time
	audit  Auditor // nil: nothing is recorded
}

// Auditor records audit events (package audit: *audit.Log).
type Auditor interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.clock = now }
}

// WithAudit records created and deleted clients.
func WithAudit(a Auditor) Option { return func(s *Service) { s.audit = a } }

// record writes an audit event about client id of domainID after the change
// committed; failures are logged by the recorder and do not undo it. system:
// latchkey itself acted (bootstrap), not the caller in ctx.
func (s *Service) record(ctx context.Context, typ audit.Type, domainID, id string, system bool, detail map[string]string) {
	if s.audit == nil {
		return
	}
	ev := audit.Event{Type: typ, DomainID: domainID, TargetID: id, Detail: detail}
	if system {
		ev.ActorType = audit.ActorSystem
	}
	_ = s.audit.Record(ctx, ev)
}

// New returns a Service. hasher hashes chosen secrets; rev (may be nil only
// in tools that never delete clients) ends the tokens of deleted clients.
func New(db *store.DB, hasher *passwords.Hasher, rev Revoker, log *slog.Logger, opts ...Option) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, hasher: hasher, rev: rev, log: log, clock: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

func toClient(m *store.OAuthClient) Client {
	return Client{ID: m.ID, DomainID: m.DomainID, Name: m.Name, CreatedAt: m.CreatedAt.UTC()}
}

func notFound(id string) error {
	return fault.New(fault.NotFound, "Could not find client: %s.", clip(id))
}

// Create creates a client of domainID and returns it with its secret, which
// is not kept in clear and cannot be read again.
func (s *Service) Create(ctx context.Context, domainID string, in Input) (Client, string, error) {
	return s.create(ctx, domainID, in, false)
}

// create is Create; system marks the bootstrap client for the audit trail.
func (s *Service) create(ctx context.Context, domainID string, in Input, system bool) (Client, string, error) {
	if err := validate(in); err != nil {
		return Client{}, "", err
	}
	var d store.Domain
	if err := s.db.WithContext(ctx).Select("id").Where("id = ?", domainID).Take(&d).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Client{}, "", fault.New(fault.NotFound, "Could not find domain: %s.", clip(domainID))
		}
		return Client{}, "", fmt.Errorf("create client: get domain: %w", err)
	}
	id := in.ID
	if id == "" {
		id = newID()
	}
	secret, hash := in.Secret, ""
	if secret == "" {
		secret = newSecret()
		hash = sha256Hash(secret)
	} else {
		h, err := s.hasher.Hash(ctx, secret)
		if err != nil {
			return Client{}, "", fmt.Errorf("create client: %w", err)
		}
		hash = h
	}
	m := store.OAuthClient{ID: id, DomainID: domainID, Name: in.Name, SecretHash: hash, CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return Client{}, "", fault.Wrap(fault.Conflict, err, "The client id %s already exists.", clip(id))
		}
		return Client{}, "", fmt.Errorf("create client: %w", err)
	}
	s.log.InfoContext(ctx, "oauth client created", "client_id", id, "domain_id", domainID)
	s.record(ctx, audit.CIAMClientCreated, domainID, id, system, map[string]string{"client_id": id, "name": in.Name})
	return toClient(&m), secret, nil
}

// List returns the clients of a domain, oldest first.
func (s *Service) List(ctx context.Context, domainID string) ([]Client, error) {
	var rows []store.OAuthClient
	err := s.db.WithContext(ctx).Select("id", "domain_id", "name", "created_at").
		Where("domain_id = ?", domainID).Order("created_at").Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	out := make([]Client, 0, len(rows))
	for i := range rows {
		out = append(out, toClient(&rows[i]))
	}
	return out, nil
}

// Get returns the client id of domainID.
func (s *Service) Get(ctx context.Context, domainID, id string) (Client, error) {
	var m store.OAuthClient
	err := s.db.WithContext(ctx).Select("id", "domain_id", "name", "created_at").
		Where("id = ? AND domain_id = ?", id, domainID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Client{}, notFound(id)
	}
	if err != nil {
		return Client{}, fmt.Errorf("get client: %w", err)
	}
	return toClient(&m), nil
}

// Delete deletes the client id of domainID and ends every token it was
// issued.
func (s *Service) Delete(ctx context.Context, domainID, id string) error {
	res := s.db.WithContext(ctx).Where("id = ? AND domain_id = ?", id, domainID).Delete(&store.OAuthClient{})
	if res.Error != nil {
		return fmt.Errorf("delete client: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound(id)
	}
	s.log.InfoContext(ctx, "oauth client deleted", "client_id", id, "domain_id", domainID)
	s.record(ctx, audit.CIAMClientDeleted, domainID, id, false, map[string]string{"client_id": id})
	if s.rev == nil {
		return nil
	}
	// After the delete, so no token can be issued after the cut-off.
	if err := s.rev.RevokeClient(ctx, id, s.now()); err != nil {
		s.log.ErrorContext(ctx, "revoke client tokens failed", "client_id", id, "err", err)
		return fmt.Errorf("revoke tokens of client %s: %w", id, err)
	}
	return nil
}

// errBadClient is the one answer to an unknown client and a wrong secret.
func errBadClient() error {
	return fault.New(fault.WrongPassword, "Client authentication failed.")
}

// dummyHash is compared against when the client is unknown, so an unknown
// id costs the same as a wrong generated secret.
var dummyHash = sha256Hash("latchkey-no-such-client")

// Authenticate checks a client's id and secret. An unknown client and a
// wrong secret are the same fault.WrongPassword; a saturated hasher is
// fault.Overloaded.
func (s *Service) Authenticate(ctx context.Context, id, secret string) (Client, error) {
	var m store.OAuthClient
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && m.SecretHash == "") {
		verifySHA256(secret, dummyHash)
		return Client{}, errBadClient()
	}
	if err != nil {
		return Client{}, fmt.Errorf("authenticate client: %w", err)
	}
	ok, err := s.verify(ctx, &m, secret)
	if err != nil {
		return Client{}, err
	}
	if !ok {
		return Client{}, errBadClient()
	}
	return toClient(&m), nil
}

// verify checks secret against the stored hash, rehashing an argon2id hash
// made with old parameters.
func (s *Service) verify(ctx context.Context, m *store.OAuthClient, secret string) (bool, error) {
	if strings.HasPrefix(m.SecretHash, sha256Prefix) {
		return verifySHA256(secret, m.SecretHash), nil
	}
	ok, rehash, err := s.hasher.Verify(ctx, secret, m.SecretHash)
	if err != nil {
		if fault.As(err) != nil { // overloaded
			return false, err
		}
		s.log.ErrorContext(ctx, "stored client secret hash unusable", "client_id", m.ID, "err", err)
		return false, fmt.Errorf("authenticate client %s: %w", m.ID, err)
	}
	if ok && rehash {
		if h, err := s.hasher.Hash(ctx, secret); err == nil {
			// Only replace the hash that was verified.
			if err := s.db.WithContext(ctx).Model(&store.OAuthClient{}).
				Where("id = ? AND secret_hash = ?", m.ID, m.SecretHash).
				UpdateColumn("secret_hash", h).Error; err != nil {
				s.log.WarnContext(ctx, "store rehashed client secret failed", "client_id", m.ID, "err", err)
			}
		}
	}
	return ok, nil
}

// BootstrapResult tells what Bootstrap did.
type BootstrapResult struct {
	Created bool   // a client was created now
	Client  Client // the bootstrap client (zero when none was wanted)
	// GeneratedSecret is the secret of a client created now with a generated
	// secret; "" otherwise. The caller shows it once.
	GeneratedSecret string
}

// Bootstrap ensures the bootstrap client of domainID (DESIGN.md §5). It never
// changes an existing client:
//   - with an id configured: the client is created (with the configured
//     secret, or a generated one) unless a client with that id exists;
//   - without one: a client with a generated id is created only on the
//     first start (firstStart: the domain was created just now), with the
//     configured secret or a generated one.
//
// A configured secret that does not match an existing client is reported in
// the log (never the secret itself) and left alone.
func (s *Service) Bootstrap(ctx context.Context, domainID, id, secret string, firstStart bool) (BootstrapResult, error) {
	if id == "" && !firstStart {
		return BootstrapResult{}, nil
	}
	if id != "" {
		res, found, err := s.existing(ctx, domainID, id, secret)
		if err != nil || found {
			return res, err
		}
	}
	c, got, err := s.create(ctx, domainID, Input{ID: id, Name: "bootstrap", Secret: secret}, true)
	if fault.Is(err, fault.Conflict) && id != "" {
		// Another instance created it between our read and our insert.
		res, _, err := s.existing(ctx, domainID, id, secret)
		return res, err
	}
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("bootstrap client: %w", err)
	}
	res := BootstrapResult{Created: true, Client: c}
	if secret == "" {
		res.GeneratedSecret = got
	}
	return res, nil
}

// existing reports the configured bootstrap client if it exists.
func (s *Service) existing(ctx context.Context, domainID, id, secret string) (BootstrapResult, bool, error) {
	var m store.OAuthClient
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return BootstrapResult{}, false, nil
	}
	if err != nil {
		return BootstrapResult{}, false, fmt.Errorf("bootstrap client: %w", err)
	}
	if m.DomainID != domainID {
		s.log.WarnContext(ctx, "bootstrap client id belongs to another domain; left unchanged",
			"client_id", id, "domain_id", m.DomainID)
	}
	if secret != "" {
		if ok, err := s.verify(ctx, &m, secret); err == nil && !ok {
			s.log.WarnContext(ctx, "configured bootstrap client secret does not match the stored one; the stored one stays",
				"client_id", id)
		}
	}
	return BootstrapResult{Client: toClient(&m)}, true, nil
}

// validate checks the fields of a client to create.
func validate(in Input) error {
	if in.ID != "" && !validID(in.ID) {
		return fault.New(fault.PropertyInvalid,
			"Invalid client id: use 1 to %d characters of letters, digits and . _ ~ -.", MaxIDLen)
	}
	if !utf8.ValidString(in.Name) || utf8.RuneCountInString(in.Name) > MaxNameLen || hasControl(in.Name) {
		return fault.New(fault.PropertyInvalid,
			"Invalid input for field 'name': at most %d characters, no control characters.", MaxNameLen)
	}
	if in.Secret != "" {
		n := utf8.RuneCountInString(in.Secret)
		if !utf8.ValidString(in.Secret) || n < MinSecretLen || n > MaxSecretLen || hasControl(in.Secret) {
			// Never echo the secret.
			return fault.New(fault.PropertyInvalid,
				"Invalid input for field 'client_secret': use %d to %d characters, no control characters.", MinSecretLen, MaxSecretLen)
		}
	}
	return nil
}

// ValidateID reports whether id may be a configured client id; the error
// is a fault.PropertyInvalid.
func ValidateID(id string) error {
	return validate(Input{ID: id})
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '~', c == '-':
		default:
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// newID returns 32 lowercase hex characters from crypto/rand.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

// newSecret returns 256 random bits as 43 URL-safe characters.
func newSecret() string {
	var b [generatedSecretN]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func sha256Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return sha256Prefix + hex.EncodeToString(sum[:])
}

func verifySHA256(secret, stored string) bool {
	want, err := hex.DecodeString(strings.TrimPrefix(stored, sha256Prefix))
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// clip keeps an echoed id short and printable.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "..."
	}
	return s
}
