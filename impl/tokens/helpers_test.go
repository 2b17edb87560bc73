package tokens

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/store"
)

// testDB is one fresh, migrated database; open returns another connection
// pool to it (as another latchkey instance would have).
type testDB struct {
	dialect string
	open    func(t testing.TB) *store.DB
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// eachDB runs fn against SQLite and, when LATCHKEY_TEST_POSTGRES_DSN is set,
// PostgreSQL; every call gets a database of its own.
func eachDB(t *testing.T, fn func(t *testing.T, db testDB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newSQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("LATCHKEY_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("LATCHKEY_TEST_POSTGRES_DSN not set")
		}
		fn(t, newPostgres(t, dsn))
	})
}

func newSQLite(t testing.TB) testDB {
	path := filepath.Join(t.TempDir(), "t.db")
	tdb := testDB{dialect: "sqlite", open: func(t testing.TB) *store.DB {
		return openStore(t, "sqlite:"+path)
	}}
	migrate(t, tdb.open(t))
	return tdb
}

// newPostgres creates a schema of its own for the test and drops it after.
func newPostgres(t testing.TB, dsn string) testDB {
	ctx := context.Background()
	admin, err := store.Open(ctx, dsn, quietLog())
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "lk_" + hex.EncodeToString(b[:])
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	// Registered first, so it runs after every pool opened below is closed.
	t.Cleanup(func() {
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	sdsn := dsn + sep + "search_path=" + schema
	tdb := testDB{dialect: "postgres", open: func(t testing.TB) *store.DB { return openStore(t, sdsn) }}
	migrate(t, tdb.open(t))
	return tdb
}

func openStore(t testing.TB, dsn string) *store.DB {
	db, err := store.Open(context.Background(), dsn, quietLog())
	if err != nil {
		t.Fatalf("open %s: %v", strings.SplitN(dsn, ":", 2)[0], err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func migrate(t testing.TB, db *store.DB) {
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newService(t testing.TB, db *store.DB, cfg Config) *Service {
	s, err := New(context.Background(), db, quietLog(), cfg)
	if err != nil {
		t.Fatalf("tokens.New: %v", err)
	}
	return s
}

// runSync runs s.Run until the test ends.
func runSync(t testing.TB, s *Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func userClaims() Claims {
	return Claims{
		Kind:     KindUser,
		UserID:   "0123456789abcdef0123456789abcdef",
		UserName: "alice",
		DomainID: "fedcba9876543210fedcba9876543210",
		Methods:  []string{"password"},
	}
}

func mustIssue(t testing.TB, s *Service, c Claims) (string, Claims) {
	t.Helper()
	tok, got, err := s.Issue(context.Background(), c)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok, got
}
