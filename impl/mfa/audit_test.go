package mfa

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/audit/audittest"
	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/notify"
	"github.com/latchkey/latchkey/impl/policies"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

// containsSecret reports whether secret occurs in s. Short numeric codes
// must stand alone (not inside a hex id or a longer number), so that a
// 6-digit code is not "found" by chance inside a random id.
func containsSecret(s, secret string) bool {
	if len(secret) > 8 {
		return strings.Contains(s, secret)
	}
	alnum := func(b byte) bool {
		return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
	}
	for i := 0; ; {
		j := strings.Index(s[i:], secret)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(secret)
		if (j == 0 || !alnum(s[j-1])) && (end == len(s) || !alnum(s[end])) {
			return true
		}
		i = j + 1
	}
}

// TestAuditEvents walks every audited device change and a sent login code
// with the real audit log and lockout, and checks each record: type, actor
// (from the request's principal), target, domain, outcome, detail — and
// that no seed, code, receipt or contact data is in any record or log line.
func TestAuditEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		trail := audittest.New(f.db, f.clock.Now)
		log := trail.Logger
		guard := lockout.New(f.db, policies.New(f.db, log), log, lockout.WithAudit(trail.Log), lockout.WithClock(f.clock.Now))
		outbox := notify.New(f.db, log, notify.Config{Dev: true}, notify.WithClock(f.clock.Now))
		f.svc = New(f.db, log, Config{}, WithClock(f.clock.Now), WithLockout(guard), WithOutbox(outbox), WithAudit(trail.Log))

		alice := f.user(t, "alice", func(u *store.User) {
			u.AreaCode, u.Phone, u.Email = sp("0086"), sp("13800005678"), sp("alice@example.com")
		})
		bob := f.user(t, "bob")
		admin := f.user(t, "root", func(u *store.User) { u.Role = "owner" })
		as := func(u *store.User, roles ...authn.Role) context.Context {
			return authn.WithClientIP(authn.WithPrincipal(context.Background(),
				&authn.Principal{Kind: authn.KindUserToken, UserID: u.ID, DomainID: f.dom.ID, Roles: roles}), "198.51.100.7")
		}
		aliceCtx, bobCtx, adminCtx := as(alice), as(bob), as(admin, authn.RoleOwner)
		var secrets []string
		// want checks all but the source, which is checked where it matters.
		want := func(t *testing.T, ev store.AuditEvent, typ audit.Type, actor, actorType, target string, outcome audit.Outcome, detail string) {
			t.Helper()
			audittest.Check(t, ev, audittest.Want{Type: typ, Domain: f.dom.ID, Actor: actor, ActorType: actorType,
				Target: target, Source: ev.SourceIP, Outcome: outcome, Detail: audittest.ParseDetail(t, detail)})
		}

		// Created, then replaced while unbound.
		c, err := f.svc.Create(aliceCtx, f.dom.ID, alice.ID, "alice-phone")
		wantReason(t, err, "")
		secrets = append(secrets, c.Device.Secret, c.URI)
		ev := trail.One(t)
		want(t, ev, audit.MFADeviceCreated, alice.ID, audit.ActorUser, alice.ID, audit.Success,
			`{"replaced":"false","serial_number":"`+c.Device.SerialNumber+`"}`)
		if ev.SourceIP != "198.51.100.7" {
			t.Errorf("source %q", ev.SourceIP)
		}
		c, err = f.svc.Create(aliceCtx, f.dom.ID, alice.ID, "alice-phone")
		wantReason(t, err, "")
		secrets = append(secrets, c.Device.Secret, c.URI)
		want(t, trail.One(t), audit.MFADeviceCreated, alice.ID, audit.ActorUser, alice.ID, audit.Success,
			`{"replaced":"true","serial_number":"`+c.Device.SerialNumber+`"}`)

		// A failed bind is not recorded; a bind is, without its codes.
		_, err = f.svc.Create(bobCtx, f.dom.ID, bob.ID, "alice-phone") // name taken
		wantReason(t, err, fault.Conflict)
		wantReason(t, f.svc.Bind(aliceCtx, f.dom.ID, alice.ID, c.Device.SerialNumber, "000000", "000000"), fault.TOTPInvalid)
		trail.None(t, "refused create and bind")
		c1, c2 := f.code(t, c.Device.Secret, 0), f.code(t, c.Device.Secret, 1)
		secrets = append(secrets, c1, c2)
		wantReason(t, f.svc.Bind(aliceCtx, f.dom.ID, alice.ID, c.Device.SerialNumber, c1, c2), "")
		want(t, trail.One(t), audit.MFADeviceBound, alice.ID, audit.ActorUser, alice.ID, audit.Success,
			`{"serial_number":"`+c.Device.SerialNumber+`"}`)
		f.clock.Advance(3 * Period * time.Second)

		// Unbind by the user: a wrong code is the lockout's
		// verification_failed (totp); the right one unbinds.
		wrong := f.code(t, c.Device.Secret, 5)
		wantReason(t, f.svc.Unbind(aliceCtx, f.dom.ID, alice.ID, c.Device.SerialNumber, wrong, true), fault.TOTPInvalid)
		want(t, trail.One(t), audit.VerificationFailed, alice.ID, audit.ActorUser, alice.ID, audit.Failure,
			`{"credential":"totp","remaining_attempts":"4"}`)
		good := f.code(t, c.Device.Secret, 0)
		secrets = append(secrets, good)
		wantReason(t, f.svc.Unbind(aliceCtx, f.dom.ID, alice.ID, c.Device.SerialNumber, good, true), "")
		want(t, trail.One(t), audit.MFADeviceUnbound, alice.ID, audit.ActorUser, alice.ID, audit.Success,
			`{"by_admin":"false","serial_number":"`+c.Device.SerialNumber+`"}`)

		// The MFA reset: an administrator unbinds bob's device. Refused
		// while login protection depends on it (nothing recorded).
		bc := f.bound(t, bob, "bob-phone")
		secrets = append(secrets, bc.Device.Secret)
		trail.Next(t) // bob's own create and bind (checked above for alice)
		f.protect(t, bob.ID, MethodVMFA, true)
		wantReason(t, f.svc.Unbind(adminCtx, f.dom.ID, bob.ID, bc.Device.SerialNumber, "000000", false), fault.MFABound)
		trail.None(t, "refused unbind")
		f.protect(t, bob.ID, MethodVMFA, false)
		wantReason(t, f.svc.Unbind(adminCtx, f.dom.ID, bob.ID, bc.Device.SerialNumber, "000000", false), "")
		want(t, trail.One(t), audit.MFADeviceUnbound, admin.ID, audit.ActorUser, bob.ID, audit.Success,
			`{"by_admin":"true","serial_number":"`+bc.Device.SerialNumber+`"}`)

		// Delete (an administrator's own device, bound).
		ac := f.bound(t, admin, "root-phone")
		secrets = append(secrets, ac.Device.Secret)
		trail.Next(t)
		wantReason(t, f.svc.Delete(adminCtx, f.dom.ID, admin.ID, ac.Device.SerialNumber+"x"), fault.NotFound)
		trail.None(t, "refused delete")
		wantReason(t, f.svc.Delete(adminCtx, f.dom.ID, admin.ID, ac.Device.SerialNumber), "")
		want(t, trail.One(t), audit.MFADeviceDeleted, admin.ID, audit.ActorUser, admin.ID, audit.Success,
			`{"serial_number":"`+ac.Device.SerialNumber+`","was_bound":"true"}`)

		// Login codes at token issuance (nobody authenticated yet): the
		// channel only; a wrong code is the lockout's verification_failed.
		anon := authn.WithClientIP(context.Background(), "203.0.113.9")
		for _, m := range []string{MethodSMS, MethodEmail} {
			ch, err := f.svc.Challenge(anon, alice, m)
			wantReason(t, err, "")
			code := f.sentCode(t, outbox, alice).Code
			secrets = append(secrets, ch.Receipt, receiptID(ch.Receipt), code)
			channel := map[string]string{MethodSMS: notify.ChannelSMS, MethodEmail: notify.ChannelEmail}[m]
			ev := trail.One(t)
			want(t, ev, audit.LoginCodeSent, "", audit.ActorAnonymous, alice.ID, audit.Success, `{"channel":"`+channel+`"}`)
			if ev.SourceIP != "203.0.113.9" {
				t.Errorf("source %q", ev.SourceIP)
			}
			bad := "000000"
			if code == bad {
				bad = "111111"
			}
			wantReason(t, f.svc.Redeem(anon, alice, ch.Receipt, bad), fault.TOTPInvalid)
			ev = trail.One(t)
			if ev.Type != string(audit.VerificationFailed) || ev.TargetID != alice.ID || ev.Outcome != string(audit.Failure) {
				t.Errorf("wrong code: %+v", ev)
			}
			wantReason(t, f.svc.Redeem(anon, alice, ch.Receipt, code), "")
			trail.None(t, "redeemed code")
			f.clock.Advance(time.Second)
		}
		secrets = append(secrets, "13800005678", "alice@example.com")

		// No secret in any record or log line.
		trail.NoSecrets(t, secrets, containsSecret)
	})
}

// Without WithAudit nothing is recorded and nothing fails.
func TestNoAuditor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.user(t, "nora")
		c := f.bound(t, u, "nora-phone")
		wantReason(t, f.svc.Unbind(f.ctx, f.dom.ID, u.ID, c.Device.SerialNumber, "000000", false), "")
		if n := len(audittest.Events(t, f.db)); n != 0 {
			t.Fatalf("%d events without an auditor", n)
		}
	})
}
