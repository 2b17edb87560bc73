package mfa

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/policies"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
	"github.com/latchkey/latchkey/impl/testclock"
)

// fixture is a Service on a fresh database with one domain and its users.
type fixture struct {
	db    *store.DB
	svc   *Service
	clock *testclock.Clock
	dom   store.Domain
	ctx   context.Context
}

func newFixture(t testing.TB, env storetest.DB, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{db: env.Open(t), clock: testclock.New(time.Date(2026, 11, 22, 12, 0, 10, 0, time.UTC)), ctx: context.Background()}
	f.dom = store.Domain{ID: randHex(16), Name: "acme-" + randHex(3)}
	if err := f.db.Create(&f.dom).Error; err != nil {
		t.Fatal(err)
	}
	f.svc = New(f.db, quietLog(), Config{}, append([]Option{WithClock(f.clock.Now)}, opts...)...)
	return f
}

func (f *fixture) user(t testing.TB, name string, mut ...func(*store.User)) *store.User {
	t.Helper()
	u := &store.User{ID: randHex(16), DomainID: f.dom.ID, Name: name, Enabled: true, Role: "user", AccessMode: "default"}
	for _, m := range mut {
		m(u)
	}
	if err := f.db.Create(u).Error; err != nil {
		t.Fatal(err)
	}
	return u
}

// code is the device code of the fixture's clock, offset by steps.
func (f *fixture) code(t testing.TB, secret string, steps int64) string {
	t.Helper()
	c, err := CodeAt(secret, Step(f.clock.Now())+steps)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) protect(t testing.TB, userID, method string, enabled bool) {
	t.Helper()
	lp := store.LoginProtect{UserID: userID, DomainID: f.dom.ID, Enabled: enabled, VerificationMethod: method, UpdatedAt: time.Now()}
	if err := f.db.Save(&lp).Error; err != nil {
		t.Fatal(err)
	}
}

