package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestNotifySettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := Parse("serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPPort != 587 || !c.SMTPStartTLS || c.DevOutbox != "auto" || c.MFACodeTTL != 5*time.Minute || !c.DevOutboxEnabled() {
		t.Errorf("defaults %+v", c)
	}
	c, err = Parse("serve", []string{"--smtp-host", "mail.example.com", "--smtp-from", "latchkey@example.com",
		"--smtp-port", "2525", "--smtp-starttls=false", "--mfa-code-ttl", "2m"},
		env(map[string]string{"LATCHKEY_SMTP_USERNAME": "u", "LATCHKEY_SMTP_PASSWORD": "p",
			"LATCHKEY_SMS_WEBHOOK_URL": "https://sms.example.com/hook", "LATCHKEY_SMS_WEBHOOK_SECRET": "s"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPHost != "mail.example.com" || c.SMTPPort != 2525 || c.SMTPStartTLS || c.SMTPUsername != "u" || c.SMTPPassword != "p" ||
		c.SMSWebhookURL != "https://sms.example.com/hook" || c.SMSWebhookSecret != "s" || c.MFACodeTTL != 2*time.Minute {
		t.Errorf("parsed %+v", c)
	}
	if c.DevOutboxEnabled() {
		t.Error("dev outbox on although notifiers are configured")
	}
	c, _ = Parse("serve", []string{"--smtp-host", "h", "--smtp-from", "f", "--dev-outbox", "on"}, env(nil), io.Discard)
	if !c.DevOutboxEnabled() {
		t.Error("--dev-outbox on")
	}
	c, _ = Parse("serve", []string{"--dev-outbox", "off"}, env(nil), io.Discard)
	if c.DevOutboxEnabled() {
		t.Error("--dev-outbox off")
	}
	for _, bad := range [][]string{
		{"--smtp-host", "h"},
		{"--smtp-host", "h", "--smtp-from", "f", "--smtp-port", "0"},
		{"--sms-webhook-url", "https://x/"},
		{"--sms-webhook-url", "ftp://x/", "--sms-webhook-secret", "s"},
		{"--sms-webhook-url", "/relative", "--sms-webhook-secret", "s"},
		{"--dev-outbox", "maybe"},
		{"--mfa-code-ttl", "0s"},
		{"--mfa-code-ttl", "2h"},
	} {
		if _, err := Parse("serve", bad, env(nil), io.Discard); err == nil {
			t.Errorf("%s accepted", strings.Join(bad, " "))
		}
	}
}
