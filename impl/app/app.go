// Package app wires latchkey together: database, domain services, handlers
// and the HTTP server. The command and the black-box tests both build the
// server through it, so tests exercise exactly what ships.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/accesskeys"
	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/api"
	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/clients"
	"github.com/latchkey/latchkey/impl/config"
	"github.com/latchkey/latchkey/impl/gitcreds"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/mfa"
	"github.com/latchkey/latchkey/impl/notify"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/policies"
	"github.com/latchkey/latchkey/impl/server"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/tokens"
	"github.com/latchkey/latchkey/openapi"
)

// App is one running latchkey instance.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	DB       *store.DB
	Hasher   *passwords.Hasher
	Tokens   *tokens.Service
	Accounts *accounts.Service
	GitCreds *gitcreds.Service
	Clients  *clients.Service
	// Policies holds the domains' password and login policies; Lockout
	// counts failed credential checks against the login policy.
	Policies *policies.Service
	Lockout  *lockout.Guard
	Audit    *audit.Log
	// MFA holds virtual MFA devices and the SMS/e-mail login codes; Outbox
	// delivers those codes (its worker runs from Start).
	MFA    *mfa.Service
	Outbox *notify.Outbox
	// AccessKeys holds permanent access keys and verifies SDK-HMAC-SHA256
	// signed requests; keySource says where its sealing key came from.
	AccessKeys *accesskeys.Service
	keySource  accesskeys.KeySource
	Engine     *gin.Engine

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New opens the database, migrates it and builds the HTTP engine. Call Start
// to run the background loops and Close when done.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	db, err := store.Open(ctx, cfg.Database, log)
	if err != nil {
		return nil, err
	}
	a, err := build(ctx, cfg, log, db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return a, nil
}

func build(ctx context.Context, cfg config.Config, log *slog.Logger, db *store.DB) (*App, error) {
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	hasher, err := newHasher(cfg, log)
	if err != nil {
		return nil, err
	}
	toks, err := tokens.New(ctx, db, log, tokens.Config{
		Lifetime:       cfg.TokenLifetime,
		ClientLifetime: cfg.CIAMTokenLifetime,
		SyncInterval:   cfg.RevocationSync,
	})
	if err != nil {
		return nil, fmt.Errorf("start token service: %w", err)
	}
	trail := audit.New(db, log)
	pols := policies.New(db, log, policies.WithAudit(trail))
	guard := lockout.New(db, pols, log, lockout.WithAudit(trail))
	accts := accounts.New(db, hasher, toks, log,
		// Every password-setting path reads the domain's policy per operation.
		accounts.WithPolicySource(pols.Password),
		// Account-password checks count toward the login policy's lockout.
		accounts.WithLockout(guard),
		// Unused longer than account_validity_period: disabled at login.
		accounts.WithAccountValidity(pols.AccountValidity),
		accounts.WithAudit(trail))
	// HTTPS Git checks count on their own counter (a Git password guesser
	// cannot lock out the console login); HTTPS passwords set and mode
	// changes go to the audit trail.
	gitc := gitcreds.New(db, accts, hasher, log, gitcreds.WithLockout(guard), gitcreds.WithAudit(trail))
	// CIAM clients created (bootstrap too) and deleted go to the audit trail.
	clis := clients.New(db, hasher, toks, log, clients.WithAudit(trail))
	outbox := newOutbox(cfg, db, log)
	// Prometheus metrics (nil with --metrics=false); metrics.go.
	met, err := newMetrics(cfg, hasher, guard)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	second := mfa.New(db, log, mfa.Config{CodeTTL: cfg.MFACodeTTL},
		// Failed second factors count toward the lockout, kind totp.
		mfa.WithLockout(guard), mfa.WithOutbox(met.outbox(outbox)),
		// Device changes and sent login codes go to the audit trail.
		mfa.WithAudit(trail))
	akeys, keySource, err := newAccessKeys(cfg, db, log, trail)
	if err != nil {
		return nil, err
	}
	handlers := api.New(api.Deps{
		Log:       log,
		DB:        db,
		Accounts:  accts,
		GitCreds:  gitc,
		Policies:  pols,
		Audit:     trail,
		Tokens:    toks,
		PublicURL: cfg.PublicURL,
		// CIAM OAuth clients and the life of their access tokens.
		Clients:           clis,
		CIAMTokenLifetime: cfg.CIAMTokenLifetime,
		// Virtual MFA devices, second factors at token issuance, and the
		// development outbox.
		MFA:    second,
		Outbox: outbox,
		// Permanent access keys (AK/SK).
		AccessKeys: akeys,
		Lockout:    guard,
	})
	spec, err := gen.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	specJSON, err := spec.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode spec: %w", err)
	}
	gin.SetMode(gin.ReleaseMode) // no debug route dump; logs go through slog
	engine, err := server.New(server.Options{
		Spec:              spec,
		Logger:            log,
		Auth:              met.authenticator(authenticator{tokens: toks, keys: akeys, accounts: accts}),
		Metrics:           met.registry(),
		MaxBodyBytes:      cfg.MaxBodyBytes,
		ValidateResponses: cfg.ValidateResponses,
		SpecYAML:          openapi.YAML,
		SpecJSON:          specJSON,
		Register: func(r gin.IRouter, errorHandler func(*gin.Context, error, int)) {
			strict := gen.NewStrictHandlerWithOptions(handlers, nil, gen.StrictGinServerOptions(server.StrictOptions()))
			gen.RegisterHandlersWithOptions(r, strict, gen.GinServerOptions{ErrorHandler: errorHandler})
		},
	})
	if err != nil {
		return nil, fmt.Errorf("build server: %w", err)
	}
	return &App{Config: cfg, Log: log, DB: db, Hasher: hasher, Tokens: toks, Accounts: accts, GitCreds: gitc, Clients: clis,
		Policies: pols, Lockout: guard, Audit: trail, MFA: second, Outbox: outbox,
		AccessKeys: akeys, keySource: keySource, Engine: engine}, nil
}

