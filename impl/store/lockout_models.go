package store

// LockoutCounter counts failed verifications of one credential of a user
// (package lockout). Kind separates the credentials ("password", "https",
// "totp"), so guessing one cannot lock another. Times are Unix microseconds,
// so both databases compare and store them as plain integers: the counters
// are changed only by single atomic statements that compare them in SQL.
type LockoutCounter struct {
	UserID   string `gorm:"primaryKey;size:32"`
	Kind     string `gorm:"primaryKey;size:16"`
	DomainID string `gorm:"size:32;not null"`
	// Attempts are the verifications started in the current window (the
	// failures and those still running): Begin refuses once they reach the
	// limit, so no more verifications than the limit ever run at once.
	Attempts int `gorm:"not null"`
	// Failures are the verifications that failed in the current window.
	Failures int `gorm:"not null"`
	// WindowEnd ends the current counting window (0: none open).
	WindowEnd int64 `gorm:"not null"`
	// LockedUntil is the end of the lock (0: never locked).
	LockedUntil int64 `gorm:"not null"`
}
