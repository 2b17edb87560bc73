// Package lockout enforces the login policy's lockout (apis.md §3.4): when
// login_failed_times verifications of a credential fail within
// period_with_login_failures, the credential is locked for lockout_duration;
// a locked credential is refused without hashing; a successful verification
// resets its counter; the lock ends by time only.
//
// Counters live in the database (table lockout_counters), one row per user
// and credential kind, so they hold across instances. Each change is one
// atomic statement:
//
//   - Begin reserves an attempt with a single conditional UPDATE (the row is
//     created on a credential's first verification by INSERT ... ON
//     CONFLICT DO NOTHING): it succeeds only while the credential is not
//     locked and fewer than login_failed_times attempts are counted in the
//     window; the limit and the window are read from the domain's login
//     policy inside the same statement. Attempts count from Begin, not from
//     the failure, so 50 concurrent wrong guesses from any number of
//     instances start at most login_failed_times verifications: the rest are
//     refused before hashing. (PostgreSQL runs the UPDATE under the row
//     lock, re-checking the condition on the latest row version; SQLite runs
//     a writing statement under the database write lock.)
//   - Failure counts the failure and, at the limit, sets the lock in the same
//     statement. Success resets the counters (not a lock already set).
//   - Abandon gives the attempt back when the verification could not be made
//     (hashing overloaded, request canceled).
//
// An attempt whose outcome is never recorded (the instance died mid-hash)
// stays counted until the window ends: it fails safe.
//
// Kinds are separate credentials: guessing HTTPS Git passwords ("https")
// locks HTTPS Git only, never the console/API login ("password").
package lockout

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/policies"
	"github.com/latchkey/latchkey/impl/store"
)

// Kind is a credential whose failures are counted on their own.
type Kind string

// Credential kinds.
const (
	// KindPassword: the account password at token issuance, the
	// change-password original (Keystone and CIAM change-password-verify).
	KindPassword Kind = "password"
	// KindHTTPS: HTTPS Git password validation (validate-https-info), in
	// either HTTPS authentication mode.
	KindHTTPS Kind = "https"
	// KindTOTP: second-factor codes (virtual MFA).
	KindTOTP Kind = "totp"
)

// Policies reads a domain's login policy (package policies).
type Policies interface {
	Login(ctx context.Context, domainID string) (policies.LoginPolicy, error)
}

// Auditor records audit events (package audit); nil records nothing.
type Auditor interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Guard enforces the lockout. It is safe for concurrent use; a nil *Guard
// enforces nothing (Verify just runs the check).
type Guard struct {
	db    *store.DB
	pol   Policies
	log   *slog.Logger
	audit Auditor
	clock atomic.Pointer[func() time.Time]
	// refused counts refusals per kind, for metrics (stats.go).
	refused refusalCounts
}

// Option configures a Guard.
type Option func(*Guard)

// WithAudit records failed verifications and locks.
func WithAudit(a Auditor) Option { return func(g *Guard) { g.audit = a } }

// WithClock sets the time source.
func WithClock(now func() time.Time) Option { return func(g *Guard) { g.clock.Store(&now) } }

// New returns a Guard over db. Begin reads the limit and the window from the
// login_policies table of package policies inside its UPDATE (one round trip
// on the hot path); the rarer paths (a credential's first verification, a
// failure) read pol, which must be that same store (policies.Service).
func New(db *store.DB, pol Policies, log *slog.Logger, opts ...Option) *Guard {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Guard{db: db, pol: pol, log: log}
	now := time.Now
	g.clock.Store(&now)
	for _, o := range opts {
		o(g)
	}
	return g
}

// SetClock replaces the time source while the Guard is in use (black-box
// tests travel past a lock this way; the counters themselves store absolute
// times, so other instances are unaffected).
func (g *Guard) SetClock(now func() time.Time) { g.clock.Store(&now) }

func (g *Guard) now() time.Time { return (*g.clock.Load())() }

// Ticket is one reserved attempt. Exactly one of Success, Failure or Abandon
// should be called; later calls do nothing. A Ticket is used by one
// goroutine. Its methods record with a context detached from cancellation,
// so a client that hangs up cannot keep its failure from counting.
type Ticket struct {
	g        *Guard
	domainID string
	userID   string
	kind     Kind
	done     bool
}

