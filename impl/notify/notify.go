// Package notify delivers short messages to users (today: the one-time codes
// of login protection by SMS and e-mail) through a transactional outbox.
//
// A message is written to the outbox table (store.OutboxMessage) in the
// same database transaction as whatever caused it (Enqueue), so it exists
// exactly when the cause does. A worker in every instance (Run, started by
// the app) drains the table:
//
//   - a row is claimed by one conditional UPDATE that sets a lease (owner
//     and expiry); on PostgreSQL the candidate rows are picked with SELECT
//     ... FOR UPDATE SKIP LOCKED so concurrent workers pass each other
//     instead of queueing; on SQLite the UPDATE runs under the database
//     write lock. Two instances therefore never deliver the same row at the
//     same time.
//   - a failed delivery is retried with exponential backoff (with jitter)
//     until it succeeds, is refused for good, runs out of attempts or
//     expires (a code past its expiry is of no use); undelivered rows
//     survive restarts and are picked up by whichever instance runs next.
//   - should an instance die between sending and recording the success, the
//     lease runs out and the row is sent again: delivery is at least once,
//     which is why webhook requests carry the message id.
//
// Notifiers: SMTP (e-mail; STARTTLS and AUTH PLAIN from settings), an HTTP
// webhook (SMS gateways; JSON POST signed with HMAC-SHA256), and the
// development outbox: the stored row itself is the delivery, listed to the
// domain's administrators by GET /v3.0/OS-MFA/outbox — with the code, on
// purpose, since it is the channel. It is on by default only when no other
// notifier is configured, and a channel without a notifier cannot send.
//
// Message bodies and codes are cleared from the table once delivered (or
// given up); they never reach the logs.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/store"
)

// Channels.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// Notifier names (store.OutboxMessage.Notifier).
const (
	NotifierSMTP    = "smtp"
	NotifierWebhook = "webhook"
	NotifierDev     = "dev"
)

// Statuses of a row.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
	StatusExpired = "expired"
)

// ErrNoRoute: no notifier is configured for the message's channel.
var ErrNoRoute = errors.New("notify: no notifier is configured for this channel")

// Message is what to send.
type Message struct {
	DomainID  string
	UserID    string
	Channel   string // sms or email
	Recipient string // "+<country code>-<number>" or an e-mail address
	Subject   string // e-mail only
	Body      string
	// Code is the one-time code the body carries (webhooks send it apart,
	// for gateways that fill templates).
	Code string
	// ExpiresAt, when set, is when the message stops being worth sending.
	ExpiresAt time.Time
}

