package gitcreds

import (
	"context"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/audit/audittest"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

// TestAuditEvents walks the audited HTTPS Git changes with the real audit
// log: a password set and replaced, mode changes (only real changes), and
// the administrator resets that clear the HTTPS password (a fact of the
// password.reset event). Each record is checked — type, actor, target,
// domain, outcome, detail — and no password or hash is in any record or
// log line.
func TestAuditEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		trail := audittest.New(f.db, f.clock.Now)
		f.accts = accounts.New(f.db, f.hasher, nil, trail.Logger, accounts.WithClock(f.clock.Now), accounts.WithAudit(trail.Log))
		f.svc = New(f.db, f.accts, f.hasher, trail.Logger, WithClock(f.clock.Now), WithAudit(trail.Log))

		alice := f.mkUser(t, "alice", acctPw)
		bob := f.mkUser(t, "bob", acctPw)
		as := func(id string) context.Context {
			return authn.WithClientIP(authn.WithPrincipal(context.Background(),
				&authn.Principal{Kind: authn.KindUserToken, UserID: id, DomainID: f.dom.ID}), "198.51.100.7")
		}
		aliceCtx, bobCtx := as(alice.ID), as(bob.ID)
		adminCtx := authn.WithClientIP(authn.WithPrincipal(context.Background(),
			&authn.Principal{Kind: authn.KindUserToken, UserID: f.owner.ID, DomainID: f.dom.ID, Roles: []authn.Role{authn.RoleOwner}}),
			"198.51.100.8")
		clientCtx := authn.WithPrincipal(context.Background(),
			&authn.Principal{Kind: authn.KindCIAMClient, ClientID: "billing-app", DomainID: f.dom.ID})
		secrets := []string{acctPw, acctPw2, httpsPw, httpsPw2}

		want := func(t *testing.T, ev store.AuditEvent, typ audit.Type, actor, actorType, target, source, detail string) {
			t.Helper()
			audittest.Check(t, ev, audittest.Want{Type: typ, Domain: f.dom.ID, Actor: actor, ActorType: actorType,
				Target: target, Source: source, Detail: audittest.ParseDetail(t, detail)})
		}

		// Set, then replace; refusals are not recorded.
		wantReason(t, f.svc.SetPassword(aliceCtx, f.dom.ID, alice.ID, acctPw2, httpsPw), fault.WrongPassword)
		wantReason(t, f.svc.SetPassword(aliceCtx, f.dom.ID, alice.ID, acctPw, "short"), fault.PasswordPolicy)
		trail.None(t, "refused SetPassword")
		wantReason(t, f.svc.SetPassword(aliceCtx, f.dom.ID, alice.ID, acctPw, httpsPw), "")
		want(t, trail.One(t), audit.HTTPSPasswordSet, alice.ID, audit.ActorUser, alice.ID, "198.51.100.7", `{"replaced":"false"}`)
		secrets = append(secrets, f.row(t, alice.ID).PasswordHash)
		wantReason(t, f.svc.SetPassword(aliceCtx, f.dom.ID, alice.ID, acctPw, httpsPw2), "")
		want(t, trail.One(t), audit.HTTPSPasswordSet, alice.ID, audit.ActorUser, alice.ID, "198.51.100.7", `{"replaced":"true"}`)
		secrets = append(secrets, f.row(t, alice.ID).PasswordHash)

		// Mode: recorded only when it changes; no row means the default
		// (true), so a first "true" is no change and a first "false" is.
		wantReason(t, f.svc.SetSetting(aliceCtx, f.dom.ID, alice.ID, true), "")
		trail.None(t, "unchanged mode (row)")
		wantReason(t, f.svc.SetSetting(bobCtx, f.dom.ID, bob.ID, true), "")
		trail.None(t, "unchanged mode (default)")
		wantReason(t, f.svc.SetSetting(aliceCtx, f.dom.ID, alice.ID, false), "")
		want(t, trail.One(t), audit.HTTPSSettingChanged, alice.ID, audit.ActorUser, alice.ID, "198.51.100.7",
			`{"https_clone_iam_auth":"true -> false"}`)
		wantReason(t, f.svc.SetSetting(aliceCtx, f.dom.ID, alice.ID, false), "")
		trail.None(t, "unchanged mode")
		wantReason(t, f.svc.SetSetting(aliceCtx, f.dom.ID, alice.ID, true), "")
		want(t, trail.One(t), audit.HTTPSSettingChanged, alice.ID, audit.ActorUser, alice.ID, "198.51.100.7",
			`{"https_clone_iam_auth":"false -> true"}`)
		carol := f.mkUser(t, "carol", acctPw)
		wantReason(t, f.svc.SetSetting(as(carol.ID), f.dom.ID, carol.ID, false), "")
		want(t, trail.One(t), audit.HTTPSSettingChanged, carol.ID, audit.ActorUser, carol.ID, "198.51.100.7",
			`{"https_clone_iam_auth":"true -> false"}`)
		wantReason(t, f.svc.SetSetting(aliceCtx, f.dom.ID, accounts.NewID(), false), fault.UserNotFound)
		trail.None(t, "unknown user")

		// The administrator reset clears the HTTPS password: a fact of the
		// reset, present only when there was one to clear.
		no := false
		reset := "Zp5+Kdrw.u3"
		secrets = append(secrets, reset)
		_, err := f.accts.UpdateUser(adminCtx, f.dom.ID, alice.ID, accounts.UserInput{Password: &reset, PwdStatus: &no})
		wantReason(t, err, "")
		want(t, trail.One(t), audit.PasswordReset, f.owner.ID, audit.ActorUser, alice.ID, "198.51.100.8",
			`{"https_password_cleared":"true","must_change":"false"}`)
		if r := f.row(t, alice.ID); r.PasswordHash != "" {
			t.Fatal("the reset kept the HTTPS password")
		}
		reset2 := "Yq4+Jcsv.t2"
		secrets = append(secrets, reset2)
		_, err = f.accts.UpdateUser(adminCtx, f.dom.ID, alice.ID, accounts.UserInput{Password: &reset2, PwdStatus: &no})
		wantReason(t, err, "")
		want(t, trail.One(t), audit.PasswordReset, f.owner.ID, audit.ActorUser, alice.ID, "198.51.100.8", `{"must_change":"false"}`)

		// The CIAM reset (a client) does the same; the user's own change
		// keeps the HTTPS password and says nothing about it.
		wantReason(t, f.svc.SetPassword(bobCtx, f.dom.ID, bob.ID, acctPw, httpsPw), "")
		want(t, trail.One(t), audit.HTTPSPasswordSet, bob.ID, audit.ActorUser, bob.ID, "198.51.100.7", `{"replaced":"false"}`)
		secrets = append(secrets, f.row(t, bob.ID).PasswordHash)
		wantReason(t, f.accts.ChangePassword(bobCtx, bob.ID, acctPw, acctPw2), "")
		want(t, trail.One(t), audit.PasswordChanged, bob.ID, audit.ActorUser, bob.ID, "198.51.100.7", `{"must_change":"false"}`)
		if f.row(t, bob.ID).PasswordHash == "" {
			t.Fatal("the user's own change cleared the HTTPS password")
		}
		wantReason(t, f.accts.ResetPassword(clientCtx, f.dom.ID, bob.ID, reset, true), "")
		want(t, trail.One(t), audit.PasswordReset, "billing-app", audit.ActorClient, bob.ID, "",
			`{"https_password_cleared":"true","must_change":"true"}`)

		// No password or hash in any record or log line.
		trail.NoSecrets(t, secrets, nil)
	})
}

