package lockout

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/audit/audittest"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/policies"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
	"github.com/latchkey/latchkey/impl/testclock"
)

// fixture is a Guard on a fresh database whose domain allows limit failures
// in 15 minutes and locks for 20.
type fixture struct {
	db    *store.DB
	pol   *policies.Service
	g     *Guard
	clock *testclock.Clock
	rec   *audittest.Recorder
	dom   string
	ctx   context.Context
}

func newFixture(t testing.TB, env storetest.DB, limit int) *fixture {
	t.Helper()
	f := &fixture{db: env.Open(t), clock: testclock.New(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)),
		rec: &audittest.Recorder{}, dom: randHex(16), ctx: context.Background()}
	f.pol = policies.New(f.db, quietLog())
	if _, err := f.pol.UpdateLogin(f.ctx, f.dom, policies.LoginChange{LoginFailedTimes: &limit, LockoutDuration: ptr(20)}); err != nil {
		t.Fatal(err)
	}
	f.g = New(f.db, f.pol, quietLog(), WithClock(f.clock.Now), WithAudit(f.rec))
	return f
}

func ptr[T any](v T) *T { return &v }

func wrong(context.Context) (bool, error) { return false, nil }
func right(context.Context) (bool, error) { return true, nil }

func (f *fixture) verify(t *testing.T, user string, kind Kind, check func(context.Context) (bool, error)) (Outcome, error) {
	t.Helper()
	return f.g.Verify(f.ctx, f.dom, user, kind, check)
}

func wantLocked(t *testing.T, err error, minWait time.Duration) {
	t.Helper()
	e := fault.As(err)
	if e == nil || e.Reason != fault.Locked {
		t.Fatalf("error = %v, want locked", err)
	}
	if e.RetryAfter < minWait || e.Remaining != 0 {
		t.Fatalf("RetryAfter = %v (want >= %v), Remaining = %d", e.RetryAfter, minWait, e.Remaining)
	}
}

func TestLockAfterLimitAndUnlockByTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env, 3)
		user := randHex(16)
		for i, wantRemaining := range []int{2, 1} {
			out, err := f.verify(t, user, KindPassword, wrong)
			if err != nil || out.OK || out.Locked || out.Remaining != wantRemaining {
				t.Fatalf("failure %d: %+v %v", i+1, out, err)
			}
		}
		out, err := f.verify(t, user, KindPassword, wrong)
		if err != nil || !out.Locked || !out.LockedUntil.Equal(f.clock.Now().Add(20*time.Minute)) {
			t.Fatalf("third failure: %+v %v", out, err)
		}
		// Locked: refused without calling the check, even with the right password.
		called := false
		_, err = f.verify(t, user, KindPassword, func(context.Context) (bool, error) { called = true; return true, nil })
		wantLocked(t, err, 19*time.Minute)
		if called {
			t.Fatal("check ran while locked")
		}
		st, err := f.g.Status(f.ctx, user, KindPassword)
		if err != nil || !st.Locked {
			t.Fatalf("status = %+v %v", st, err)
		}
		if f.rec.Count(audit.VerificationFailed) != 3 || f.rec.Count(audit.CredentialLocked) != 1 {
			t.Fatalf("audit: %+v", f.rec.Events())
		}

		f.clock.Advance(20*time.Minute - time.Second)
		_, err = f.verify(t, user, KindPassword, right)
		wantLocked(t, err, time.Second)
		f.clock.Advance(time.Second)
		if out, err := f.verify(t, user, KindPassword, right); err != nil || !out.OK {
			t.Fatalf("after the lock: %+v %v", out, err)
		}
		// The budget is whole again.
		if out, _ := f.verify(t, user, KindPassword, wrong); out.Remaining != 2 {
			t.Fatalf("after unlock: %+v", out)
		}
	})
}

func TestSuccessResetsAndWindowExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env, 3)
		user := randHex(16)
		for range 2 {
			f.verify(t, user, KindPassword, wrong)
		}
		if out, err := f.verify(t, user, KindPassword, right); err != nil || !out.OK {
			t.Fatalf("success: %+v %v", out, err)
		}
		for range 2 {
			if out, err := f.verify(t, user, KindPassword, wrong); err != nil || out.Locked {
				t.Fatalf("success did not reset: %+v %v", out, err)
			}
		}
		// Failures older than the window no longer count.
		f.clock.Advance(15 * time.Minute)
		for i := range 2 {
			if out, err := f.verify(t, user, KindPassword, wrong); err != nil || out.Locked || out.Remaining != 2-i {
				t.Fatalf("window did not expire: %+v %v", out, err)
			}
		}
		if out, _ := f.verify(t, user, KindPassword, wrong); !out.Locked {
			t.Fatalf("third failure in the window: %+v", out)
		}
	})
}

func TestKindsAreSeparate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env, 3)
		user, other := randHex(16), randHex(16)
		for range 3 {
			f.verify(t, user, KindHTTPS, wrong)
		}
		_, err := f.verify(t, user, KindHTTPS, right)
		wantLocked(t, err, time.Minute)
		// An HTTPS Git password guesser cannot lock the console login ...
		if out, err := f.verify(t, user, KindPassword, right); err != nil || !out.OK {
			t.Fatalf("password locked by https failures: %+v %v", out, err)
		}
		// ... nor anyone else.
		if out, err := f.verify(t, other, KindHTTPS, right); err != nil || !out.OK {
			t.Fatalf("other user: %+v %v", out, err)
		}
	})
}

func TestAbandonGivesTheAttemptBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env, 3)
		user := randHex(16)
		overloaded := errors.New("hashing overloaded")
		for range 5 {
			_, err := f.verify(t, user, KindPassword, func(context.Context) (bool, error) { return false, overloaded })
			if !errors.Is(err, overloaded) {
				t.Fatalf("err = %v", err)
			}
		}
		if out, err := f.verify(t, user, KindPassword, wrong); err != nil || out.Remaining != 2 {
			t.Fatalf("abandoned attempts counted: %+v %v", out, err)
		}
	})
}

// Attempts whose outcome is never recorded (an instance died mid-hash) stay
// counted until the window ends: they fail safe.
func TestUnfinishedAttemptsFailSafe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env, 3)
		user := randHex(16)
		for range 3 {
			if _, err := f.g.Begin(f.ctx, f.dom, user, KindPassword); err != nil {
				t.Fatal(err)
			}
		}
		// Refused, with a short Retry-After: in the usual case in-flight
		// attempts end within one hash.
		_, err := f.g.Begin(f.ctx, f.dom, user, KindPassword)
		wantLocked(t, err, time.Second)
		f.clock.Advance(14 * time.Minute)
		_, err = f.g.Begin(f.ctx, f.dom, user, KindPassword)
		wantLocked(t, err, time.Second) // still refused: fail safe
		f.clock.Advance(time.Minute)
		tk, err := f.g.Begin(f.ctx, f.dom, user, KindPassword)
		if err != nil {
			t.Fatalf("after the window: %v", err)
		}
		tk.Success(f.ctx)
		tk.Failure(f.ctx) // a second outcome is ignored
		if st, _ := f.g.Status(f.ctx, user, KindPassword); st.Failures != 0 || st.Locked {
			t.Fatalf("status = %+v", st)
		}
	})
}

// A failure is counted even when the client has gone away.
func TestFailureCountsAfterCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env, 3)
		user := randHex(16)
		ctx, cancel := context.WithCancel(f.ctx)
		tk, err := f.g.Begin(ctx, f.dom, user, KindPassword)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if out := tk.Failure(ctx); out.Remaining != 2 {
			t.Fatalf("outcome = %+v", out)
		}
		if st, _ := f.g.Status(f.ctx, user, KindPassword); st.Failures != 1 {
			t.Fatalf("status = %+v", st)
		}
	})
}

// 50 concurrent wrong guesses against one account through two instances
// (two Guards on two connection pools of one database) verify at most
// login_failed_times passwords; every other guess is refused before hashing.
func TestConcurrentGuessesAcrossInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		const limit, guesses = 5, 50
		f := newFixture(t, env, limit)
		second := New(env.Open(t), policies.New(env.Open(t), quietLog()), quietLog(), WithClock(f.clock.Now))
		guards := []*Guard{f.g, second}
		user := randHex(16)

		var hashed, locked atomic.Int32
		// The counting verifier: a wrong password that takes a while to hash.
		verifier := func(context.Context) (bool, error) {
			hashed.Add(1)
			time.Sleep(5 * time.Millisecond)
			return false, nil
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, guesses)
		for i := range guesses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := guards[i%2].Verify(f.ctx, f.dom, user, KindPassword, verifier)
				if fault.Is(err, fault.Locked) {
					locked.Add(1)
				} else if err != nil {
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := hashed.Load(); n != limit {
			t.Fatalf("%d passwords verified, want exactly %d", n, limit)
		}
		if n := locked.Load(); n != guesses-limit {
			t.Fatalf("%d refused as locked, want %d", n, guesses-limit)
		}
		if st, _ := second.Status(f.ctx, user, KindPassword); !st.Locked {
			t.Fatalf("not locked after %d failures: %+v", limit, st)
		}
		if f.rec.Count(audit.CredentialLocked)+0 > 1 {
			t.Fatalf("locked more than once: %d", f.rec.Count(audit.CredentialLocked))
		}
	})
}

func TestNilGuard(t *testing.T) {
	var g *Guard
	out, err := g.Verify(context.Background(), "d", "u", KindPassword, right)
	if err != nil || !out.OK {
		t.Fatalf("%+v %v", out, err)
	}
}

// A login policy change applies to the next attempt; a lock already set
// keeps its end.
func TestPolicyChangeApplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env, 5)
		user, other := randHex(16), randHex(16)
		for range 3 {
			f.verify(t, user, KindPassword, wrong)
		}
		if _, err := f.pol.UpdateLogin(f.ctx, f.dom, policies.LoginChange{LoginFailedTimes: ptr(3)}); err != nil {
			t.Fatal(err)
		}
		// Three failures are already counted: the lower limit refuses at once.
		_, err := f.verify(t, user, KindPassword, right)
		wantLocked(t, err, time.Minute)

		// A lock set under a short duration keeps its end when the duration grows.
		for range 3 {
			f.verify(t, other, KindPassword, wrong)
		}
		if _, err := f.pol.UpdateLogin(f.ctx, f.dom, policies.LoginChange{LockoutDuration: ptr(30), LoginFailedTimes: ptr(10)}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(20 * time.Minute)
		if out, err := f.verify(t, other, KindPassword, right); err != nil || !out.OK {
			t.Fatalf("lock outlived its end: %+v %v", out, err)
		}
	})
}
