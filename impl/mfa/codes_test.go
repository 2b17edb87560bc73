package mfa

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/notify"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

func sp(s string) *string { return &s }

// withDevOutbox gives the fixture's service a development outbox.
func (f *fixture) withDevOutbox(cfg Config) *notify.Outbox {
	o := notify.New(f.db, quietLog(), notify.Config{Dev: true}, notify.WithClock(f.clock.Now))
	f.svc = New(f.db, quietLog(), cfg, WithClock(f.clock.Now), WithOutbox(o))
	return o
}

// sentCode is the code of the newest development-outbox message of u.
func (f *fixture) sentCode(t testing.TB, o *notify.Outbox, u *store.User) store.OutboxMessage {
	t.Helper()
	l, err := o.ListDev(f.ctx, f.dom.ID, u.ID, 1)
	if err != nil || len(l) != 1 {
		t.Fatalf("outbox: %v %v", l, err)
	}
	return l[0]
}

func TestChallengeAndRedeem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		o := f.withDevOutbox(Config{})
		u := f.user(t, "kim", func(u *store.User) {
			u.AreaCode, u.Phone, u.Email = sp("0086"), sp("13800005678"), sp("kim@example.com")
		})

		ch, err := f.svc.Challenge(f.ctx, u, MethodSMS)
		if err != nil {
			t.Fatal(err)
		}
		if len(ch.Receipt) < 40 || ch.Recipient != "+86-138****5678" || !ch.ExpiresAt.Equal(ch.IssuedAt.Add(5*time.Minute)) {
			t.Errorf("challenge %+v", ch)
		}
		m := f.sentCode(t, o, u)
		if m.Channel != notify.ChannelSMS || m.Recipient != "+86-13800005678" || len(m.Code) != 6 || !strings.Contains(m.Body, m.Code) ||
			!strings.Contains(m.Body, "5 minutes") || m.Status != notify.StatusSent {
			t.Errorf("message %+v", m)
		}
		// Neither the receipt nor the code is stored in the clear.
		var row store.LoginCode
		if err := f.db.Where("user_id = ?", u.ID).Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		if row.ID == ch.Receipt || strings.Contains(row.CodeHash, m.Code) || row.ID != receiptID(ch.Receipt) {
			t.Errorf("stored %+v", row)
		}
		if id, err := f.svc.ReceiptUser(f.ctx, ch.Receipt); err != nil || id != u.ID {
			t.Errorf("receipt user %q %v", id, err)
		}

		other := f.user(t, "lee")
		wantReason(t, f.svc.Redeem(f.ctx, other, ch.Receipt, m.Code), fault.TOTPInvalid)
		wantReason(t, f.svc.Redeem(f.ctx, u, ch.Receipt+"x", m.Code), fault.TOTPInvalid)
		wantReason(t, f.svc.Redeem(f.ctx, u, ch.Receipt, "12345"), fault.TOTPInvalid)
		wantReason(t, f.svc.Redeem(f.ctx, u, ch.Receipt, m.Code), "")
		err = f.svc.Redeem(f.ctx, u, ch.Receipt, m.Code)
		if wantReason(t, err, fault.TOTPInvalid); !strings.Contains(err.Error(), "used") {
			t.Errorf("reuse: %v", err)
		}
		_, err = f.svc.ReceiptUser(f.ctx, ch.Receipt)
		wantReason(t, err, fault.TOTPInvalid)

		// E-mail.
		f.clock.Advance(time.Second)
		ch, err = f.svc.Challenge(f.ctx, u, MethodEmail)
		if err != nil || ch.Recipient != "k***@example.com" {
			t.Fatalf("email challenge %+v %v", ch, err)
		}
		m = f.sentCode(t, o, u)
		if m.Channel != notify.ChannelEmail || m.Recipient != "kim@example.com" || m.Subject == "" || !strings.Contains(m.Body, m.Code) {
			t.Errorf("email %+v", m)
		}
		// Expired.
		f.clock.Advance(5*time.Minute + time.Second)
		err = f.svc.Redeem(f.ctx, u, ch.Receipt, m.Code)
		if wantReason(t, err, fault.TOTPInvalid); !strings.Contains(err.Error(), "expired") {
			t.Errorf("expired: %v", err)
		}

		// No number, no address.
		bare := f.user(t, "max")
		_, err = f.svc.Challenge(f.ctx, bare, MethodSMS)
		wantReason(t, err, fault.TOTPInvalid)
		_, err = f.svc.Challenge(f.ctx, bare, MethodEmail)
		wantReason(t, err, fault.TOTPInvalid)
		// No notifier for the channel.
		f.svc = New(f.db, quietLog(), Config{}, WithClock(f.clock.Now),
			WithOutbox(notify.New(f.db, quietLog(), notify.Config{Webhook: &notify.WebhookConfig{URL: "http://127.0.0.1:1/", Secret: "s"}})))
		if _, err = f.svc.Challenge(f.ctx, u, MethodEmail); !IsNoRoute(err) {
			t.Errorf("no e-mail notifier: %v", err)
		}
	})
}

