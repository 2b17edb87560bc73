package mfa

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/store"
)

// TOTP parameters (RFC 6238): HMAC-SHA-1, 6 digits, 30 s steps, one step of
// clock drift accepted either way.
const (
	Period      = 30
	Digits      = 6
	Skew        = 1
	secretBytes = 20 // 160 bits, the RFC 4226 recommendation
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

var hotpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// newSecret returns a fresh TOTP key in base32 (uppercase, no padding).
func newSecret() string {
	var b [secretBytes]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return b32.EncodeToString(b[:])
}

// Step is the RFC 6238 time step of t.
func Step(t time.Time) int64 { return t.Unix() / Period }

// CodeAt returns the code of secret for time step step (RFC 4226 HOTP over
// the step counter, which is what RFC 6238 defines).
func CodeAt(secret string, step int64) (string, error) {
	c, err := hotp.GenerateCodeCustom(secret, uint64(step), hotpOpts)
	if err != nil {
		return "", fmt.Errorf("totp: %w", err)
	}
	return c, nil
}

// wellFormed reports whether code is exactly six ASCII digits.
func wellFormed(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// matchStep returns the step within ±Skew of now whose code is code. Every
// candidate is computed and compared in constant time, so the answer's
// timing does not tell which step (if any) matched.
func matchStep(secret, code string, now int64) (int64, bool, error) {
	if !wellFormed(code) {
		return 0, false, nil
	}
	found, match := int64(0), 0
	for st := now - Skew; st <= now+Skew; st++ {
		c, err := CodeAt(secret, st)
		if err != nil {
			return 0, false, err
		}
		eq := subtle.ConstantTimeCompare([]byte(c), []byte(code))
		if eq == 1 && match == 0 {
			found = st
		}
		match |= eq
	}
	return found, match == 1, nil
}

// useStep records that userID used the code of step; false when it was used
// before (a replay). The primary key (user_id, step) makes this one atomic
// INSERT on either database, across instances. Steps that have left the
// acceptance window are deleted on the way.
func useStep(tx *gorm.DB, userID string, step, now int64) (bool, error) {
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&store.MFAUsedCode{UserID: userID, Step: step})
	if res.Error != nil {
		return false, fmt.Errorf("record used code of user %s: %w", userID, res.Error)
	}
	if err := tx.Where("user_id = ? AND step < ?", userID, now-2*Skew-1).Delete(&store.MFAUsedCode{}).Error; err != nil {
		return false, fmt.Errorf("forget used codes of user %s: %w", userID, err)
	}
	return res.RowsAffected == 1, nil
}

func invalidTOTP() *fault.Error { return fault.New(fault.TOTPInvalid, "Invalid TOTP passcode.") }

// guarded runs check under the lockout of the user's second factor.
func (s *Service) guarded(ctx context.Context, domainID, userID string, check func(context.Context) (bool, error)) (bool, error) {
	if s.lock == nil {
		return check(ctx)
	}
	out, err := s.lock.Verify(ctx, domainID, userID, lockout.KindTOTP, check)
	if err != nil {
		return false, err
	}
	return out.OK, nil
}

// VerifyTOTP checks a passcode from the user's bound device: a wrong,
// malformed or replayed code, or no bound device, is fault.TOTPInvalid; a
// locked second factor is fault.Locked. A failure counts toward the lockout
// (kind totp); an accepted code cannot be used again.
func (s *Service) VerifyTOTP(ctx context.Context, u *store.User, code string) error {
	dev, err := s.device(s.db.WithContext(ctx), u.ID)
	if err != nil {
		return err
	}
	if dev == nil || !dev.Bound {
		return fault.New(fault.TOTPInvalid, "Invalid TOTP passcode: no virtual MFA device is bound to the user.")
	}
	return s.verifyDevice(ctx, dev, code)
}

func (s *Service) verifyDevice(ctx context.Context, dev *store.MFADevice, code string) error {
	ok, err := s.guarded(ctx, dev.DomainID, dev.UserID, func(ctx context.Context) (bool, error) {
		now := Step(s.now())
		st, ok, err := matchStep(dev.Secret, code, now)
		if err != nil || !ok {
			return false, err
		}
		return useStep(s.db.WithContext(ctx), dev.UserID, st, now)
	})
	if err != nil {
		if fault.As(err) != nil {
			return err
		}
		return fmt.Errorf("verify TOTP of user %s: %w", dev.UserID, err)
	}
	if !ok {
		return invalidTOTP()
	}
	return nil
}
