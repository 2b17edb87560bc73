package app

import (
	"context"
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"gorm.io/gorm"

	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/config"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/mfa"
	"github.com/latchkey/latchkey/impl/notify"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/server"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/tokens"
)

// metrics is the instance's Prometheus registry (one per App, never the
// global one, so that tests run many instances in one process) with the
// runtime, process and domain collectors; the server adds the HTTP metrics
// and serves it at /metrics. A nil *metrics (--metrics=false) instruments
// nothing. Every label value is from a fixed set: no id, name or secret.
type metrics struct {
	reg   *prometheus.Registry
	auths [len(authSchemes)][len(authOutcomes)]prometheus.Counter
	codes [len(codeChannels)]prometheus.Counter
}

// Security schemes of the spec; "other" guards against a new one.
var authSchemes = [...]string{server.SchemeXAuthToken, server.SchemeCiamOAuth, server.SchemeSdkHmacSha256, "other"}

// Authentication outcomes: missing = no credentials; error = anything else
// (a bad signature, the service overloaded, ...).
var authOutcomes = [...]string{"ok", "missing", "expired", "invalid", "revoked", "error"}

var codeChannels = [...]string{notify.ChannelSMS, notify.ChannelEmail, "other"}

var lockoutKinds = [...]lockout.Kind{lockout.KindPassword, lockout.KindHTTPS, lockout.KindTOTP}

func newMetrics(cfg config.Config, hasher *passwords.Hasher, guard *lockout.Guard) (*metrics, error) {
	if !cfg.Metrics {
		return nil, nil
	}
	m := &metrics{reg: prometheus.NewRegistry()}
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "latchkey_password_hash_slots",
			Help: "Password hashes (argon2id) allowed to run at once (--hash-workers).",
		}, func() float64 { return float64(hasher.Stats().Slots) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "latchkey_password_hashes_in_flight",
			Help: "Password hashes (argon2id) running now.",
		}, func() float64 { return float64(hasher.Stats().InFlight) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "latchkey_password_hashes_waiting",
			Help: "Requests waiting for a password hashing slot now.",
		}, func() float64 { return float64(hasher.Stats().Waiting) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "latchkey_password_hash_refusals_total",
			Help: "Requests refused because no password hashing slot freed in time (answered 503 or 429).",
		}, func() float64 { return float64(hasher.Stats().Refused) }),
	}
	for _, k := range lockoutKinds {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "latchkey_lockout_refusals_total",
			Help:        "Credential checks refused without hashing because the credential is locked (login policy), by credential kind.",
			ConstLabels: prometheus.Labels{"kind": string(k)},
		}, func() float64 { return float64(guard.Refusals(k)) }))
	}
	auths := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latchkey_authentications_total",
		Help: "Credential checks of the API's security schemes (token validations, signed requests), by scheme and outcome.",
	}, []string{"scheme", "outcome"})
	codes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latchkey_login_codes_sent_total",
		Help: "One-time login codes issued and queued for delivery, by channel.",
	}, []string{"channel"})
	cs = append(cs, auths, codes)
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Every child exists from the start (rate() needs no first event), and
	// the hot path indexes arrays instead of hashing label values.
	for i, s := range authSchemes {
		for j, o := range authOutcomes {
			m.auths[i][j] = auths.WithLabelValues(s, o)
		}
	}
	for i, ch := range codeChannels {
		m.codes[i] = codes.WithLabelValues(ch)
	}
	return m, nil
}

// registry is what the server serves; nil when metrics are off.
func (m *metrics) registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// authenticator counts the outcome of every authentication of a.
func (m *metrics) authenticator(a server.Authenticator) server.Authenticator {
	if m == nil {
		return a
	}
	return countingAuth{next: a, m: m}
}

type countingAuth struct {
	next server.Authenticator
	m    *metrics
}

func (c countingAuth) Authenticate(ctx context.Context, scheme string, r *http.Request) (*authn.Principal, error) {
	p, err := c.next.Authenticate(ctx, scheme, r)
	c.m.auths[schemeIndex(scheme)][outcomeIndex(err)].Inc()
	return p, err
}

func schemeIndex(s string) int {
	for i, name := range authSchemes[:len(authSchemes)-1] {
		if s == name {
			return i
		}
	}
	return len(authSchemes) - 1
}

func outcomeIndex(err error) int {
	if err == nil {
		return 0
	}
	e := fault.As(err)
	switch {
	case e == nil:
		return 5
	case e.Reason == fault.Unauthenticated:
		return 1
	case e.Reason == fault.TokenExpired:
		return 2
	case e.Reason == fault.TokenInvalid && errors.Is(err, tokens.ErrRevoked):
		return 4
	case e.Reason == fault.TokenInvalid:
		return 3
	}
	return 5
}

// outbox counts the login codes mfa queues on o.
func (m *metrics) outbox(o mfa.Outbox) mfa.Outbox {
	if m == nil {
		return o
	}
	return countingOutbox{Outbox: o, m: m}
}

type countingOutbox struct {
	mfa.Outbox
	m *metrics
}

func (c countingOutbox) Enqueue(tx *gorm.DB, msg notify.Message) (*store.OutboxMessage, error) {
	row, err := c.Outbox.Enqueue(tx, msg)
	if err == nil {
		// Counted when queued in the code's transaction, which commits
		// right after (a rollback then is a database failure).
		c.m.codes[channelIndex(msg.Channel)].Inc()
	}
	return row, err
}

func channelIndex(ch string) int {
	for i, name := range codeChannels[:len(codeChannels)-1] {
		if ch == name {
			return i
		}
	}
	return len(codeChannels) - 1
}
