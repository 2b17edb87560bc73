package mfa

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	qrcode "github.com/skip2/go-qrcode"
	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

// Created is a new (unbound) device with what the user needs to enrol it.
type Created struct {
	Device store.MFADevice
	// URI is the otpauth:// key URI of the device (for authenticator apps).
	URI string
	// QRCodePNG is a PNG image of the QR code of URI.
	QRCodePNG []byte
}

// Serial returns the serial number of device name in domain domainID.
func Serial(domainID, name string) string { return "iam:" + domainID + ":mfa/" + name }

// device returns the device of userID, or nil.
func (s *Service) device(tx *gorm.DB, userID string) (*store.MFADevice, error) {
	var d store.MFADevice
	if err := tx.Where("user_id = ?", userID).Limit(1).Find(&d).Error; err != nil {
		return nil, fmt.Errorf("read MFA device of user %s: %w", userID, err)
	}
	if d.UserID == "" {
		return nil, nil
	}
	return &d, nil
}

func deviceNotFound(serial string) error {
	return fault.New(fault.NotFound, "Could not find virtual MFA device: %s.", clip(serial))
}

// checkName refuses names that cannot be part of a serial number.
func checkName(name string) error {
	n := 0
	for _, r := range name {
		n++
		if r < 0x20 || r == 0x7f {
			return fault.New(fault.PropertyInvalid, "Invalid input for field 'virtual_mfa_device.name'. The value is '%s': control characters are not allowed.", clip(name))
		}
	}
	if n < 1 || n > 64 {
		return fault.New(fault.PropertyInvalid, "Invalid input for field 'virtual_mfa_device.name'. The value is '%s': 1 to 64 characters are allowed.", clip(name))
	}
	return nil
}

// Create makes a new virtual MFA device for user userID of domainID. A user
// has at most one device: an unbound one is replaced (its key stops
// working); a bound one is fault.Conflict. Serial numbers are unique per
// domain (another user's device of the same name is fault.Conflict).
func (s *Service) Create(ctx context.Context, domainID, userID, name string) (*Created, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	var out Created
	replaced := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := lockUser(tx, domainID, userID)
		if err != nil {
			return err
		}
		old, err := s.device(tx, userID)
		if err != nil {
			return err
		}
		replaced = old != nil
		if old != nil && old.Bound {
			return fault.New(fault.Conflict, "Conflict occurred when attempting to store virtual MFA device - the user %s already has a bound device; unbind it first.", u.Name)
		}
		serial := Serial(domainID, name)
		var taken int64
		if err := tx.Model(&store.MFADevice{}).Where("serial_number = ? AND user_id <> ?", serial, userID).Count(&taken).Error; err != nil {
			return fmt.Errorf("check serial number: %w", err)
		}
		if taken > 0 {
			return fault.New(fault.Conflict, "Conflict occurred when attempting to store virtual MFA device - a device named %s already exists in the domain.", clip(name))
		}
		var d store.Domain
		if err := tx.Where("id = ?", domainID).Take(&d).Error; err != nil {
			return fmt.Errorf("read domain %s: %w", domainID, err)
		}
		// The old key and the steps used with it are gone for good.
		for _, m := range []any{&store.MFADevice{}, &store.MFAUsedCode{}} {
			if err := tx.Where("user_id = ?", userID).Delete(m).Error; err != nil {
				return fmt.Errorf("replace MFA device: %w", err)
			}
		}
		out.Device = store.MFADevice{
			UserID: userID, DomainID: domainID, Name: name, SerialNumber: serial,
			Secret: newSecret(), CreatedAt: s.now().UnixMicro(),
		}
		if err := tx.Create(&out.Device).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return fault.New(fault.Conflict, "Conflict occurred when attempting to store virtual MFA device - a device named %s already exists in the domain.", clip(name))
			}
			return fmt.Errorf("store MFA device: %w", err)
		}
		out.URI, out.QRCodePNG, err = s.enrolment(d.Name, u.Name, out.Device.Secret)
		return err
	})
	if err != nil {
		if fault.As(err) != nil {
			return nil, err
		}
		return nil, fmt.Errorf("create MFA device of user %s: %w", userID, err)
	}
	s.log.InfoContext(ctx, "virtual MFA device created", "user_id", userID, "serial_number", out.Device.SerialNumber)
	s.record(ctx, audit.Event{Type: audit.MFADeviceCreated, DomainID: domainID, TargetID: userID,
		Detail: map[string]string{"serial_number": out.Device.SerialNumber, "replaced": strconv.FormatBool(replaced)}})
	return &out, nil
}

// enrolment returns the otpauth URI of a key and its QR code.
func (s *Service) enrolment(domainName, userName, secret string) (string, []byte, error) {
	raw, err := b32.DecodeString(secret)
	if err != nil {
		return "", nil, fmt.Errorf("decode new key: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.cfg.Issuer, AccountName: domainName + "@" + userName,
		Period: Period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Secret: raw,
	})
	if err != nil {
		return "", nil, fmt.Errorf("build key URI: %w", err)
	}
	uri := key.URL()
	png, err := qrcode.Encode(uri, qrcode.Medium, 256)
	if err != nil {
		return "", nil, fmt.Errorf("build QR code: %w", err)
	}
	return uri, png, nil
}

