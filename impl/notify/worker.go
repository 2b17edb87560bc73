package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/latchkey/latchkey/impl/store"
)

// Run delivers due messages until ctx is done: at once when kicked, else
// every Poll. Errors are logged and retried on the next round.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTicker(o.cfg.Poll)
	defer t.Stop()
	for {
		for {
			n, err := o.RunOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					o.log.WarnContext(ctx, "notify: delivery round failed", "err", err)
				}
				break
			}
			if n < o.cfg.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-o.kick:
		}
	}
}

// RunOnce runs one round: expires stale rows, prunes old ones now and then,
// claims up to Batch due rows this instance can deliver and delivers them.
// It returns how many rows it claimed.
func (o *Outbox) RunOnce(ctx context.Context) (int, error) {
	now := o.now()
	db := o.db.WithContext(ctx)
	// A code past its expiry is of no use: stop trying, forget the text.
	if err := db.Model(&store.OutboxMessage{}).
		Where("status = ? AND expires_at > 0 AND expires_at <= ? AND lease_until <= ?", StatusPending, now.UnixMicro(), now.UnixMicro()).
		Updates(map[string]any{"status": StatusExpired, "body": "", "code": ""}).Error; err != nil {
		return 0, fmt.Errorf("notify: expire messages: %w", err)
	}
	if last := o.lastPrune.Load(); now.UnixMicro()-last > int64(time.Minute/time.Microsecond) && o.lastPrune.CompareAndSwap(last, now.UnixMicro()) {
		if err := db.Where("status <> ? AND created_at < ?", StatusPending, now.Add(-o.cfg.Retention).UnixMicro()).
			Delete(&store.OutboxMessage{}).Error; err != nil {
			return 0, fmt.Errorf("notify: prune messages: %w", err)
		}
	}
	names := o.names()
	if len(names) == 0 {
		return 0, nil
	}
	rows, err := o.claim(ctx, names, now)
	if err != nil {
		return 0, err
	}
	for i := range rows {
		o.deliver(ctx, &rows[i])
	}
	return len(rows), nil
}

// claimSQL leases due rows to one claim token in a single statement. The
// outer WHERE repeats the conditions: on PostgreSQL a row another worker
// updated meanwhile is re-checked after its lock and skipped.
const claimSQL = `UPDATE outbox_messages SET lease_owner = @owner, lease_until = @until, attempts = attempts + 1
WHERE id IN (SELECT id FROM outbox_messages
  WHERE status = 'pending' AND notifier IN @names AND next_attempt_at <= @now AND lease_until <= @now
  ORDER BY next_attempt_at, id LIMIT @n%s)
AND status = 'pending' AND lease_until <= @now`

func (o *Outbox) claim(ctx context.Context, names []string, now time.Time) ([]store.OutboxMessage, error) {
	lock := ""
	if o.db.Dialect == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	owner := newID()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The claim runs to completion once started: a claim that committed but
	// whose answer was cut off by a cancelled ctx would leave rows leased
	// (and an attempt counted) with nobody to hand them back.
	db := o.db.WithContext(context.WithoutCancel(ctx))
	res := db.Exec(fmt.Sprintf(claimSQL, lock), map[string]any{
		"owner": owner, "until": now.Add(o.cfg.Lease).UnixMicro(), "names": names,
		"now": now.UnixMicro(), "n": o.cfg.Batch,
	})
	if res.Error != nil {
		return nil, fmt.Errorf("notify: claim messages: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	// Read them the same way: deliver hands them back if ctx has ended.
	var rows []store.OutboxMessage
	if err := db.Where("lease_owner = ?", owner).Order("next_attempt_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("notify: read claimed messages: %w", err)
	}
	return rows, nil
}

// deliver sends one claimed row and records the outcome under its lease.
func (o *Outbox) deliver(ctx context.Context, m *store.OutboxMessage) {
	n := o.notifiers[m.Notifier]
	dctx, cancel := context.WithTimeout(ctx, o.cfg.SendTimeout)
	err := n.Deliver(dctx, m)
	cancel()
	// The outcome is recorded even when ctx ends now (shutdown).
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	db := o.db.WithContext(rctx).Model(&store.OutboxMessage{}).Where("id = ? AND lease_owner = ?", m.ID, m.LeaseOwner)
	now := o.now()
	var upd map[string]any
	switch {
	case err == nil:
		upd = map[string]any{"status": StatusSent, "sent_at": now.UnixMicro(), "body": "", "code": "",
			"lease_owner": "", "lease_until": 0, "last_error": ""}
		o.log.InfoContext(ctx, "notify: message delivered", "message_id", m.ID, "channel", m.Channel,
			"notifier", m.Notifier, "attempt", m.Attempts)
	case ctx.Err() != nil && !IsPermanent(err):
		// Shutting down mid-delivery: hand the row back at once, attempt
		// not counted, so the next instance need not wait for the lease.
		upd = map[string]any{"lease_owner": "", "lease_until": 0, "attempts": max(m.Attempts-1, 0)}
	case IsPermanent(err) || m.Attempts >= o.cfg.MaxAttempts:
		upd = map[string]any{"status": StatusFailed, "body": "", "code": "", "lease_owner": "", "lease_until": 0,
			"last_error": clipError(err)}
		o.log.ErrorContext(ctx, "notify: message given up", "message_id", m.ID, "channel", m.Channel,
			"notifier", m.Notifier, "attempt", m.Attempts, "err", clipError(err))
	default:
		wait := o.backoff(m.Attempts)
		upd = map[string]any{"next_attempt_at": now.Add(wait).UnixMicro(), "lease_owner": "", "lease_until": 0,
			"last_error": clipError(err)}
		o.log.WarnContext(ctx, "notify: delivery failed; will retry", "message_id", m.ID, "channel", m.Channel,
			"notifier", m.Notifier, "attempt", m.Attempts, "retry_in", wait.String(), "err", clipError(err))
	}
	res := db.Updates(upd)
	if res.Error != nil {
		// The lease runs out and the row is tried again: at least once.
		o.log.ErrorContext(ctx, "notify: record delivery outcome failed", "message_id", m.ID, "err", res.Error)
	} else if res.RowsAffected == 0 {
		o.log.WarnContext(ctx, "notify: lease lost before the outcome was recorded", "message_id", m.ID)
	}
}

// backoff is the delay before attempt n+1: base·2^(n-1), capped, plus up
// to 25% jitter so retries of many rows spread out.
func (o *Outbox) backoff(n int) time.Duration {
	d := o.cfg.BackoffBase
	for i := 1; i < n && d < o.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, o.cfg.BackoffMax)
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

// clipError keeps an error short enough for the row. Notifier errors never
// carry the message text (they describe the transport only).
func clipError(err error) string {
	if err == nil {
		return ""
	}
	var p permanent
	if errors.As(err, &p) {
		err = p.err
	}
	s := err.Error()
	if len(s) > 255 {
		s = s[:255]
	}
	return s
}
