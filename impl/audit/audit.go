package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

// Log records and lists audit events. It is safe for concurrent use.
type Log struct {
	db    *store.DB
	log   *slog.Logger
	clock func() time.Time
}

// Option configures a Log.
type Option func(*Log)

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(l *Log) { l.clock = now } }

// New returns a Log over db.
func New(db *store.DB, log *slog.Logger, opts ...Option) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Log{db: db, log: log, clock: time.Now}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Limits on what one event stores (details are short facts, not documents).
const (
	maxDetailKeys  = 32
	maxKeyRunes    = 64
	maxValueRunes  = 256
	maxSourceRunes = 64
)

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Record stores ev. The actor and the source address default to the
// request's (authn principal, client IP). Record is called after the change
// it describes has been committed, and callers treat it as best effort: a
// failure is logged here (without the event's detail) and returned.
func (l *Log) Record(ctx context.Context, ev Event) error {
	if ev.ActorID == "" && ev.ActorType == "" {
		ev.ActorID, ev.ActorType = actorOf(authn.FromContext(ctx))
	}
	if ev.SourceIP == "" {
		ev.SourceIP = authn.ClientIP(ctx)
	}
	if ev.Outcome == "" {
		ev.Outcome = Success
	}
	detail := map[string]string{}
	keys := make([]string, 0, len(ev.Detail))
	for k := range ev.Detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == maxDetailKeys {
			break
		}
		detail[clip(k, maxKeyRunes)] = clip(ev.Detail[k], maxValueRunes)
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit: encode detail: %w", err) // strings only: cannot happen
	}
	row := store.AuditEvent{
		ID:        newID(),
		DomainID:  ev.DomainID,
		Type:      string(ev.Type),
		ActorID:   clip(ev.ActorID, 64),
		ActorType: ev.ActorType,
		TargetID:  clip(ev.TargetID, 64),
		SourceIP:  clip(ev.SourceIP, maxSourceRunes),
		Outcome:   string(ev.Outcome),
		Detail:    string(raw),
		CreatedAt: l.clock().UTC().Truncate(time.Microsecond),
	}
	// Detached from cancellation: the change it records has happened.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := l.db.WithContext(wctx).Create(&row).Error; err != nil {
		l.log.ErrorContext(ctx, "audit: record event failed", "type", string(ev.Type), "domain_id", ev.DomainID,
			"target_id", ev.TargetID, "err", err)
		return fmt.Errorf("audit: record %s: %w", ev.Type, err)
	}
	return nil
}

func actorOf(p *authn.Principal) (id, typ string) {
	switch {
	case p == nil:
		return "", ActorAnonymous
	case p.Kind == authn.KindCIAMClient:
		return p.ClientID, ActorClient
	default:
		return p.UserID, ActorUser
	}
}

// Filter selects events of one domain. Zero fields select everything.
type Filter struct {
	Type   Type
	UserID string    // events about (target) or by (actor) this user
	Since  time.Time // at or after
	Until  time.Time // before
	// Limit is the page size (default DefaultLimit, at most MaxLimit).
	Limit int
	// Marker is the id of the last event of the previous page.
	Marker string
}

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Page is one page of events, newest first. NextMarker is "" on the last
// page.
type Page struct {
	Events     []Record
	NextMarker string
}

// List returns the events of domainID that match f, newest first. An
// unknown marker, or one of another domain, is fault.ParameterInvalid.
func (l *Log) List(ctx context.Context, domainID string, f Filter) (Page, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		return Page{}, fault.New(fault.ParameterInvalid, "Request parameter limit is invalid: it must be between 1 and %d.", MaxLimit)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return Page{}, fault.New(fault.ParameterInvalid, "Request parameter since is invalid: it must be before until.")
	}
	db := l.db.WithContext(ctx)
	q := db.Model(&store.AuditEvent{}).Where("domain_id = ?", domainID)
	if f.Marker != "" {
		var m store.AuditEvent
		err := db.Select("seq").Where("id = ? AND domain_id = ?", f.Marker, domainID).Take(&m).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Page{}, fault.New(fault.ParameterInvalid, "Request parameter marker is invalid: no such event.")
		}
		if err != nil {
			return Page{}, fmt.Errorf("audit: read marker: %w", err)
		}
		q = q.Where("seq < ?", m.Seq)
	}
	if f.Type != "" {
		q = q.Where("type = ?", string(f.Type))
	}
	if f.UserID != "" {
		q = q.Where("(target_id = ? OR actor_id = ?)", f.UserID, f.UserID)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until.UTC())
	}
	var rows []store.AuditEvent
	if err := q.Order("seq DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return Page{}, fmt.Errorf("audit: list events: %w", err)
	}
	var p Page
	if len(rows) > limit {
		rows = rows[:limit]
		p.NextMarker = rows[limit-1].ID
	}
	p.Events = make([]Record, 0, len(rows))
	for _, r := range rows {
		rec := Record{ID: r.ID, Type: Type(r.Type), DomainID: r.DomainID, ActorID: r.ActorID, ActorType: r.ActorType,
			TargetID: r.TargetID, SourceIP: r.SourceIP, Outcome: Outcome(r.Outcome), Time: r.CreatedAt.UTC(),
			Detail: map[string]string{}}
		if r.Detail != "" {
			if err := json.Unmarshal([]byte(r.Detail), &rec.Detail); err != nil {
				l.log.WarnContext(ctx, "audit: unreadable event detail", "id", r.ID, "err", err)
			}
		}
		p.Events = append(p.Events, rec)
	}
	return p, nil
}

// Purge deletes the events recorded before cutoff (retention) and returns
// how many went.
func (l *Log) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	res := l.db.WithContext(ctx).Where("created_at < ?", cutoff.UTC()).Delete(&store.AuditEvent{})
	if res.Error != nil {
		return 0, fmt.Errorf("audit: purge: %w", res.Error)
	}
	return res.RowsAffected, nil
}
