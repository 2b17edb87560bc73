// Package config reads latchkey's settings from flags, falling back to
// LATCHKEY_* environment variables, then to defaults (DESIGN.md §5).
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/latchkey/latchkey/impl/passwords"
)

// Config holds every setting of `latchkey serve`.
type Config struct {
	Addr      string
	Database  string
	PublicURL string

	BootstrapDomain       string
	BootstrapAdmin        string
	BootstrapPassword     string
	BootstrapClientID     string
	BootstrapClientSecret string

	LogLevel  string
	LogFormat string

	TokenLifetime     time.Duration
	CIAMTokenLifetime time.Duration
	RevocationSync    time.Duration

	Argon2Memory  uint32 // KiB
	Argon2Time    uint32
	Argon2Threads uint8
	HashWorkers   int           // concurrent hashes; 0 = number of CPUs
	HashQueueWait time.Duration // how long a request waits for a hashing slot before 503

	MaxBodyBytes      int64
	ValidateResponses bool
	ShutdownTimeout   time.Duration
	// Metrics serves Prometheus metrics at /metrics (unauthenticated: route
	// templates, status codes and counters, never ids or secrets).
	Metrics bool

	// Delivery of one-time login codes (package notify): SMTP for e-mail,
	// an HTTP webhook for SMS, and the development outbox.
	SMTPHost         string
	SMTPPort         int
	SMTPFrom         string
	SMTPUsername     string
	SMTPPassword     string
	SMTPStartTLS     bool
	SMSWebhookURL    string
	SMSWebhookSecret string
	// DevOutbox is auto (on only when neither SMTP nor the SMS webhook is
	// configured), on or off. See DevOutboxEnabled.
	DevOutbox string
	// MFACodeTTL is how long an SMS/e-mail login code is valid.
	MFACodeTTL time.Duration

	// SecretKey (32 bytes, hex or base64) seals the secret access keys at
	// rest. Empty: a SQLite database keeps a generated one in
	// latchkey.secret next to it; on PostgreSQL access keys are disabled
	// (package accesskeys, LoadKey). Never logged.
	SecretKey string

	// Pepper is the current password pepper, "<id>:<secret>" (secret >= 32
	// bytes, hex or base64; see passwords.ParsePepper): a server-side secret
	// mixed into every new password hash. OldPeppers is a comma-separated
	// list of retired ones, used only to verify hashes not upgraded yet.
	// Both empty: no pepper. Never logged; see Peppers.
	Pepper     string
	OldPeppers string
}

// Peppers decodes Pepper and OldPeppers. Errors never echo a secret.
func (c Config) Peppers() (*passwords.Pepper, []passwords.Pepper, error) {
	cur, old, err := passwords.ParsePeppers(c.Pepper, c.OldPeppers)
	if err != nil {
		return nil, nil, fmt.Errorf("--pepper/--old-peppers: %w", err)
	}
	return cur, old, nil
}

// DevOutboxEnabled reports whether the development outbox is in use: codes
// of channels without a notifier are kept in the database and shown to the
// domain's administrators (GET /v3.0/OS-MFA/outbox).
func (c Config) DevOutboxEnabled() bool {
	switch c.DevOutbox {
	case "on":
		return true
	case "off":
		return false
	default:
		return c.SMTPHost == "" && c.SMSWebhookURL == ""
	}
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{
		Addr:              "127.0.0.1:8080",
		Database:          "sqlite:latchkey.db",
		BootstrapDomain:   "default",
		BootstrapAdmin:    "admin",
		LogLevel:          "info",
		LogFormat:         "text",
		TokenLifetime:     24 * time.Hour,
		CIAMTokenLifetime: 1800 * time.Second,
		RevocationSync:    time.Second,
		Argon2Memory:      19 * 1024,
		Argon2Time:        2,
		Argon2Threads:     1,
		HashQueueWait:     2 * time.Second,
		MaxBodyBytes:      32 * 1024,
		ValidateResponses: true,
		ShutdownTimeout:   15 * time.Second,
		Metrics:           true,
		SMTPPort:          587,
		SMTPStartTLS:      true,
		DevOutbox:         "auto",
		MFACodeTTL:        5 * time.Minute,
	}
}

