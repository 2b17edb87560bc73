package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

// lockedBuffer is a log sink shared by the services under test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// storedEvents reads every audit row as stored, in order.
func storedEvents(t testing.TB, db *store.DB) []store.AuditEvent {
	t.Helper()
	var rows []store.AuditEvent
	if err := db.Order("seq").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func rowText(r store.AuditEvent) string {
	return strings.Join([]string{r.ID, r.DomainID, r.Type, r.ActorID, r.ActorType, r.TargetID, r.SourceIP, r.Outcome, r.Detail}, "|")
}

// withAudit replaces the fixture's service by one that records into a real
// audit log and logs into the returned buffer.
func (f *fixture) withAudit() *lockedBuffer {
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	now := func() time.Time { return testNow }
	trail := audit.New(f.db, log, audit.WithClock(now))
	f.svc = New(f.db, passwords.NewHasher(fastParams, 4, 0), f.rev, log, WithClock(now), WithAudit(trail))
	return logs
}

// TestAuditEvents walks the audited client changes with the real audit
// log: created (generated and chosen secret) and deleted by an
// administrator, created at bootstrap by latchkey itself; refusals are not
// recorded. Each record is checked — type, actor, target, domain, outcome,
// detail — and no secret or secret hash is in any record or log line.
func TestAuditEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env.Open(t))
		logs := f.withAudit()
		const admin = "5e1d0c9b8a7f46e5d4c3b2a1f0e9d8c7"
		adminCtx := authn.WithClientIP(authn.WithPrincipal(context.Background(),
			&authn.Principal{Kind: authn.KindUserToken, UserID: admin, DomainID: f.dom, Roles: []authn.Role{authn.RoleOwner}}),
			"198.51.100.7")
		var secrets []string

		seen := 0
		next := func(t *testing.T) []store.AuditEvent {
			t.Helper()
			all := storedEvents(t, f.db)
			out := all[seen:]
			seen = len(all)
			return out
		}
		one := func(t *testing.T) store.AuditEvent {
			t.Helper()
			evs := next(t)
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1: %+v", len(evs), evs)
			}
			return evs[0]
		}
		none := func(t *testing.T, what string) {
			t.Helper()
			if evs := next(t); len(evs) != 0 {
				t.Errorf("%s recorded %+v", what, evs)
			}
		}
		want := func(t *testing.T, ev store.AuditEvent, typ audit.Type, domain, actor, actorType, target, source string, detail map[string]string) {
			t.Helper()
			var got map[string]string
			if err := json.Unmarshal([]byte(ev.Detail), &got); err != nil {
				t.Fatalf("detail %q: %v", ev.Detail, err)
			}
			if ev.Type != string(typ) || ev.DomainID != domain || ev.ActorID != actor || ev.ActorType != actorType ||
				ev.TargetID != target || ev.SourceIP != source || ev.Outcome != string(audit.Success) || !maps.Equal(got, detail) {
				t.Errorf("event %+v\nwant type %s domain %s actor %s/%s target %s source %s detail %v",
					ev, typ, domain, actor, actorType, target, source, detail)
			}
		}
		hashOf := func(t *testing.T, id string) string {
			t.Helper()
			var m store.OAuthClient
			if err := f.db.Where("id = ?", id).Take(&m).Error; err != nil {
				t.Fatal(err)
			}
			return m.SecretHash
		}

		// Created by an administrator: a generated id and secret, then a
		// chosen id and secret.
		c, sec, err := f.svc.Create(adminCtx, f.dom, Input{Name: "billing"})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, sec, hashOf(t, c.ID))
		want(t, one(t), audit.CIAMClientCreated, f.dom, admin, audit.ActorUser, c.ID, "198.51.100.7",
			map[string]string{"client_id": c.ID, "name": "billing"})
		const chosen = "Ch0sen-Secret.77"
		c2, _, err := f.svc.Create(adminCtx, f.dom, Input{ID: "legacy-app", Name: "legacy", Secret: chosen})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, chosen, hashOf(t, c2.ID))
		want(t, one(t), audit.CIAMClientCreated, f.dom, admin, audit.ActorUser, "legacy-app", "198.51.100.7",
			map[string]string{"client_id": "legacy-app", "name": "legacy"})

		// Refused creates and deletes are not recorded.
		_, _, err = f.svc.Create(adminCtx, f.dom, Input{ID: "legacy-app", Secret: "An0ther-Secret.88"})
		wantReason(t, err, fault.Conflict)
		_, _, err = f.svc.Create(adminCtx, f.dom, Input{Secret: "short"})
		wantReason(t, err, fault.PropertyInvalid)
		_, _, err = f.svc.Create(adminCtx, "no-such-domain", Input{})
		wantReason(t, err, fault.NotFound)
		wantReason(t, f.svc.Delete(adminCtx, f.dom2, c.ID), fault.NotFound) // another domain's
		wantReason(t, f.svc.Delete(adminCtx, f.dom, "no-such-client"), fault.NotFound)
		none(t, "refused create or delete")

		// Deleted.
		if err := f.svc.Delete(adminCtx, f.dom, c.ID); err != nil {
			t.Fatal(err)
		}
		want(t, one(t), audit.CIAMClientDeleted, f.dom, admin, audit.ActorUser, c.ID, "198.51.100.7",
			map[string]string{"client_id": c.ID})

		// Bootstrap: latchkey itself (no principal) creates the client, with
		// a generated id on the first start or a configured one; an existing
		// configured client is left alone and nothing is recorded.
		res, err := f.svc.Bootstrap(context.Background(), f.dom2, "", "", true)
		if err != nil || !res.Created {
			t.Fatalf("bootstrap: %+v, %v", res, err)
		}
		secrets = append(secrets, res.GeneratedSecret, hashOf(t, res.Client.ID))
		want(t, one(t), audit.CIAMClientCreated, f.dom2, "", audit.ActorSystem, res.Client.ID, "",
			map[string]string{"client_id": res.Client.ID, "name": "bootstrap"})
		const configured = "Conf1gured-Secret.99"
		for range 2 {
			if _, err := f.svc.Bootstrap(context.Background(), f.dom, "ops-app", configured, false); err != nil {
				t.Fatal(err)
			}
		}
		secrets = append(secrets, configured, hashOf(t, "ops-app"))
		want(t, one(t), audit.CIAMClientCreated, f.dom, "", audit.ActorSystem, "ops-app", "",
			map[string]string{"client_id": "ops-app", "name": "bootstrap"})

		// No secret or hash in any record or log line.
		text := logs.String()
		for _, r := range storedEvents(t, f.db) {
			text += "\n" + rowText(r)
		}
		for _, s := range secrets {
			if s == "" {
				t.Fatal("empty secret collected")
			}
			if strings.Contains(text, s) {
				t.Errorf("secret %q... appears in the audit trail or the log", s[:4])
			}
		}
	})
}

// Instances racing to bootstrap the same client record one creation.
func TestAuditBootstrapConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env.Open(t))
		f.withAudit()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := f.svc.Bootstrap(context.Background(), f.dom, "shared-app", "Shared-Secret-1", true); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		evs := storedEvents(t, f.db)
		if len(evs) != 1 || evs[0].Type != string(audit.CIAMClientCreated) || evs[0].TargetID != "shared-app" ||
			evs[0].ActorType != audit.ActorSystem {
			t.Fatalf("events %+v, want one ciam_client.created by the system", evs)
		}
	})
}

// Without WithAudit nothing is recorded and nothing fails.
func TestNoAuditor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env.Open(t))
		c, _, err := f.svc.Create(f.ctx, f.dom, Input{Name: "quiet"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Delete(f.ctx, f.dom, c.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(storedEvents(t, f.db)); n != 0 {
			t.Fatalf("%d events without an auditor", n)
		}
	})
}