// Outcome is what a verification left behind.
type Outcome struct {
	// OK: the credential matched (Verify only).
	OK bool
	// Remaining attempts before the lock; -1 when unknown.
	Remaining int
	// Locked: the credential is locked now (this failure reached the limit,
	// or a concurrent one did).
	Locked bool
	// LockedUntil is the end of the lock when Locked.
	LockedUntil time.Time
}

// beginSQL reserves an attempt on an existing counter row in one atomic
// statement. It reads the limit and the window length from the domain's
// login policy row inside the statement (the policy's defaults when the
// domain has none), so a policy change applies to the very next attempt and
// the hot path is a single round trip. A window that has ended starts over.
const beginSQL = `UPDATE lockout_counters SET
  attempts   = CASE WHEN window_end <= @now THEN 1 ELSE attempts + 1 END,
  failures   = CASE WHEN window_end <= @now THEN 0 ELSE failures END,
  window_end = CASE WHEN window_end <= @now
    THEN @now + @minute * COALESCE((SELECT period_with_login_failures FROM login_policies WHERE domain_id = @domain), @defperiod)
    ELSE window_end END
WHERE user_id = @user AND kind = @kind AND locked_until <= @now
  AND (window_end <= @now
    OR attempts < COALESCE((SELECT login_failed_times FROM login_policies WHERE domain_id = @domain), @deflimit))`

// firstSQL creates the counter row with the first attempt reserved; a
// concurrent creator wins and this one retries beginSQL.
const firstSQL = `INSERT INTO lockout_counters (user_id, kind, domain_id, attempts, failures, window_end, locked_until)
VALUES (?, ?, ?, 1, 0, ?, 0) ON CONFLICT (user_id, kind) DO NOTHING`

// Begin reserves an attempt to verify kind of user userID (of domainID)
// before any hashing. A locked credential, or one whose attempts in the
// window are used up by verifications still running, is refused with
// fault.Locked (RetryAfter set, Remaining 0) and nothing is reserved.
//
// Steady state it is one UPDATE. The first verification of a credential
// inserts its row; a refusal reads the row for Retry-After.
func (g *Guard) Begin(ctx context.Context, domainID, userID string, kind Kind) (*Ticket, error) {
	if g == nil {
		return nil, nil
	}
	now := g.now()
	def := policies.DefaultLoginPolicy()
	args := map[string]any{
		"user": userID, "kind": string(kind), "domain": domainID, "now": now.UnixMicro(),
		"minute": int64(time.Minute / time.Microsecond), "defperiod": int(def.Period / time.Minute),
		"deflimit": def.FailedTimes,
	}
	db := g.db.WithContext(ctx)
	t := &Ticket{g: g, domainID: domainID, userID: userID, kind: kind}
	for range 2 {
		res := db.Exec(beginSQL, args)
		if res.Error != nil {
			return nil, fmt.Errorf("lockout: reserve attempt of user %s: %w", userID, res.Error)
		}
		if res.RowsAffected == 1 {
			return t, nil
		}
		var row store.LockoutCounter
		if err := db.Where("user_id = ? AND kind = ?", userID, string(kind)).Limit(1).Find(&row).Error; err != nil {
			return nil, fmt.Errorf("lockout: read counter of user %s: %w", userID, err)
		}
		if row.UserID != "" {
			g.refused.of(kind).Add(1)
			// The clock is read again: the UPDATE may have waited for another
			// instance that set the lock meanwhile.
			return nil, refusal(row, kind, g.now())
		}
		// No row yet: the first verification of this credential.
		lp, err := g.pol.Login(ctx, domainID)
		if err != nil {
			return nil, fmt.Errorf("lockout: %w", err)
		}
		res = db.Exec(firstSQL, userID, string(kind), domainID, now.Add(lp.Period).UnixMicro())
		if res.Error != nil {
			return nil, fmt.Errorf("lockout: create counter of user %s: %w", userID, res.Error)
		}
		if res.RowsAffected == 1 {
			return t, nil
		}
		// Created concurrently: reserve on it like everyone else.
	}
	return nil, fmt.Errorf("lockout: reserve attempt of user %s: counter row vanished", userID)
}

