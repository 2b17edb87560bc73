package passwords

import (
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/latchkey/latchkey/impl/fault"
)

// fastParams keep tests quick; production uses DefaultParams.
var fastParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newTestHasher() *Hasher { return NewHasher(fastParams, 2, time.Second) }

func TestDefaultParams(t *testing.T) {
	want := Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if got := DefaultParams(); got != want {
		t.Fatalf("DefaultParams() = %+v, want %+v", got, want)
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("DefaultParams().Validate() = %v", err)
	}
	if got := NewHasher(DefaultParams(), 0, 0); cap(got.slots) < 1 {
		t.Fatalf("maxConcurrent 0 gave %d slots", cap(got.slots))
	}
}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := newTestHasher()
	phcRE := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	for _, pw := range []string{"Correct-Horse-1", "", "pässwörd ünïcode 密码", strings.Repeat("x", 1000)} {
		phc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if !phcRE.MatchString(phc) {
			t.Fatalf("Hash = %q, not a PHC string of the expected shape", phc)
		}
		ok, rehash, err := h.Verify(ctx, pw, phc)
		if err != nil || !ok || rehash {
			t.Fatalf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, pw+"x", phc)
		if err != nil || ok || rehash {
			t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
		phc2, _ := h.Hash(ctx, pw)
		if phc2 == phc {
			t.Fatal("two hashes of the same password are equal: salt not random")
		}
	}
}

