// Package store opens the database (embedded SQLite or PostgreSQL), migrates
// the schema and holds the GORM models. It knows nothing of HTTP.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DB is the opened database.
type DB struct {
	*gorm.DB
	Dialect string // "sqlite" or "postgres"
}

// Open opens dsn: "sqlite:PATH" (or "sqlite::memory:") or a postgres:// URL.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*DB, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard, // SQL may carry hashes; never log it
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
	}
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, errors.New("open database: sqlite path is empty")
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(1)")
		// Immediate transactions take the write lock up front, so a
		// read-then-write transaction never fails with SQLITE_BUSY on upgrade.
		q.Set("_txlock", "immediate")
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		g, err := gorm.Open(sqlite.Open(path+sep+q.Encode()), cfg)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %q: %w", path, err)
		}
		sqlDB, err := g.DB()
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		// One writer at a time in SQLite: a single connection serializes
		// writes in process instead of spinning on busy_timeout.
		if path == ":memory:" || strings.Contains(path, "mode=memory") {
			sqlDB.SetMaxOpenConns(1)
		} else {
			sqlDB.SetMaxOpenConns(4)
		}
		if err := sqlDB.PingContext(ctx); err != nil {
			return nil, fmt.Errorf("ping sqlite: %w", err)
		}
		return &DB{DB: g, Dialect: "sqlite"}, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		g, err := gorm.Open(postgres.Open(dsn), cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := g.DB()
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		if err := sqlDB.PingContext(ctx); err != nil {
			return nil, fmt.Errorf("ping postgres: %w", err)
		}
		return &DB{DB: g, Dialect: "postgres"}, nil
	default:
		return nil, fmt.Errorf("open database: unsupported DSN (want sqlite:PATH or postgres://...)")
	}
}

// Migrate creates or updates the schema.
func (db *DB) Migrate(ctx context.Context) error {
	if err := db.WithContext(ctx).AutoMigrate(All()...); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return sqlDB.Close()
}