// Notifier delivers one message. An error wrapped with Permanent is not
// retried.
type Notifier interface {
	Deliver(ctx context.Context, m *store.OutboxMessage) error
}

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying (the recipient was refused, the
// request was rejected as invalid).
func Permanent(err error) error { return permanent{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Config configures an Outbox.
type Config struct {
	// SMTP delivers e-mail when set.
	SMTP *SMTPConfig
	// Webhook delivers SMS when set.
	Webhook *WebhookConfig
	// Dev keeps messages of channels without another notifier in the
	// development outbox.
	Dev bool
	// Poll is how often the worker looks for due rows (it is also woken at
	// once by Kick after a local Enqueue); default 1 s.
	Poll time.Duration
	// Lease is how long a claimed row stays reserved for its worker;
	// default 1 minute (more than a delivery's timeout).
	Lease time.Duration
	// SendTimeout bounds one delivery; default 30 s.
	SendTimeout time.Duration
	// MaxAttempts before a row is given up; default 10.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the retry delays (base·2^(n-1),
	// capped, plus up to 25% jitter); defaults 1 s and 1 minute.
	BackoffBase, BackoffMax time.Duration
	// Retention is how long finished rows (and the development outbox) are
	// kept; default 24 h.
	Retention time.Duration
	// Batch is how many rows a worker claims at once; default 10.
	Batch int
}

// Outbox queues and delivers messages. It is safe for concurrent use.
type Outbox struct {
	db        *store.DB
	log       *slog.Logger
	cfg       Config
	notifiers map[string]Notifier // by notifier name; dev is not here
	routes    map[string]string   // channel -> notifier name
	kick      chan struct{}
	clock     atomic.Pointer[func() time.Time]
	lastPrune atomic.Int64 // Unix µs of the last prune (RunOnce may run concurrently)
}

// Option configures an Outbox.
type Option func(*Outbox)

// WithNotifier replaces (or adds) the notifier called name (tests).
func WithNotifier(name string, n Notifier) Option {
	return func(o *Outbox) { o.notifiers[name] = n }
}

// WithClock sets the time source.
func WithClock(now func() time.Time) Option { return func(o *Outbox) { o.clock.Store(&now) } }

// New returns an Outbox.
func New(db *store.DB, log *slog.Logger, cfg Config, opts ...Option) *Outbox {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Poll, time.Second)
	def(&cfg.Lease, time.Minute)
	def(&cfg.SendTimeout, 30*time.Second)
	def(&cfg.BackoffBase, time.Second)
	def(&cfg.BackoffMax, time.Minute)
	def(&cfg.Retention, 24*time.Hour)
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 10
	}
	o := &Outbox{db: db, log: log, cfg: cfg, notifiers: map[string]Notifier{}, routes: map[string]string{},
		kick: make(chan struct{}, 1)}
	now := time.Now
	o.clock.Store(&now)
	if cfg.SMTP != nil {
		o.notifiers[NotifierSMTP] = NewSMTP(*cfg.SMTP)
		o.routes[ChannelEmail] = NotifierSMTP
	}
	if cfg.Webhook != nil {
		o.notifiers[NotifierWebhook] = NewWebhook(*cfg.Webhook)
		o.routes[ChannelSMS] = NotifierWebhook
	}
	if cfg.Dev {
		for _, ch := range []string{ChannelSMS, ChannelEmail} {
			if o.routes[ch] == "" {
				o.routes[ch] = NotifierDev
			}
		}
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// SetClock replaces the time source while in use (tests).
func (o *Outbox) SetClock(now func() time.Time) { o.clock.Store(&now) }

func (o *Outbox) now() time.Time { return (*o.clock.Load())() }

// Routes describes which notifier serves each channel, for the startup log.
func (o *Outbox) Routes() map[string]string {
	out := make(map[string]string, len(o.routes))
	for k, v := range o.routes {
		out[k] = v
	}
	return out
}

// CanSend reports whether a notifier serves channel.
func (o *Outbox) CanSend(channel string) bool { return o != nil && o.routes[channel] != "" }

func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

// Enqueue writes m to the outbox inside tx (pass the transaction of the
// change that causes the message). A channel without a notifier is
// ErrNoRoute. Messages for the development outbox are stored as delivered.
// Call Kick after the commit to deliver without waiting for the next poll.
func (o *Outbox) Enqueue(tx *gorm.DB, m Message) (*store.OutboxMessage, error) {
	name := o.routes[m.Channel]
	if name == "" {
		return nil, ErrNoRoute
	}
	now := o.now().UnixMicro()
	row := &store.OutboxMessage{
		ID: newID(), DomainID: m.DomainID, UserID: m.UserID, Channel: m.Channel, Notifier: name,
		Recipient: m.Recipient, Subject: m.Subject, Body: m.Body, Code: m.Code,
		Status: StatusPending, NextAttemptAt: now, CreatedAt: now,
	}
	if !m.ExpiresAt.IsZero() {
		row.ExpiresAt = m.ExpiresAt.UnixMicro()
	}
	if name == NotifierDev {
		row.Status, row.SentAt, row.Attempts = StatusSent, now, 1
	}
	if err := tx.Create(row).Error; err != nil {
		return nil, fmt.Errorf("queue %s message: %w", m.Channel, err)
	}
	return row, nil
}

// Kick wakes the local worker (non-blocking).
func (o *Outbox) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// ListDev returns the development outbox of a domain, newest first: at most
// limit messages, of user userID only when it is not empty.
func (o *Outbox) ListDev(ctx context.Context, domainID, userID string, limit int) ([]store.OutboxMessage, error) {
	q := o.db.WithContext(ctx).Where("domain_id = ? AND notifier = ?", domainID, NotifierDev)
	if userID != "" {
		q = q.Where("user_id = ?", userID)
	}
	out := []store.OutboxMessage{}
	if err := q.Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list development outbox: %w", err)
	}
	return out, nil
}

// names lists the notifiers this instance can deliver with (sorted, for a
// stable statement).
func (o *Outbox) names() []string {
	out := make([]string, 0, len(o.notifiers))
	for n := range o.notifiers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
