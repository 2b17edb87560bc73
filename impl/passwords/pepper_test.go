package passwords

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// testPepper returns a pepper with a random 32-byte secret.
func testPepper(t testing.TB, id string) Pepper {
	t.Helper()
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		t.Fatal(err)
	}
	return Pepper{ID: id, Secret: s}
}

func pepperHasher(cur *Pepper, old ...Pepper) *Hasher {
	return NewHasher(fastParams, 2, time.Second, WithPeppers(cur, old...))
}

// keyIDOf returns the pepper ID recorded in phc ("" for none).
func keyIDOf(t *testing.T, phc string) string {
	t.Helper()
	_, id, _, _, err := decodePHC(phc)
	if err != nil {
		t.Fatalf("decodePHC: %v", err)
	}
	return id
}

func TestPepperRoundTrip(t *testing.T) {
	ctx := context.Background()
	a := testPepper(t, "p1")
	b := testPepper(t, "2026-b_.")
	for _, tc := range []struct {
		name    string
		h       *Hasher
		wantKID string // the keyid parameter as stored, "" for none
		wantID  string
	}{
		{"no pepper", newTestHasher(), "", ""},
		{"no pepper option", pepperHasher(nil), "", ""},
		{"pepper", pepperHasher(&a), "cDE", "p1"},
		{"pepper with old ones", pepperHasher(&b, a), "MjAyNi1iXy4", "2026-b_."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, pw := range []string{"Correct-Horse-1", "", "pässwörd 密码", strings.Repeat("x", 1000)} {
				phc, err := tc.h.Hash(ctx, pw)
				if err != nil {
					t.Fatalf("Hash: %v", err)
				}
				wantPrefix := "$argon2id$v=19$m=64,t=1,p=1$"
				if tc.wantKID != "" {
					wantPrefix = "$argon2id$v=19$m=64,t=1,p=1,keyid=" + tc.wantKID + "$"
				}
				if !strings.HasPrefix(phc, wantPrefix) {
					t.Fatalf("Hash = %q, want prefix %q", phc, wantPrefix)
				}
				if got := keyIDOf(t, phc); got != tc.wantID {
					t.Fatalf("keyid = %q, want %q", got, tc.wantID)
				}
				ok, rehash, err := tc.h.Verify(ctx, pw, phc)
				if err != nil || !ok || rehash {
					t.Fatalf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
				}
				ok, rehash, err = tc.h.Verify(ctx, pw+"x", phc)
				if err != nil || ok || rehash {
					t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
				}
			}
		})
	}
}

