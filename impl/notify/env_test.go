package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/store"
)

// dbEnv is one database under test; open returns a new pool on it.
type dbEnv struct {
	name string
	open func(t testing.TB) *store.DB
}

// databases returns SQLite always and PostgreSQL when
// LATCHKEY_TEST_POSTGRES_DSN is set; open gives a fresh database per env
// (and, called again, another pool on the same one).
func databases() []dbEnv {
	envs := []dbEnv{{name: "sqlite", open: sqliteEnv()}}
	if dsn := os.Getenv("LATCHKEY_TEST_POSTGRES_DSN"); dsn != "" {
		envs = append(envs, dbEnv{name: "postgres", open: postgresEnv(dsn)})
	}
	return envs
}

// eachDB runs f as a subtest per database.
func eachDB(t *testing.T, f func(t *testing.T, env dbEnv)) {
	t.Helper()
	for _, env := range databases() {
		t.Run(env.name, func(t *testing.T) { f(t, env) })
	}
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sqliteEnv() func(t testing.TB) *store.DB {
	var once sync.Once
	var dsn string
	return func(t testing.TB) *store.DB {
		t.Helper()
		once.Do(func() { dsn = "sqlite:" + filepath.Join(t.TempDir(), "t.db") })
		return openMigrated(t, dsn)
	}
}

func postgresEnv(dsn string) func(t testing.TB) *store.DB {
	var once sync.Once
	var schemaDSN string
	return func(t testing.TB) *store.DB {
		t.Helper()
		once.Do(func() {
			ctx := context.Background()
			admin, err := store.Open(ctx, dsn, quietLog())
			if err != nil {
				t.Fatalf("open postgres: %v", err)
			}
			schema := "lk_" + randHex(8)
			if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
				t.Fatalf("create schema: %v", err)
			}
			t.Cleanup(func() {
				_ = admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error
				_ = admin.Close()
			})
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatalf("parse dsn: %v", err)
			}
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			schemaDSN = u.String()
		})
		return openMigrated(t, schemaDSN)
	}
}

func openMigrated(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, quietLog())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
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