// newHasher builds the password hasher with the configured argon2id cost
// and peppers, and says which pepper IDs are in use (never the secrets).
func newHasher(cfg config.Config, log *slog.Logger) (*passwords.Hasher, error) {
	cur, old, err := cfg.Peppers()
	if err != nil {
		return nil, err
	}
	hasher := passwords.NewHasher(passwords.Params{
		Memory: cfg.Argon2Memory, Time: cfg.Argon2Time, Threads: cfg.Argon2Threads,
		SaltLen: 16, KeyLen: 32,
	}, cfg.HashWorkers, cfg.HashQueueWait, passwords.WithPeppers(cur, old...))
	if err := hasher.Validate(); err != nil {
		return nil, fmt.Errorf("password hashing: %w", err)
	}
	if id, olds := hasher.PepperIDs(); id != "" || len(olds) > 0 {
		log.Info("password pepper", "current", id, "old", strings.Join(olds, ","))
		if id == "" {
			log.Warn("old peppers configured without a current pepper: verified hashes are rehashed without a pepper")
		}
	}
	return hasher, nil
}

// newAccessKeys loads the key that seals secret access keys (see
// accesskeys.LoadKey for where it comes from) and builds the service.
func newAccessKeys(cfg config.Config, db *store.DB, log *slog.Logger, trail *audit.Log) (*accesskeys.Service, accesskeys.KeySource, error) {
	key, src, err := accesskeys.LoadKey(cfg.SecretKey, cfg.Database)
	if err != nil {
		return nil, src, fmt.Errorf("access keys: %w", err)
	}
	switch {
	case key == nil:
		log.Warn("access keys disabled: no --secret-key (LATCHKEY_SECRET_KEY) is set; creating access keys answers 501 and signed requests are refused")
	case src.LoosePerms:
		log.Warn("the secret key file is readable by other users; chmod 600 it", "path", src.Path)
	case src.Ephemeral:
		log.Info("access keys are sealed with a key kept in memory only (in-memory database)")
	}
	// Created, changed and deleted keys go to the audit trail.
	s, err := accesskeys.New(db, key, log, accesskeys.WithAudit(trail))
	if err != nil {
		return nil, src, fmt.Errorf("access keys: %w", err)
	}
	return s, src, nil
}

// Start runs the background loops (revocation sync) until Close.
func (a *App) Start(ctx context.Context) {
	ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.Tokens.Run(ctx)
	}()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.Outbox.Run(ctx) // delivers queued login codes, this instance's and others'
	}()
}

// Handler is the HTTP handler of the instance.
func (a *App) Handler() http.Handler { return a.Engine }

// Close stops the background loops and closes the database.
func (a *App) Close() error {
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	return a.DB.Close()
}

