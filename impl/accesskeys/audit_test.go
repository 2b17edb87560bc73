package accesskeys

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/audit/audittest"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

// TestAuditEvents checks the record of every key change with the real audit
// log: type, actor (the request's principal), target (the key's user),
// domain, outcome, detail; that refusals and refused signatures record
// nothing; and that no secret key is in any record or log line.
func TestAuditEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		trail := audittest.New(f.db, f.clock.Now)
		svc, err := New(f.db, f.key, trail.Logger, WithClock(f.clock.Now), WithAudit(trail.Log))
		if err != nil {
			t.Fatal(err)
		}
		admin := randID()
		as := func(userID string, roles ...authn.Role) context.Context {
			return authn.WithClientIP(authn.WithPrincipal(context.Background(),
				&authn.Principal{Kind: authn.KindUserToken, UserID: userID, DomainID: f.dom, Roles: roles}), "198.51.100.7")
		}
		aliceCtx, adminCtx := as(f.alice.ID), as(admin, authn.RoleOwner)
		one := func(t *testing.T, typ audit.Type, actor, target string, detail map[string]string) {
			t.Helper()
			audittest.Check(t, trail.One(t), audittest.Want{Type: typ, Domain: f.dom, Actor: actor, ActorType: audit.ActorUser,
				Target: target, Source: "198.51.100.7", Detail: detail})
		}
		var secrets []string

		// Created by the user itself, and by an admin for another user.
		k1, sk1, err := svc.Create(aliceCtx, f.dom, f.alice.ID, "laptop")
		wantReason(t, err, "")
		secrets = append(secrets, sk1)
		one(t, audit.AccessKeyCreated, f.alice.ID, f.alice.ID, map[string]string{"access_key": k1.Access, "status": "active"})
		kb, skb, err := svc.Create(adminCtx, f.dom, f.bob.ID, "")
		wantReason(t, err, "")
		secrets = append(secrets, skb)
		one(t, audit.AccessKeyCreated, admin, f.bob.ID, map[string]string{"access_key": kb.Access, "status": "active"})

		// Refusals record nothing.
		_, _, err = svc.Create(adminCtx, f.dom, f.other.ID, "")
		wantReason(t, err, fault.UserNotFound)
		_, err = svc.Update(adminCtx, f.other.DomainID, k1.Access, ptr(StatusInactive), nil)
		wantReason(t, err, fault.NotFound)
		wantReason(t, svc.Delete(adminCtx, f.other.DomainID, k1.Access), fault.NotFound)
		trail.None(t, "refused changes")

		// Updated: the status as "old -> new", a description only as changed;
		// an update that changes nothing is no event.
		_, err = svc.Update(adminCtx, f.dom, k1.Access, ptr(StatusInactive), nil)
		wantReason(t, err, "")
		one(t, audit.AccessKeyUpdated, admin, f.alice.ID, map[string]string{"access_key": k1.Access, "status": "active -> inactive"})
		_, err = svc.Update(aliceCtx, f.dom, k1.Access, ptr(StatusInactive), ptr("old laptop"))
		wantReason(t, err, "")
		one(t, audit.AccessKeyUpdated, f.alice.ID, f.alice.ID, map[string]string{"access_key": k1.Access, "description": "changed"})
		_, err = svc.Update(aliceCtx, f.dom, k1.Access, ptr(StatusInactive), ptr("old laptop"))
		wantReason(t, err, "")
		trail.None(t, "an update that changes nothing")
		up, err := svc.Update(aliceCtx, f.dom, k1.Access, ptr(StatusActive), ptr(""))
		wantReason(t, err, "")
		if up.Status != StatusActive || up.Description != "" {
			t.Fatalf("updated %+v", up)
		}
		one(t, audit.AccessKeyUpdated, f.alice.ID, f.alice.ID, map[string]string{"access_key": k1.Access, "description": "changed", "status": "inactive -> active"})

		// A refused signature is not recorded (see the package comment).
		hr, _ := http.NewRequest("GET", "http://latchkey.test/v3/auth/projects", nil)
		hr.Header.Set(HeaderDate, f.clock.Now().UTC().Format(DateFormat))
		hr.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+k1.Access+", SignedHeaders=x-sdk-date, Signature="+strings.Repeat("0", 64))
		_, err = svc.Verify(context.Background(), hr, nil)
		wantReason(t, err, fault.Unauthenticated)
		trail.None(t, "a refused signature")

		// Deleted, by the admin: the target is still the key's user.
		wantReason(t, svc.Delete(adminCtx, f.dom, k1.Access), "")
		one(t, audit.AccessKeyDeleted, admin, f.alice.ID, map[string]string{"access_key": k1.Access, "status": "active"})
		wantReason(t, svc.Delete(aliceCtx, f.dom, k1.Access), fault.NotFound)
		trail.None(t, "a second delete")

		// No secret key (nor its sealed form) in any record or log line.
		for _, s := range secrets {
			if len(s) != skLen {
				t.Errorf("secret key %q... collected with length %d", s[:min(3, len(s))], len(s))
			}
		}
		trail.NoSecrets(t, secrets, nil)
	})
}
