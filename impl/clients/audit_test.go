package clients

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/audit/audittest"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

// withAudit replaces the fixture's service by one that records into a real
// audit log and logs where the trail captures it.
func (f *fixture) withAudit() *audittest.Trail {
	now := func() time.Time { return testNow }
	trail := audittest.New(f.db, now)
	f.svc = New(f.db, passwords.NewHasher(fastParams, 4, 0), f.rev, trail.Logger, WithClock(now), WithAudit(trail.Log))
	return trail
}

// TestAuditEvents walks the audited client changes with the real audit
// log: created (generated and chosen secret) and deleted by an
// administrator, created at bootstrap by latchkey itself; refusals are not
// recorded. Each record is checked — type, actor, target, domain, outcome,
// detail — and no secret or secret hash is in any record or log line.
func TestAuditEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env.Open(t))
		trail := f.withAudit()
		const admin = "5e1d0c9b8a7f46e5d4c3b2a1f0e9d8c7"
		adminCtx := authn.WithClientIP(authn.WithPrincipal(context.Background(),
			&authn.Principal{Kind: authn.KindUserToken, UserID: admin, DomainID: f.dom, Roles: []authn.Role{authn.RoleOwner}}),
			"198.51.100.7")
		var secrets []string

		want := func(t *testing.T, ev store.AuditEvent, typ audit.Type, domain, actor, actorType, target, source string, detail map[string]string) {
			t.Helper()
			audittest.Check(t, ev, audittest.Want{Type: typ, Domain: domain, Actor: actor, ActorType: actorType,
				Target: target, Source: source, Detail: detail})
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
		want(t, trail.One(t), audit.CIAMClientCreated, f.dom, admin, audit.ActorUser, c.ID, "198.51.100.7",
			map[string]string{"client_id": c.ID, "name": "billing"})
		const chosen = "Ch0sen-Secret.77"
		c2, _, err := f.svc.Create(adminCtx, f.dom, Input{ID: "legacy-app", Name: "legacy", Secret: chosen})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, chosen, hashOf(t, c2.ID))
		want(t, trail.One(t), audit.CIAMClientCreated, f.dom, admin, audit.ActorUser, "legacy-app", "198.51.100.7",
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
		trail.None(t, "refused create or delete")

		// Deleted.
		if err := f.svc.Delete(adminCtx, f.dom, c.ID); err != nil {
			t.Fatal(err)
		}
		want(t, trail.One(t), audit.CIAMClientDeleted, f.dom, admin, audit.ActorUser, c.ID, "198.51.100.7",
			map[string]string{"client_id": c.ID})

		// Bootstrap: latchkey itself (no principal) creates the client, with
		// a generated id on the first start or a configured one; an existing
		// configured client is left alone and nothing is recorded.
		res, err := f.svc.Bootstrap(context.Background(), f.dom2, "", "", true)
		if err != nil || !res.Created {
			t.Fatalf("bootstrap: %+v, %v", res, err)
		}
		secrets = append(secrets, res.GeneratedSecret, hashOf(t, res.Client.ID))
		want(t, trail.One(t), audit.CIAMClientCreated, f.dom2, "", audit.ActorSystem, res.Client.ID, "",
			map[string]string{"client_id": res.Client.ID, "name": "bootstrap"})
		const configured = "Conf1gured-Secret.99"
		for range 2 {
			if _, err := f.svc.Bootstrap(context.Background(), f.dom, "ops-app", configured, false); err != nil {
				t.Fatal(err)
			}
		}
		secrets = append(secrets, configured, hashOf(t, "ops-app"))
		want(t, trail.One(t), audit.CIAMClientCreated, f.dom, "", audit.ActorSystem, "ops-app", "",
			map[string]string{"client_id": "ops-app", "name": "bootstrap"})

		// No secret or hash in any record or log line.
		trail.NoSecrets(t, secrets, nil)
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
		evs := audittest.Events(t, f.db)
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
		if n := len(audittest.Events(t, f.db)); n != 0 {
			t.Fatalf("%d events without an auditor", n)
		}
	})
}
