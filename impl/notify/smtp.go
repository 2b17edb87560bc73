package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/impl/store"
)

// SMTPConfig configures e-mail delivery.
type SMTPConfig struct {
	Host string
	Port int    // default 587
	From string // envelope and header sender
	// Username and Password enable AUTH PLAIN. net/smtp sends them only over
	// TLS (or to localhost).
	Username, Password string
	// StartTLS requires STARTTLS before anything else is sent.
	StartTLS bool
	// TLSConfig overrides the TLS settings (tests: a private CA). ServerName
	// defaults to Host.
	TLSConfig *tls.Config
	// Timeout bounds one delivery, connection included; default 30 s.
	Timeout time.Duration
	// Hello is the name sent with EHLO; default "latchkey".
	Hello string
}

// SMTP delivers e-mail with net/smtp.
type SMTP struct{ cfg SMTPConfig }

// NewSMTP returns an SMTP notifier.
func NewSMTP(cfg SMTPConfig) *SMTP {
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Hello == "" {
		cfg.Hello = "latchkey"
	}
	return &SMTP{cfg: cfg}
}

// Deliver sends m as a plain-text e-mail. A 5xx answer to the sender or the
// recipient is permanent; anything else is retried.
func (s *SMTP) Deliver(ctx context.Context, m *store.OutboxMessage) error {
	c := s.cfg
	if strings.ContainsAny(m.Recipient, "\r\n<>") || strings.ContainsAny(c.From, "\r\n<>") {
		return Permanent(errors.New("smtp: address contains forbidden characters"))
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	d := net.Dialer{Timeout: c.Timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp: connect to %s: %w", addr, err)
	}
	deadline := time.Now().Add(c.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	// Cancellation ends a conversation that is stuck in a read.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer cl.Close()
	if err := cl.Hello(c.Hello); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	if c.StartTLS {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return errors.New("smtp: the server does not offer STARTTLS")
		}
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.TLSConfig != nil {
			tc = c.TLSConfig.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = c.Host
		}
		if err := cl.StartTLS(tc); err != nil {
			return fmt.Errorf("smtp: STARTTLS: %w", err)
		}
	}
	if c.Username != "" {
		if ok, _ := cl.Extension("AUTH"); !ok {
			return errors.New("smtp: the server does not offer AUTH")
		}
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			// Never the credentials: net/smtp's errors carry the server's
			// answer or its own refusal only.
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return smtpErr("MAIL FROM", err)
	}
	if err := cl.Rcpt(m.Recipient); err != nil {
		return smtpErr("RCPT TO", err)
	}
	w, err := cl.Data()
	if err != nil {
		return smtpErr("DATA", err)
	}
	if _, err := w.Write(s.render(m)); err != nil {
		return fmt.Errorf("smtp: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return smtpErr("end of DATA", err)
	}
	_ = cl.Quit() // the message is accepted; a failing QUIT changes nothing
	return nil
}

// smtpErr wraps a command's error; 5xx answers are permanent.
func smtpErr(cmd string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code < 600 {
		return Permanent(fmt.Errorf("smtp: %s refused: %d", cmd, te.Code))
	}
	var short string
	if te != nil {
		short = strconv.Itoa(te.Code)
	} else {
		short = err.Error()
	}
	return fmt.Errorf("smtp: %s: %s", cmd, short)
}

// render builds the RFC 5322 message (the DATA writer turns "\n" into CRLF
// and dot-stuffs).
func (s *SMTP) render(m *store.OutboxMessage) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) {
		v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
		b.WriteString(k + ": " + v + "\n")
	}
	hdr("From", s.cfg.From)
	hdr("To", m.Recipient)
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", time.Now().UTC().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+m.ID+"@latchkey>")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	hdr("Auto-Submitted", "auto-generated")
	b.WriteString("\n")
	b.WriteString(m.Body)
	if !strings.HasSuffix(m.Body, "\n") {
		b.WriteString("\n")
	}
	return b.Bytes()
}
