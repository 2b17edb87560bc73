package tokens

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"

	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/store"
)

const secretLen = 32

// keyLockID is the PostgreSQL advisory lock that serializes the creation of
// the first signing key ("lk-skey" in ASCII).
const keyLockID int64 = 0x6c6b2d736b6579

// loadOrCreateKey returns the oldest signing key, creating one when the table
// is empty. Creation is serialized across instances (an advisory lock on
// PostgreSQL, an immediate transaction on SQLite) and the oldest row wins, so
// instances starting together on an empty database all end up with the same
// key.
func loadOrCreateKey(ctx context.Context, db *store.DB, log *slog.Logger) ([]byte, error) {
	var k store.SigningKey
	err := db.WithContext(ctx).Order("id").Limit(1).Take(&k).Error
	if err == nil {
		return checkSecret(k.Secret)
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("load signing key: %w", err)
	}
	created := false
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if db.Dialect == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", keyLockID).Error; err != nil {
				return err
			}
		}
		err := tx.Order("id").Limit(1).Take(&k).Error
		if err == nil {
			return nil // another instance won the race
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		k = store.SigningKey{Secret: make([]byte, secretLen)}
		rand.Read(k.Secret)
		created = true
		return tx.Create(&k).Error
	})
	if err != nil {
		return nil, fmt.Errorf("create signing key: %w", err)
	}
	if created {
		log.Info("created the token signing key", "key_id", k.ID)
	}
	return checkSecret(k.Secret)
}

func checkSecret(b []byte) ([]byte, error) {
	if len(b) < secretLen {
		return nil, fmt.Errorf("load signing key: stored secret is %d bytes, want at least %d", len(b), secretLen)
	}
	return b, nil
}
