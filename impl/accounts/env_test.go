package accounts

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
	"github.com/latchkey/latchkey/impl/testclock"
)

// fastParams keep argon2 cheap in tests.
var fastParams = passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// revocation is one recorded RevokeUser call.
type revocation struct {
	UserID string
	At     time.Time
}

// fakeRevoker records RevokeUser calls (token revocation is another package).
type fakeRevoker struct {
	mu    sync.Mutex
	calls []revocation
	err   error
}

func (r *fakeRevoker) RevokeUser(_ context.Context, userID string, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, revocation{userID, at})
	return r.err
}

func (r *fakeRevoker) count(userID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c.UserID == userID {
			n++
		}
	}
	return n
}

// fixture is a service over a fresh database with one bootstrapped domain.
type fixture struct {
	db    *store.DB
	svc   *Service
	rev   *fakeRevoker
	clock *testclock.Clock
	dom   store.Domain
	owner store.User
	ctx   context.Context
}

const ownerPassword = "Own3r-Secret.9"

func newFixture(t *testing.T, env storetest.DB, opts ...Option) *fixture {
	t.Helper()
	db := env.Open(t)
	f := &fixture{db: db, rev: &fakeRevoker{}, ctx: context.Background(),
		clock: testclock.New(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))}
	opts = append([]Option{WithClock(f.clock.Now)}, opts...)
	f.svc = New(db, passwords.NewHasher(fastParams, 4, 0), f.rev, quietLog(), opts...)
	res, err := f.svc.Bootstrap(f.ctx, "acme", "admin", ownerPassword)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	f.dom, f.owner = res.Domain, res.Admin
	return f
}

// mkUser creates a user in the fixture's domain or fails the test.
func (f *fixture) mkUser(t *testing.T, in UserInput) *store.User {
	t.Helper()
	u, err := f.svc.CreateUser(f.ctx, f.dom.ID, in)
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

func sp(s string) *string { return &s }
func bp(b bool) *bool     { return &b }

// wantReason fails unless err is a *fault.Error with reason want (nil want:
// err must be nil).
func wantReason(t *testing.T, err error, want fault.Reason) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !fault.Is(err, want) {
		t.Fatalf("error = %v, want reason %s", err, want)
	}
}