// Bind binds the user's unbound device, proven by two consecutive codes
// (the first of the current or the previous step). Both steps count as
// used. Unknown device (or serial): fault.NotFound; already bound:
// fault.Conflict; wrong, not consecutive or replayed codes:
// fault.TOTPInvalid.
func (s *Service) Bind(ctx context.Context, domainID, userID, serial, first, second string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockUser(tx, domainID, userID); err != nil {
			return err
		}
		dev, err := s.device(tx, userID)
		if err != nil {
			return err
		}
		if dev == nil || dev.SerialNumber != serial {
			return deviceNotFound(serial)
		}
		if dev.Bound {
			return fault.New(fault.Conflict, "Conflict occurred when attempting to store virtual MFA device - %s is already bound.", clip(serial))
		}
		if !wellFormed(first) || !wellFormed(second) {
			return fault.New(fault.TOTPInvalid, "Invalid TOTP passcode: authentication codes have 6 digits.")
		}
		now := Step(s.now())
		found, match := int64(0), 0
		for st := now - Skew; st <= now; st++ {
			c1, err := CodeAt(dev.Secret, st)
			if err != nil {
				return err
			}
			c2, err := CodeAt(dev.Secret, st+1)
			if err != nil {
				return err
			}
			eq := subtle.ConstantTimeCompare([]byte(c1), []byte(first)) & subtle.ConstantTimeCompare([]byte(c2), []byte(second))
			if eq == 1 && match == 0 {
				found = st
			}
			match |= eq
		}
		if match == 0 {
			return fault.New(fault.TOTPInvalid, "Invalid TOTP passcode: the two codes must be consecutive codes of the device.")
		}
		for _, st := range []int64{found, found + 1} {
			fresh, err := useStep(tx, userID, st, now)
			if err != nil {
				return err
			}
			if !fresh {
				return fault.New(fault.TOTPInvalid, "Invalid TOTP passcode: a code was used already.")
			}
		}
		return tx.Model(&store.MFADevice{}).Where("user_id = ?", userID).
			Updates(map[string]any{"bound": true, "bound_at": s.now().UnixMicro()}).Error
	})
	if err != nil {
		if fault.As(err) != nil {
			return err
		}
		return fmt.Errorf("bind MFA device of user %s: %w", userID, err)
	}
	s.log.InfoContext(ctx, "virtual MFA device bound", "user_id", userID, "serial_number", serial)
	s.record(ctx, audit.Event{Type: audit.MFADeviceBound, DomainID: domainID, TargetID: userID,
		Detail: map[string]string{"serial_number": serial}})
	return nil
}

// Unbind unbinds and removes the bound device serial of user userID. With
// checkCode (users acting on themselves) code must be a valid, unused code
// of the device (the check counts toward the lockout); without it (an
// administrator acting on another user) it must only be six digits.
//
// Errors: code malformed or wrong: fault.TOTPInvalid; unknown user:
// fault.UserNotFound; no such device: fault.NotFound; device not bound:
// fault.Conflict; login protection by vmfa enabled: fault.MFABound.
func (s *Service) Unbind(ctx context.Context, domainID, userID, serial, code string, checkCode bool) error {
	if !wellFormed(code) {
		return fault.New(fault.TOTPInvalid, "Invalid TOTP passcode: the authentication code must be 6 digits.")
	}
	db := s.db.WithContext(ctx)
	var u store.User
	if err := db.Where("id = ? AND domain_id = ?", userID, domainID).Limit(1).Find(&u).Error; err != nil {
		return fmt.Errorf("read user %s: %w", userID, err)
	}
	if u.ID == "" {
		return userNotFound(userID)
	}
	dev, err := s.device(db, userID)
	if err != nil {
		return err
	}
	if err := unbindable(db, dev, serial, userID); err != nil {
		return err
	}
	if checkCode {
		// Outside the transaction: the lockout records its outcome with its
		// own statements.
		if err := s.verifyDevice(ctx, dev, code); err != nil {
			return err
		}
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		if _, err := lockUser(tx, domainID, userID); err != nil {
			return err
		}
		cur, err := s.device(tx, userID)
		if err != nil {
			return err
		}
		if err := unbindable(tx, cur, serial, userID); err != nil {
			return err
		}
		if cur.Secret != dev.Secret {
			return deviceNotFound(serial) // replaced meanwhile
		}
		return tx.Where("user_id = ?", userID).Delete(&store.MFADevice{}).Error
	})
	if err != nil {
		if fault.As(err) != nil {
			return err
		}
		return fmt.Errorf("unbind MFA device of user %s: %w", userID, err)
	}
	s.log.InfoContext(ctx, "virtual MFA device unbound", "user_id", userID, "serial_number", serial, "by_admin", !checkCode)
	// Without checkCode this is the MFA reset: the actor (from ctx) is the
	// administrator, the target the user who lost the device.
	s.record(ctx, audit.Event{Type: audit.MFADeviceUnbound, DomainID: domainID, TargetID: userID,
		Detail: map[string]string{"serial_number": serial, "by_admin": strconv.FormatBool(!checkCode)}})
	return nil
}

