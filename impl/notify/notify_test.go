package notify

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
	"github.com/latchkey/latchkey/impl/testclock"
)

// fake is a scripted notifier.
type fake struct {
	mu    sync.Mutex
	fails int   // fail this many times first
	err   error // with this error (default: a retryable one)
	got   map[string]int
	block chan struct{} // when set, Deliver waits for it or ctx
	delay time.Duration
}

func (f *fake) Deliver(ctx context.Context, m *store.OutboxMessage) error {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.got == nil {
		f.got = map[string]int{}
	}
	if f.fails > 0 {
		f.fails--
		if f.err != nil {
			return f.err
		}
		return errors.New("gateway down")
	}
	f.got[m.ID]++
	return nil
}

func (f *fake) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got[id]
}

func (f *fake) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.got {
		n += c
	}
	return n
}

type fixture struct {
	db    *store.DB
	clock *testclock.Clock
	ctx   context.Context
	dom   string
}

func newFixture(t testing.TB, env storetest.DB) *fixture {
	return &fixture{db: env.Open(t), clock: testclock.New(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)),
		ctx: context.Background(), dom: randHex(16)}
}

// outbox returns an Outbox whose SMS go to n (as the "webhook" notifier).
func (f *fixture) outbox(db *store.DB, n Notifier, cfg Config) *Outbox {
	cfg.Webhook = &WebhookConfig{URL: "http://127.0.0.1:1/unused", Secret: "s"}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase, cfg.BackoffMax = time.Second, 8*time.Second
	}
	return New(db, quietLog(), cfg, WithNotifier(NotifierWebhook, n), WithClock(f.clock.Now))
}

func (f *fixture) enqueue(t testing.TB, o *Outbox, m Message) *store.OutboxMessage {
	t.Helper()
	if m.DomainID == "" {
		m.DomainID = f.dom
	}
	if m.UserID == "" {
		m.UserID = randHex(16)
	}
	var row *store.OutboxMessage
	err := f.db.WithContext(f.ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		row, err = o.Enqueue(tx, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return row
}

func (f *fixture) row(t testing.TB, id string) store.OutboxMessage {
	t.Helper()
	var r store.OutboxMessage
	if err := f.db.Where("id = ?", id).Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	return r
}

func sms(code string) Message {
	return Message{Channel: ChannelSMS, Recipient: "+86-13800000000", Body: "code " + code, Code: code}
}

func TestRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		// Dev only: both channels to the development outbox.
		o := New(f.db, quietLog(), Config{Dev: true})
		if r := o.Routes(); r[ChannelSMS] != NotifierDev || r[ChannelEmail] != NotifierDev {
			t.Errorf("routes %v", r)
		}
		// SMTP and dev: e-mail by SMTP, SMS to dev.
		o = New(f.db, quietLog(), Config{Dev: true, SMTP: &SMTPConfig{Host: "127.0.0.1", From: "a@b"}})
		if r := o.Routes(); r[ChannelSMS] != NotifierDev || r[ChannelEmail] != NotifierSMTP {
			t.Errorf("routes %v", r)
		}
		// No dev: a channel without a notifier cannot send.
		o = New(f.db, quietLog(), Config{SMTP: &SMTPConfig{Host: "127.0.0.1", From: "a@b"}})
		if o.CanSend(ChannelSMS) || !o.CanSend(ChannelEmail) {
			t.Error("CanSend")
		}
		err := f.db.Transaction(func(tx *gorm.DB) error { _, err := o.Enqueue(tx, sms("1")); return err })
		if !errors.Is(err, ErrNoRoute) {
			t.Errorf("enqueue without route: %v", err)
		}
	})
}

func TestDevOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		o := New(f.db, quietLog(), Config{Dev: true}, WithClock(f.clock.Now))
		user := randHex(16)
		var ids []string
		for i, c := range []string{"111111", "222222", "333333"} {
			m := sms(c)
			if i == 2 {
				m.UserID = user
			}
			ids = append(ids, f.enqueue(t, o, m).ID)
			f.clock.Advance(time.Second)
		}
		f.enqueue(t, o, Message{DomainID: randHex(16), Channel: ChannelEmail, Recipient: "x@y", Body: "other domain", Code: "444444"})
		l, err := o.ListDev(f.ctx, f.dom, "", 10)
		if err != nil || len(l) != 3 || l[0].ID != ids[2] || l[2].ID != ids[0] {
			t.Fatalf("list %+v %v", l, err)
		}
		if l[0].Status != StatusSent || l[0].Code != "333333" || l[0].Body != "code 333333" || l[0].SentAt == 0 {
			t.Errorf("dev row %+v", l[0])
		}
		if l, _ := o.ListDev(f.ctx, f.dom, user, 10); len(l) != 1 || l[0].ID != ids[2] {
			t.Errorf("user filter %+v", l)
		}
		if l, _ := o.ListDev(f.ctx, f.dom, "", 2); len(l) != 2 {
			t.Errorf("limit %+v", l)
		}
		// Development rows are never claimed by a worker.
		if n, err := o.RunOnce(f.ctx); err != nil || n != 0 {
			t.Errorf("run: %d %v", n, err)
		}
		// Pruned after the retention.
		f.clock.Advance(25 * time.Hour)
		if _, err := o.RunOnce(f.ctx); err != nil {
			t.Fatal(err)
		}
		if l, _ := o.ListDev(f.ctx, f.dom, "", 10); len(l) != 0 {
			t.Errorf("kept after retention: %d", len(l))
		}
	})
}

func TestRetryBackoffAndDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		n := &fake{fails: 2}
		o := f.outbox(f.db, n, Config{})
		m := f.enqueue(t, o, sms("123456"))

		if c, err := o.RunOnce(f.ctx); err != nil || c != 1 {
			t.Fatalf("first round %d %v", c, err)
		}
		r := f.row(t, m.ID)
		wait := time.UnixMicro(r.NextAttemptAt).Sub(f.clock.Now())
		if r.Status != StatusPending || r.Attempts != 1 || r.LastError != "gateway down" || wait < time.Second || wait > 1250*time.Millisecond || r.LeaseOwner != "" {
			t.Fatalf("after a failure %+v (wait %v)", r, wait)
		}
		// Not due yet.
		if c, _ := o.RunOnce(f.ctx); c != 0 {
			t.Fatal("claimed before the backoff ended")
		}
		f.clock.Advance(1300 * time.Millisecond)
		_, _ = o.RunOnce(f.ctx)
		r = f.row(t, m.ID)
		if wait := time.UnixMicro(r.NextAttemptAt).Sub(f.clock.Now()); r.Attempts != 2 || wait < 2*time.Second || wait > 2500*time.Millisecond {
			t.Fatalf("second backoff %+v (%v)", r, wait)
		}
		f.clock.Advance(3 * time.Second)
		_, _ = o.RunOnce(f.ctx)
		r = f.row(t, m.ID)
		if r.Status != StatusSent || r.Body != "" || r.Code != "" || r.SentAt == 0 || n.count(m.ID) != 1 || r.Attempts != 3 {
			t.Fatalf("after delivery %+v", r)
		}
		f.clock.Advance(time.Hour)
		if c, _ := o.RunOnce(f.ctx); c != 0 || n.count(m.ID) != 1 {
			t.Fatal("delivered twice")
		}
	})
}

func TestGiveUpAndExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		// A permanent refusal: failed at once, text forgotten.
		o := f.outbox(f.db, &fake{fails: 1, err: Permanent(errors.New("webhook: answered 400"))}, Config{})
		m := f.enqueue(t, o, sms("123456"))
		_, _ = o.RunOnce(f.ctx)
		if r := f.row(t, m.ID); r.Status != StatusFailed || r.Body != "" || r.Code != "" || r.LastError != "webhook: answered 400" {
			t.Errorf("permanent %+v", r)
		}
		// Out of attempts.
		o = f.outbox(f.db, &fake{fails: 100}, Config{MaxAttempts: 3})
		m = f.enqueue(t, o, sms("234567"))
		for range 5 {
			_, _ = o.RunOnce(f.ctx)
			f.clock.Advance(time.Minute)
		}
		if r := f.row(t, m.ID); r.Status != StatusFailed || r.Attempts != 3 || r.Body != "" {
			t.Errorf("out of attempts %+v", r)
		}
		// Expired before it could be delivered.
		n := &fake{fails: 1}
		o = f.outbox(f.db, n, Config{})
		msg := sms("345678")
		msg.ExpiresAt = f.clock.Now().Add(5 * time.Second)
		m = f.enqueue(t, o, msg)
		_, _ = o.RunOnce(f.ctx)
		f.clock.Advance(10 * time.Second)
		_, _ = o.RunOnce(f.ctx)
		if r := f.row(t, m.ID); r.Status != StatusExpired || r.Body != "" || r.Code != "" || n.count(m.ID) != 0 {
			t.Errorf("expired %+v", r)
		}
	})
}

