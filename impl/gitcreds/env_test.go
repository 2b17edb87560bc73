package gitcreds

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
)

// fastParams keep argon2 cheap in tests.
var fastParams = passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// eachDB runs f per database with a fresh, migrated one: SQLite always,
// PostgreSQL (own schema) when LATCHKEY_TEST_POSTGRES_DSN is set.
func eachDB(t *testing.T, f func(t *testing.T, open func(t *testing.T) *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "t.db")
		f(t, func(t *testing.T) *store.DB { return openMigrated(t, dsn) })
	})
	pg := os.Getenv("LATCHKEY_TEST_POSTGRES_DSN")
	if pg == "" {
		return
	}
	t.Run("postgres", func(t *testing.T) {
		dsn := pgSchema(t, pg)
		f(t, func(t *testing.T) *store.DB { return openMigrated(t, dsn) })
	})
}

// pgSchema creates a schema for this test (dropped at cleanup) and returns a
// DSN whose search_path points at it.
func pgSchema(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := store.Open(ctx, dsn, quietLog())
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	schema := "lk_" + accounts.NewID()[:16]
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse dsn: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openMigrated(t *testing.T, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, quietLog())
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// clock is a settable time source shared by accounts and gitcreds.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture: accounts and gitcreds over a fresh database with one domain.
type fixture struct {
	db     *store.DB
	hasher *passwords.Hasher
	accts  *accounts.Service
	svc    *Service
	clock  *clock
	dom    store.Domain
	owner  store.User
	ctx    context.Context
}

const ownerPassword = "Own3r-Secret.9"

func newFixture(t *testing.T, open func(t *testing.T) *store.DB, opts ...accounts.Option) *fixture {
	t.Helper()
	f := &fixture{db: open(t), ctx: context.Background(),
		hasher: passwords.NewHasher(fastParams, 4, 0),
		clock:  &clock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}}
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