// bound creates and binds a device for u and returns its key.
func (f *fixture) bound(t testing.TB, u *store.User, name string) *Created {
	t.Helper()
	c, err := f.svc.Create(f.ctx, f.dom.ID, u.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Bind(f.ctx, f.dom.ID, u.ID, c.Device.SerialNumber, f.code(t, c.Device.Secret, 0), f.code(t, c.Device.Secret, 1)); err != nil {
		t.Fatal(err)
	}
	// The bind used this step and the next: move past them and the skew.
	f.clock.Advance(3 * Period * time.Second)
	return c
}

func wantReason(t testing.TB, err error, r fault.Reason) {
	t.Helper()
	if r == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !fault.Is(err, r) {
		t.Fatalf("error %v, want reason %s", err, r)
	}
}

func TestCreate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		alice := f.user(t, "alice")
		c, err := f.svc.Create(f.ctx, f.dom.ID, alice.ID, "alice-phone")
		if err != nil {
			t.Fatal(err)
		}
		if want := "iam:" + f.dom.ID + ":mfa/alice-phone"; c.Device.SerialNumber != want {
			t.Errorf("serial %q, want %q", c.Device.SerialNumber, want)
		}
		raw, err := b32.DecodeString(c.Device.Secret)
		if err != nil || len(raw) != 20 || strings.ToUpper(c.Device.Secret) != c.Device.Secret {
			t.Errorf("secret %q: %d bytes, %v", c.Device.Secret, len(raw), err)
		}
		u, err := url.Parse(c.URI)
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/latchkey:"+f.dom.Name+"@alice" {
			t.Errorf("uri %q (%v)", c.URI, err)
		}
		q := u.Query()
		for k, v := range map[string]string{"secret": c.Device.Secret, "issuer": "latchkey", "algorithm": "SHA1", "digits": "6", "period": "30"} {
			if q.Get(k) != v {
				t.Errorf("uri %s = %q, want %q", k, q.Get(k), v)
			}
		}
		if !bytes.HasPrefix(c.QRCodePNG, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("QR code is not a PNG")
		}
		if c.Device.Bound {
			t.Error("new device is bound")
		}

		// An unbound device is replaced: a new key, one row.
		c2, err := f.svc.Create(f.ctx, f.dom.ID, alice.ID, "alice-tablet")
		if err != nil {
			t.Fatal(err)
		}
		if c2.Device.Secret == c.Device.Secret {
			t.Error("replacement kept the key")
		}
		var n int64
		f.db.Model(&store.MFADevice{}).Where("user_id = ?", alice.ID).Count(&n)
		if n != 1 {
			t.Errorf("%d devices after replacement", n)
		}
		// The old serial is gone.
		wantReason(t, f.svc.Bind(f.ctx, f.dom.ID, alice.ID, c.Device.SerialNumber, f.code(t, c.Device.Secret, 0), f.code(t, c.Device.Secret, 1)), fault.NotFound)

		// Names are unique per domain.
		bob := f.user(t, "bob")
		_, err = f.svc.Create(f.ctx, f.dom.ID, bob.ID, "alice-tablet")
		wantReason(t, err, fault.Conflict)
		// Bad names, unknown and foreign users.
		_, err = f.svc.Create(f.ctx, f.dom.ID, bob.ID, "bad\nname")
		wantReason(t, err, fault.PropertyInvalid)
		_, err = f.svc.Create(f.ctx, f.dom.ID, bob.ID, strings.Repeat("x", 65))
		wantReason(t, err, fault.PropertyInvalid)
		_, err = f.svc.Create(f.ctx, f.dom.ID, randHex(16), "x")
		wantReason(t, err, fault.UserNotFound)
		_, err = f.svc.Create(f.ctx, randHex(16), bob.ID, "x")
		wantReason(t, err, fault.UserNotFound)

		// A bound device blocks a new one.
		f.bound(t, bob, "bob-phone")
		_, err = f.svc.Create(f.ctx, f.dom.ID, bob.ID, "bob-2")
		wantReason(t, err, fault.Conflict)
	})
}

func TestBind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.user(t, "carol")
		c, err := f.svc.Create(f.ctx, f.dom.ID, u.ID, "carol-phone")
		if err != nil {
			t.Fatal(err)
		}
		sec, serial := c.Device.Secret, c.Device.SerialNumber
		cases := []struct {
			name          string
			serial        string
			first, second string
			want          fault.Reason
		}{
			{"wrong serial", serial + "x", f.code(t, sec, 0), f.code(t, sec, 1), fault.NotFound},
			{"malformed", serial, "12345", f.code(t, sec, 1), fault.TOTPInvalid},
			{"wrong first", serial, "000000", f.code(t, sec, 1), fault.TOTPInvalid},
			{"reversed", serial, f.code(t, sec, 1), f.code(t, sec, 0), fault.TOTPInvalid},
			{"same code twice", serial, f.code(t, sec, 0), f.code(t, sec, 0), fault.TOTPInvalid},
			{"not consecutive", serial, f.code(t, sec, -1), f.code(t, sec, 1), fault.TOTPInvalid},
			{"too old", serial, f.code(t, sec, -3), f.code(t, sec, -2), fault.TOTPInvalid},
			{"previous and current", serial, f.code(t, sec, -1), f.code(t, sec, 0), ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantReason(t, f.svc.Bind(f.ctx, f.dom.ID, u.ID, tc.serial, tc.first, tc.second), tc.want)
			})
		}
		d, err := f.svc.Show(f.ctx, f.dom.ID, u.ID)
		if err != nil || !d.Bound || d.BoundAt == 0 {
			t.Fatalf("after bind: %+v %v", d, err)
		}
		// Bound already.
		wantReason(t, f.svc.Bind(f.ctx, f.dom.ID, u.ID, serial, f.code(t, sec, 0), f.code(t, sec, 1)), fault.Conflict)
		// The codes the bind used are spent.
		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, f.code(t, sec, -1)), fault.TOTPInvalid)
		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, f.code(t, sec, 0)), fault.TOTPInvalid)
		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, f.code(t, sec, 1)), "")
	})
}

func TestVerifyTOTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.user(t, "dave")
		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, "123456"), fault.TOTPInvalid) // no device
		c, _ := f.svc.Create(f.ctx, f.dom.ID, u.ID, "dave-phone")
		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, f.code(t, c.Device.Secret, 0)), fault.TOTPInvalid) // not bound
		f.bound(t, u, "dave-phone")
		d, _ := f.svc.Show(f.ctx, f.dom.ID, u.ID)
		sec := d.Secret

		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, "abcdef"), fault.TOTPInvalid)
		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, ""), fault.TOTPInvalid)
		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, f.code(t, sec, 2)), fault.TOTPInvalid)  // beyond the skew
		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, f.code(t, sec, -2)), fault.TOTPInvalid) // beyond the skew
		for _, st := range []int64{-1, 0, 1} {
			code := f.code(t, sec, st)
			wantReason(t, f.svc.VerifyTOTP(f.ctx, u, code), "")
			wantReason(t, f.svc.VerifyTOTP(f.ctx, u, code), fault.TOTPInvalid) // replay
		}
		// A minute later the steps used are out of the window and their rows
		// are cleaned up.
		f.clock.Advance(3 * Period * time.Second)
		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, f.code(t, sec, 0)), "")
		var n int64
		f.db.Model(&store.MFAUsedCode{}).Where("user_id = ?", u.ID).Count(&n)
		if n > 3 {
			t.Errorf("%d used steps kept", n)
		}
	})
}

// One code, verified at once on two instances: exactly one succeeds.
func TestVerifyTOTPReplayAcrossInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.user(t, "erin")
		f.bound(t, u, "erin-phone")
		d, _ := f.svc.Show(f.ctx, f.dom.ID, u.ID)
		other := New(env.Open(t), quietLog(), Config{}, WithClock(f.clock.Now))
		for round := range 5 {
			code := f.code(t, d.Secret, int64(round%3)-1)
			var ok atomic.Int32
			var wg sync.WaitGroup
			for i := range 8 {
				svc := f.svc
				if i%2 == 1 {
					svc = other
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := svc.VerifyTOTP(f.ctx, u, code); err == nil {
						ok.Add(1)
					} else if !fault.Is(err, fault.TOTPInvalid) {
						t.Errorf("verify: %v", err)
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 1 {
				t.Fatalf("round %d: %d verifications succeeded, want 1", round, ok.Load())
			}
			if round%3 == 2 {
				f.clock.Advance(3 * Period * time.Second)
			}
		}
	})
}

func TestUnbindAndDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.user(t, "fred")
		c := f.bound(t, u, "fred-phone")
		serial, sec := c.Device.SerialNumber, c.Device.Secret

		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, serial, "12345", true), fault.TOTPInvalid)
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, serial, "12345", false), fault.TOTPInvalid) // admin: 6 digits still
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, serial+"x", f.code(t, sec, 0), true), fault.NotFound)
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, randHex(16), serial, "000000", false), fault.UserNotFound)
		// Login protection by vmfa depends on it.
		f.protect(t, u.ID, MethodVMFA, true)
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, serial, f.code(t, sec, 0), true), fault.MFABound)
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, serial, "000000", false), fault.MFABound)
		wantReason(t, f.svc.Delete(f.ctx, f.dom.ID, u.ID, serial), fault.MFABound)
		// Switched off (or to another method), it may go.
		f.protect(t, u.ID, MethodVMFA, false)
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, serial, "000000", true), fault.TOTPInvalid) // wrong code
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, serial, f.code(t, sec, 0), true), "")
		_, err := f.svc.Show(f.ctx, f.dom.ID, u.ID)
		wantReason(t, err, fault.NotFound)
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, serial, "000000", false), fault.NotFound)

		// Admin unbind: the code is not checked.
		c = f.bound(t, u, "fred-phone")
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, c.Device.SerialNumber, "000000", false), "")

		// Not bound: unbind is a conflict, delete works.
		c, _ = f.svc.Create(f.ctx, f.dom.ID, u.ID, "fred-phone")
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, c.Device.SerialNumber, "000000", false), fault.Conflict)
		wantReason(t, f.svc.Delete(f.ctx, f.dom.ID, u.ID, c.Device.SerialNumber+"x"), fault.NotFound)
		f.protect(t, u.ID, MethodVMFA, true) // an unbound device protects nothing
		wantReason(t, f.svc.Delete(f.ctx, f.dom.ID, u.ID, c.Device.SerialNumber), "")
		wantReason(t, f.svc.Delete(f.ctx, f.dom.ID, u.ID, c.Device.SerialNumber), fault.NotFound)
	})
}

