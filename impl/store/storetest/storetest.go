// Package storetest gives tests real databases: a fresh SQLite file always,
// and a fresh PostgreSQL schema when LATCHKEY_TEST_POSTGRES_DSN is set. No
// database is mocked; each test run gets its own and drops it afterwards.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/impl/store"
)

// EnvPostgresDSN names the variable that turns the PostgreSQL runs on.
const EnvPostgresDSN = "LATCHKEY_TEST_POSTGRES_DSN"

// DB is one database under test. Open returns a new, migrated connection
// pool to the same database each time it is called (a second "instance").
type DB struct {
	Name string // "sqlite" or "postgres"
	DSN  string
}

// Open opens a migrated pool to the database, closed when t ends.
func (d DB) Open(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, d.DSN, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open %s: %v", d.Name, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", d.Name, err)
	}
	return db
}

// Databases returns a fresh SQLite database, and a fresh PostgreSQL schema
// when EnvPostgresDSN is set.
func Databases(t testing.TB) []DB {
	t.Helper()
	dbs := []DB{SQLite(t)}
	if dsn := os.Getenv(EnvPostgresDSN); dsn != "" {
		dbs = append(dbs, Postgres(t, dsn))
	}
	return dbs
}

// Each runs f as a subtest per database of Databases.
func Each(t *testing.T, f func(t *testing.T, db DB)) {
	t.Helper()
	for _, d := range Databases(t) {
		t.Run(d.Name, func(t *testing.T) { f(t, d) })
	}
}

// DSN returns the DSN of one fresh database: PostgreSQL when EnvPostgresDSN
// is set (so a suite run with it exercises PostgreSQL only), else SQLite.
func DSN(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv(EnvPostgresDSN); dsn != "" {
		return Postgres(t, dsn).DSN
	}
	return SQLite(t).DSN
}

// SQLite returns a fresh SQLite database in t's temporary directory.
func SQLite(t testing.TB) DB {
	t.Helper()
	return DB{Name: "sqlite", DSN: "sqlite:" + filepath.Join(t.TempDir(), "latchkey.db")}
}

// Postgres creates a schema of its own in the database of dsn, dropped when
// t ends, and returns a DSN whose search_path points at it.
func Postgres(t testing.TB, dsn string) DB {
	t.Helper()
	ctx := context.Background()
	admin, err := store.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("schema name: %v", err)
	}
	schema := "lk_" + hex.EncodeToString(b)
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
		t.Fatalf("parse DSN: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return DB{Name: "postgres", DSN: u.String()}
}
