package gitcreds

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
	"github.com/latchkey/latchkey/impl/testclock"
)

// fastParams keep argon2 cheap in tests.
var fastParams = passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fixture: accounts and gitcreds over a fresh database with one domain.
type fixture struct {
	db     *store.DB
	hasher *passwords.Hasher
	accts  *accounts.Service
	svc    *Service
	clock  *testclock.Clock
	dom    store.Domain
	owner  store.User
	ctx    context.Context
}

const ownerPassword = "Own3r-Secret.9"

func newFixture(t *testing.T, env storetest.DB, opts ...accounts.Option) *fixture {
	t.Helper()
	f := &fixture{db: env.Open(t), ctx: context.Background(),
		hasher: passwords.NewHasher(fastParams, 4, 0),
		clock:  testclock.New(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))}
	opts = append([]accounts.Option{accounts.WithClock(f.clock.Now)}, opts...)
	f.accts = accounts.New(f.db, f.hasher, nil, quietLog(), opts...)
	f.svc = New(f.db, f.accts, f.hasher, quietLog(), WithClock(f.clock.Now))
	res, err := f.accts.Bootstrap(f.ctx, "acme", "admin", ownerPassword)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	f.dom, f.owner = res.Domain, res.Admin
	return f
}

// mkUser creates a user with password pw who need not change it.
func (f *fixture) mkUser(t *testing.T, name, pw string) *store.User {
	t.Helper()
	no := false
	u, err := f.accts.CreateUser(f.ctx, f.dom.ID, accounts.UserInput{Name: &name, Password: &pw, PwdStatus: &no})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

// row returns the user's credential row (nil if none).
func (f *fixture) row(t *testing.T, userID string) *store.HTTPSCredential {
	t.Helper()
	c, err := f.svc.credential(f.ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantReason fails unless err carries reason want ("" = nil error).
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
