package store

import "time"

// AccessKey is a permanent access key (AK/SK) of a user (IAM v3.0
// OS-CREDENTIAL; package accesskeys). The secret key is kept encrypted, never
// hashed: verifying an SDK-HMAC-SHA256 signature needs it in clear.
type AccessKey struct {
	// Access is the access key id (AK).
	Access   string `gorm:"primaryKey;size:32"`
	UserID   string `gorm:"size:32;not null;index"`
	DomainID string `gorm:"size:32;not null;index"`
	// SecretEnc is the secret key (SK) sealed with AES-256-GCM under the
	// server's secret key: nonce || ciphertext || tag, with the AK as
	// additional data (a ciphertext moved to another row does not open).
	SecretEnc []byte `gorm:"not null"`
	// KeyID names the server secret key that sealed SecretEnc (a
	// fingerprint, not the key), so a wrong --secret-key is told apart from
	// a bad signature in the log.
	KeyID       string `gorm:"size:16;not null"`
	Status      string `gorm:"size:8;not null"` // active | inactive
	Description string `gorm:"size:255;not null;default:''"`
	// LastUsedAt is the first use in each 15-minute window (as the vendor
	// shows it), so a busy key costs one write per 15 minutes at most.
	LastUsedAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}