// Concurrent writes of one user's credential are serialized by the user's
// row lock, so the audit trail is exact: of 8 concurrent first passwords
// exactly one replaced nothing, and every recorded mode change is a real one
// from the mode then stored: starting at the default (true), the changes to
// false outnumber those back to true by exactly one if the stored mode ends
// false, and not at all if it ends true. (Records are written after commit,
// so their order among concurrent writers need not be the commit order.)
func TestAuditConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		trail := audit.New(f.db, quietLog())
		f.svc = New(f.db, f.accts, f.hasher, quietLog(), WithClock(f.clock.Now), WithAudit(trail))
		u := f.mkUser(t, "alice", acctPw)
		run := func(n int, op func(i int) error) {
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() { errs <- op(i) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				wantReason(t, err, "")
			}
		}
		run(8, func(int) error { return f.svc.SetPassword(f.ctx, f.dom.ID, u.ID, acctPw, httpsPw) })
		run(8, func(i int) error { return f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, i%2 == 0) })

		fresh, replaced, toFalse, toTrue := 0, 0, 0, 0
		for _, ev := range audittest.Events(t, f.db) {
			d := audittest.ParseDetail(t, ev.Detail)
			switch audit.Type(ev.Type) {
			case audit.HTTPSPasswordSet:
				if d["replaced"] == "true" {
					replaced++
				} else {
					fresh++
				}
			case audit.HTTPSSettingChanged:
				switch d["https_clone_iam_auth"] {
				case "true -> false":
					toFalse++
				case "false -> true":
					toTrue++
				default:
					t.Errorf("mode change %q", d["https_clone_iam_auth"])
				}
			}
		}
		if fresh != 1 || replaced != 7 {
			t.Errorf("https_password.set: %d fresh, %d replaced; want 1, 7", fresh, replaced)
		}
		got, err := f.svc.Setting(f.ctx, u.ID)
		wantReason(t, err, "")
		if wantDiff := map[bool]int{true: 0, false: 1}[got]; toFalse-toTrue != wantDiff || toFalse == 0 {
			t.Errorf("stored mode %v after %d changes to false and %d to true", got, toFalse, toTrue)
		}
	})
}

// Without WithAudit nothing is recorded and nothing fails.
func TestNoAuditor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, "nora", acctPw)
		wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, u.ID, acctPw, httpsPw), "")
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, false), "")
		if n := len(audittest.Events(t, f.db)); n != 0 {
			t.Fatalf("%d events without an auditor", n)
		}
	})
}
