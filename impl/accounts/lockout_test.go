package accounts

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/audit/audittest"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/policies"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

// guarded is a fixture whose service counts password failures with a real
// lockout guard and reads real per-domain policies, all on one clock.
func guarded(t *testing.T, env storetest.DB, limit int) (*fixture, *lockout.Guard, *audittest.Recorder) {
	t.Helper()
	rec := &audittest.Recorder{}
	var pol *policies.Service
	var g *lockout.Guard
	f := newFixture(t, env, WithAudit(rec),
		// pol and g are made once the fixture has its database (bootstrap
		// runs before, on the defaults).
		WithPolicySource(func(ctx context.Context, d string) (passwords.Policy, error) {
			if pol == nil {
				return passwords.DefaultPolicy(), nil
			}
			return pol.Password(ctx, d)
		}),
		WithLockout(lockoutFunc(func(ctx context.Context, d, u string, k lockout.Kind, c func(context.Context) (bool, error)) (lockout.Outcome, error) {
			return g.Verify(ctx, d, u, k, c)
		})))
	pol = policies.New(f.db, quietLog(), policies.WithClock(f.clock.Now))
	g = lockout.New(f.db, pol, quietLog(), lockout.WithClock(f.clock.Now), lockout.WithAudit(rec))
	if _, err := pol.UpdateLogin(f.ctx, f.dom.ID, policies.LoginChange{LoginFailedTimes: &limit}); err != nil {
		t.Fatal(err)
	}
	return f, g, rec
}

type lockoutFunc func(ctx context.Context, domainID, userID string, kind lockout.Kind, check func(context.Context) (bool, error)) (lockout.Outcome, error)

func (f lockoutFunc) Verify(ctx context.Context, domainID, userID string, kind lockout.Kind, check func(context.Context) (bool, error)) (lockout.Outcome, error) {
	return f(ctx, domainID, userID, kind, check)
}

func TestAuthenticateLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f, g, rec := guarded(t, env, 3)
		u := f.mkUser(t, UserInput{Name: sp("lena"), Password: sp("Quartz-Key.77"), PwdStatus: bp(false)})
		ref := UserRef{ID: u.ID}
		for i := range 3 {
			_, _, err := f.svc.Authenticate(f.ctx, ref, "Wrong-Pass.1")
			e := fault.As(err)
			if e == nil || e.Reason != fault.WrongPassword || e.Remaining != 2-i {
				t.Fatalf("failure %d: %v (remaining %d)", i+1, err, e.Remaining)
			}
		}
		// Locked: even the right password is refused, with Retry-After.
		_, _, err := f.svc.Authenticate(f.ctx, ref, "Quartz-Key.77")
		if e := fault.As(err); e == nil || e.Reason != fault.Locked || e.RetryAfter < 14*time.Minute {
			t.Fatalf("locked user: %v", err)
		}
		// The lock is on the account password: change-password is refused too.
		wantReason(t, f.svc.ChangePassword(f.ctx, u.ID, "Quartz-Key.77", "Quartz-Key.88"), fault.Locked)
		// An HTTPS Git password lock is a different credential.
		if _, err := g.Verify(f.ctx, f.dom.ID, u.ID, lockout.KindHTTPS, func(context.Context) (bool, error) { return true, nil }); err != nil {
			t.Fatalf("https kind: %v", err)
		}
		f.clock.Advance(15 * time.Minute)
		if _, _, err := f.svc.Authenticate(f.ctx, ref, "Quartz-Key.77"); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		got := rec.Types()
		want := map[audit.Type]int{audit.VerificationFailed: 3, audit.CredentialLocked: 1}
		for _, ty := range got {
			want[ty]--
		}
		for ty, n := range want {
			if n != 0 {
				t.Errorf("audit %s off by %d: %v", ty, -n, got)
			}
		}
		// Unknown users are not counted (and cannot be locked).
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{Name: "nobody", DomainID: f.dom.ID}, "x"); !fault.Is(err, fault.WrongPassword) {
			t.Fatalf("unknown user: %v", err)
		}
	})
}

// Change-password's original counts toward the same lockout, and success
// resets it.
func TestChangePasswordLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f, _, rec := guarded(t, env, 3)
		u := f.mkUser(t, UserInput{Name: sp("mona"), Password: sp("Velvet-Key.77"), PwdStatus: bp(false)})
		for range 2 {
			wantReason(t, f.svc.ChangePassword(f.ctx, u.ID, "Wrong-Pass.1", "Velvet-Key.88"), fault.WrongPassword)
		}
		wantReason(t, f.svc.ChangePassword(f.ctx, u.ID, "Velvet-Key.77", "Velvet-Key.88"), "")
		// The success reset the counter: two more failures do not lock.
		for range 2 {
			wantReason(t, f.svc.ChangePassword(f.ctx, u.ID, "Wrong-Pass.1", "Velvet-Key.99"), fault.WrongPassword)
		}
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, "Velvet-Key.88"); err != nil {
			t.Fatalf("login: %v", err)
		}
		wantReason(t, f.svc.ResetPassword(f.ctx, f.dom.ID, u.ID, "Velvet-Key.99", true), "")
		n := map[audit.Type]int{}
		for _, ty := range rec.Types() {
			n[ty]++
		}
		if n[audit.PasswordChanged] != 1 || n[audit.PasswordReset] != 1 || n[audit.VerificationFailed] != 4 || n[audit.CredentialLocked] != 0 {
			t.Fatalf("audit = %v", n)
		}
	})
}

// 50 concurrent wrong passwords against one account through two service
// instances (two pools on one database): exactly login_failed_times of them
// are hashed and answered "wrong password"; every other one is refused as
// locked without hashing.
func TestAuthenticateConcurrentGuesses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		const limit, guesses = 5, 50
		f, _, _ := guarded(t, env, limit)
		u := f.mkUser(t, UserInput{Name: sp("nina"), Password: sp("Copper-Key.77"), PwdStatus: bp(false)})
		db2 := env.Open(t)
		pol2 := policies.New(db2, quietLog())
		g2 := lockout.New(db2, pol2, quietLog(), lockout.WithClock(f.clock.Now))
		svc2 := New(db2, passwords.NewHasher(fastParams, 4, 0), f.rev, quietLog(), WithClock(f.clock.Now),
			WithPolicySource(pol2.Password), WithLockout(g2))
		svcs := []*Service{f.svc, svc2}

		var wrong, locked atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range guesses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _, err := svcs[i%2].Authenticate(f.ctx, UserRef{ID: u.ID}, "Wrong-Pass.1")
				switch {
				case fault.Is(err, fault.WrongPassword):
					wrong.Add(1)
				case fault.Is(err, fault.Locked):
					locked.Add(1)
				default:
					t.Errorf("unexpected: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wrong.Load() != limit || locked.Load() != guesses-limit {
			t.Fatalf("wrong %d (hashed), locked %d; want %d and %d", wrong.Load(), locked.Load(), limit, guesses-limit)
		}
	})
}
