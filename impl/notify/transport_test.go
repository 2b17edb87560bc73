package notify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/notify/smtptest"
	"github.com/latchkey/latchkey/impl/store"
)

func mail(to string) *store.OutboxMessage {
	return &store.OutboxMessage{ID: randHex(16), Channel: ChannelEmail, Recipient: to, Subject: "Your latchkey verification code",
		Body: "Hello,\n\nyour code is 204816.\n.\nend", Code: "204816", CreatedAt: time.Now().UnixMicro()}
}

func TestSMTP(t *testing.T) {
	srvTLS, pool, err := smtptest.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("starttls and auth", func(t *testing.T) {
		s, err := smtptest.Start(smtptest.Config{TLS: srvTLS, Username: "mailer", Password: "p@ss word"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		n := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: s.Port(), From: "latchkey@example.com", Username: "mailer",
			Password: "p@ss word", StartTLS: true, TLSConfig: &tls.Config{RootCAs: pool}})
		if err := n.Deliver(ctx, mail("kim@example.com")); err != nil {
			t.Fatal(err)
		}
		m, ok := s.Wait(1, 5*time.Second)
		if !ok {
			t.Fatal("no message")
		}
		if !m.TLS || m.User != "mailer" || m.From != "latchkey@example.com" || len(m.To) != 1 || m.To[0] != "kim@example.com" {
			t.Errorf("envelope %+v", m)
		}
		// (ReadDotBytes has turned CRLF into LF and undone the dot-stuffing.)
		for _, want := range []string{"To: kim@example.com\n", "Subject: Your latchkey verification code\n",
			"Content-Type: text/plain; charset=utf-8\n", "your code is 204816.\n.\nend"} {
			if !strings.Contains(m.Data, want) {
				t.Errorf("message lacks %q:\n%s", want, m.Data)
			}
		}
		// A wrong password is refused (retryable: it may be fixed).
		n = NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: s.Port(), From: "latchkey@example.com", Username: "mailer",
			Password: "wrong", StartTLS: true, TLSConfig: &tls.Config{RootCAs: pool}})
		if err := n.Deliver(ctx, mail("kim@example.com")); err == nil || strings.Contains(err.Error(), "wrong") {
			t.Errorf("wrong password: %v", err)
		}
		// An untrusted certificate is refused.
		n = NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: s.Port(), From: "a@b", StartTLS: true})
		if err := n.Deliver(ctx, mail("kim@example.com")); err == nil {
			t.Error("untrusted certificate accepted")
		}
	})

	t.Run("starttls required but not offered", func(t *testing.T) {
		s, err := smtptest.Start(smtptest.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		n := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: s.Port(), From: "a@b", StartTLS: true})
		if err := n.Deliver(ctx, mail("kim@example.com")); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("got %v", err)
		}
		// Plain, without STARTTLS, works (local relays).
		n = NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: s.Port(), From: "a@b"})
		if err := n.Deliver(ctx, mail("kim@example.com")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("recipient refused", func(t *testing.T) {
		for _, c := range []struct {
			code      int
			permanent bool
		}{{550, true}, {451, false}} {
			s, err := smtptest.Start(smtptest.Config{RejectRcpt: c.code})
			if err != nil {
				t.Fatal(err)
			}
			err = NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: s.Port(), From: "a@b"}).Deliver(ctx, mail("kim@example.com"))
			s.Close()
			if err == nil || IsPermanent(err) != c.permanent {
				t.Errorf("%d: %v (permanent %v)", c.code, err, IsPermanent(err))
			}
		}
		// Header injection through the address is refused.
		err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: 1, From: "a@b"}).Deliver(ctx, mail("kim@example.com\r\nBcc: x@y"))
		if !IsPermanent(err) {
			t.Errorf("injection: %v", err)
		}
	})

	t.Run("connection refused is retried", func(t *testing.T) {
		s, _ := smtptest.Start(smtptest.Config{})
		port := s.Port()
		s.Close()
		err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: "a@b", Timeout: time.Second}).Deliver(ctx, mail("kim@example.com"))
		if err == nil || IsPermanent(err) {
			t.Errorf("got %v", err)
		}
	})
}

func TestWebhook(t *testing.T) {
	const secret = "hook-secret"
	var status atomic.Int32
	status.Store(200)
	got := make(chan WebhookPayload, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
			r.Header.Get(HeaderSignature) != Sign(secret, ts, body) || time.Since(time.Unix(ts, 0)) > time.Minute {
			t.Errorf("bad request: %s %v", r.Method, r.Header)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil || r.Header.Get(HeaderMessageID) != p.ID {
			t.Errorf("payload %s (%v)", body, err)
		}
		got <- p
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	n := NewWebhook(WebhookConfig{URL: srv.URL + "/sms?key=gateway-key", Secret: secret})
	m := &store.OutboxMessage{ID: randHex(16), Channel: ChannelSMS, Recipient: "+86-13800000000", Body: "code 204816",
		Code: "204816", DomainID: randHex(16), UserID: randHex(16), CreatedAt: time.Now().UnixMicro(), ExpiresAt: time.Now().Add(time.Minute).UnixMicro()}
	ctx := context.Background()
	if err := n.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	p := <-got
	if p.To != m.Recipient || p.Message != m.Body || p.Code != "204816" || p.Channel != "sms" || p.ExpiresAt == "" {
		t.Errorf("payload %+v", p)
	}
	for _, c := range []struct {
		status    int
		permanent bool
	}{{500, false}, {503, false}, {429, false}, {408, false}, {400, true}, {401, true}, {404, true}} {
		status.Store(int32(c.status))
		err := n.Deliver(ctx, m)
		<-got
		if err == nil || IsPermanent(err) != c.permanent || strings.Contains(err.Error(), "gateway-key") || strings.Contains(err.Error(), "204816") {
			t.Errorf("%d: %v", c.status, err)
		}
	}
	// Redirects are not followed.
	red := httptest.NewServer(http.RedirectHandler(srv.URL, http.StatusFound))
	defer red.Close()
	if err := NewWebhook(WebhookConfig{URL: red.URL, Secret: secret}).Deliver(ctx, m); err == nil {
		t.Error("redirect followed")
	}
	// Transport errors do not show the URL (it may carry a gateway key).
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	err := NewWebhook(WebhookConfig{URL: url + "/?key=gateway-key", Secret: secret}).Deliver(ctx, m)
	if err == nil || IsPermanent(err) || strings.Contains(err.Error(), "gateway-key") {
		t.Errorf("dead gateway: %v", err)
	}
}