// Workers of two instances drain one table: every message is delivered
// exactly once.
func TestClaimExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		n := &fake{delay: time.Millisecond}
		a := f.outbox(f.db, n, Config{Batch: 5})
		b := f.outbox(env.Open(t), n, Config{Batch: 5})
		var ids []string
		for range 40 {
			ids = append(ids, f.enqueue(t, a, sms("111111")).ID)
		}
		var wg sync.WaitGroup
		var rounds atomic.Int32
		for _, o := range []*Outbox{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					c, err := o.RunOnce(f.ctx)
					if err != nil {
						t.Errorf("run: %v", err)
						return
					}
					rounds.Add(1)
					if c == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if c := n.count(id); c != 1 {
				t.Fatalf("message %s delivered %d times", id, c)
			}
		}
		if n.total() != 40 {
			t.Errorf("%d deliveries", n.total())
		}
	})
}

// A row claimed by an instance that died is taken over when the lease ends;
// an instance that shuts down mid-delivery hands its row back at once.
func TestLeases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		n := &fake{}
		o := f.outbox(f.db, n, Config{Lease: time.Minute})
		m := f.enqueue(t, o, sms("123456"))
		// Claimed by a dead instance.
		f.db.Model(&store.OutboxMessage{}).Where("id = ?", m.ID).Updates(map[string]any{
			"lease_owner": "dead", "lease_until": f.clock.Now().Add(time.Minute).UnixMicro(), "attempts": 1})
		if c, _ := o.RunOnce(f.ctx); c != 0 {
			t.Fatal("claimed a leased row")
		}
		f.clock.Advance(61 * time.Second)
		if c, _ := o.RunOnce(f.ctx); c != 1 || n.count(m.ID) != 1 {
			t.Fatal("lease not taken over")
		}

		// Shutdown mid-delivery.
		blocked := &fake{block: make(chan struct{})}
		o = f.outbox(f.db, blocked, Config{Lease: time.Minute})
		m = f.enqueue(t, o, sms("234567"))
		ctx, cancel := context.WithCancel(f.ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = o.RunOnce(ctx)
		}()
		deadline := time.Now().Add(5 * time.Second)
		for f.row(t, m.ID).LeaseOwner == "" && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		<-done
		if r := f.row(t, m.ID); r.Status != StatusPending || r.LeaseOwner != "" || r.LeaseUntil != 0 || r.Attempts != 0 || r.Body == "" {
			t.Fatalf("after shutdown %+v", r)
		}
		// Another instance delivers it right away.
		if c, _ := f.outbox(f.db, n, Config{}).RunOnce(f.ctx); c != 1 || n.count(m.ID) != 1 {
			t.Fatal("not delivered after the handover")
		}
	})
}

// Run delivers at once when kicked and stops with its context.
func TestRunKick(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		n := &fake{}
		o := New(f.db, quietLog(), Config{Poll: time.Hour, Webhook: &WebhookConfig{URL: "http://127.0.0.1:1/", Secret: "s"}},
			WithNotifier(NotifierWebhook, n))
		ctx, cancel := context.WithCancel(f.ctx)
		done := make(chan struct{})
		go func() { o.Run(ctx); close(done) }()
		m := f.enqueue(t, o, sms("123456"))
		o.Kick()
		deadline := time.Now().Add(5 * time.Second)
		for n.count(m.ID) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n.count(m.ID) != 1 {
			t.Error("kick did not deliver")
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not stop")
		}
	})
}