// TestVerifyInterop checks the PHC layout against a key derived directly with
// argon2.IDKey, i.e. what any other argon2id PHC implementation produces.
func TestVerifyInterop(t *testing.T) {
	salt := []byte("somesaltsomesalt")
	key := argon2.IDKey([]byte("password"), salt, 2, 64, 1, 32)
	phc := "$argon2id$v=19$m=64,t=2,p=1$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
	h := newTestHasher()
	ok, rehash, err := h.Verify(context.Background(), "password", phc)
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	if !rehash { // t=2 differs from fastParams' t=1
		t.Fatal("needsRehash = false for t=2 under a t=1 hasher")
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := newTestHasher()
	good, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	join := func(fields ...string) string { return strings.Join(fields, "$") }
	cases := map[string]string{
		"empty":           "",
		"plain":           "not-a-hash",
		"bcrypt":          "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":         join("", "argon2i", "v=19", "m=64,t=1,p=1", salt, key),
		"version 16":      join("", "argon2id", "v=16", "m=64,t=1,p=1", salt, key),
		"no version":      join("", "argon2id", "m=64,t=1,p=1", salt, key),
		"params order":    join("", "argon2id", "v=19", "t=1,m=64,p=1", salt, key),
		"missing p":       join("", "argon2id", "v=19", "m=64,t=1", salt, key),
		"extra param":     join("", "argon2id", "v=19", "m=64,t=1,p=1,k=2", salt, key),
		"m not number":    join("", "argon2id", "v=19", "m=x,t=1,p=1", salt, key),
		"negative m":      join("", "argon2id", "v=19", "m=-64,t=1,p=1", salt, key),
		"m overflow":      join("", "argon2id", "v=19", "m=99999999999,t=1,p=1", salt, key),
		"m huge":          join("", "argon2id", "v=19", "m=4000000,t=1,p=1", salt, key),
		"m too small":     join("", "argon2id", "v=19", "m=4,t=1,p=1", salt, key),
		"t zero":          join("", "argon2id", "v=19", "m=64,t=0,p=1", salt, key),
		"p zero":          join("", "argon2id", "v=19", "m=64,t=1,p=0", salt, key),
		"p 256":           join("", "argon2id", "v=19", "m=4096,t=1,p=256", salt, key),
		"padded salt":     join("", "argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key),
		"bad b64 key":     join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, "!!!!"),
		"short salt":      join("", "argon2id", "v=19", "m=64,t=1,p=1", "c2FsdA", key),
		"empty key":       join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, ""),
		"extra field":     good + "$x",
		"no leading $":    strings.TrimPrefix(good, "$"),
		"truncated":       good[:len(good)-20] + "$",
		"whitespace":      " " + good,
		"trailing spaces": good + " ",
	}
	for name, phc := range cases {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), "pw", phc)
			if err == nil || ok || rehash {
				t.Fatalf("Verify = %v, %v, %v; want an error", ok, rehash, err)
			}
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
			if strings.Contains(err.Error(), key) {
				t.Fatal("error message echoes the stored key")
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(fastParams, 1, time.Second)
	phc, err := old.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Params{
		"memory":  {Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		"time":    {Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		"threads": {Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		"salt":    {Memory: 64, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 32},
		"key":     {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64},
	} {
		t.Run(name, func(t *testing.T) {
			h := NewHasher(p, 1, time.Second)
			ok, rehash, err := h.Verify(ctx, "pw", phc)
			if err != nil || !ok || !rehash {
				t.Fatalf("Verify(right) = %v, %v, %v; want true, true, nil", ok, rehash, err)
			}
			// A wrong password never asks for a rehash: the caller must not
			// store a hash of it.
			ok, rehash, err = h.Verify(ctx, "wrong", phc)
			if err != nil || ok || rehash {
				t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestHashInvalidParams(t *testing.T) {
	for name, p := range map[string]Params{
		"zero":       {},
		"time 0":     {Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		"threads 0":  {Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		"memory low": {Memory: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		"salt short": {Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		"key short":  {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 2},
	} {
		t.Run(name, func(t *testing.T) {
			h := NewHasher(p, 1, time.Second)
			if _, err := h.Hash(context.Background(), "pw"); err == nil {
				t.Fatal("Hash with invalid params succeeded")
			}
			if err := h.DummyVerify(context.Background(), "pw"); err == nil {
				t.Fatal("DummyVerify with invalid params succeeded")
			}
		})
	}
}

func wantOverloaded(t *testing.T, err error) *fault.Error {
	t.Helper()
	fe := fault.As(err)
	if fe == nil || fe.Reason != fault.Overloaded {
		t.Fatalf("error = %v, want fault.Overloaded", err)
	}
	if fe.RetryAfter != time.Second {
		t.Fatalf("RetryAfter = %v, want 1s", fe.RetryAfter)
	}
	return fe
}

func TestOverload(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fastParams, 1, 30*time.Millisecond)
	phc, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}

	h.slots <- struct{}{} // hold the only slot

	start := time.Now()
	_, err = h.Hash(ctx, "pw")
	wantOverloaded(t, err)
	if d := time.Since(start); d < 25*time.Millisecond || d > 2*time.Second {
		t.Fatalf("gave up after %v, want about maxWait (30ms)", d)
	}
	_, _, err = h.Verify(ctx, "pw", phc)
	wantOverloaded(t, err)
	wantOverloaded(t, h.DummyVerify(ctx, "pw"))

	// A context that ends first wins, and its error stays in the chain.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = NewHasher(fastParams, 1, time.Hour).Hash(cctx, "pw") // free slot: fast path
	if err != nil {
		t.Fatalf("free slot with a cancelled ctx: %v", err)
	}
	_, err = h.Hash(cctx, "pw")
	wantOverloaded(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v does not wrap context.Canceled", err)
	}

	// maxWait <= 0 waits until ctx ends.
	forever := NewHasher(fastParams, 1, 0)
	forever.slots <- struct{}{}
	dctx, cancel2 := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel2()
	_, err = forever.Hash(dctx, "pw")
	wantOverloaded(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v does not wrap context.DeadlineExceeded", err)
	}

	<-h.slots // release: hashing works again
	if ok, _, err := h.Verify(ctx, "pw", phc); err != nil || !ok {
		t.Fatalf("after release: Verify = %v, %v", ok, err)
	}
}

// TestConcurrentBound runs many hashes through 2 slots and checks that all
// finish and the semaphore never held more than its capacity.
func TestConcurrentBound(t *testing.T) {
	h := NewHasher(fastParams, 2, 10*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			phc, err := h.Hash(context.Background(), "pw")
			if err == nil {
				var ok bool
				ok, _, err = h.Verify(context.Background(), "pw", phc)
				if err == nil && !ok {
					err = errors.New("verify failed")
				}
			}
			if len(h.slots) > cap(h.slots) {
				err = errors.New("semaphore over capacity")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(h.slots) != 0 {
		t.Fatalf("%d slots still held", len(h.slots))
	}
}

// BenchmarkHash compares Hasher.Hash with a bare argon2.IDKey at the same
// parameters; the difference is the wrapper's cost (salt, semaphore, PHC
// encoding).
func BenchmarkHash(b *testing.B) {
	for _, tc := range []struct {
		name string
		p    Params
	}{{"default", DefaultParams()}, {"fast", fastParams}} {
		p := tc.p
		b.Run(tc.name+"/Hasher", func(b *testing.B) {
			h := NewHasher(p, 0, 0)
			ctx := context.Background()
			for b.Loop() {
				if _, err := h.Hash(ctx, "Correct-Horse-1"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/IDKey", func(b *testing.B) {
			salt := make([]byte, p.SaltLen)
			rand.Read(salt)
			pw := []byte("Correct-Horse-1")
			for b.Loop() {
				argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
			}
		})
	}
}
