package mfa

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/notify"
	"github.com/latchkey/latchkey/impl/store"
)

// One-time codes of login protection by SMS or e-mail, in the Keystone
// auth-receipt pattern: after the password, Challenge sends a code and
// returns a receipt; Redeem takes the receipt back with the code.
//
//   - The receipt is 256 random bits; only its SHA-256 is stored (the row
//     id). The code is 6 random digits (crypto/rand); only an HMAC-SHA-256 of
//     it keyed with the receipt is stored, so a copy of the database gives
//     neither, and the code cannot be brute-forced offline without the
//     receipt.
//   - A code is valid for Config.CodeTTL, works once, and survives
//     Config.CodeAttempts wrong tries: each try first reserves an attempt
//     with one conditional UPDATE, so concurrent guesses on any number of
//     instances cannot exceed the limit.
//   - At most Config.SendsPerHour codes are sent to a user per hour
//     (fault.RateLimited with RetryAfter beyond); the count and the new row
//     are one transaction under the user's row lock.
//   - The message is queued in the outbox in the same transaction.
//   - Wrong codes also count toward the lockout (kind totp), which records
//     them in the audit trail; each code sent is recorded (channel only).

// Challenge is a sent code, for the answer to the password step.
type Challenge struct {
	// Receipt goes to the client (header Openstack-Auth-Receipt).
	Receipt string
	// Method is sms or email; Recipient the masked number or address.
	Method    string
	Recipient string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

func receiptID(receipt string) string {
	sum := sha256.Sum256([]byte(receipt))
	return hex.EncodeToString(sum[:])
}

func codeHash(receipt, code string) string {
	mac := hmac.New(sha256.New, []byte(receipt))
	mac.Write([]byte("latchkey login code\x00"))
	mac.Write([]byte(code))
	return hex.EncodeToString(mac.Sum(nil))
}

// newCode returns 6 uniformly random digits.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails since Go 1.24
	}
	return fmt.Sprintf("%06d", n.Int64())
}

func newReceipt() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// phoneOf formats a user's mobile number as "+<country code>-<number>".
func phoneOf(u *store.User) string {
	if u.Phone == nil || *u.Phone == "" {
		return ""
	}
	cc := ""
	if u.AreaCode != nil {
		cc = strings.TrimLeft(*u.AreaCode, "+0")
	}
	if cc == "" {
		return *u.Phone
	}
	return "+" + cc + "-" + *u.Phone
}

// mask hides most of a number or address (answers name where the code went
// without handing out the contact data).
func mask(method, r string) string {
	if method == MethodEmail {
		at := strings.LastIndexByte(r, '@')
		if at <= 0 {
			return "***"
		}
		return r[:1] + "***" + r[at:]
	}
	cut := strings.LastIndexByte(r, '-') + 1
	prefix, num := r[:cut], r[cut:]
	if len(num) < 8 {
		return prefix + strings.Repeat("*", max(len(num)-2, 0)) + num[max(len(num)-2, 0):]
	}
	return prefix + num[:3] + strings.Repeat("*", len(num)-7) + num[len(num)-4:]
}

// humanTTL says a duration the way a message to a person does.
func humanTTL(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		if d == time.Minute {
			return "1 minute"
		}
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	default:
		return strconv.Itoa(int((d+time.Second-1)/time.Second)) + " seconds"
	}
}

