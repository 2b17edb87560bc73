package accounts

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
)

// UserRef names the user to authenticate: by ID alone, or by Name together
// with DomainID or DomainName. Fields given beyond that must agree with the
// user found, else the user counts as unknown.
type UserRef struct {
	ID, Name, DomainID, DomainName string
}

func wrongPassword() *fault.Error {
	return fault.New(fault.WrongPassword, "The username or password is wrong.")
}

func wrongOriginal() *fault.Error {
	return fault.New(fault.WrongPassword, "The original password is incorrect.")
}

// Authenticate checks a password. An unknown domain or user, a user without
// a password and a wrong password all give the same fault.WrongPassword, after
// the same amount of hashing work. A disabled user is reported
// (fault.Disabled) only after the password matched, so the state of an
// account is not revealed to someone who does not know its password.
// access_mode console is left to the caller (token issuance): see the
// returned user's AccessMode.
func (s *Service) Authenticate(ctx context.Context, ref UserRef, password string) (*store.User, *store.Domain, error) {
	u, d, err := s.resolve(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	if u == nil || u.PasswordHash == "" {
		if err := s.hasher.DummyVerify(ctx, password); err != nil {
			return nil, nil, err
		}
		return nil, nil, wrongPassword()
	}
	// Under the lockout: a locked user is refused (fault.Locked) unhashed.
	rehash, err := s.checkPassword(ctx, u, password, wrongPassword)
	if err != nil {
		return nil, nil, err
	}
	if !u.Enabled {
		return nil, nil, fault.New(fault.Disabled, "The user %s is disabled.", u.Name)
	}
	if err := s.dormant(ctx, u); err != nil { // login policy account_validity_period
		return nil, nil, err
	}
	now := s.now()
	// UpdateColumn: a login is not a change of the user, so updated_at stays.
	if err := s.db.WithContext(ctx).Model(&store.User{}).Where("id = ?", u.ID).
		UpdateColumn("last_login_at", now).Error; err != nil {
		s.log.WarnContext(ctx, "record last login failed", "user_id", u.ID, "err", err)
	} else {
		u.LastLoginAt = &now
	}
	if rehash {
		s.rehash(ctx, u, password)
	}
	return u, d, nil
}

// rehash stores a hash made with the current parameters. It only replaces the
// hash that was verified, so a password changed meanwhile is never undone.
func (s *Service) rehash(ctx context.Context, u *store.User, password string) {
	h, err := s.hasher.Hash(ctx, password)
	if err != nil {
		s.log.WarnContext(ctx, "rehash password failed", "user_id", u.ID, "err", err)
		return
	}
	res := s.db.WithContext(ctx).Model(&store.User{}).
		Where("id = ? AND password_hash = ?", u.ID, u.PasswordHash).
		UpdateColumn("password_hash", h)
	if res.Error != nil {
		s.log.WarnContext(ctx, "store rehashed password failed", "user_id", u.ID, "err", res.Error)
		return
	}
	if res.RowsAffected == 1 {
		u.PasswordHash = h
	}
}

// resolve finds the user and domain of ref; (nil, nil, nil) when unknown.
func (s *Service) resolve(ctx context.Context, ref UserRef) (*store.User, *store.Domain, error) {
	db := s.db.WithContext(ctx)
	var u store.User
	var d store.Domain
	switch {
	case ref.ID != "":
		if err := db.Where("id = ?", ref.ID).Take(&u).Error; err != nil {
			if isNotFound(err) {
				return nil, nil, nil
			}
			return nil, nil, fmt.Errorf("authenticate: get user: %w", err)
		}
		if err := db.Where("id = ?", u.DomainID).Take(&d).Error; err != nil {
			if isNotFound(err) {
				return nil, nil, nil
			}
			return nil, nil, fmt.Errorf("authenticate: get domain: %w", err)
		}
		if (ref.Name != "" && ref.Name != u.Name) ||
			(ref.DomainID != "" && ref.DomainID != d.ID) ||
			(ref.DomainName != "" && ref.DomainName != d.Name) {
			return nil, nil, nil
		}
	case ref.Name != "" && (ref.DomainID != "" || ref.DomainName != ""):
		q := db
		if ref.DomainID != "" {
			q = q.Where("id = ?", ref.DomainID)
		}
		if ref.DomainName != "" {
			q = q.Where("name = ?", ref.DomainName)
		}
		if err := q.Take(&d).Error; err != nil {
			if isNotFound(err) {
				return nil, nil, nil
			}
			return nil, nil, fmt.Errorf("authenticate: get domain: %w", err)
		}
		if err := db.Where("domain_id = ? AND name = ?", d.ID, ref.Name).Take(&u).Error; err != nil {
			if isNotFound(err) {
				return nil, nil, nil
			}
			return nil, nil, fmt.Errorf("authenticate: get user: %w", err)
		}
	default:
		return nil, nil, nil
	}
	return &u, &d, nil
}

// PolicyFor returns the password policy of a domain. It is the single place
// that reads it: per-domain storage comes later (WithPolicySource); until
// then every domain has passwords.DefaultPolicy.
func (s *Service) PolicyFor(ctx context.Context, domainID string) (passwords.Policy, error) {
	if s.policy == nil {
		return passwords.DefaultPolicy(), nil
	}
	p, err := s.policy(ctx, domainID)
	if err != nil {
		if fault.As(err) != nil {
			return passwords.Policy{}, err
		}
		return passwords.Policy{}, fmt.Errorf("read password policy of domain %s: %w", domainID, err)
	}
	return p, nil
}

// ChangePassword is the self-service change (Keystone §2.4, CIAM
// change-password-verify). A wrong original password is fault.WrongPassword
// and is checked before any policy rule, so a caller without the original
// learns nothing about the rules. On success: new hash, changed/expiry times,
// old hash into the history, PwdStatus false, and every token of the user
// revoked.
func (s *Service) ChangePassword(ctx context.Context, userID, original, newPassword string) error {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if u.PasswordHash == "" {
		if err := s.hasher.DummyVerify(ctx, original); err != nil {
			return err
		}
		return wrongOriginal()
	}
	// A wrong original counts toward the lockout; a locked user is refused
	// (fault.Locked) before any hashing.
	if _, err := s.checkPassword(ctx, u, original, wrongOriginal); err != nil {
		return err
	}
	return s.setPassword(ctx, u, newPassword, false, false)
}

// ResetPassword is an administrator's reset (CIAM change-password): exempt
// from minimum age and history, but the current password is refused
// (fault.PasswordSame). PwdStatus becomes mustChange; the old hash goes into
// the history; the separate HTTPS Git password is cleared (clearHTTPSPassword);
// every token of the user is revoked.
func (s *Service) ResetPassword(ctx context.Context, domainID, userID, newPassword string, mustChange bool) error {
	u, err := s.User(ctx, domainID, userID)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, u, newPassword, true, mustChange)
}