// refusal builds the fault.Locked of a refused Begin from the counter row.
func refusal(row store.LockoutCounter, kind Kind, now time.Time) error {
	until := row.LockedUntil
	if until <= now.UnixMicro() {
		if row.Attempts > row.Failures {
			// Not locked: the window's attempts are taken by verifications
			// still in flight, which end within one hash (or, if an
			// instance died, when the window ends). Telling a person to
			// wait for the whole window would be wrong; a second is right.
			e := fault.New(fault.Locked, "Too many %s attempts are in progress. Try again in a moment.", noun(kind))
			e.RetryAfter = time.Second
			e.Remaining = 0
			return e
		}
		// Failures alone use up a limit the policy has just lowered: they
		// count until the window ends.
		until = row.WindowEnd
	}
	wait := time.UnixMicro(until).Sub(now)
	if wait < time.Second {
		wait = time.Second
	}
	e := fault.New(fault.Locked, "Account locked: too many failed %s attempts. Try again in %s.", noun(kind), minutes(wait))
	e.RetryAfter = wait
	e.Remaining = 0
	return e
}

func noun(k Kind) string {
	switch k {
	case KindHTTPS:
		return "HTTPS Git password"
	case KindTOTP:
		return "verification code"
	default:
		return "password"
	}
}

func minutes(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	return strconv.Itoa(m) + " minutes"
}

// detached is the context the outcome is recorded with.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// Success records a matching credential: the counters start over. A lock set
// meanwhile by concurrent failures stays.
func (t *Ticket) Success(ctx context.Context) {
	if t == nil || t.done {
		return
	}
	t.done = true
	ctx, cancel := detached(ctx)
	defer cancel()
	err := t.g.db.WithContext(ctx).Exec(`UPDATE lockout_counters SET attempts = 0, failures = 0, window_end = 0
WHERE user_id = ? AND kind = ? AND (attempts <> 0 OR failures <> 0 OR window_end <> 0)`, t.userID, string(t.kind)).Error
	if err != nil {
		// The counters then expire with their window.
		t.g.log.WarnContext(ctx, "lockout: reset counter failed", "user_id", t.userID, "kind", string(t.kind), "err", err)
	}
}

const failureSQL = `UPDATE lockout_counters SET
  failures     = CASE WHEN failures + 1 >= @limit THEN 0 ELSE failures + 1 END,
  attempts     = CASE WHEN failures + 1 >= @limit THEN 0 ELSE attempts END,
  window_end   = CASE WHEN failures + 1 >= @limit THEN 0 ELSE window_end END,
  locked_until = CASE WHEN failures + 1 >= @limit THEN @until ELSE locked_until END
WHERE user_id = @user AND kind = @kind AND locked_until <= @now
RETURNING failures, locked_until`

// Failure records a wrong credential. At login_failed_times failures in the
// window the credential is locked for lockout_duration, in the same
// statement. The outcome tells how many attempts remain or that it is locked.
func (t *Ticket) Failure(ctx context.Context) Outcome {
	if t == nil || t.done {
		return Outcome{Remaining: -1}
	}
	t.done = true
	ctx, cancel := detached(ctx)
	defer cancel()
	g := t.g
	// The failure path is the rare one: it reads the policy in full (the
	// limit for Remaining, the lock duration).
	lp, err := g.pol.Login(ctx, t.domainID)
	if err != nil {
		// The attempt stays counted (Begin counted it): fail safe.
		g.log.ErrorContext(ctx, "lockout: record failure failed", "user_id", t.userID, "kind", string(t.kind), "err", err)
		return Outcome{Remaining: -1}
	}
	limit := lp.FailedTimes
	now := g.now()
	until := now.Add(lp.LockoutDuration)
	var got struct {
		Failures    int
		LockedUntil int64
	}
	res := g.db.WithContext(ctx).Raw(failureSQL, map[string]any{
		"user": t.userID, "kind": string(t.kind), "limit": limit,
		"now": now.UnixMicro(), "until": until.UnixMicro(),
	}).Scan(&got)
	if res.Error != nil {
		// The attempt stays counted (Begin counted it): fail safe.
		g.log.ErrorContext(ctx, "lockout: record failure failed", "user_id", t.userID, "kind", string(t.kind), "err", res.Error)
		return Outcome{Remaining: -1}
	}
	detail := map[string]string{"credential": string(t.kind)}
	var out Outcome
	switch {
	case res.RowsAffected == 0:
		// A concurrent failure locked it already.
		out = Outcome{Remaining: 0, Locked: true}
	case got.LockedUntil == until.UnixMicro():
		out = Outcome{Remaining: 0, Locked: true, LockedUntil: until}
	default:
		out = Outcome{Remaining: max(limit-got.Failures, 0)}
	}
	detail["remaining_attempts"] = strconv.Itoa(out.Remaining)
	g.record(ctx, audit.Event{Type: audit.VerificationFailed, DomainID: t.domainID, TargetID: t.userID,
		Outcome: audit.Failure, Detail: detail})
	if !out.LockedUntil.IsZero() {
		g.log.WarnContext(ctx, "credential locked", "user_id", t.userID, "kind", string(t.kind), "until", until)
		g.record(ctx, audit.Event{Type: audit.CredentialLocked, DomainID: t.domainID, TargetID: t.userID,
			Outcome: audit.Success, Detail: map[string]string{
				"credential":      string(t.kind),
				"failures":        strconv.Itoa(limit),
				"locked_until":    until.UTC().Format("2006-01-02T15:04:05.000000Z"),
				"lockout_minutes": strconv.Itoa(int(lp.LockoutDuration / time.Minute)),
			}})
	}
	return out
}

