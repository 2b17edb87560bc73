// Package tokens issues, validates and revokes latchkey tokens (Keystone user
// tokens and CIAM client access tokens).
//
// Tokens are self-contained and signed with HMAC-SHA256, so validating one
// reads no database: the signing key is shared by every instance through the
// signing_keys table and kept in memory, and revocations are kept in an
// in-memory set that Run keeps in step with the revocations table. A
// revocation takes effect at once on the instance that made it and within
// about SyncInterval (+ one query) on every other one.
package tokens

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

// Config configures the service. Zero values take the defaults.
type Config struct {
	// Lifetime of user tokens (default 24h). It is also the upper bound of a
	// user token's life: Issue clamps to it and Validate enforces it, so a
	// user-wide revocation row can expire Lifetime after its cut-off.
	Lifetime time.Duration
	// ClientLifetime is the upper bound of a CIAM client token's life
	// (default 7 days): Issue clamps to it and Validate enforces it, so a
	// client-wide revocation row (RevokeClient) can expire ClientLifetime
	// after its cut-off.
	ClientLifetime time.Duration
	// SyncInterval is how often Run reads new revocations (default 1s).
	SyncInterval time.Duration
	// Now is the clock for issuing and expiry (default time.Now).
	Now func() time.Time
}

// Kind is what a token authenticates.
type Kind uint8

// Token kinds. The values are part of the token format.
const (
	KindUser   Kind = 1 // Keystone token of a user
	KindClient Kind = 2 // CIAM client-credentials access token
)

// Claims is what a token says.
type Claims struct {
	Kind          Kind
	TokenID       string // 32 lowercase hex, set by Issue
	UserID        string
	UserName      string // as of issuing
	DomainID      string
	ClientID      string // CIAM client id (KindClient)
	Methods       []string
	ScopeDomainID string // domain scope; empty when unscoped
	Roles         []authn.Role
	Restricted    bool // the user must change the password first
	IssuedAt      time.Time
	ExpiresAt     time.Time
	MFAAuthnAt    *time.Time
}

// Principal returns the caller the claims describe.
func (c Claims) Principal() *authn.Principal {
	p := &authn.Principal{
		TokenID:    c.TokenID,
		UserID:     c.UserID,
		UserName:   c.UserName,
		DomainID:   c.DomainID,
		ClientID:   c.ClientID,
		Roles:      append([]authn.Role(nil), c.Roles...),
		Restricted: c.Restricted,
		IssuedAt:   c.IssuedAt,
		ExpiresAt:  c.ExpiresAt,
	}
	switch c.Kind {
	case KindUser:
		p.Kind = authn.KindUserToken
	case KindClient:
		p.Kind = authn.KindCIAMClient
	}
	return p
}

// Service issues and validates tokens. It is safe for concurrent use.
type Service struct {
	db   *store.DB
	log  *slog.Logger
	cfg  Config
	key  []byte
	pool sync.Pool // *scratch
	revs revset
	sync syncState
}

// scratch holds per-call buffers so Validate does not allocate for them.
type scratch struct {
	mac hash.Hash
	sum [sha256.Size]byte
	got [macLen]byte
	buf [maxTokenLen]byte // the token (Validate) or the payload (Issue)
	dec [maxTokenLen]byte // the decoded payload (Validate)
}

// New loads (or, on the first start, creates) the shared signing key and the
// current revocations.
func New(ctx context.Context, db *store.DB, log *slog.Logger, cfg Config) (*Service, error) {
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = 24 * time.Hour
	}
	if cfg.ClientLifetime <= 0 {
		cfg.ClientLifetime = 7 * 24 * time.Hour
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	secret, err := loadOrCreateKey(ctx, db, log)
	if err != nil {
		return nil, err
	}
	s := &Service{db: db, log: log, cfg: cfg, key: deriveKey(secret)}
	s.pool.New = func() any { return &scratch{mac: hmac.New(sha256.New, s.key)} }
	s.revs.init()
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// deriveKey separates the token MAC key from the stored secret, so the same
// row could key other MACs without the two ever being interchangeable.
func deriveKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("latchkey/tokens/v1"))
	return m.Sum(nil)
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// lifetime is the longest life of a token of kind k.
func (s *Service) lifetime(k Kind) time.Duration {
	if k == KindClient {
		return s.cfg.ClientLifetime
	}
	return s.cfg.Lifetime
}

