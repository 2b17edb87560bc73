package store

import "time"

// Domain is an account (Huawei "domain"): the boundary nothing crosses.
type Domain struct {
	ID        string `gorm:"primaryKey;size:32"`
	Name      string `gorm:"size:64;not null;uniqueIndex"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// User is one identity in the shared store. IAM, CodeArts Repo and CIAM all
// act on these rows.
type User struct {
	ID       string `gorm:"primaryKey;size:32"`
	DomainID string `gorm:"size:32;not null;uniqueIndex:ux_users_domain_name,priority:1;index"`
	Name     string `gorm:"size:64;not null;uniqueIndex:ux_users_domain_name,priority:2"`
	// Email, AreaCode and Phone are nil when unset, so the unique indexes
	// ignore them.
	Email    *string `gorm:"size:255;uniqueIndex:ux_users_domain_email,priority:2"`
	EmailDom *string `gorm:"size:32;uniqueIndex:ux_users_domain_email,priority:1"` // = DomainID when Email is set
	AreaCode *string `gorm:"size:8"`
	Phone    *string `gorm:"size:32"`
	// PhoneKey is "<domain_id>/<areacode>-<phone>" when a phone is set; unique.
	PhoneKey    *string `gorm:"size:80;uniqueIndex"`
	DisplayName string  `gorm:"size:128"` // CIAM "name" (real name)
	Description string  `gorm:"size:255"`
	Enabled     bool    `gorm:"not null"`
	// PwdStatus true means the password must be changed (IAM pwd_status, CIAM must-modify).
	PwdStatus  bool    `gorm:"not null"`
	AccessMode string  `gorm:"size:16;not null;default:default"`
	XUserType  *string `gorm:"size:64"`
	XUserID    *string `gorm:"size:128"`
	XUserKey   *string `gorm:"size:240;uniqueIndex"` // "<domain_id>/<type>/<id>" when set; unique
	// Role: "owner", "secu_admin" or "user".
	Role          string `gorm:"size:16;not null;default:user"`
	IsDomainOwner bool   `gorm:"not null"`
	// PwdStrength rates the current password when it is set (Low, Medium,
	// Strong); empty when the user has no password.
	PwdStrength string `gorm:"size:8"`
	// PasswordHash is an argon2id PHC string; empty when the user has no password.
	PasswordHash      string `gorm:"size:255"`
	PasswordChangedAt *time.Time
	PasswordExpiresAt *time.Time
	LastLoginAt       *time.Time
	Extension         string `gorm:"type:text"` // CIAM extension object, JSON
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// PasswordHistory keeps previous password hashes for the history rule.
type PasswordHistory struct {
	ID        uint64 `gorm:"primaryKey;autoIncrement"`
	UserID    string `gorm:"size:32;not null;index"`
	Hash      string `gorm:"size:255;not null"`
	CreatedAt time.Time
}

// LoginProtect is the login protection setting of a user. A row exists only
// for users who have ever set it.
type LoginProtect struct {
	UserID             string `gorm:"primaryKey;size:32"`
	DomainID           string `gorm:"size:32;not null;index"`
	Enabled            bool   `gorm:"not null"`
	VerificationMethod string `gorm:"size:8;not null"`
	UpdatedAt          time.Time
}

// HTTPSCredential is the CodeArts Repo HTTPS Git setting and separate password.
type HTTPSCredential struct {
	UserID string `gorm:"primaryKey;size:32"`
	// UseAccountPassword is https_clone_iam_auth: true = account password.
	UseAccountPassword bool   `gorm:"not null;default:true"`
	PasswordHash       string `gorm:"size:255"`
	UpdatedAt          time.Time
}

// SigningKey is a token signing key shared by all instances.
type SigningKey struct {
	ID        uint64 `gorm:"primaryKey;autoIncrement"`
	Secret    []byte `gorm:"not null"`
	CreatedAt time.Time
}

// Revocation revokes one token (TokenID set), every token of a user issued
// at or before RevokedBefore (UserID set) or every token of a CIAM client
// issued at or before RevokedBefore (ClientID set). Rows are kept until
// ExpiresAt, the moment every token they could match has expired anyway.
type Revocation struct {
	ID            uint64 `gorm:"primaryKey;autoIncrement"`
	TokenID       string `gorm:"size:64;index"`
	UserID        string `gorm:"size:32;index"`
	ClientID      string `gorm:"size:64"` // CIAM client id (OAuthClient.ID)
	RevokedBefore time.Time
	ExpiresAt     time.Time `gorm:"index"`
	CreatedAt     time.Time
}

// OAuthClient is a CIAM client-credentials application of a domain.
type OAuthClient struct {
	ID         string `gorm:"primaryKey;size:64"` // client_id
	DomainID   string `gorm:"size:32;not null;index"`
	Name       string `gorm:"size:64"`
	SecretHash string `gorm:"size:255;not null"`
	CreatedAt  time.Time
}

// All lists every model, in migration order.
func All() []any {
	return []any{
		&Domain{}, &User{}, &PasswordHistory{}, &LoginProtect{},
		&HTTPSCredential{}, &SigningKey{}, &Revocation{}, &OAuthClient{},
		&PasswordPolicy{}, &LoginPolicy{}, &LockoutCounter{}, &AuditEvent{},
		&MFADevice{}, &MFAUsedCode{}, &LoginCode{}, &OutboxMessage{},
		&AccessKey{},
	}
}