// TestPepperConstruction pins the construction: argon2id over
// HMAC-SHA256(secret, password), with the keyid as PHC's B64 of the ID.
func TestPepperConstruction(t *testing.T) {
	a := testPepper(t, "p1")
	salt := []byte("somesaltsomesalt")
	m := hmac.New(sha256.New, a.Secret)
	m.Write([]byte("password"))
	key := argon2.IDKey(m.Sum(nil), salt, 1, 64, 1, 32)
	phc := "$argon2id$v=19$m=64,t=1,p=1,keyid=cDE$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
	ok, rehash, err := pepperHasher(&a).Verify(context.Background(), "password", phc)
	if err != nil || !ok || rehash {
		t.Fatalf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

// TestPepperUpgrade covers configuring a pepper over existing hashes and
// rotating it: every hash verifies, asks for a rehash exactly when its
// pepper is not the current one, and a rehash carries the current pepper.
func TestPepperUpgrade(t *testing.T) {
	ctx := context.Background()
	a, b := testPepper(t, "a"), testPepper(t, "b")
	for _, tc := range []struct {
		name     string
		made     *Hasher // makes the stored hash
		now      *Hasher // verifies it later
		wantID   string  // pepper of a rehash by now
		noRehash bool
	}{
		{"none, then pepper configured", newTestHasher(), pepperHasher(&a), "a", false},
		{"none, then pepper with old ones", newTestHasher(), pepperHasher(&b, a), "b", false},
		{"A, then B current and A old", pepperHasher(&a), pepperHasher(&b, a), "b", false},
		{"A old, then A current again", pepperHasher(&b, a), pepperHasher(&a, b), "a", false},
		{"A, then pepper removed but A kept as old", pepperHasher(&a), pepperHasher(nil, a), "", false},
		{"A, unchanged", pepperHasher(&a), pepperHasher(&a), "a", true},
		{"A, B added as old only", pepperHasher(&a), pepperHasher(&a, b), "a", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			phc, err := tc.made.Hash(ctx, "pw")
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err := tc.now.Verify(ctx, "pw", phc)
			if err != nil || !ok || rehash == tc.noRehash {
				t.Fatalf("Verify(right) = %v, %v, %v; want true, %v, nil", ok, rehash, err, !tc.noRehash)
			}
			ok, rehash, err = tc.now.Verify(ctx, "wrong", phc)
			if err != nil || ok || rehash {
				t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
			re, err := tc.now.Hash(ctx, "pw")
			if err != nil {
				t.Fatal(err)
			}
			if got := keyIDOf(t, re); got != tc.wantID {
				t.Fatalf("rehash keyid = %q, want %q", got, tc.wantID)
			}
			if ok, rehash, err := tc.now.Verify(ctx, "pw", re); err != nil || !ok || rehash {
				t.Fatalf("Verify(rehashed) = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
		})
	}

	// After rotation to B, a rehashed hash needs A no longer.
	phc, _ := pepperHasher(&a).Hash(ctx, "pw")
	rotated := pepperHasher(&b, a)
	if _, rehash, _ := rotated.Verify(ctx, "pw", phc); !rehash {
		t.Fatal("no rehash after rotation")
	}
	re, _ := rotated.Hash(ctx, "pw")
	if ok, rehash, err := pepperHasher(&b).Verify(ctx, "pw", re); err != nil || !ok || rehash {
		t.Fatalf("after dropping A: Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestPepperUnknown(t *testing.T) {
	ctx := context.Background()
	a, b := testPepper(t, "a"), testPepper(t, "b")
	phc, err := pepperHasher(&a).Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]*Hasher{
		"no pepper configured":    newTestHasher(),
		"another pepper":          pepperHasher(&b),
		"another, with other old": pepperHasher(&b, testPepper(t, "c")),
	} {
		t.Run(name, func(t *testing.T) {
			for _, pw := range []string{"pw", "wrong"} {
				ok, rehash, err := h.Verify(ctx, pw, phc)
				if !errors.Is(err, ErrUnknownPepper) || ok || rehash {
					t.Fatalf("Verify(%s) = %v, %v, %v; want false, false, ErrUnknownPepper", pw, ok, rehash, err)
				}
				if errors.Is(err, errMalformed) {
					t.Fatal("an unknown pepper is reported as a malformed hash")
				}
				if !strings.Contains(err.Error(), `"a"`) {
					t.Fatalf("error %q does not name the missing pepper", err)
				}
			}
		})
	}
}

// TestPepperMatters checks that the pepper is really part of the hash: the
// same stored key does not verify without it or with another secret under
// the same ID.
func TestPepperMatters(t *testing.T) {
	ctx := context.Background()
	a := testPepper(t, "a")
	phc, err := pepperHasher(&a).Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	stripped := strings.Replace(phc, ",keyid=YQ", "", 1)
	if stripped == phc {
		t.Fatalf("no keyid=YQ in %q", phc)
	}
	other := testPepper(t, "a")
	for _, tc := range []struct {
		name string
		h    *Hasher
		phc  string
	}{
		{"keyid stripped, no pepper", newTestHasher(), stripped},
		{"keyid stripped, pepper configured", pepperHasher(&a), stripped},
		{"same id, other secret", pepperHasher(&other), phc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := tc.h.Verify(ctx, "pw", tc.phc)
			if err != nil || ok || rehash {
				t.Fatalf("Verify = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestPepperNotInHash(t *testing.T) {
	ctx := context.Background()
	a := testPepper(t, "a")
	h := pepperHasher(&a)
	encodings := []string{string(a.Secret), hex.EncodeToString(a.Secret), base64.StdEncoding.EncodeToString(a.Secret),
		base64.RawStdEncoding.EncodeToString(a.Secret), base64.RawURLEncoding.EncodeToString(a.Secret)}
	for range 20 {
		phc, err := h.Hash(ctx, "pw")
		if err != nil {
			t.Fatal(err)
		}
		for _, enc := range encodings {
			// Any 8 consecutive characters of an encoding would be a leak.
			for i := 0; i+8 <= len(enc); i++ {
				if strings.Contains(phc, enc[i:i+8]) {
					t.Fatalf("hash contains part of the pepper secret")
				}
			}
		}
		if bytes.Contains([]byte(phc), a.Secret[:8]) {
			t.Fatal("hash contains raw pepper bytes")
		}
	}
}

// TestPepperCopied: the Hasher keeps its own copy of the secrets.
func TestPepperCopied(t *testing.T) {
	ctx := context.Background()
	a := testPepper(t, "a")
	h := pepperHasher(&a)
	phc, _ := h.Hash(ctx, "pw")
	clear(a.Secret)
	if ok, _, err := h.Verify(ctx, "pw", phc); err != nil || !ok {
		t.Fatalf("Verify after the caller cleared its secret = %v, %v", ok, err)
	}
}

func TestPepperMalformedKeyID(t *testing.T) {
	h := pepperHasher(&Pepper{ID: "a", Secret: make([]byte, 32)})
	good, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	join := func(params string) string {
		return strings.Join([]string{"", "argon2id", "v=19", params, salt, key}, "$")
	}
	for name, phc := range map[string]string{
		"empty keyid":       join("m=64,t=1,p=1,keyid="),
		"keyid 9 bytes":     join("m=64,t=1,p=1,keyid=" + b64.EncodeToString([]byte("123456789"))),
		"keyid padded":      join("m=64,t=1,p=1,keyid=YQ=="),
		"keyid bad b64":     join("m=64,t=1,p=1,keyid=!!"),
		"keyid trailing":    join("m=64,t=1,p=1,keyid=YR"), // non-zero trailing bits
		"keyid first":       join("keyid=YQ,m=64,t=1,p=1"),
		"keyid before p":    join("m=64,t=1,keyid=YQ,p=1"),
		"keyid twice":       join("m=64,t=1,p=1,keyid=YQ,keyid=YQ"),
		"data":              join("m=64,t=1,p=1,data=YQ"),
		"keyid and data":    join("m=64,t=1,p=1,keyid=YQ,data=YQ"),
		"k (not keyid)":     join("m=64,t=1,p=1,k=YQ"),
		"uppercase KEYID":   join("m=64,t=1,p=1,KEYID=YQ"),
		"keyid with spaces": join("m=64,t=1,p=1, keyid=YQ"),
	} {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), "pw", phc)
			if !errors.Is(err, errMalformed) || ok || rehash {
				t.Fatalf("Verify = %v, %v, %v; want a malformed error", ok, rehash, err)
			}
		})
	}
}

func TestPepperInvalidOptions(t *testing.T) {
	ctx := context.Background()
	good := Pepper{ID: "a", Secret: make([]byte, 32)}
	phc, _ := newTestHasher().Hash(ctx, "pw")
	for _, tc := range []struct {
		name string
		cur  *Pepper
		old  []Pepper
	}{
		{"short secret", &Pepper{ID: "a", Secret: make([]byte, 31)}, nil},
		{"nil secret", &Pepper{ID: "a"}, nil},
		{"empty id", &Pepper{ID: "", Secret: make([]byte, 32)}, nil},
		{"long id", &Pepper{ID: "123456789", Secret: make([]byte, 32)}, nil},
		{"colon in id", &Pepper{ID: "a:b", Secret: make([]byte, 32)}, nil},
		{"current also old", &good, []Pepper{good}},
		{"old twice", nil, []Pepper{good, good}},
		{"bad old", &good, []Pepper{{ID: "b", Secret: make([]byte, 8)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := pepperHasher(tc.cur, tc.old...)
			if err := h.Validate(); err == nil {
				t.Fatal("Validate accepted invalid peppers")
			}
			if _, err := h.Hash(ctx, "pw"); err == nil {
				t.Fatal("Hash with invalid peppers succeeded")
			}
			if ok, _, err := h.Verify(ctx, "pw", phc); err == nil || ok {
				t.Fatalf("Verify with invalid peppers = %v, %v", ok, err)
			}
			if err := h.DummyVerify(ctx, "pw"); err == nil {
				t.Fatal("DummyVerify with invalid peppers succeeded")
			}
		})
	}
	if err := pepperHasher(&good, Pepper{ID: "b", Secret: make([]byte, 64)}).Validate(); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
}

func TestParsePeppers(t *testing.T) {
	secret := bytes.Repeat([]byte{0xA5, 0x3C, 0x7E, 0x01}, 8) // 32 bytes
	hx := hex.EncodeToString(secret)
	std := base64.StdEncoding.EncodeToString(secret)
	raw := base64.RawURLEncoding.EncodeToString(secret)
	short := hex.EncodeToString(secret[:31])
	other := hex.EncodeToString(bytes.Repeat([]byte{7}, 48))
	type want struct {
		cur string
		old []string
	}
	for _, tc := range []struct {
		name     string
		cur, old string
		want     *want // nil: an error
	}{
		{"none", "", "", &want{}},
		{"blank", "  ", " ", &want{}},
		{"hex", "p1:" + hx, "", &want{cur: "p1"}},
		{"base64", "p1:" + std, "", &want{cur: "p1"}},
		{"raw url base64", "p1:" + raw, "", &want{cur: "p1"}},
		{"48 bytes", "p1:" + other, "", &want{cur: "p1"}},
		{"with old", "b:" + hx, "a:" + other + ", z.9_-:" + std, &want{cur: "b", old: []string{"a", "z.9_-"}}},
		{"old only", "", "a:" + hx, &want{old: []string{"a"}}},
		{"no colon", hx, "", nil},
		{"empty id", ":" + hx, "", nil},
		{"id too long", "123456789:" + hx, "", nil},
		{"secret as id", hx + ":" + hx, "", nil},
		{"bad id char", "p 1:" + hx, "", nil},
		{"empty secret", "p1:", "", nil},
		{"not hex nor base64", "p1:" + hx[:63] + "!", "", nil},
		{"too short hex", "p1:" + short, "", nil},
		{"too short base64", "p1:" + base64.StdEncoding.EncodeToString(secret[:31]), "", nil},
		{"duplicate current/old", "a:" + hx, "a:" + other, nil},
		{"duplicate old", "b:" + hx, "a:" + other + ",a:" + std, nil},
		{"empty old entry", "b:" + hx, "a:" + other + ",", nil},
		{"bad old", "b:" + hx, "a:" + short, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur, old, err := ParsePeppers(tc.cur, tc.old)
			if tc.want == nil {
				if err == nil {
					t.Fatal("accepted")
				}
				for _, s := range []string{hx, std, raw, short, other, hx[:16], other[:16], std[:16]} {
					if strings.Contains(err.Error(), s) {
						t.Fatalf("error %q echoes a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePeppers: %v", err)
			}
			gotCur := ""
			if cur != nil {
				gotCur = cur.ID
				if len(cur.Secret) < MinPepperBytes {
					t.Fatalf("secret %d bytes", len(cur.Secret))
				}
			}
			var gotOld []string
			for _, p := range old {
				gotOld = append(gotOld, p.ID)
			}
			if gotCur != tc.want.cur || strings.Join(gotOld, ",") != strings.Join(tc.want.old, ",") {
				t.Fatalf("got %q %q, want %q %q", gotCur, gotOld, tc.want.cur, tc.want.old)
			}
		})
	}
	// The decoded secret is the configured one, whatever the encoding.
	for _, enc := range []string{hx, std, raw} {
		p, err := ParsePepper("k:" + enc)
		if err != nil || !bytes.Equal(p.Secret, secret) {
			t.Fatalf("ParsePepper(%s...) = %x, %v", enc[:4], p.Secret, err)
		}
	}
}

// TestPolicyUnknownPepper: a history or current hash whose pepper is gone
// cannot be compared; the policy treats it as a different password instead
// of failing, so an administrator can still reset the password.
func TestPolicyUnknownPepper(t *testing.T) {
	ctx := context.Background()
	a, b := testPepper(t, "a"), testPepper(t, "b")
	old, err := pepperHasher(&a).Hash(ctx, "Old-Passw0rd!")
	if err != nil {
		t.Fatal(err)
	}
	h := pepperHasher(&b) // A dropped
	pol := Policy{RecentDisallowed: 3}
	vs, err := pol.Evaluate(ctx, h, "Old-Passw0rd!", Subject{UserName: "u", CurrentHash: old, History: []string{old}}, CheckOptions{AdminReset: true})
	if err != nil || len(vs) != 0 {
		t.Fatalf("Evaluate = %v, %v; want no violation and no error", vs, err)
	}
	// With A still known, reuse is caught.
	vs, err = pol.Evaluate(ctx, pepperHasher(&b, a), "Old-Passw0rd!", Subject{UserName: "u", CurrentHash: old}, CheckOptions{AdminReset: true})
	if err != nil || len(vs) != 1 || vs[0].Rule != RuleSameAsCurrent {
		t.Fatalf("Evaluate = %v, %v; want same_as_current", vs, err)
	}
}

// BenchmarkPepper compares, in one run and at the same parameters, a bare
// argon2.IDKey, Hasher.Hash without and with a pepper, and Verify and
// DummyVerify with a pepper (which must cost the same). HMAC is the pepper
// step alone.
func BenchmarkPepper(b *testing.B) {
	a := Pepper{ID: "a", Secret: bytes.Repeat([]byte{1}, 32)}
	ctx := context.Background()
	pw := "Correct-Horse-1"
	b.Run("HMAC", func(b *testing.B) {
		for b.Loop() {
			pepperInput(a.Secret, pw)
		}
	})
	for _, pc := range []struct {
		name string
		p    Params
	}{{"default", DefaultParams()}, {"fast", fastParams}} {
		p := pc.p
		plain := NewHasher(p, 0, 0)
		peppered := NewHasher(p, 0, 0, WithPeppers(&a))
		b.Run(pc.name+"/IDKey", func(b *testing.B) {
			salt := make([]byte, p.SaltLen)
			rand.Read(salt)
			for b.Loop() {
				argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
			}
		})
		b.Run(pc.name+"/Hash", func(b *testing.B) {
			for b.Loop() {
				if _, err := plain.Hash(ctx, pw); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(pc.name+"/HashPepper", func(b *testing.B) {
			for b.Loop() {
				if _, err := peppered.Hash(ctx, pw); err != nil {
					b.Fatal(err)
				}
			}
		})
		phc, err := peppered.Hash(ctx, pw)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(pc.name+"/VerifyPepper", func(b *testing.B) {
			for b.Loop() {
				if ok, _, err := peppered.Verify(ctx, pw, phc); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run(pc.name+"/DummyVerifyPepper", func(b *testing.B) {
			for b.Loop() {
				if err := peppered.DummyVerify(ctx, pw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