// Issue signs c and returns the token and the claims it carries. It fills
// TokenID and IssuedAt (now), and ExpiresAt (now+Lifetime unless c.ExpiresAt
// is set). A user token never lives longer than Lifetime, a client token
// never longer than ClientLifetime. Times are truncated to microseconds.
func (s *Service) Issue(ctx context.Context, c Claims) (string, Claims, error) {
	switch c.Kind {
	case KindUser:
		if c.UserID == "" || c.DomainID == "" {
			return "", Claims{}, errors.New("issue token: user token needs a user and a domain")
		}
	case KindClient:
		if c.ClientID == "" || c.DomainID == "" {
			return "", Claims{}, errors.New("issue token: client token needs a client and a domain")
		}
	default:
		return "", Claims{}, fmt.Errorf("issue token: unknown kind %d", c.Kind)
	}
	if len(c.Methods) > maxListLen || len(c.Roles) > maxListLen {
		return "", Claims{}, errors.New("issue token: too many methods or roles")
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	c.IssuedAt = now
	limit := now.Add(s.lifetime(c.Kind))
	c.ExpiresAt = c.ExpiresAt.UTC().Truncate(time.Microsecond) // as encoded
	if c.ExpiresAt.IsZero() || c.ExpiresAt.After(limit) {
		c.ExpiresAt = limit
	}
	if !c.ExpiresAt.After(now) {
		// Only a caller-given expiry can be past: a re-scoped token whose
		// source expired meanwhile.
		return "", Claims{}, fault.New(fault.TokenExpired, "The token has expired.")
	}
	var id [16]byte
	rand.Read(id[:]) // never fails (crypto/rand since Go 1.24)

	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	payload := encodePayload(sc.buf[:0], &c, id)
	n := len(prefix) + base64.RawURLEncoding.EncodedLen(len(payload)) + 1 + macB64Len
	if n > maxTokenLen {
		return "", Claims{}, fmt.Errorf("issue token: token would be %d characters (limit %d)", n, maxTokenLen)
	}
	tok := make([]byte, 0, n)
	tok = append(tok, prefix...)
	tok = base64.RawURLEncoding.AppendEncode(tok, payload)
	sc.mac.Reset()
	sc.mac.Write(tok)
	tok = append(tok, '.')
	tok = base64.RawURLEncoding.AppendEncode(tok, sc.mac.Sum(sc.sum[:0]))
	// Hand back exactly what Validate will return.
	var out Claims
	if err := decodePayload(payload, &out); err != nil {
		return "", Claims{}, fmt.Errorf("issue token: %w", err)
	}
	return string(tok), out, nil
}

// strict rejects non-zero trailing bits, so exactly one spelling of a
// signature decodes (the payload spelling is fixed by the MAC itself).
var strict = base64.RawURLEncoding.Strict()

// ErrRevoked is the cause of the fault.TokenInvalid that Validate returns
// for a revoked token (errors.Is), so metrics can tell revoked from invalid;
// callers answer both alike.
var ErrRevoked = errors.New("token revoked")

// Fresh errors each time: *fault.Error has fields a caller may set.
func errInvalid() error { return fault.New(fault.TokenInvalid, "The token is invalid.") }
func errRevoked() error {
	return fault.Wrap(fault.TokenInvalid, ErrRevoked, "The token has been revoked.")
}
func errExpired() error { return fault.New(fault.TokenExpired, "The token has expired.") }

// Validate checks a token's signature, expiry and revocation and returns its
// claims: fault.TokenInvalid for a malformed, forged or revoked token,
// fault.TokenExpired for an expired one. It never reads the database.
func (s *Service) Validate(ctx context.Context, token string) (Claims, error) {
	var c Claims
	if len(token) > maxTokenLen || !strings.HasPrefix(token, prefix) {
		return c, errInvalid()
	}
	dot := strings.LastIndexByte(token, '.')
	if dot < len(prefix) || len(token)-dot-1 != macB64Len {
		return c, errInvalid()
	}
	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	tok := sc.buf[:copy(sc.buf[:], token)]
	if n, err := strict.Decode(sc.got[:], tok[dot+1:]); err != nil || n != macLen {
		return c, errInvalid()
	}
	sc.mac.Reset()
	sc.mac.Write(tok[:dot])
	if !hmac.Equal(sc.mac.Sum(sc.sum[:0]), sc.got[:]) {
		return c, errInvalid()
	}
	n, err := strict.Decode(sc.dec[:], tok[len(prefix):dot])
	if err != nil {
		return c, errInvalid()
	}
	if err := decodePayload(sc.dec[:n], &c); err != nil {
		return Claims{}, errInvalid()
	}
	now := s.now()
	exp := c.ExpiresAt
	// Enforce the lifetime even on tokens issued under a longer one, so
	// user- and client-wide revocation rows never expire before what they
	// match.
	if lim := c.IssuedAt.Add(s.lifetime(c.Kind)); lim.Before(exp) {
		exp = lim
	}
	if !now.Before(exp) {
		return Claims{}, errExpired()
	}
	if s.revs.revoked(&c) {
		return Claims{}, errRevoked()
	}
	return c, nil
}
