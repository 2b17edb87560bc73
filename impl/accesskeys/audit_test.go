package accesskeys

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

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

// TestAuditEvents checks the record of every key change with the real audit
// log: type, actor (the request's principal), target (the key's user),
// domain, outcome, detail; that refusals and refused signatures record
// nothing; and that no secret key is in any record or log line.
func TestAuditEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		logs := &lockedBuffer{}
		log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		trail := audit.New(f.db, log, audit.WithClock(f.clock.Now))
		svc, err := New(f.db, f.key, log, WithClock(f.clock.Now), WithAudit(trail))
		if err != nil {
			t.Fatal(err)
		}
		admin := randID()
		as := func(userID string, roles ...authn.Role) context.Context {
			return authn.WithClientIP(authn.WithPrincipal(context.Background(),
				&authn.Principal{Kind: authn.KindUserToken, UserID: userID, DomainID: f.dom, Roles: roles}), "198.51.100.7")
		}
		aliceCtx, adminCtx := as(f.alice.ID), as(admin, authn.RoleOwner)
		seen := 0
		next := func(t *testing.T) []store.AuditEvent {
			t.Helper()
			var all []store.AuditEvent
			if err := f.db.Order("seq").Find(&all).Error; err != nil {
				t.Fatal(err)
			}
			out := all[seen:]
			seen = len(all)
			return out
		}
		one := func(t *testing.T, typ audit.Type, actor, target string, detail map[string]string) {
			t.Helper()
			evs := next(t)
			if len(evs) != 1 {
				t.Fatalf("%d events, want one %s: %+v", len(evs), typ, evs)
			}
			ev := evs[0]
			var got map[string]string
			if err := json.Unmarshal([]byte(ev.Detail), &got); err != nil {
				t.Fatalf("detail %q: %v", ev.Detail, err)
			}
			if ev.Type != string(typ) || ev.DomainID != f.dom || ev.ActorID != actor || ev.ActorType != audit.ActorUser ||
				ev.TargetID != target || ev.Outcome != string(audit.Success) || ev.SourceIP != "198.51.100.7" || !maps.Equal(got, detail) {
				t.Errorf("event %+v\nwant %s by %s on %s with %v", ev, typ, actor, target, detail)
			}
		}
		none := func(t *testing.T, what string) {
			t.Helper()
			if evs := next(t); len(evs) != 0 {
				t.Errorf("%s recorded %+v", what, evs)
			}
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
		none(t, "refused changes")

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
		none(t, "an update that changes nothing")
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
		none(t, "a refused signature")

		// Deleted, by the admin: the target is still the key's user.
		wantReason(t, svc.Delete(adminCtx, f.dom, k1.Access), "")
		one(t, audit.AccessKeyDeleted, admin, f.alice.ID, map[string]string{"access_key": k1.Access, "status": "active"})
		wantReason(t, svc.Delete(aliceCtx, f.dom, k1.Access), fault.NotFound)
		none(t, "a second delete")

		// No secret key (nor its sealed form) in any record or log line.
		var rows []store.AuditEvent
		if err := f.db.Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		text := logs.String()
		for _, r := range rows {
			text += "\n" + strings.Join([]string{r.ID, r.DomainID, r.Type, r.ActorID, r.ActorType, r.TargetID, r.SourceIP, r.Outcome, r.Detail}, "|")
		}
		for _, s := range secrets {
			if len(s) != skLen || strings.Contains(text, s) {
				t.Errorf("secret key %q... appears in the audit trail or the log", s[:3])
			}
		}
	})
}
