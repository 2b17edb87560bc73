package accounts

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
)

// fastParams keep argon2 cheap in tests.
var fastParams = passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// dbEnv is one database under test; open returns a new connection pool to
// the same database (a second "instance").
type dbEnv struct {
	name string
	open func(t *testing.T) *store.DB
}

// databases returns SQLite always and PostgreSQL when
// LATCHKEY_TEST_POSTGRES_DSN is set; each test gets a fresh, migrated
// database (a temp file, or its own schema).
func databases(t *testing.T) []dbEnv {
	t.Helper()
	envs := []dbEnv{{name: "sqlite", open: sqliteEnv(t)}}
	if dsn := os.Getenv("LATCHKEY_TEST_POSTGRES_DSN"); dsn != "" {
		envs = append(envs, dbEnv{name: "postgres", open: postgresEnv(t, dsn)})
	}
	return envs
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func sqliteEnv(t *testing.T) func(t *testing.T) *store.DB {
	var once sync.Once
	var dsn string
	return func(tt *testing.T) *store.DB {
		tt.Helper()
		once.Do(func() { dsn = "sqlite:" + filepath.Join(tt.TempDir(), "t.db") })
		return openMigrated(tt, dsn)
	}
}

func postgresEnv(t *testing.T, dsn string) func(t *testing.T) *store.DB {
	var once sync.Once
	var schemaDSN string
	return func(tt *testing.T) *store.DB {
		tt.Helper()
		once.Do(func() {
			ctx := context.Background()
			admin, err := store.Open(ctx, dsn, quietLog())
			if err != nil {
				tt.Fatalf("open postgres: %v", err)
			}
			schema := "lk_" + NewID()[:16]
			if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
				tt.Fatalf("create schema: %v", err)
			}
			tt.Cleanup(func() {
				if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
					tt.Errorf("drop schema %s: %v", schema, err)
				}
				_ = admin.Close()
			})
			u, err := url.Parse(dsn)
			if err != nil {
				tt.Fatalf("parse dsn: %v", err)
			}
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			schemaDSN = u.String()
		})
		return openMigrated(tt, schemaDSN)
	}
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

// eachDB runs f as a subtest per database, each with a fresh database.
func eachDB(t *testing.T, f func(t *testing.T, env dbEnv)) {
	t.Helper()
	for _, env := range databases(t) {
		t.Run(env.name, func(t *testing.T) { f(t, env) })
	}
}

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

// clock is a settable time source.
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

// fixture is a service over a fresh database with one bootstrapped domain.
type fixture struct {
	db    *store.DB
	svc   *Service
	rev   *fakeRevoker
	clock *clock
	dom   store.Domain
	owner store.User
	ctx   context.Context
}

const ownerPassword = "Own3r-Secret.9"

func newFixture(t *testing.T, env dbEnv, opts ...Option) *fixture {
	t.Helper()
	db := env.open(t)
	f := &fixture{db: db, rev: &fakeRevoker{}, ctx: context.Background(),
		clock: &clock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}}
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