// unbindable checks that dev is the bound device serial and that login
// protection does not depend on it.
func unbindable(tx *gorm.DB, dev *store.MFADevice, serial, userID string) error {
	if dev == nil || dev.SerialNumber != serial {
		return deviceNotFound(serial)
	}
	if !dev.Bound {
		return fault.New(fault.Conflict, "Conflict occurred when attempting to store virtual MFA device - %s is not bound.", clip(serial))
	}
	return notProtecting(tx, userID)
}

// notProtecting refuses to take away the device that vmfa login protection
// depends on.
func notProtecting(tx *gorm.DB, userID string) error {
	m, err := protection(tx, userID)
	if err != nil {
		return err
	}
	if m == MethodVMFA {
		return fault.New(fault.MFABound, "Login protection has been bound to mfa, the unbinding operation cannot be performed.")
	}
	return nil
}

// Delete deletes the device serial of user userID, bound or not. A bound
// device that vmfa login protection depends on is fault.MFABound.
func (s *Service) Delete(ctx context.Context, domainID, userID, serial string) error {
	wasBound := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockUser(tx, domainID, userID); err != nil {
			return err
		}
		dev, err := s.device(tx, userID)
		if err != nil {
			return err
		}
		if dev == nil || dev.SerialNumber != serial {
			return deviceNotFound(serial)
		}
		wasBound = dev.Bound
		if dev.Bound {
			if err := notProtecting(tx, userID); err != nil {
				return err
			}
		}
		return tx.Where("user_id = ?", userID).Delete(&store.MFADevice{}).Error
	})
	if err != nil {
		if fault.As(err) != nil {
			return err
		}
		return fmt.Errorf("delete MFA device of user %s: %w", userID, err)
	}
	s.log.InfoContext(ctx, "virtual MFA device deleted", "user_id", userID, "serial_number", serial)
	s.record(ctx, audit.Event{Type: audit.MFADeviceDeleted, DomainID: domainID, TargetID: userID,
		Detail: map[string]string{"serial_number": serial, "was_bound": strconv.FormatBool(wasBound)}})
	return nil
}

// List returns the devices of a domain, bound or not, ordered by user id.
func (s *Service) List(ctx context.Context, domainID string) ([]store.MFADevice, error) {
	out := []store.MFADevice{}
	if err := s.db.WithContext(ctx).Where("domain_id = ?", domainID).Order("user_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list MFA devices: %w", err)
	}
	return out, nil
}

// Show returns the device of user userID of domainID: fault.UserNotFound
// for an unknown (or foreign) user, fault.NotFound for a user without one.
func (s *Service) Show(ctx context.Context, domainID, userID string) (*store.MFADevice, error) {
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Model(&store.User{}).Where("id = ? AND domain_id = ?", userID, domainID).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("read user %s: %w", userID, err)
	}
	if n == 0 {
		return nil, userNotFound(userID)
	}
	dev, err := s.device(db, userID)
	if err != nil {
		return nil, err
	}
	if dev == nil {
		return nil, fault.New(fault.NotFound, "Could not find virtual MFA device of user: %s.", userID)
	}
	return dev, nil
}

// HasBoundDevice reports whether user userID has a bound device.
func (s *Service) HasBoundDevice(ctx context.Context, userID string) (bool, error) {
	dev, err := s.device(s.db.WithContext(ctx), userID)
	if err != nil {
		return false, err
	}
	return dev != nil && dev.Bound, nil
}

// EnrolmentQR returns the QR code PNG of the user's device while it is not
// yet bound, so a person can scan it (again) before binding. A bound
// device's key is never shown again: fault.NotFound, as for no device.
func (s *Service) EnrolmentQR(ctx context.Context, domainID, userID string) ([]byte, error) {
	var u store.User
	err := s.db.WithContext(ctx).Where("id = ? AND domain_id = ?", userID, domainID).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, userNotFound(userID)
	}
	if err != nil {
		return nil, fmt.Errorf("read user %s: %w", userID, err)
	}
	var d store.Domain
	if err := s.db.WithContext(ctx).Where("id = ?", domainID).Take(&d).Error; err != nil {
		return nil, fmt.Errorf("read domain %s: %w", domainID, err)
	}
	dev, err := s.device(s.db.WithContext(ctx), userID)
	if err != nil {
		return nil, err
	}
	if dev == nil || dev.Bound {
		return nil, fault.New(fault.NotFound, "Could not find an unbound virtual MFA device of user: %s.", userID)
	}
	_, png, err := s.enrolment(d.Name, u.Name, dev.Secret)
	if err != nil {
		return nil, fmt.Errorf("QR code of user %s: %w", userID, err)
	}
	return png, nil
}