func (s *Service) setPassword(ctx context.Context, u *store.User, newPassword string, adminReset, pwdStatus bool) error {
	pol, err := s.PolicyFor(ctx, u.DomainID)
	if err != nil {
		return err
	}
	hist, err := s.history(ctx, u.ID)
	if err != nil {
		return err
	}
	now := s.now()
	if err := pol.Check(ctx, s.hasher, newPassword, subjectOf(u, hist), passwords.CheckOptions{Now: now, AdminReset: adminReset}); err != nil {
		return err
	}
	h, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	var httpsCleared bool
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fresh, err := s.user(ctx, tx.Clauses(clause.Locking{Strength: "UPDATE"}), u.DomainID, u.ID)
		if err != nil {
			return err
		}
		if err := pushHistory(tx, fresh.ID, fresh.PasswordHash, now); err != nil {
			return err
		}
		if adminReset {
			if httpsCleared, err = clearHTTPSPassword(tx, fresh.ID, now); err != nil {
				return err
			}
		}
		return tx.Model(&store.User{}).Where("id = ?", fresh.ID).Updates(map[string]any{
			"password_hash":       h,
			"pwd_strength":        passwords.Strength(newPassword),
			"password_changed_at": now,
			"password_expires_at": pol.ExpiresAt(now),
			"pwd_status":          pwdStatus,
			"updated_at":          now,
		}).Error
	})
	if err != nil {
		if fault.As(err) != nil {
			return err
		}
		return fmt.Errorf("set password of user %s: %w", u.ID, err)
	}
	s.log.InfoContext(ctx, "password changed", "user_id", u.ID, "admin_reset", adminReset)
	s.recordPassword(ctx, u.DomainID, u.ID, adminReset, pwdStatus, httpsCleared)
	return s.revoke(ctx, u.ID)
}

// history returns the user's previous password hashes, newest first.
func (s *Service) history(ctx context.Context, userID string) ([]string, error) {
	var hashes []string
	err := s.db.WithContext(ctx).Model(&store.PasswordHistory{}).Where("user_id = ?", userID).
		Order("id DESC").Limit(HistoryKept).Pluck("hash", &hashes).Error
	if err != nil {
		return nil, fmt.Errorf("read password history: %w", err)
	}
	return hashes, nil
}

// pushHistory records a replaced hash and keeps only the newest HistoryKept.
func pushHistory(tx *gorm.DB, userID, oldHash string, now time.Time) error {
	if oldHash == "" {
		return nil
	}
	if err := tx.Create(&store.PasswordHistory{UserID: userID, Hash: oldHash, CreatedAt: now}).Error; err != nil {
		return fmt.Errorf("record password history: %w", err)
	}
	var oldest []uint64 // id of the oldest entry to keep
	if err := tx.Model(&store.PasswordHistory{}).Where("user_id = ?", userID).
		Order("id DESC").Offset(HistoryKept-1).Limit(1).Pluck("id", &oldest).Error; err != nil {
		return fmt.Errorf("trim password history: %w", err)
	}
	if len(oldest) == 1 {
		if err := tx.Where("user_id = ? AND id < ?", userID, oldest[0]).Delete(&store.PasswordHistory{}).Error; err != nil {
			return fmt.Errorf("trim password history: %w", err)
		}
	}
	return nil
}
