package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
)

// ExpiryFilter is the Keystone list filter password_expires_at={op}:{time}.
// Users whose password never expires (NULL) match no operator, neq included,
// as in SQL (and Keystone).
type ExpiryFilter struct {
	Op string // lt, lte, gt, gte, eq, neq
	At time.Time
}

var expiryOps = map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "eq": "=", "neq": "<>"}

// ParseExpiryFilter parses "{op}:{YYYY-MM-DDTHH:mm:ssZ}" (any RFC 3339 time
// is accepted). A bad value is fault.ParameterInvalid.
func ParseExpiryFilter(v string) (*ExpiryFilter, error) {
	op, ts, ok := strings.Cut(v, ":")
	bad := fault.New(fault.ParameterInvalid, "Request parameter password_expires_at is invalid.")
	if !ok {
		return nil, bad
	}
	if _, known := expiryOps[op]; !known {
		return nil, bad
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, bad
	}
	return &ExpiryFilter{Op: op, At: at.UTC()}, nil
}

// ListFilter narrows ListUsers; nil fields do not filter.
type ListFilter struct {
	Name            *string // exact match
	Enabled         *bool
	PasswordExpires *ExpiryFilter
}

// ListUsers lists the users of a domain, ordered by name.
func (s *Service) ListUsers(ctx context.Context, domainID string, f ListFilter) ([]store.User, error) {
	q := s.db.WithContext(ctx).Where("domain_id = ?", domainID)
	if f.Name != nil {
		q = q.Where("name = ?", *f.Name)
	}
	if f.Enabled != nil {
		q = q.Where("enabled = ?", *f.Enabled)
	}
	if e := f.PasswordExpires; e != nil {
		op, ok := expiryOps[e.Op]
		if !ok {
			return nil, fault.New(fault.ParameterInvalid, "Request parameter password_expires_at is invalid.")
		}
		q = q.Where("password_expires_at IS NOT NULL AND password_expires_at "+op+" ?", e.At.UTC())
	}
	users := []store.User{}
	if err := q.Order("name").Order("id").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// UserInput carries user fields; nil means "not given" (create: default,
// update: unchanged). An empty string clears an optional field (email,
// areacode+phone, xuser pair, description, display name, extension).
type UserInput struct {
	Name, Password, Email, AreaCode, Phone, Description, AccessMode *string
	XUserType, XUserID, DisplayName, Extension                      *string
	Enabled, PwdStatus                                              *bool
}

// CreateUser creates a user in domainID (role "user"). Enabled defaults to
// true; PwdStatus defaults to true when a password is given and is false
// without one (there is nothing to change).
func (s *Service) CreateUser(ctx context.Context, domainID string, in UserInput) (*store.User, error) {
	if in.Name == nil {
		return nil, fault.New(fault.PropertyMissing, "'name' is a required property.")
	}
	if _, err := s.Domain(ctx, domainID); err != nil {
		return nil, err
	}
	now := s.now()
	u := &store.User{
		ID:         NewID(),
		DomainID:   domainID,
		Enabled:    true,
		AccessMode: AccessDefault,
		Role:       RoleUser,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if err := applyInput(u, in); err != nil {
		return nil, err
	}
	if err := s.taken(s.db.DB.WithContext(ctx), u, nil); err != nil {
		return nil, err
	}
	if in.Password != nil {
		pol, err := s.PolicyFor(ctx, domainID)
		if err != nil {
			return nil, err
		}
		if err := pol.Check(ctx, s.hasher, *in.Password, subjectOf(u, nil), passwords.CheckOptions{Now: now, AdminReset: true}); err != nil {
			return nil, err
		}
		h, err := s.hasher.Hash(ctx, *in.Password)
		if err != nil {
			return nil, fmt.Errorf("create user: %w", err)
		}
		u.PasswordHash = h
		u.PwdStrength = passwords.Strength(*in.Password)
		u.PasswordChangedAt = &now
		u.PasswordExpiresAt = pol.ExpiresAt(now)
		u.PwdStatus = true
		if in.PwdStatus != nil {
			u.PwdStatus = *in.PwdStatus
		}
	} else {
		u.PwdStatus = false
	}
	if err := s.db.WithContext(ctx).Create(u).Error; err != nil {
		if isDuplicate(err) {
			return nil, s.duplicate(ctx, u, err)
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	s.log.InfoContext(ctx, "user created", "user_id", u.ID, "domain_id", domainID)
	return u, nil
}

// UpdateUser changes the given fields of a user. A password here is an admin
// reset: exempt from minimum age but not from history, and the current
// password is refused (fault.PasswordSame); it clears the separate HTTPS Git
// password (clearHTTPSPassword) and revokes the user's tokens, as does
// disabling the user.
func (s *Service) UpdateUser(ctx context.Context, domainID, userID string, in UserInput) (*store.User, error) {
	now := s.now()
	var newHash string
	var expires *time.Time
	if in.Password != nil {
		// The policy check and hashing are slow: do them before the
		// transaction, against the user as it will be after the update.
		cur, err := s.User(ctx, domainID, userID)
		if err != nil {
			return nil, err
		}
		next := *cur
		if err := applyInput(&next, in); err != nil {
			return nil, err
		}
		pol, err := s.PolicyFor(ctx, domainID)
		if err != nil {
			return nil, err
		}
		hist, err := s.history(ctx, userID)
		if err != nil {
			return nil, err
		}
		if err := pol.Check(ctx, s.hasher, *in.Password, subjectOf(&next, hist), passwords.CheckOptions{Now: now, AdminReset: true}); err != nil {
			return nil, err
		}
		if newHash, err = s.hasher.Hash(ctx, *in.Password); err != nil {
			return nil, fmt.Errorf("update user: %w", err)
		}
		expires = pol.ExpiresAt(now)
	}

	var out store.User
	var revoke, httpsCleared bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Read under lock and apply the input to this row, so a concurrent
		// partial update of other fields is not overwritten.
		fresh, err := s.user(ctx, tx.Clauses(clause.Locking{Strength: "UPDATE"}), domainID, userID)
		if err != nil {
			return err
		}
		before := *fresh
		if err := applyInput(fresh, in); err != nil {
			return err
		}
		if err := s.taken(tx, fresh, &before); err != nil {
			return err
		}
		if newHash != "" {
			if err := pushHistory(tx, fresh.ID, fresh.PasswordHash, now); err != nil {
				return err
			}
			if httpsCleared, err = clearHTTPSPassword(tx, fresh.ID, now); err != nil {
				return err
			}
			fresh.PasswordHash = newHash
			fresh.PwdStrength = passwords.Strength(*in.Password)
			fresh.PasswordChangedAt = &now
			fresh.PasswordExpiresAt = expires
			revoke = true
		}
		if before.Enabled && !fresh.Enabled {
			revoke = true
		}
		fresh.UpdatedAt = now
		out = *fresh // also what duplicate() examines if the write loses a race
		return saveUser(tx, fresh)
	})
	if err != nil {
		if isDuplicate(err) {
			return nil, s.duplicate(ctx, &out, err)
		}
		if fault.As(err) != nil {
			return nil, err
		}
		return nil, fmt.Errorf("update user %s: %w", userID, err)
	}
	if newHash != "" {
		s.recordPassword(ctx, domainID, userID, true, out.PwdStatus, httpsCleared)
	}
	if revoke {
		if err := s.revoke(ctx, userID); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// UpdateContact sets the e-mail address and/or mobile number of a user (IAM
// /info). mobile is "<areacode>-<number>" ("0086-123456789"); an empty string
// clears the field.
func (s *Service) UpdateContact(ctx context.Context, domainID, userID string, email, mobile *string) error {
	in := UserInput{Email: email}
	if mobile != nil {
		if *mobile == "" {
			empty := ""
			in.AreaCode, in.Phone = &empty, &empty
		} else {
			ac, ph, err := ParseMobile(*mobile)
			if err != nil {
				return err
			}
			in.AreaCode, in.Phone = &ac, &ph
		}
	}
	_, err := s.UpdateUser(ctx, domainID, userID, in)
	return err
}

// DeleteUser deletes a user with its password history, login protection and
// HTTPS credential, and revokes its tokens. The domain owner cannot be
// deleted (fault.OwnerUndeletable).
func (s *Service) DeleteUser(ctx context.Context, domainID, userID string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := s.user(ctx, tx.Clauses(clause.Locking{Strength: "UPDATE"}), domainID, userID)
		if err != nil {
			return err
		}
		if u.IsDomainOwner {
			return fault.New(fault.OwnerUndeletable, "The account administrator cannot be deleted.")
		}
		for _, m := range []any{&store.PasswordHistory{}, &store.LoginProtect{}, &store.HTTPSCredential{}, &store.LockoutCounter{},
			&store.MFADevice{}, &store.MFAUsedCode{}, &store.LoginCode{}, &store.AccessKey{}} {
			if err := tx.Where("user_id = ?", userID).Delete(m).Error; err != nil {
				return fmt.Errorf("delete %T rows: %w", m, err)
			}
		}
		if err := tx.Where("id = ?", userID).Delete(&store.User{}).Error; err != nil {
			return fmt.Errorf("delete user row: %w", err)
		}
		return nil
	})
	if err != nil {
		if fault.As(err) != nil {
			return err
		}
		return fmt.Errorf("delete user %s: %w", userID, err)
	}
	s.log.InfoContext(ctx, "user deleted", "user_id", userID, "domain_id", domainID)
	return s.revoke(ctx, userID)
}

// applyInput validates in and applies it to u (everything except the
// password). u.DomainID must be set: the uniqueness keys embed it.
func applyInput(u *store.User, in UserInput) error {
	if in.Name != nil {
		if err := ValidateName(*in.Name); err != nil {
			return err
		}
		u.Name = *in.Name
	}
	if in.Email != nil {
		if *in.Email == "" {
			u.Email, u.EmailDom = nil, nil
		} else {
			if err := ValidateEmail(*in.Email); err != nil {
				return err
			}
			e, d := *in.Email, u.DomainID
			u.Email, u.EmailDom = &e, &d
		}
	}
	if in.AreaCode != nil || in.Phone != nil {
		ac, ph := deref(u.AreaCode), deref(u.Phone)
		if in.AreaCode != nil {
			ac = *in.AreaCode
			if ac != "" {
				if err := ValidateAreaCode(ac); err != nil {
					return err
				}
			}
		}
		if in.Phone != nil {
			ph = *in.Phone
			if ph != "" {
				if err := ValidatePhone(ph); err != nil {
					return err
				}
			}
		}
		if (ac == "") != (ph == "") {
			return fault.New(fault.PhonePairing, "The country code and mobile number must be set at the same time.")
		}
		if ph == "" {
			u.AreaCode, u.Phone, u.PhoneKey = nil, nil, nil
		} else {
			key := u.DomainID + "/" + countryCode(ac) + "-" + ph
			u.AreaCode, u.Phone, u.PhoneKey = &ac, &ph, &key
		}
	}
	if in.XUserType != nil || in.XUserID != nil {
		typ, id := deref(u.XUserType), deref(u.XUserID)
		if in.XUserType != nil {
			typ = *in.XUserType
		}
		if in.XUserID != nil {
			id = *in.XUserID
		}
		if err := validateXUser(typ, id); err != nil {
			return err
		}
		if typ == "" {
			u.XUserType, u.XUserID, u.XUserKey = nil, nil, nil
		} else {
			key := u.DomainID + "/" + typ + "/" + id
			u.XUserType, u.XUserID, u.XUserKey = &typ, &id, &key
		}
	}
	if in.Description != nil {
		if err := ValidateDescription(*in.Description); err != nil {
			return err
		}
		u.Description = *in.Description
	}
	if in.AccessMode != nil {
		if err := ValidateAccessMode(*in.AccessMode); err != nil {
			return err
		}
		u.AccessMode = *in.AccessMode
	}
	if in.DisplayName != nil {
		if err := validateDisplayName(*in.DisplayName); err != nil {
			return err
		}
		u.DisplayName = *in.DisplayName
	}
	if in.Extension != nil {
		if err := validateExtension(*in.Extension); err != nil {
			return err
		}
		u.Extension = *in.Extension
	}
	if in.Enabled != nil {
		u.Enabled = *in.Enabled
	}
	if in.PwdStatus != nil {
		u.PwdStatus = *in.PwdStatus
	}
	return nil
}

// saveUser writes every column of u (zero values included).
func saveUser(tx *gorm.DB, u *store.User) error {
	if err := tx.Model(u).Select("*").Omit("id", "created_at").Updates(u).Error; err != nil {
		return fmt.Errorf("save user: %w", err)
	}
	return nil
}

// taken reports the first unique value of u that another user already holds
// (in this order: name, e-mail, phone, xuser pair) as the matching *Taken
// fault, or nil. With prev (an update), values equal to prev's are not
// checked. It costs one query, none when nothing unique changed.
func (s *Service) taken(db *gorm.DB, u, prev *store.User) error {
	changed := func(get func(*store.User) *string) bool { return prev == nil || deref(get(u)) != deref(get(prev)) }
	type check struct {
		where string
		args  []any
		match func(o *store.User) bool
		err   func() error
	}
	var checks []check
	if prev == nil || u.Name != prev.Name {
		checks = append(checks, check{"(domain_id = ? AND name = ?)", []any{u.DomainID, u.Name},
			func(o *store.User) bool { return o.DomainID == u.DomainID && o.Name == u.Name },
			func() error { return fault.New(fault.NameTaken, "Username already exists: %s.", u.Name) }})
	}
	if u.Email != nil && changed(func(x *store.User) *string { return x.Email }) {
		checks = append(checks, check{"(email_dom = ? AND email = ?)", []any{*u.EmailDom, *u.Email},
			func(o *store.User) bool { return deref(o.EmailDom) == *u.EmailDom && deref(o.Email) == *u.Email },
			func() error { return fault.New(fault.EmailTaken, "Email address already exists.") }})
	}
	if u.PhoneKey != nil && changed(func(x *store.User) *string { return x.PhoneKey }) {
		checks = append(checks, check{"phone_key = ?", []any{*u.PhoneKey},
			func(o *store.User) bool { return deref(o.PhoneKey) == *u.PhoneKey },
			func() error { return fault.New(fault.PhoneTaken, "Mobile number already exists.") }})
	}
	if u.XUserKey != nil && changed(func(x *store.User) *string { return x.XUserKey }) {
		checks = append(checks, check{"x_user_key = ?", []any{*u.XUserKey},
			func(o *store.User) bool { return deref(o.XUserKey) == *u.XUserKey },
			func() error { return fault.New(fault.XUserTaken, "xuser_id and xuser_type already exist.") }})
	}
	if len(checks) == 0 {
		return nil
	}
	// One query: each OR branch is served by its own unique index.
	var wheres []string
	var args []any
	for _, c := range checks {
		wheres = append(wheres, c.where)
		args = append(args, c.args...)
	}
	var others []store.User
	err := db.Select("id", "domain_id", "name", "email", "email_dom", "phone_key", "x_user_key").
		Where(strings.Join(wheres, " OR "), args...).Where("id <> ?", u.ID).Limit(len(checks)).Find(&others).Error
	if err != nil {
		return fmt.Errorf("check unique user fields: %w", err)
	}
	for _, c := range checks {
		for i := range others {
			if c.match(&others[i]) {
				return c.err()
			}
		}
	}
	return nil
}

// duplicate turns a unique-constraint failure (a concurrent writer won the
// race after our pre-check) into the matching *Taken fault. The failed
// transaction is over, so the committed winner is visible now.
func (s *Service) duplicate(ctx context.Context, u *store.User, cause error) error {
	if err := s.taken(s.db.DB.WithContext(ctx), u, nil); err != nil {
		return err
	}
	return fault.Wrap(fault.Conflict, cause, "The user conflicts with an existing user.")
}

func subjectOf(u *store.User, history []string) passwords.Subject {
	return passwords.Subject{
		UserName:          u.Name,
		DisplayName:       u.DisplayName,
		Email:             deref(u.Email),
		AreaCode:          deref(u.AreaCode),
		Phone:             deref(u.Phone),
		CurrentHash:       u.PasswordHash,
		History:           history,
		PasswordChangedAt: u.PasswordChangedAt,
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// SetRole gives a user of domainID the role RoleSecuAdmin or RoleUser. The
// owner's role never changes. The user's tokens are revoked, since tokens
// carry the roles they were issued with.
func (s *Service) SetRole(ctx context.Context, domainID, userID, role string) error {
	if role != RoleSecuAdmin && role != RoleUser {
		return fault.New(fault.PropertyInvalid, "Invalid role %q.", role)
	}
	u, err := s.User(ctx, domainID, userID)
	if err != nil {
		return err
	}
	if u.Role == RoleOwner {
		return fault.New(fault.Forbidden, "The role of the domain owner cannot change.")
	}
	if u.Role == role {
		return nil
	}
	if err := s.db.WithContext(ctx).Model(&store.User{}).Where("id = ?", u.ID).Update("role", role).Error; err != nil {
		return fmt.Errorf("set role of user %s: %w", u.ID, err)
	}
	return s.revoke(ctx, u.ID)
}
