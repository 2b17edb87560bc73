package accounts

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

// VerifyPassword checks the current account password of user userID without
// logging in (no last-login update): re-authentication before a sensitive
// change, and HTTPS Git in account-password mode. An unknown user, a user
// without a password and a wrong password all give fault.WrongPassword after
// the same hashing work. It does not look at Enabled or PwdStatus: callers
// decide what those mean for them (see MustChangePassword). On success the
// user is returned and the hash is upgraded if its parameters are outdated.
func (s *Service) VerifyPassword(ctx context.Context, userID, password string) (*store.User, error) {
	var u store.User
	err := s.db.WithContext(ctx).Where("id = ?", userID).Take(&u).Error
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("verify password of user %s: %w", userID, err)
	}
	if err != nil || u.PasswordHash == "" {
		if err := s.hasher.DummyVerify(ctx, password); err != nil {
			return nil, err
		}
		return nil, wrongPassword()
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		if fault.As(err) != nil { // overloaded
			return nil, err
		}
		s.log.ErrorContext(ctx, "stored password hash unusable", "user_id", u.ID, "err", err)
		return nil, fmt.Errorf("verify password of user %s: %w", u.ID, err)
	}
	if !ok {
		return nil, wrongPassword()
	}
	if rehash {
		s.rehash(ctx, &u, password)
	}
	return &u, nil
}

// MustChangePassword reports whether u's account password must be changed
// before it is good for anything but changing it: PwdStatus is set (an
// administrator set the password and asked for a change) or the password has
// expired. Tokens of such a user are restricted.
func (s *Service) MustChangePassword(u *store.User) bool {
	if u.PwdStatus {
		return true
	}
	return u.PasswordExpiresAt != nil && !s.now().Before(*u.PasswordExpiresAt)
}

// clearHTTPSPassword forgets the separate HTTPS Git password of a user whose
// account password an administrator has just reset (inside the reset's
// transaction). The reset means the account's credentials are no longer the
// user's own choice (forgotten, shared or compromised); an HTTPS password
// kept from before would silently go on granting Git access that the reset
// was meant to end. The HTTPS authentication mode is kept: in mode false
// HTTPS Git fails until the user sets a new HTTPS password (package gitcreds).
// cleared reports whether there was one (the reset's audit record says so).
func clearHTTPSPassword(tx *gorm.DB, userID string, now time.Time) (cleared bool, err error) {
	res := tx.Model(&store.HTTPSCredential{}).Where("user_id = ? AND password_hash <> ''", userID).
		Updates(map[string]any{"password_hash": "", "updated_at": now})
	if res.Error != nil {
		return false, fmt.Errorf("clear HTTPS password: %w", res.Error)
	}
	return res.RowsAffected > 0, nil
}
