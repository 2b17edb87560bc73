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
//     unpadded standard base64) and its cost is bounded, so a corrupted row
//     cannot make the server allocate gigabytes.
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
}

// NewHasher returns a Hasher with params p. maxConcurrent <= 0 means
// runtime.NumCPU(). A caller that cannot get a slot within maxWait (or before
// ctx ends) gets a fault.Overloaded error; maxWait <= 0 waits until ctx ends.
// Invalid params are reported by Hash (see Params.Validate), not here.
func NewHasher(p Params, maxConcurrent int, maxWait time.Duration) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Hasher{params: p, slots: make(chan struct{}, maxConcurrent), maxWait: maxWait}
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
		return nil, overloaded(nil)
	case <-ctx.Done():
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
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	p := h.params
	if err := p.Validate(); err != nil {
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
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	release()
	return encodePHC(p, salt, key), nil
}

// Verify reports whether password matches the PHC string phc, comparing in
// constant time. needsRehash is true when the password matched and phc was
// made with parameters other than h's, so the caller should store a new
// Hash. A malformed phc is an error.
func (h *Hasher) Verify(ctx context.Context, password, phc string) (ok bool, needsRehash bool, err error) {
	p, salt, key, err := decodePHC(phc)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	release()
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// dummySalt is the salt for DummyVerify; its value is irrelevant.
var dummySalt = make([]byte, 16)

// DummyVerify spends the time of one Verify at h's parameters and discards the
// result. Call it when there is no hash to verify against (unknown user, no
// password set) so that response time does not reveal which case happened.
// It fails only when hashing is overloaded.
func (h *Hasher) DummyVerify(ctx context.Context, password string) error {
	p := h.params
	if err := p.Validate(); err != nil {
		return fmt.Errorf("dummy verify: %w", err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	_ = argon2.IDKey([]byte(password), dummySalt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return nil
}

var b64 = base64.RawStdEncoding.Strict()

func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errMalformed is wrapped by every PHC parsing error.
var errMalformed = errors.New("malformed argon2id PHC string")

// decodePHC parses a PHC string made by encodePHC. The messages never include
// the string itself: it is a secret-derived value.
func decodePHC(phc string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(phc, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, fmt.Errorf("%w: want 5 fields", errMalformed)
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: algorithm is not argon2id", errMalformed)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version", errMalformed)
	}
	costs := strings.Split(parts[3], ",")
	if len(costs) != 3 {
		return p, nil, nil, fmt.Errorf("%w: want m,t,p", errMalformed)
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		s, found := strings.CutPrefix(costs[i], name)
		if !found {
			return p, nil, nil, fmt.Errorf("%w: want m,t,p", errMalformed)
		}
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return p, nil, nil, fmt.Errorf("%w: parameter %s not a number", errMalformed, strings.TrimSuffix(name, "="))
		}
		vals[i] = v
	}
	if vals[2] > 255 {
		return p, nil, nil, fmt.Errorf("%w: parallelism out of range", errMalformed)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt is not unpadded base64", errMalformed)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: key is not unpadded base64", errMalformed)
	}
	p = Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := p.Validate(); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return p, salt, key, nil
}
