package store

import "time"

// AuditEvent is one security-relevant event (package audit). Seq orders the
// events (paging walks it downwards); ID is the public id. Detail is a JSON
// object of strings and never holds a secret.
type AuditEvent struct {
	Seq       uint64    `gorm:"primaryKey;autoIncrement;index:ix_audit_events_domain_seq,priority:2;index:ix_audit_events_domain_type_seq,priority:3"`
	ID        string    `gorm:"size:32;not null;uniqueIndex"`
	DomainID  string    `gorm:"size:32;not null;index:ix_audit_events_domain_seq,priority:1;index:ix_audit_events_domain_type_seq,priority:1"`
	Type      string    `gorm:"size:48;not null;index:ix_audit_events_domain_type_seq,priority:2"`
	ActorID   string    `gorm:"size:64;not null;index"` // user or CIAM client id; "" when nobody authenticated
	ActorType string    `gorm:"size:16;not null"`       // user, client, system, anonymous
	TargetID  string    `gorm:"size:64;not null;index"` // the user (or domain) acted on
	SourceIP  string    `gorm:"size:64;not null"`
	Outcome   string    `gorm:"size:16;not null"` // success, failure, denied
	Detail    string    `gorm:"type:text;not null"`
	CreatedAt time.Time `gorm:"not null;index"`
}
