package store

// OutboxMessage is a message waiting for delivery, or delivered, by package
// notify (table outbox_messages). It is written in the transaction of the
// request that causes it and delivered by a worker of any instance: a worker
// claims a row by setting LeaseOwner/LeaseUntil in one conditional UPDATE,
// so two instances never deliver the same row at the same time. Times are
// Unix microseconds (compared in SQL on both databases).
//
// Body and Code hold the one-time code until the message is delivered or
// expires; they are cleared then, except for the development outbox
// (Notifier "dev"), where the stored row is the delivery itself.
type OutboxMessage struct {
	ID       string `gorm:"primaryKey;size:32"`
	DomainID string `gorm:"size:32;not null;index:ix_outbox_domain_created,priority:1"`
	UserID   string `gorm:"size:32;not null"`
	Channel  string `gorm:"size:8;not null"` // sms or email
	// Notifier delivers the row: smtp, webhook or dev. It is chosen when the
	// message is queued; only instances that have that notifier claim it.
	Notifier  string `gorm:"size:16;not null;index:ix_outbox_due,priority:2"`
	Recipient string `gorm:"size:255;not null"`
	Subject   string `gorm:"size:255;not null"`
	Body      string `gorm:"type:text;not null"`
	Code      string `gorm:"size:16;not null"`
	// Status: pending, sent, failed (gave up) or expired (too late to be of
	// use).
	Status        string `gorm:"size:16;not null;index:ix_outbox_due,priority:1"`
	Attempts      int    `gorm:"not null"`
	NextAttemptAt int64  `gorm:"not null;index:ix_outbox_due,priority:3"`
	LeaseOwner    string `gorm:"size:32;not null"`
	LeaseUntil    int64  `gorm:"not null"`
	LastError     string `gorm:"size:255;not null"`
	CreatedAt     int64  `gorm:"not null;autoCreateTime:false;index:ix_outbox_domain_created,priority:2"`
	SentAt        int64  `gorm:"not null"`
	ExpiresAt     int64  `gorm:"not null"` // 0: never
}
