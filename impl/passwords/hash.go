// Package passwords hashes passwords (argon2id, PHC strings, under a
// concurrency bound) and holds the one password policy engine that every API
// setting a password uses (IAM, Keystone, CIAM and the HTTPS Git password).
//
// Decisions worth knowing (see also the doc comments of each type):
//   - Verify reports needsRehash only when the password matched: only then
//     does the caller hold the plaintext needed to rehash, and a caller that
//     forgot to look at ok cannot rehash a wrong password.
//   - maxWait <= 0 means "wait for a slot until ctx ends".
//   - A PHC string is parsed strictly (argon2id, v=19, m,t,p in that order,
//     optionally keyid, unpadded standard base64) and its cost is bounded, so
//     a corrupted row cannot make the server allocate gigabytes.
//   - Pepper (optional, WithPeppers): argon2id runs over
//     HMAC-SHA256(pepper secret, password). The pepper's ID is recorded as
//     the PHC string format's own optional argon2 parameter keyid (B64 of
//     the 1-8 byte ID, after m,t,p):
//     $argon2id$v=19$m=19456,t=2,p=1,keyid=cDE$<salt>$<key> for ID "p1".
//     A hash without keyid was made without a pepper and keeps verifying
//     after one is configured. Verify asks for a rehash whenever the hash's
//     pepper is not the current one (none, or an old one), so rotation is:
//     make the new pepper current, keep the previous one in the old list
//     until every stored hash has been upgraded (each is at its owner's next
//     successful login), then drop it. A hash naming a pepper that is not
//     configured is an ErrUnknownPepper error, never a match; only the
//     password policy's reuse checks treat it as "not the same password"
//     (see verifyWith), so an administrator can still reset such a user.
//     The pepper is applied with HMAC rather than argon2's own secret input
//     because golang.org/x/crypto/argon2 does not expose that input.
//   - Policy: RecentDisallowed N counts the current password (N=1 is the
//     current one only); same_as_current applies whatever N is.
//     AdminReset exempts only minimum_age. Control characters and invalid
//     UTF-8 are reported as "char_combination". See Policy and CheckOptions.
//   - Weak passwords: a ranked list of 49,233 leaked passwords (zxcvbn-ts,
//     MIT), compared after undoing leetspeak and stripping leading/trailing
//     digits and symbols; see weak.go.
package passwords

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/latchkey/latchkey/impl/fault"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are the OWASP minimum for argon2id: 19 MiB, 2 passes, 1 lane.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Limits on parameters, for configured ones and for those read back from a
// stored PHC string.
const (
	maxMemoryKiB = 2 * 1024 * 1024 // 2 GiB
	maxTime      = 1000
	minSaltLen   = 8 // RFC 9106 recommends >= 16; 8 is its hard minimum
	maxSaltLen   = 1024
	minKeyLen    = 4 // RFC 9106 minimum tag length
	maxKeyLen    = 1024
)