func TestListShow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		a, b, none := f.user(t, "gus"), f.user(t, "hal"), f.user(t, "ivy")
		f.bound(t, a, "gus-phone")
		if _, err := f.svc.Create(f.ctx, f.dom.ID, b.ID, "hal-phone"); err != nil {
			t.Fatal(err)
		}
		// Another domain's device never shows.
		g := newFixture(t, env)
		stranger := g.user(t, "stranger")
		if _, err := g.svc.Create(g.ctx, g.dom.ID, stranger.ID, "x"); err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.List(f.ctx, f.dom.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("list %+v %v", list, err)
		}
		if list[0].UserID > list[1].UserID {
			t.Error("list not ordered by user id")
		}
		if d, err := f.svc.Show(f.ctx, f.dom.ID, b.ID); err != nil || d.SerialNumber != Serial(f.dom.ID, "hal-phone") || d.Bound {
			t.Errorf("show %+v %v", d, err)
		}
		_, err = f.svc.Show(f.ctx, f.dom.ID, none.ID)
		wantReason(t, err, fault.NotFound)
		_, err = f.svc.Show(f.ctx, f.dom.ID, stranger.ID)
		wantReason(t, err, fault.UserNotFound)
		if ok, _ := f.svc.HasBoundDevice(f.ctx, a.ID); !ok {
			t.Error("a has a bound device")
		}
		if ok, _ := f.svc.HasBoundDevice(f.ctx, b.ID); ok {
			t.Error("b has no bound device")
		}
	})
}

// Wrong codes count toward the lockout, on their own counter.
func TestTOTPLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		db := f.db
		pols := policies.New(db, quietLog())
		limit := 3
		if _, err := pols.UpdateLogin(f.ctx, f.dom.ID, policies.LoginChange{LoginFailedTimes: &limit}); err != nil {
			t.Fatal(err)
		}
		guard := lockout.New(db, pols, quietLog(), lockout.WithClock(f.clock.Now))
		f.svc = New(db, quietLog(), Config{}, WithClock(f.clock.Now), WithLockout(guard))
		u := f.user(t, "jay")
		c := f.bound(t, u, "jay-phone")
		for range limit {
			wantReason(t, f.svc.VerifyTOTP(f.ctx, u, "000000"), fault.TOTPInvalid)
		}
		// Locked: even the right code is refused.
		wantReason(t, f.svc.VerifyTOTP(f.ctx, u, f.code(t, c.Device.Secret, 0)), fault.Locked)
		st, err := guard.Status(f.ctx, u.ID, lockout.KindTOTP)
		if err != nil || !st.Locked {
			t.Fatalf("status %+v %v", st, err)
		}
		if pw, _ := guard.Status(f.ctx, u.ID, lockout.KindPassword); pw.Locked || pw.Failures != 0 {
			t.Errorf("the password counter moved: %+v", pw)
		}
	})
}