func TestRedeemAttemptsAndQuota(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		o := f.withDevOutbox(Config{})
		u := f.user(t, "ned", func(u *store.User) { u.Email = sp("ned@example.com") })
		ch, err := f.svc.Challenge(f.ctx, u, MethodEmail)
		if err != nil {
			t.Fatal(err)
		}
		code := f.sentCode(t, o, u).Code
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range 5 {
			wantReason(t, f.svc.Redeem(f.ctx, u, ch.Receipt, wrong), fault.TOTPInvalid)
		}
		err = f.svc.Redeem(f.ctx, u, ch.Receipt, code)
		if wantReason(t, err, fault.TOTPInvalid); !strings.Contains(err.Error(), "too many") {
			t.Errorf("after five wrong codes: %v", err)
		}

		// Four more codes this hour (five in all), then refused until the
		// first is an hour old.
		for range 4 {
			f.clock.Advance(time.Minute)
			if _, err := f.svc.Challenge(f.ctx, u, MethodEmail); err != nil {
				t.Fatal(err)
			}
		}
		_, err = f.svc.Challenge(f.ctx, u, MethodEmail)
		wantReason(t, err, fault.RateLimited)
		if e := fault.As(err); e.RetryAfter < 55*time.Minute || e.RetryAfter > 56*time.Minute {
			t.Errorf("retry after %v", e.RetryAfter)
		}
		f.clock.Advance(56 * time.Minute)
		if _, err := f.svc.Challenge(f.ctx, u, MethodEmail); err != nil {
			t.Fatalf("after the hour: %v", err)
		}
		_, err = f.svc.Challenge(f.ctx, u, MethodEmail)
		wantReason(t, err, fault.RateLimited)
		// Rows older than the hour are gone.
		var n int64
		f.db.Model(&store.LoginCode{}).Where("user_id = ?", u.ID).Count(&n)
		if n != 5 {
			t.Errorf("%d code rows kept", n)
		}
	})
}

// Concurrent tries on two instances: one right code is accepted once;
// wrong guesses never exceed the attempt limit.
func TestRedeemConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		o := f.withDevOutbox(Config{})
		other := New(env.Open(t), quietLog(), Config{}, WithClock(f.clock.Now))
		u := f.user(t, "ola", func(u *store.User) { u.Email = sp("ola@example.com") })

		ch, err := f.svc.Challenge(f.ctx, u, MethodEmail)
		if err != nil {
			t.Fatal(err)
		}
		code := f.sentCode(t, o, u).Code
		var ok atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			svc := f.svc
			if i%2 == 1 {
				svc = other
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := svc.Redeem(f.ctx, u, ch.Receipt, code); err == nil {
					ok.Add(1)
				} else if !fault.Is(err, fault.TOTPInvalid) {
					t.Errorf("redeem: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("%d redemptions succeeded, want 1", ok.Load())
		}

		f.clock.Advance(time.Second)
		ch, err = f.svc.Challenge(f.ctx, u, MethodEmail)
		if err != nil {
			t.Fatal(err)
		}
		code = f.sentCode(t, o, u).Code
		for i := range 20 {
			svc := f.svc
			if i%2 == 1 {
				svc = other
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				guess := "000000"
				if guess == code {
					guess = "999999"
				}
				_ = svc.Redeem(f.ctx, u, ch.Receipt, guess)
			}()
		}
		wg.Wait()
		var row store.LoginCode
		f.db.Where("id = ?", receiptID(ch.Receipt)).Take(&row)
		if row.Attempts != 5 || row.UsedAt != 0 {
			t.Errorf("after 20 concurrent guesses: %+v", row)
		}
		wantReason(t, f.svc.Redeem(f.ctx, u, ch.Receipt, code), fault.TOTPInvalid)
	})
}

func TestMask(t *testing.T) {
	for _, c := range []struct{ method, in, want string }{
		{MethodSMS, "+86-13800001234", "+86-138****1234"},
		{MethodSMS, "+1-5551234", "+1-*****34"},
		{MethodEmail, "alice@example.com", "a***@example.com"},
		{MethodEmail, "nobody", "***"},
	} {
		if got := mask(c.method, c.in); got != c.want {
			t.Errorf("mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if humanTTL(5*time.Minute) != "5 minutes" || humanTTL(time.Minute) != "1 minute" || humanTTL(1500*time.Millisecond) != "2 seconds" {
		t.Error("humanTTL")
	}
}