// Validate reports parameters argon2 would reject (or panic on) or that are
// unreasonably large.
func (p Params) Validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2 time %d out of range 1-%d", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("argon2 threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("argon2 memory %d KiB out of range %d-%d", p.Memory, 8*uint32(p.Threads), maxMemoryKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2 salt length %d out of range %d-%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2 key length %d out of range %d-%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Hasher hashes and verifies passwords. Each argon2 run holds a slot of a
// semaphore because each one allocates Params.Memory: unbounded concurrency
// would let a burst of logins exhaust memory. It is safe for concurrent use.
type Hasher struct {
	params  Params
	slots   chan struct{}
	maxWait time.Duration
	stats   hashStats // waiting and refused callers, for Stats (stats.go)

	// peppers holds every configured pepper secret by ID, current
	// (empty: none) names the one new hashes use; see WithPeppers.
	peppers   map[string][]byte
	current   string
	pepperErr error
}

// NewHasher returns a Hasher with params p. maxConcurrent <= 0 means
// runtime.NumCPU(). A caller that cannot get a slot within maxWait (or before
// ctx ends) gets a fault.Overloaded error; maxWait <= 0 waits until ctx ends.
// Invalid params or peppers are reported by Validate and by Hash, Verify and
// DummyVerify, not here.
func NewHasher(p Params, maxConcurrent int, maxWait time.Duration, opts ...Option) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	h := &Hasher{params: p, slots: make(chan struct{}, maxConcurrent), maxWait: maxWait}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Validate reports invalid parameters or peppers, so that a server can
// refuse to start instead of failing every login.
func (h *Hasher) Validate() error {
	if err := h.params.Validate(); err != nil {
		return err
	}
	return h.pepperErr
}

// PepperIDs returns the ID of the current pepper ("" for none) and of the
// old ones, for logging which peppers are in use.
func (h *Hasher) PepperIDs() (current string, old []string) {
	for id := range h.peppers {
		if id != h.current {
			old = append(old, id)
		}
	}
	slices.Sort(old)
	return h.current, old
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// acquire takes a hashing slot; the returned func gives it back.
func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	release := func() { <-h.slots }
	select { // fast path: a free slot needs no timer
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	h.stats.waiting.Add(1)
	defer h.stats.waiting.Add(-1)
	var timeout <-chan time.Time
	if h.maxWait > 0 {
		t := time.NewTimer(h.maxWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-timeout:
		h.stats.refused.Add(1)
		return nil, overloaded(nil)
	case <-ctx.Done():
		h.stats.refused.Add(1)
		return nil, overloaded(ctx.Err())
	}
}

func overloaded(cause error) error {
	var e *fault.Error
	if cause != nil {
		e = fault.Wrap(fault.Overloaded, cause, "The service is busy, please retry shortly.")
	} else {
		e = fault.New(fault.Overloaded, "The service is busy, please retry shortly.")
	}
	e.RetryAfter = time.Second
	return e
}

// Hash returns the PHC string of password with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64),
// with ",keyid=<B64 of the pepper ID>" after p when a current pepper is set.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	p := h.params
	if err := h.Validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	key := argon2.IDKey(pepperInput(h.peppers[h.current], password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	release()
	return encodePHC(p, h.current, salt, key), nil
}

// Verify reports whether password matches the PHC string phc, comparing in
// constant time. needsRehash is true when the password matched and phc was
// made with parameters other than h's or with a pepper other than the
// current one (including none), so the caller should store a new Hash. A
// malformed phc is an error, and so is one naming a pepper h does not have
// (ErrUnknownPepper): ok is then false.
func (h *Hasher) Verify(ctx context.Context, password, phc string) (ok bool, needsRehash bool, err error) {
	if h.pepperErr != nil {
		return false, false, fmt.Errorf("verify password: %w", h.pepperErr)
	}
	p, keyID, salt, key, err := decodePHC(phc)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	var secret []byte
	if keyID != "" {
		if secret = h.peppers[keyID]; secret == nil {
			// The ID is not secret; an operator needs it to restore the pepper.
			return false, false, fmt.Errorf("verify password: %w (id %q)", ErrUnknownPepper, keyID)
		}
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey(pepperInput(secret, password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	release()
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, p != h.params || keyID != h.current, nil
}

// dummySalt is the salt for DummyVerify; its value is irrelevant.
var dummySalt = make([]byte, 16)

// DummyVerify spends the time of one Verify at h's parameters and discards the
// result. Call it when there is no hash to verify against (unknown user, no
// password set) so that response time does not reveal which case happened.
// It fails only when hashing is overloaded.
//
// Like a Verify of a current hash it applies the current pepper (if any)
// first, so the two cost the same.
func (h *Hasher) DummyVerify(ctx context.Context, password string) error {
	p := h.params
	if err := h.Validate(); err != nil {
		return fmt.Errorf("dummy verify: %w", err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	_ = argon2.IDKey(pepperInput(h.peppers[h.current], password), dummySalt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return nil
}

var b64 = base64.RawStdEncoding.Strict()

// encodePHC writes the PHC string; keyID "" (no pepper) omits keyid, as the
// format requires for an optional parameter at its default.
func encodePHC(p Params, keyID string, salt, key []byte) string {
	var kid string
	if keyID != "" {
		kid = ",keyid=" + b64.EncodeToString([]byte(keyID))
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d%s$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, kid, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errMalformed is wrapped by every PHC parsing error.
var errMalformed = errors.New("malformed argon2id PHC string")

// decodePHC parses a PHC string made by encodePHC and returns the pepper ID
// ("" when there is no keyid). The messages never include the string
// itself: it is a secret-derived value.
func decodePHC(phc string) (p Params, keyID string, salt, key []byte, err error) {
	fail := func(format string, args ...any) (Params, string, []byte, []byte, error) {
		return Params{}, "", nil, nil, fmt.Errorf("%w: "+format, append([]any{errMalformed}, args...)...)
	}
	parts := strings.Split(phc, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..[,keyid=..]", salt, key
	if len(parts) != 6 || parts[0] != "" {
		return fail("want 5 fields")
	}
	if parts[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("unsupported version")
	}
	costs := strings.Split(parts[3], ",")
	if len(costs) != 3 && len(costs) != 4 {
		return fail("want m,t,p[,keyid]")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		s, found := strings.CutPrefix(costs[i], name)
		if !found {
			return fail("want m,t,p[,keyid]")
		}
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return fail("parameter %s not a number", strings.TrimSuffix(name, "="))
		}
		vals[i] = v
	}
	if vals[2] > 255 {
		return fail("parallelism out of range")
	}
	if len(costs) == 4 {
		// PHC: keyid is 0-8 bytes of B64, optional, its default (empty)
		// omitted; associated data ("data") is not supported.
		s, found := strings.CutPrefix(costs[3], "keyid=")
		if !found {
			return fail("want m,t,p[,keyid]")
		}
		id, err := b64.DecodeString(s)
		if err != nil || len(id) == 0 || len(id) > maxPepperID {
			return fail("keyid is not 1-%d bytes of unpadded base64", maxPepperID)
		}
		keyID = string(id)
	}
	salt, err = b64.DecodeString(parts[4])
	if err != nil {
		return fail("salt is not unpadded base64")
	}
	key, err = b64.DecodeString(parts[5])
	if err != nil {
		return fail("key is not unpadded base64")
	}
	p = Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := p.Validate(); err != nil {
		return fail("%v", err)
	}
	return p, keyID, salt, key, nil
}
