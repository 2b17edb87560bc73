package accounts

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

// Login-protection verification methods.
const (
	MethodSMS   = "sms"
	MethodEmail = "email"
	MethodVMFA  = "vmfa"
	MethodNone  = "none" // only with enabled=false: switch protection off
)

// SetLoginProtect stores the login-protection setting of a user (upsert).
//
//   - method is sms, email or vmfa; "none" is accepted only with
//     enabled=false (else fault.PropertyInvalid).
//   - Enabling sms needs a mobile number, email an e-mail address
//     (fault.FactorMissing), vmfa a bound virtual MFA device (package mfa;
//     read here from its table so that the check holds under the user lock
//     the device operations take too).
//   - enabled=false with a real method stores that method, disabled.
//   - "none" (DESIGN.md §3: some clients send it to switch protection off)
//     is stored as sent, disabled, like any other method: GET then answers
//     it, and the list holds the user.
func (s *Service) SetLoginProtect(ctx context.Context, domainID, userID string, enabled bool, method string) (*store.LoginProtect, error) {
	switch method {
	case MethodSMS, MethodEmail, MethodVMFA:
	case MethodNone:
		if enabled {
			return nil, fault.New(fault.PropertyInvalid, "Invalid input for field 'verification_method'. The value is 'none': it is allowed only with enabled false.")
		}
	default:
		return nil, fault.New(fault.PropertyInvalid, "Invalid input for field 'verification_method'. The value is '%s'.", clip(method))
	}
	var out store.LoginProtect
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Locking the user serializes concurrent setters of one user, and
		// keeps the factor check valid until commit.
		u, err := s.user(ctx, tx.Clauses(clause.Locking{Strength: "UPDATE"}), domainID, userID)
		if err != nil {
			return err
		}
		if enabled {
			switch {
			case method == MethodSMS && u.Phone == nil:
				return fault.New(fault.FactorMissing, "Request parameter verification_method is invalid: the user %s has no mobile number bound.", u.Name)
			case method == MethodEmail && u.Email == nil:
				return fault.New(fault.FactorMissing, "Request parameter verification_method is invalid: the user %s has no email address bound.", u.Name)
			case method == MethodVMFA:
				var bound int64
				if err := tx.Model(&store.MFADevice{}).Where("user_id = ? AND bound = ?", userID, true).Count(&bound).Error; err != nil {
					return fmt.Errorf("read MFA device: %w", err)
				}
				if bound == 0 {
					return fault.New(fault.FactorMissing, "Request parameter verification_method is invalid: the user %s has no virtual MFA device bound; bind a virtual MFA device first.", u.Name)
				}
			}
		}
		var lp store.LoginProtect
		err = tx.Where("user_id = ?", userID).Take(&lp).Error
		exists := err == nil
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("read login protect: %w", err)
		}
		now := s.now()
		lp = store.LoginProtect{UserID: userID, DomainID: domainID, Enabled: enabled, VerificationMethod: method, UpdatedAt: now}
		if exists {
			err = tx.Model(&store.LoginProtect{}).Where("user_id = ?", userID).Updates(map[string]any{
				"enabled": lp.Enabled, "verification_method": lp.VerificationMethod, "updated_at": now,
			}).Error
		} else {
			err = tx.Create(&lp).Error
		}
		if err != nil {
			return fmt.Errorf("store login protect: %w", err)
		}
		out = lp
		return nil
	})
	if err != nil {
		if fault.As(err) != nil {
			return nil, err
		}
		return nil, fmt.Errorf("set login protect of user %s: %w", userID, err)
	}
	s.recordLoginProtect(ctx, &out)
	return &out, nil
}

// LoginProtect returns a user's setting: fault.UserNotFound for an unknown
// (or foreign) user, fault.NotFound when the user never set one.
func (s *Service) LoginProtect(ctx context.Context, domainID, userID string) (*store.LoginProtect, error) {
	if _, err := s.User(ctx, domainID, userID); err != nil {
		return nil, err
	}
	var lp store.LoginProtect
	err := s.db.WithContext(ctx).Where("user_id = ? AND domain_id = ?", userID, domainID).Take(&lp).Error
	if isNotFound(err) {
		return nil, fault.New(fault.NotFound, "Could not find login protect: %s.", userID)
	}
	if err != nil {
		return nil, fmt.Errorf("get login protect of user %s: %w", userID, err)
	}
	return &lp, nil
}

// ListLoginProtects lists the settings of a domain, ordered by user id.
func (s *Service) ListLoginProtects(ctx context.Context, domainID string) ([]store.LoginProtect, error) {
	out := []store.LoginProtect{}
	if err := s.db.WithContext(ctx).Where("domain_id = ?", domainID).Order("user_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list login protects: %w", err)
	}
	return out, nil
}
