package accounts

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
)

// BootstrapResult tells what Bootstrap did.
type BootstrapResult struct {
	Created           bool // false: the domain already existed; nothing was changed
	Domain            store.Domain
	Admin             store.User // the domain owner (zero if the domain has none)
	GeneratedPassword string     // "" when the password was given or nothing was created
}

// Bootstrap creates the domain domainName and its owner adminName (role
// owner, IsDomainOwner, which carries the security-administrator rights) if
// no domain of that name exists. It never changes an existing domain or user.
// With adminPassword "" a random password that satisfies the domain policy is
// generated and returned once; a given password must satisfy the policy too.
// PwdStatus is false: the operator chose or was shown the password.
//
// It is safe when several instances start at once: the loser of the race on
// the unique domain name re-reads what the winner created.
func (s *Service) Bootstrap(ctx context.Context, domainName, adminName, adminPassword string) (BootstrapResult, error) {
	if res, ok, err := s.existingBootstrap(ctx, domainName); err != nil || ok {
		return res, err
	}
	if err := ValidateName(domainName); err != nil {
		return BootstrapResult{}, fmt.Errorf("bootstrap: domain name %q: %w", domainName, err)
	}
	if err := ValidateName(adminName); err != nil {
		return BootstrapResult{}, fmt.Errorf("bootstrap: admin name %q: %w", adminName, err)
	}
	now := s.now()
	d := store.Domain{ID: NewID(), Name: domainName, CreatedAt: now, UpdatedAt: now}
	admin := store.User{
		ID:            NewID(),
		DomainID:      d.ID,
		Name:          adminName,
		Enabled:       true,
		PwdStatus:     false,
		AccessMode:    AccessDefault,
		Role:          RoleOwner,
		IsDomainOwner: true,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	pol, err := s.PolicyFor(ctx, d.ID)
	if err != nil {
		return BootstrapResult{}, err
	}
	opts := passwords.CheckOptions{Now: now, AdminReset: true}
	generated := ""
	if adminPassword == "" {
		if adminPassword, err = s.generatePassword(ctx, pol, &admin, opts); err != nil {
			return BootstrapResult{}, err
		}
		generated = adminPassword
	} else if err := pol.Check(ctx, s.hasher, adminPassword, subjectOf(&admin, nil), opts); err != nil {
		return BootstrapResult{}, fmt.Errorf("bootstrap: the admin password does not satisfy the password policy: %w", err)
	}
	h, err := s.hasher.Hash(ctx, adminPassword)
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("bootstrap: %w", err)
	}
	admin.PasswordHash = h
	admin.PwdStrength = passwords.Strength(adminPassword)
	admin.PasswordChangedAt = &now
	admin.PasswordExpiresAt = pol.ExpiresAt(now)

	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&d).Error; err != nil {
			return err
		}
		return tx.Create(&admin).Error
	})
	if isDuplicate(err) {
		// Another instance created it between our read and our insert.
		res, ok, rerr := s.existingBootstrap(ctx, domainName)
		if rerr != nil {
			return res, rerr
		}
		if ok {
			return res, nil
		}
	}
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("bootstrap: create domain %q: %w", domainName, err)
	}
	s.log.InfoContext(ctx, "bootstrap domain created", "domain", domainName, "domain_id", d.ID, "admin", adminName, "admin_id", admin.ID)
	return BootstrapResult{Created: true, Domain: d, Admin: admin, GeneratedPassword: generated}, nil
}

// existingBootstrap returns the domain called name and its owner, if the
// domain exists.
func (s *Service) existingBootstrap(ctx context.Context, name string) (BootstrapResult, bool, error) {
	d, err := s.DomainByName(ctx, name)
	if fault.Is(err, fault.NotFound) {
		return BootstrapResult{}, false, nil
	}
	if err != nil {
		return BootstrapResult{}, false, fmt.Errorf("bootstrap: %w", err)
	}
	res := BootstrapResult{Domain: *d}
	err = s.db.WithContext(ctx).Where("domain_id = ? AND is_domain_owner = ?", d.ID, true).Order("created_at").Take(&res.Admin).Error
	if err != nil && !isNotFound(err) {
		return BootstrapResult{}, false, fmt.Errorf("bootstrap: read owner: %w", err)
	}
	if isNotFound(err) {
		s.log.WarnContext(ctx, "bootstrap domain exists without an owner", "domain_id", d.ID)
	}
	return res, true, nil
}

// Character classes of generated passwords: unambiguous (no 0/O, 1/l/I) and
// print-safe (no quotes, spaces, backslash or shell metacharacters).
const (
	genUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	genLower   = "abcdefghijkmnopqrstuvwxyz"
	genDigits  = "23456789"
	genSpecial = "-_.+=@"
	genLength  = 20
)

// generatePassword returns a random password with every character class that
// passes the policy for u. Checking against the real policy (instead of
// assuming) keeps it valid if the default policy is ever tightened.
func (s *Service) generatePassword(ctx context.Context, pol passwords.Policy, u *store.User, opts passwords.CheckOptions) (string, error) {
	length := genLength
	if pol.MaxLength > 0 && length > pol.MaxLength {
		length = pol.MaxLength
	}
	if length < pol.MinLength {
		length = pol.MinLength
	}
	var last error
	for range 20 {
		pw, err := randomPassword(length)
		if err != nil {
			return "", err
		}
		if last = pol.Check(ctx, s.hasher, pw, subjectOf(u, nil), opts); last == nil {
			return pw, nil
		}
		if fault.Is(last, fault.Overloaded) {
			return "", last
		}
	}
	return "", fmt.Errorf("bootstrap: could not generate a password that satisfies the policy: %w", last)
}

func randomPassword(length int) (string, error) {
	all := genUpper + genLower + genDigits + genSpecial
	classes := []string{genUpper, genLower, genDigits, genSpecial}
	if length < len(classes) {
		return "", errors.New("generated password length too small")
	}
	pick := func(set string) (byte, error) {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return 0, err
		}
		return set[n.Int64()], nil
	}
	b := make([]byte, length)
	for i := range b {
		set := all
		if i < len(classes) {
			set = classes[i] // one of each class first, shuffled below
		}
		c, err := pick(set)
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		b[i] = c
	}
	for i := len(b) - 1; i > 0; i-- { // Fisher-Yates
		n, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		j := n.Int64()
		b[i], b[j] = b[j], b[i]
	}
	return string(b), nil
}