// Abandon gives the attempt back: the verification could not be made
// (hashing overloaded, request canceled), so it proves nothing either way.
func (t *Ticket) Abandon(ctx context.Context) {
	if t == nil || t.done {
		return
	}
	t.done = true
	ctx, cancel := detached(ctx)
	defer cancel()
	// (Should the window have rolled over meanwhile, this frees one attempt
	// of the new window: one extra guess at most, never a lost lock.)
	err := t.g.db.WithContext(ctx).Exec(`UPDATE lockout_counters SET attempts = attempts - 1
WHERE user_id = ? AND kind = ? AND attempts > 0`, t.userID, string(t.kind)).Error
	if err != nil {
		t.g.log.WarnContext(ctx, "lockout: give back attempt failed", "user_id", t.userID, "kind", string(t.kind), "err", err)
	}
}

func (g *Guard) record(ctx context.Context, ev audit.Event) {
	if g.audit != nil {
		_ = g.audit.Record(ctx, ev) // best effort; the recorder logs its failures
	}
}

// Verify runs check under the lockout of kind for user userID of domainID:
//
//   - locked (or attempts used up): fault.Locked with RetryAfter, and check
//     is not called — no hashing;
//   - check matched: Outcome.OK, counters reset;
//   - check did not match: the failure is counted; Outcome.Remaining and
//     Outcome.Locked tell the caller what to answer;
//   - check failed (error): the attempt is given back and the error returned.
//
// This is the entry point for every credential check: accounts (token
// issuance, change-password, CIAM change-password-verify) uses KindPassword,
// HTTPS Git validation KindHTTPS, MFA codes KindTOTP. A nil Guard runs check
// alone.
func (g *Guard) Verify(ctx context.Context, domainID, userID string, kind Kind, check func(context.Context) (bool, error)) (Outcome, error) {
	if g == nil {
		ok, err := check(ctx)
		return Outcome{OK: ok, Remaining: -1}, err
	}
	t, err := g.Begin(ctx, domainID, userID, kind)
	if err != nil {
		return Outcome{Remaining: 0}, err
	}
	ok, err := check(ctx)
	if err != nil {
		t.Abandon(ctx)
		return Outcome{Remaining: -1}, err
	}
	if ok {
		t.Success(ctx)
		return Outcome{OK: true, Remaining: -1}, nil
	}
	return t.Failure(ctx), nil
}

// Status is the lock state of one credential, for administrators and tests.
type Status struct {
	Locked      bool
	LockedUntil time.Time
	Failures    int // failures counted in the current window
}

// Status reads the state of kind for user userID.
func (g *Guard) Status(ctx context.Context, userID string, kind Kind) (Status, error) {
	var row store.LockoutCounter
	err := g.db.WithContext(ctx).Where("user_id = ? AND kind = ?", userID, string(kind)).Limit(1).Find(&row).Error
	if err != nil {
		return Status{}, fmt.Errorf("lockout: read counter of user %s: %w", userID, err)
	}
	now := g.now().UnixMicro()
	st := Status{}
	if row.LockedUntil > now {
		st.Locked, st.LockedUntil = true, time.UnixMicro(row.LockedUntil).UTC()
	}
	if row.WindowEnd > now {
		st.Failures = row.Failures
	}
	return st, nil
}

// Forget deletes every counter of a user (the user was deleted).
func (g *Guard) Forget(ctx context.Context, userID string) error {
	if g == nil {
		return nil
	}
	if err := g.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&store.LockoutCounter{}).Error; err != nil {
		return fmt.Errorf("lockout: forget user %s: %w", userID, err)
	}
	return nil
}
