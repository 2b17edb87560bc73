package store

import "time"

// PasswordPolicy is the stored password policy of a domain (apis.md §3.3).
// A domain without a row has the defaults (package policies): a row is
// written on the first update only. Durations are kept in the wire units
// (minutes, days) so the row reads like the API.
type PasswordPolicy struct {
	DomainID                          string `gorm:"primaryKey;size:32"`
	MinimumPasswordLength             int    `gorm:"not null"`
	PasswordCharCombination           int    `gorm:"not null"`
	NumberOfRecentPasswordsDisallowed int    `gorm:"not null"`
	MaximumConsecutiveIdenticalChars  int    `gorm:"not null"`
	MinimumPasswordAge                int    `gorm:"not null"` // minutes
	PasswordValidityPeriod            int    `gorm:"not null"` // days
	PasswordNotUsernameOrInvert       bool   `gorm:"not null"`
	WeakPasswordCheck                 bool   `gorm:"not null"`
	PersonalInfoCheck                 bool   `gorm:"not null"`
	UpdatedAt                         time.Time
}

// LoginPolicy is the stored login (lockout) policy of a domain (apis.md
// §3.4). Like PasswordPolicy, a domain without a row has the defaults.
type LoginPolicy struct {
	DomainID                string `gorm:"primaryKey;size:32"`
	LoginFailedTimes        int    `gorm:"not null"`
	PeriodWithLoginFailures int    `gorm:"not null"` // minutes
	LockoutDuration         int    `gorm:"not null"` // minutes
	AccountValidityPeriod   int    `gorm:"not null"` // days
	SessionTimeout          int    `gorm:"not null"` // minutes
	ShowRecentLoginInfo     bool   `gorm:"not null"`
	CustomInfoForLogin      string `gorm:"size:256;not null"` // at most 64 characters (up to 4 bytes each)
	UpdatedAt               time.Time
}
