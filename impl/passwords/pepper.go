package passwords

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// A Pepper is a server-side secret mixed into every password hash: argon2id
// runs over HMAC-SHA256(Secret, password) instead of the password, so a
// stolen database alone is not enough to test guesses. ID names it in the PHC
// string (parameter keyid); the secret itself is never stored there.
type Pepper struct {
	ID     string
	Secret []byte
}

// Limits on peppers. An ID is at most 8 bytes because the PHC string format
// limits an argon2 keyid to 8 bytes.
const (
	MinPepperBytes = 32
	maxPepperBytes = 1024
	maxPepperID    = 8
)

// ErrUnknownPepper is wrapped by Verify's error when a hash names a pepper
// (keyid) that is configured neither as the current nor as an old pepper. The
// hash cannot be checked at all: the caller logs it and fails the request;
// it is never a match.
var ErrUnknownPepper = errors.New("password hash made with an unknown pepper")

// Validate checks the ID (1-8 characters of A-Z a-z 0-9 . _ -) and the length
// of the secret. Messages never include the secret.
func (p Pepper) Validate() error {
	if !validPepperID(p.ID) {
		return fmt.Errorf("pepper id must be 1-%d characters of A-Z, a-z, 0-9, '.', '_', '-'", maxPepperID)
	}
	if len(p.Secret) < MinPepperBytes || len(p.Secret) > maxPepperBytes {
		return fmt.Errorf("pepper %s: secret must be %d-%d bytes", p.ID, MinPepperBytes, maxPepperBytes)
	}
	return nil
}

func validPepperID(id string) bool {
	if id == "" || len(id) > maxPepperID {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// ParsePepper reads "<id>:<secret>", the secret as hex (tried first) or
// base64 (standard or URL alphabet, padded or not). Errors never echo the
// secret, nor an id that failed validation (it may be a misplaced secret).
func ParsePepper(s string) (Pepper, error) {
	id, enc, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found {
		return Pepper{}, errors.New("pepper: want <id>:<secret>")
	}
	if !validPepperID(id) {
		return Pepper{}, fmt.Errorf("pepper: id must be 1-%d characters of A-Z, a-z, 0-9, '.', '_', '-'", maxPepperID)
	}
	secret, ok := decodeSecret(enc)
	if !ok {
		return Pepper{}, fmt.Errorf("pepper %s: secret is neither hex nor base64", id)
	}
	p := Pepper{ID: id, Secret: secret}
	return p, p.Validate()
}

func decodeSecret(s string) ([]byte, bool) {
	if b, err := hex.DecodeString(s); err == nil {
		return b, true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// ParsePeppers reads the settings: current is one "<id>:<secret>" or empty
// (no pepper for new hashes), old a comma-separated list of them (peppers
// used only to verify hashes not upgraded yet). IDs must be distinct.
func ParsePeppers(current, old string) (*Pepper, []Pepper, error) {
	var cur *Pepper
	if strings.TrimSpace(current) != "" {
		p, err := ParsePepper(current)
		if err != nil {
			return nil, nil, err
		}
		cur = &p
	}
	var olds []Pepper
	if strings.TrimSpace(old) != "" {
		for i, s := range strings.Split(old, ",") {
			p, err := ParsePepper(s)
			if err != nil {
				return nil, nil, fmt.Errorf("old pepper %d: %w", i+1, err)
			}
			olds = append(olds, p)
		}
	}
	if err := checkPeppers(cur, olds); err != nil {
		return nil, nil, err
	}
	return cur, olds, nil
}

// checkPeppers validates each pepper and that no ID is used twice (a hash
// names its pepper by ID only).
func checkPeppers(cur *Pepper, old []Pepper) error {
	seen := make(map[string]bool, len(old)+1)
	all := old
	if cur != nil {
		all = append([]Pepper{*cur}, old...)
	}
	for _, p := range all {
		if err := p.Validate(); err != nil {
			return err
		}
		if seen[p.ID] {
			return fmt.Errorf("pepper id %s is configured twice", p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}

// Option configures a Hasher.
type Option func(*Hasher)

// WithPeppers makes new hashes use current (nil: no pepper) and lets Verify
// also check hashes made with the old peppers. A hash whose pepper is not
// current (an old one, or none at all) verifies but asks for a rehash, so
// hashes move to the current pepper at the next successful verification;
// an old pepper can be dropped once no stored hash names it. Invalid peppers
// (see Pepper.Validate, distinct IDs) make the Hasher refuse all work; see
// Hasher.Validate. The secrets are copied.
func WithPeppers(current *Pepper, old ...Pepper) Option {
	return func(h *Hasher) {
		h.pepperErr = checkPeppers(current, old)
		h.peppers = make(map[string][]byte, len(old)+1)
		for _, p := range old {
			h.peppers[p.ID] = append([]byte(nil), p.Secret...)
		}
		h.current = ""
		if current != nil {
			h.current = current.ID
			h.peppers[current.ID] = append([]byte(nil), current.Secret...)
		}
	}
}

// pepperInput is what argon2id hashes: the password itself without a
// pepper, else HMAC-SHA256(secret, password).
func pepperInput(secret []byte, password string) []byte {
	if secret == nil {
		return []byte(password)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(password))
	return m.Sum(nil)
}