// Challenge sends a fresh code to user u for login protection method (sms
// or email) and returns the receipt. Errors: no number or address, or no
// notifier for the channel: fault.FactorMissing / an internal error; too
// many codes this hour: fault.RateLimited with RetryAfter.
func (s *Service) Challenge(ctx context.Context, u *store.User, method string) (*Challenge, error) {
	var channel, to string
	switch method {
	case MethodSMS:
		channel, to = notify.ChannelSMS, phoneOf(u)
	case MethodEmail:
		channel = notify.ChannelEmail
		if u.Email != nil {
			to = *u.Email
		}
	default:
		return nil, fmt.Errorf("challenge: method %q sends no code", method)
	}
	if to == "" {
		return nil, fault.New(fault.TOTPInvalid, "Login protection by %s is enabled but the user %s has no %s; ask an administrator.",
			method, u.Name, map[string]string{MethodSMS: "mobile number", MethodEmail: "e-mail address"}[method])
	}
	if s.outbox == nil || !s.outbox.CanSend(channel) {
		s.log.ErrorContext(ctx, "login code cannot be sent: no notifier for the channel (configure --smtp-host or --sms-webhook-url, or --dev-outbox)",
			"channel", channel, "user_id", u.ID)
		return nil, fmt.Errorf("challenge: %w", notify.ErrNoRoute)
	}
	now := s.now().Truncate(time.Microsecond)
	receipt, code := newReceipt(), newCode()
	row := store.LoginCode{
		ID: receiptID(receipt), UserID: u.ID, DomainID: u.DomainID, Method: method,
		CodeHash: codeHash(receipt, code), ExpiresAt: now.Add(s.cfg.CodeTTL).UnixMicro(), CreatedAt: now.UnixMicro(),
	}
	ttl := humanTTL(s.cfg.CodeTTL)
	msg := notify.Message{DomainID: u.DomainID, UserID: u.ID, Channel: channel, Recipient: to, Code: code,
		ExpiresAt: now.Add(s.cfg.CodeTTL), Subject: "Your latchkey verification code"}
	if method == MethodSMS {
		msg.Body = "Your latchkey verification code is " + code + ". It expires in " + ttl + ". Do not share it."
	} else {
		msg.Body = "Hello " + u.Name + ",\n\nyour latchkey verification code is " + code + ". It expires in " + ttl +
			".\n\nIf you did not just sign in, change your password now: someone else knows it.\n"
	}
	hourAgo := now.Add(-time.Hour).UnixMicro()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockUser(tx, u.DomainID, u.ID); err != nil {
			return err
		}
		var sent []int64
		if err := tx.Model(&store.LoginCode{}).Where("user_id = ? AND created_at > ?", u.ID, hourAgo).
			Order("created_at").Pluck("created_at", &sent).Error; err != nil {
			return fmt.Errorf("count sent codes: %w", err)
		}
		if len(sent) >= s.cfg.SendsPerHour {
			// Free again when the oldest code that counts is an hour old.
			wait := time.UnixMicro(sent[len(sent)-s.cfg.SendsPerHour]).Add(time.Hour).Sub(now)
			e := fault.New(fault.RateLimited, "The throttling threshold has been reached. Threshold: %d times per 3600 seconds (verification codes sent to the user).", s.cfg.SendsPerHour)
			e.RetryAfter = max(wait, time.Second)
			return e
		}
		// Rows older than the hour count for nothing any more.
		if err := tx.Where("user_id = ? AND created_at <= ?", u.ID, hourAgo).Delete(&store.LoginCode{}).Error; err != nil {
			return fmt.Errorf("forget old codes: %w", err)
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store code: %w", err)
		}
		_, err := s.outbox.Enqueue(tx, msg)
		return err
	})
	if err != nil {
		if fault.As(err) != nil {
			return nil, err
		}
		return nil, fmt.Errorf("send login code to user %s: %w", u.ID, err)
	}
	s.outbox.Kick()
	s.log.InfoContext(ctx, "login code sent", "user_id", u.ID, "channel", channel)
	// The channel only: the code, the receipt and the recipient stay out of
	// the trail. Refusals (rate limit, no number) are not recorded.
	s.record(ctx, audit.Event{Type: audit.LoginCodeSent, DomainID: u.DomainID, TargetID: u.ID,
		Detail: map[string]string{"channel": channel}})
	return &Challenge{Receipt: receipt, Method: method, Recipient: mask(method, to), IssuedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL)}, nil
}

