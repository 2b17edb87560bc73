// Package audittest helps test audited services, as net/http/httptest helps
// test HTTP handlers: a real audit log on a test database (see
// impl/store/storetest) whose log output is captured, readers of the
// recorded rows, a field-by-field check of one event, a scan of rows and
// logs for secrets, and an in-memory Recorder for tests that need no
// database rows.
package audittest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/store"
)

// Buffer is a log sink safe for the concurrent writers under test.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Trail is the real audit log on a test database. Give Logger to the
// services under test as well, so that Logs holds every line they and the
// log wrote (at debug level and up) for NoSecrets to scan.
type Trail struct {
	Log    *audit.Log
	Logger *slog.Logger
	Logs   *Buffer

	db   *store.DB
	seen int // rows already returned by Next
}

// New opens the audit log on db, stamping events with now.
func New(db *store.DB, now func() time.Time) *Trail {
	logs := &Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return &Trail{Log: audit.New(db, log, audit.WithClock(now)), Logger: log, Logs: logs, db: db}
}

// Events reads every audit row of db as stored, in order.
func Events(t testing.TB, db *store.DB) []store.AuditEvent {
	t.Helper()
	var rows []store.AuditEvent
	if err := db.Order("seq").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// Next returns the events recorded since the previous call.
func (tr *Trail) Next(t testing.TB) []store.AuditEvent {
	t.Helper()
	all := Events(t, tr.db)
	out := all[tr.seen:]
	tr.seen = len(all)
	return out
}

// One returns the single event recorded since the previous Next, One or
// None, and stops the test if there is not exactly one.
func (tr *Trail) One(t testing.TB) store.AuditEvent {
	t.Helper()
	evs := tr.Next(t)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1: %+v", len(evs), evs)
	}
	return evs[0]
}

// None fails t if what (an action that must not be audited) recorded events.
func (tr *Trail) None(t testing.TB, what string) {
	t.Helper()
	if evs := tr.Next(t); len(evs) != 0 {
		t.Errorf("%s recorded %+v", what, evs)
	}
}

// ParseDetail decodes a stored detail: a JSON object of strings.
func ParseDetail(t testing.TB, detail string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(detail), &m); err != nil {
		t.Fatalf("detail %q: %v", detail, err)
	}
	return m
}

// Want is what one stored event must hold. An empty Outcome means
// audit.Success. Detail is compared as decoded (the stored JSON escapes
// ">" as \u003e).
type Want struct {
	Type      audit.Type
	Domain    string
	Actor     string
	ActorType string
	Target    string
	Source    string
	Outcome   audit.Outcome
	Detail    map[string]string
}

// Check fails t unless ev holds every field of w.
func Check(t testing.TB, ev store.AuditEvent, w Want) {
	t.Helper()
	if w.Outcome == "" {
		w.Outcome = audit.Success
	}
	got := ParseDetail(t, ev.Detail)
	if ev.Type != string(w.Type) || ev.DomainID != w.Domain || ev.ActorID != w.Actor || ev.ActorType != w.ActorType ||
		ev.TargetID != w.Target || ev.SourceIP != w.Source || ev.Outcome != string(w.Outcome) || !maps.Equal(got, w.Detail) {
		t.Errorf("event %+v\nwant type %s domain %s actor %s/%s target %s source %s outcome %s detail %v",
			ev, w.Type, w.Domain, w.Actor, w.ActorType, w.Target, w.Source, w.Outcome, w.Detail)
	}
}

// NoSecrets fails t for every secret found in the captured log lines or in
// any stored audit row. contains decides what counts as found
// (strings.Contains when nil). An empty secret means the test collected
// the wrong thing: it stops the test.
func (tr *Trail) NoSecrets(t testing.TB, secrets []string, contains func(s, secret string) bool) {
	t.Helper()
	if contains == nil {
		contains = strings.Contains
	}
	text := tr.Logs.String()
	for _, r := range Events(t, tr.db) {
		text += "\n" + strings.Join([]string{r.ID, r.DomainID, r.Type, r.ActorID, r.ActorType, r.TargetID,
			r.SourceIP, r.Outcome, r.Detail}, "|")
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("empty secret collected")
		}
		if contains(text, s) {
			t.Errorf("secret %q... appears in the audit trail or the log", s[:min(4, len(s))])
		}
	}
}

// Recorder keeps recorded events in memory, for tests of what a service
// records rather than how the log stores it. Safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

// Record implements the services' audit recorder.
func (r *Recorder) Record(_ context.Context, ev audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

// Events returns a copy of the events recorded so far, in order.
func (r *Recorder) Events() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Event(nil), r.events...)
}

// Types returns the types of the events recorded so far, in order.
func (r *Recorder) Types() []audit.Type {
	var out []audit.Type
	for _, ev := range r.Events() {
		out = append(out, ev.Type)
	}
	return out
}

// Count returns how many events of type typ were recorded.
func (r *Recorder) Count(typ audit.Type) int {
	n := 0
	for _, ev := range r.Events() {
		if ev.Type == typ {
			n++
		}
	}
	return n
}