// Bootstrap creates the bootstrap domain and admin on an empty database and
// prints what a person needs to log in. It never overwrites anything.
func (a *App) Bootstrap(ctx context.Context, out io.Writer) error {
	res, err := a.Accounts.Bootstrap(ctx, a.Config.BootstrapDomain, a.Config.BootstrapAdmin, a.Config.BootstrapPassword)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if !res.Created {
		a.Log.Info("bootstrap domain exists; nothing created", "domain", res.Domain.Name)
	} else {
		fmt.Fprintf(out, "Bootstrap: created domain %q (id %s) and its owner %q (id %s).\n",
			res.Domain.Name, res.Domain.ID, res.Admin.Name, res.Admin.ID)
		if res.GeneratedPassword != "" {
			// Printed once, to stdout only (never to the log): the operator needs it.
			fmt.Fprintf(out, "Bootstrap: admin password (shown only now): %s\n", res.GeneratedPassword)
		}
	}
	if ks := a.keySource; ks.Generated {
		// Printed once, to stdout only (never to the log), as the bootstrap
		// password is: without this key the stored access keys are useless.
		fmt.Fprintf(out, "WARNING: generated the secret key that encrypts access keys at rest and stored it in %s (mode 0600).\n", ks.Path)
		fmt.Fprintf(out, "WARNING: back it up and keep it apart from database backups; set it as --secret-key / LATCHKEY_SECRET_KEY to move the database. Without it every stored access key is lost.\n")
		fmt.Fprintf(out, "Secret key (shown only now): %s\n", ks.Encoded)
		a.keySource.Generated, a.keySource.Encoded = false, ""
	}
	// The CIAM OAuth client of the bootstrap domain (DESIGN.md §5): created on
	// the first start, or when a configured client id does not exist yet;
	// never changed afterwards.
	cres, err := a.Clients.Bootstrap(ctx, res.Domain.ID, a.Config.BootstrapClientID, a.Config.BootstrapClientSecret, res.Created)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if cres.Created {
		fmt.Fprintf(out, "Bootstrap: created the CIAM OAuth client %s of domain %q.\n", cres.Client.ID, res.Domain.Name)
		if cres.GeneratedSecret != "" {
			fmt.Fprintf(out, "Bootstrap: CIAM client secret (shown only now): %s\n", cres.GeneratedSecret)
		}
	}
	return nil
}

// Migrate creates or updates the schema and returns.
func Migrate(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := store.Open(ctx, cfg.Database, log)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Migrate(ctx)
}

// BootstrapOnly migrates, bootstraps and returns.
func BootstrapOnly(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer) error {
	a, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Bootstrap(ctx, out)
}

// Serve runs the server until ctx is done, then shuts down gracefully.
func Serve(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer) error {
	started := time.Now()
	a, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Bootstrap(ctx, out); err != nil {
		return err
	}
	a.Start(ctx)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    256 << 10, // X-Auth-Token may be up to 100,000 characters
	}
	fmt.Fprintf(out, "latchkey serving on http://%s (database %s)\n", ln.Addr(), redactDSN(cfg.Database))
	fmt.Fprintf(out, "Swagger UI: %s/docs/\n", cfg.PublicURL)
	log.Info("ready", "addr", ln.Addr().String(), "startup", time.Since(started).String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// redactDSN hides a password in a postgres:// DSN.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if colon := strings.Index(dsn[i+3:at], ":"); colon >= 0 {
				return dsn[:i+3+colon] + ":***" + dsn[at:]
			}
		}
	}
	return dsn
}

// NewLogger builds the process logger.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
}

// newOutbox builds the delivery of login codes from the settings and says
// which channel goes where.
func newOutbox(cfg config.Config, db *store.DB, log *slog.Logger) *notify.Outbox {
	nc := notify.Config{Dev: cfg.DevOutboxEnabled()}
	if cfg.SMTPHost != "" {
		nc.SMTP = &notify.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, From: cfg.SMTPFrom,
			Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, StartTLS: cfg.SMTPStartTLS}
	}
	if cfg.SMSWebhookURL != "" {
		nc.Webhook = &notify.WebhookConfig{URL: cfg.SMSWebhookURL, Secret: cfg.SMSWebhookSecret}
	}
	o := notify.New(db, log, nc)
	routes := o.Routes()
	route := func(ch string) string {
		if r := routes[ch]; r != "" {
			return r
		}
		return "none"
	}
	log.Info("login code delivery", "email", route(notify.ChannelEmail), "sms", route(notify.ChannelSMS))
	if nc.Dev {
		log.Warn("development outbox in use: SMS/e-mail login codes are stored and shown to domain administrators at GET /v3.0/OS-MFA/outbox; configure --smtp-host and --sms-webhook-url in production")
	}
	return o
}
