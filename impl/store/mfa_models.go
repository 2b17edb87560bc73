package store

// MFA models (package mfa). Times compared in SQL are Unix microseconds, so
// both databases store and compare them as plain integers.

// MFADevice is the virtual MFA device of a user: at most one per user (the
// primary key). Secret is the TOTP key in base32. It is stored as is, not
// hashed: verifying a code needs the key itself (RFC 6238 computes the code
// from it), so a hash would make the device useless. It is never returned
// after the create call and never logged.
type MFADevice struct {
	UserID   string `gorm:"primaryKey;size:32"`
	DomainID string `gorm:"size:32;not null;index"`
	Name     string `gorm:"size:64;not null"`
	// SerialNumber is "iam:<domain_id>:mfa/<name>", unique (it embeds the
	// domain, so names are unique per domain).
	SerialNumber string `gorm:"size:140;not null;uniqueIndex"`
	Secret       string `gorm:"size:64;not null"`
	Bound        bool   `gorm:"not null"`
	BoundAt      int64  `gorm:"not null"` // 0 while unbound
	CreatedAt    int64  `gorm:"not null;autoCreateTime:false"`
}

// MFAUsedCode records a TOTP time step whose code a user has used: the
// primary key makes "each code at most once" one atomic INSERT that either
// creates the row or finds it (a replay). Rows are useless once their step
// has left the acceptance window and are deleted then.
type MFAUsedCode struct {
	UserID string `gorm:"primaryKey;size:32"`
	Step   int64  `gorm:"primaryKey;autoIncrement:false"`
}

// LoginCode is a one-time code sent by SMS or e-mail for login protection
// (Keystone auth-receipt pattern). ID is the SHA-256 of the receipt given to
// the client; CodeHash is an HMAC-SHA-256 of the code keyed with that
// receipt, so neither the receipt nor the code can be recovered or
// brute-forced from the database alone. Rows are kept an hour after
// creation: they are also the per-user send counter.
type LoginCode struct {
	ID        string `gorm:"primaryKey;size:64"`
	UserID    string `gorm:"size:32;not null;index:ix_login_codes_user_created,priority:1"`
	DomainID  string `gorm:"size:32;not null"`
	Method    string `gorm:"size:8;not null"` // sms or email
	CodeHash  string `gorm:"size:64;not null"`
	Attempts  int    `gorm:"not null"`
	ExpiresAt int64  `gorm:"not null"`
	UsedAt    int64  `gorm:"not null"` // 0 while unused
	CreatedAt int64  `gorm:"not null;autoCreateTime:false;index:ix_login_codes_user_created,priority:2"`
}