// Parse reads args (without the program and command name) and the
// environment (getenv) into a Config.
func Parse(name string, args []string, getenv func(string) string, output io.Writer) (Config, error) {
	c := Defaults()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	str := func(p *string, flagName, usage string) {
		fs.StringVar(p, flagName, *p, usage+" (env "+envName(flagName)+")")
	}
	dur := func(p *time.Duration, flagName, usage string) {
		fs.DurationVar(p, flagName, *p, usage+" (env "+envName(flagName)+")")
	}
	str(&c.Addr, "addr", "listen address")
	str(&c.Database, "database", "database: sqlite:PATH or postgres://...")
	str(&c.PublicURL, "public-url", "public base URL used in catalogs and discovery (default http://<addr>)")
	str(&c.BootstrapDomain, "bootstrap-domain", "name of the domain created on first start")
	str(&c.BootstrapAdmin, "bootstrap-admin", "name of the domain owner created on first start")
	str(&c.BootstrapPassword, "bootstrap-password", "password of the bootstrap admin (default: generated and printed once)")
	str(&c.BootstrapClientID, "bootstrap-client-id", "CIAM OAuth client id of the bootstrap domain (default: generated)")
	str(&c.BootstrapClientSecret, "bootstrap-client-secret", "CIAM OAuth client secret (default: generated and printed once)")
	str(&c.LogLevel, "log-level", "log level: debug, info, warn, error")
	str(&c.LogFormat, "log-format", "log format: text or json")
	dur(&c.TokenLifetime, "token-lifetime", "lifetime of Keystone tokens")
	dur(&c.CIAMTokenLifetime, "ciam-token-lifetime", "lifetime of CIAM access tokens (expires_in)")
	dur(&c.RevocationSync, "revocation-sync", "how often each instance reads new token revocations")
	mem := uint(c.Argon2Memory)
	tim := uint(c.Argon2Time)
	thr := uint(c.Argon2Threads)
	fs.UintVar(&mem, "argon2-memory", mem, "argon2id memory in KiB (env LATCHKEY_ARGON2_MEMORY)")
	fs.UintVar(&tim, "argon2-time", tim, "argon2id iterations (env LATCHKEY_ARGON2_TIME)")
	fs.UintVar(&thr, "argon2-threads", thr, "argon2id parallelism (env LATCHKEY_ARGON2_THREADS)")
	fs.IntVar(&c.HashWorkers, "hash-workers", c.HashWorkers, "concurrent password hashes, 0 = CPUs (env LATCHKEY_HASH_WORKERS)")
	dur(&c.HashQueueWait, "hash-queue-wait", "how long a request waits for a hashing slot before answering 503")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest accepted request body (env LATCHKEY_MAX_BODY_BYTES)")
	fs.BoolVar(&c.ValidateResponses, "validate-responses", c.ValidateResponses, "validate every response against the spec (env LATCHKEY_VALIDATE_RESPONSES)")
	dur(&c.ShutdownTimeout, "shutdown-timeout", "how long graceful shutdown waits for requests in flight")
	fs.BoolVar(&c.Metrics, "metrics", c.Metrics, "serve Prometheus metrics at /metrics, without authentication (env LATCHKEY_METRICS)")
	str(&c.SMTPHost, "smtp-host", "SMTP server for e-mail login codes (empty: no SMTP)")
	fs.IntVar(&c.SMTPPort, "smtp-port", c.SMTPPort, "SMTP server port (env LATCHKEY_SMTP_PORT)")
	str(&c.SMTPFrom, "smtp-from", "sender address of e-mail login codes (required with --smtp-host)")
	str(&c.SMTPUsername, "smtp-username", "SMTP AUTH PLAIN user name (empty: no AUTH)")
	str(&c.SMTPPassword, "smtp-password", "SMTP AUTH PLAIN password")
	fs.BoolVar(&c.SMTPStartTLS, "smtp-starttls", c.SMTPStartTLS, "require STARTTLS before sending (env LATCHKEY_SMTP_STARTTLS)")
	str(&c.SMSWebhookURL, "sms-webhook-url", "HTTP(S) endpoint that receives SMS login codes as signed JSON POSTs (empty: no SMS gateway)")
	str(&c.SMSWebhookSecret, "sms-webhook-secret", "HMAC-SHA256 key of the X-Latchkey-Signature header (required with --sms-webhook-url)")
	str(&c.DevOutbox, "dev-outbox", "development outbox for login codes: auto (on when no SMTP and no SMS webhook is set), on or off; admins read it, codes included, at GET /v3.0/OS-MFA/outbox")
	dur(&c.MFACodeTTL, "mfa-code-ttl", "validity of SMS/e-mail login codes")
	str(&c.Pepper, "pepper", "current password pepper <id>:<secret> (id 1-8 of A-Z a-z 0-9 . _ -, secret >= 32 bytes as hex or base64): new hashes are argon2id over HMAC-SHA256(secret, password); older hashes are upgraded at the next login (default: none)")
	str(&c.OldPeppers, "old-peppers", "comma-separated <id>:<secret> of retired peppers, used only to verify hashes not upgraded yet")
	str(&c.SecretKey, "secret-key", "32-byte key (64 hex digits or base64) that encrypts secret access keys at rest; default: generated into latchkey.secret next to a SQLite database (required for access keys on PostgreSQL)")

	// Environment first, so that flags given on the command line win.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil && envErr == nil {
				envErr = fmt.Errorf("environment %s: %w", envName(f.Name), err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if mem > 1<<22 || tim > 100 || thr == 0 || thr > 255 {
		return c, errors.New("argon2 parameters out of range")
	}
	c.Argon2Memory, c.Argon2Time, c.Argon2Threads = uint32(mem), uint32(tim), uint8(thr)
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.TokenLifetime <= 0 || c.CIAMTokenLifetime <= 10*time.Second {
		return c, errors.New("token lifetimes must be positive (CIAM: more than 10s)")
	}
	if err := c.checkNotify(); err != nil {
		return c, err
	}
	if c.MaxBodyBytes <= 0 {
		return c, errors.New("max-body-bytes must be positive")
	}
	if _, _, err := c.Peppers(); err != nil {
		return c, err
	}
	return c, nil
}

func envName(flagName string) string {
	return "LATCHKEY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// FromEnv is Parse with the process environment and stderr.
func FromEnv(name string, args []string) (Config, error) {
	return Parse(name, args, os.Getenv, os.Stderr)
}

// checkNotify validates the delivery settings.
func (c Config) checkNotify() error {
	switch c.DevOutbox {
	case "auto", "on", "off":
	default:
		return fmt.Errorf("dev-outbox %q: want auto, on or off", c.DevOutbox)
	}
	if c.SMTPHost != "" && c.SMTPFrom == "" {
		return errors.New("smtp-from is required with smtp-host")
	}
	if c.SMTPPort <= 0 || c.SMTPPort > 65535 {
		return errors.New("smtp-port out of range")
	}
	if c.SMSWebhookURL != "" {
		u, err := url.Parse(c.SMSWebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("sms-webhook-url must be an absolute http(s) URL")
		}
		if c.SMSWebhookSecret == "" {
			return errors.New("sms-webhook-secret is required with sms-webhook-url")
		}
	}
	if c.MFACodeTTL <= 0 || c.MFACodeTTL > time.Hour {
		return errors.New("mfa-code-ttl must be positive and at most 1h")
	}
	return nil
}