func badReceipt() error {
	return fault.New(fault.TOTPInvalid, "The auth receipt is invalid or has expired; authenticate with the password again.")
}

// ReceiptUser returns the id of the user a live receipt was issued to
// (fault.TOTPInvalid for an unknown, used or expired receipt).
func (s *Service) ReceiptUser(ctx context.Context, receipt string) (string, error) {
	var row store.LoginCode
	if err := s.db.WithContext(ctx).Where("id = ?", receiptID(receipt)).Limit(1).Find(&row).Error; err != nil {
		return "", fmt.Errorf("read receipt: %w", err)
	}
	if row.ID == "" || row.UsedAt != 0 || row.ExpiresAt <= s.now().UnixMicro() {
		return "", badReceipt()
	}
	return row.UserID, nil
}

// Redeem checks code against the receipt issued to user u. The code is
// consumed on success. Errors are fault.TOTPInvalid (unknown receipt or
// another user's, expired, used, too many tries, wrong code) or
// fault.Locked.
func (s *Service) Redeem(ctx context.Context, u *store.User, receipt, code string) error {
	id := receiptID(receipt)
	db := s.db.WithContext(ctx)
	var row store.LoginCode
	if err := db.Where("id = ?", id).Limit(1).Find(&row).Error; err != nil {
		return fmt.Errorf("read receipt: %w", err)
	}
	if row.ID == "" || row.UserID != u.ID {
		return badReceipt()
	}
	gone := func(r store.LoginCode, now int64) error {
		switch {
		case r.UsedAt != 0:
			return fault.New(fault.TOTPInvalid, "Invalid TOTP passcode: the verification code was used already; authenticate with the password again.")
		case r.ExpiresAt <= now:
			return fault.New(fault.TOTPInvalid, "Invalid TOTP passcode: the verification code has expired; authenticate with the password again to get a new one.")
		case r.Attempts >= s.cfg.CodeAttempts:
			return fault.New(fault.TOTPInvalid, "Invalid TOTP passcode: too many wrong verification codes; authenticate with the password again to get a new one.")
		}
		return nil
	}
	if err := gone(row, s.now().UnixMicro()); err != nil {
		return err
	}
	var lost bool // the code went away (used, expired, tries spent) meanwhile
	ok, err := s.guarded(ctx, u.DomainID, u.ID, func(ctx context.Context) (bool, error) {
		db := s.db.WithContext(ctx)
		now := s.now().UnixMicro()
		// Reserve a try first: concurrent guesses never exceed the limit.
		res := db.Model(&store.LoginCode{}).
			Where("id = ? AND used_at = 0 AND attempts < ? AND expires_at > ?", id, s.cfg.CodeAttempts, now).
			UpdateColumn("attempts", gorm.Expr("attempts + 1"))
		if res.Error != nil {
			return false, fmt.Errorf("reserve code attempt: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			lost = true
			return false, nil
		}
		if !wellFormed(code) || !hmac.Equal([]byte(codeHash(receipt, code)), []byte(row.CodeHash)) {
			return false, nil
		}
		res = db.Model(&store.LoginCode{}).Where("id = ? AND used_at = 0", id).UpdateColumn("used_at", now)
		if res.Error != nil {
			return false, fmt.Errorf("consume code: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			lost = true // a concurrent request used it first
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		if fault.As(err) != nil {
			return err
		}
		return fmt.Errorf("redeem login code of user %s: %w", u.ID, err)
	}
	if ok {
		return nil
	}
	if lost {
		var cur store.LoginCode
		if err := db.Where("id = ?", id).Limit(1).Find(&cur).Error; err == nil && cur.ID != "" {
			if e := gone(cur, s.now().UnixMicro()); e != nil {
				return e
			}
		}
	}
	return invalidTOTP()
}

// IsNoRoute reports whether err says no notifier serves the channel.
func IsNoRoute(err error) bool { return errors.Is(err, notify.ErrNoRoute) }
