package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

const (
	pw1 = "Wq8-Lmzt.r1"
	pw2 = "Hv3_Npks.e7"
	pw3 = "Jz5+Rbdy.u4"
	pw4 = "Tc9=Gfwx.o6"
)

func TestAuthenticate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, UserInput{Name: sp("gina"), Password: sp(pw1)})
		off := f.mkUser(t, UserInput{Name: sp("hank"), Password: sp(pw2), Enabled: bp(false)})
		nopw := f.mkUser(t, UserInput{Name: sp("ivan")})
		other, err := f.svc.Bootstrap(f.ctx, "other", "gina", pw3)
		if err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			name     string
			ref      UserRef
			password string
			want     fault.Reason
			wantID   string
		}{
			{"by id", UserRef{ID: u.ID}, pw1, "", u.ID},
			{"by name and domain name", UserRef{Name: "gina", DomainName: "acme"}, pw1, "", u.ID},
			{"by name and domain id", UserRef{Name: "gina", DomainID: f.dom.ID}, pw1, "", u.ID},
			{"same name other domain", UserRef{Name: "gina", DomainName: "other"}, pw3, "", other.Admin.ID},
			{"by id with matching domain", UserRef{ID: u.ID, DomainName: "acme"}, pw1, "", u.ID},
			{"by id with other domain", UserRef{ID: u.ID, DomainName: "other"}, pw1, fault.WrongPassword, ""},
			{"name and domain id+name disagree", UserRef{Name: "gina", DomainID: f.dom.ID, DomainName: "other"}, pw1, fault.WrongPassword, ""},
			{"wrong password", UserRef{ID: u.ID}, pw2, fault.WrongPassword, ""},
			{"password of the other gina", UserRef{Name: "gina", DomainName: "acme"}, pw3, fault.WrongPassword, ""},
			{"unknown user id", UserRef{ID: NewID()}, pw1, fault.WrongPassword, ""},
			{"unknown user name", UserRef{Name: "nobody", DomainName: "acme"}, pw1, fault.WrongPassword, ""},
			{"unknown domain", UserRef{Name: "gina", DomainName: "nowhere"}, pw1, fault.WrongPassword, ""},
			{"name without domain", UserRef{Name: "gina"}, pw1, fault.WrongPassword, ""},
			{"empty ref", UserRef{}, pw1, fault.WrongPassword, ""},
			{"no password set", UserRef{ID: nopw.ID}, "", fault.WrongPassword, ""},
			{"disabled, wrong password", UserRef{ID: off.ID}, pw1, fault.WrongPassword, ""},
			{"disabled, right password", UserRef{ID: off.ID}, pw2, fault.Disabled, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, dom, err := f.svc.Authenticate(f.ctx, c.ref, c.password)
				wantReason(t, err, c.want)
				if c.want != "" {
					if got != nil || dom != nil {
						t.Fatalf("failed authentication returned a user")
					}
					return
				}
				if got.ID != c.wantID || dom.ID != got.DomainID || got.LastLoginAt == nil {
					t.Fatalf("got user %s domain %s, want user %s", got.ID, dom.ID, c.wantID)
				}
			})
		}
		if err := fault.As(func() error { _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: off.ID}, pw2); return err }()); err == nil ||
			err.Message != "The user hank is disabled." {
			t.Fatalf("disabled message: %v", err)
		}
		if err := fault.As(func() error { _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, "x"); return err }()); err == nil ||
			err.Message != "The username or password is wrong." {
			t.Fatalf("wrong password message: %v", err)
		}

		// last_login_at is stored, updated_at untouched.
		f.clock.Advance(time.Hour)
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, pw1); err != nil {
			t.Fatal(err)
		}
		stored, _ := f.svc.User(f.ctx, f.dom.ID, u.ID)
		if stored.LastLoginAt == nil || !stored.LastLoginAt.Equal(f.clock.Now()) || !stored.UpdatedAt.Equal(u.UpdatedAt) {
			t.Fatalf("last login %v (want %v), updated %v (was %v)", stored.LastLoginAt, f.clock.Now(), stored.UpdatedAt, u.UpdatedAt)
		}

		// console users authenticate; refusing them is the token layer's job.
		con := f.mkUser(t, UserInput{Name: sp("jill"), Password: sp(pw4), AccessMode: sp(AccessConsole)})
		if got, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: con.ID}, pw4); err != nil || got.AccessMode != AccessConsole {
			t.Fatalf("console user: %v", err)
		}
	})
}

func TestAuthenticateRehash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, UserInput{Name: sp("kim"), Password: sp(pw1)})
		stronger := fastParams
		stronger.Time = 2
		svc2 := New(f.db, passwords.NewHasher(stronger, 2, 0), f.rev, quietLog())
		got, _, err := svc2.Authenticate(f.ctx, UserRef{ID: u.ID}, pw1)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := svc2.User(f.ctx, f.dom.ID, u.ID)
		if stored.PasswordHash == u.PasswordHash || !strings.Contains(stored.PasswordHash, "t=2") || got.PasswordHash != stored.PasswordHash {
			t.Fatalf("not rehashed: %q", stored.PasswordHash)
		}
		if _, _, err := svc2.Authenticate(f.ctx, UserRef{ID: u.ID}, pw1); err != nil {
			t.Fatalf("after rehash: %v", err)
		}
		// A wrong password never rehashes.
		before := stored.PasswordHash
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, pw2); !fault.Is(err, fault.WrongPassword) {
			t.Fatal(err)
		}
		stored, _ = svc2.User(f.ctx, f.dom.ID, u.ID)
		if stored.PasswordHash != before {
			t.Fatalf("wrong password changed the hash")
		}
	})
}

func TestChangePassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		pol := passwords.DefaultPolicy()
		pol.RecentDisallowed = 3
		pol.MinAge = 10 * time.Minute
		pol.ValidityPeriod = 30 * 24 * time.Hour
		f := newFixture(t, env, WithPolicySource(func(context.Context, string) (passwords.Policy, error) { return pol, nil }))
		u := f.mkUser(t, UserInput{Name: sp("lena"), Password: sp(pw1), Email: sp("lena@example.com")})
		if !u.PwdStatus {
			t.Fatalf("new user with password must change it")
		}

		// Wrong original first, whatever the new password: rules are not revealed.
		for _, np := range []string{pw2, "x", pw1} {
			err := f.svc.ChangePassword(f.ctx, u.ID, "wrong", np)
			wantReason(t, err, fault.WrongPassword)
		}
		// Minimum age (the admin-set password counts as changed at creation).
		wantReason(t, f.svc.ChangePassword(f.ctx, u.ID, pw1, pw2), fault.PasswordPolicy)
		f.clock.Advance(11 * time.Minute)

		cases := []struct {
			name, newPW string
			want        fault.Reason
			rule        string
		}{
			{"same as current", pw1, fault.PasswordSame, "same_as_current"},
			{"too short", "Ab1.", fault.PasswordPolicy, "length"},
			{"contains email", "xLena@example.com1", fault.PasswordPolicy, ""},
			{"weak", "Qwerty123", fault.PasswordWeak, "weak"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := f.svc.ChangePassword(f.ctx, u.ID, pw1, c.newPW)
				wantReason(t, err, c.want)
				if c.rule != "" && fault.As(err).Rule != c.rule {
					t.Fatalf("rule %q, want %q", fault.As(err).Rule, c.rule)
				}
			})
		}
		if f.rev.count(u.ID) != 0 {
			t.Fatalf("failed changes revoked tokens")
		}

		// Happy path.
		if err := f.svc.ChangePassword(f.ctx, u.ID, pw1, pw2); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.User(f.ctx, f.dom.ID, u.ID)
		now := f.clock.Now()
		if got.PwdStatus || !got.PasswordChangedAt.Equal(now) || got.PasswordExpiresAt == nil ||
			!got.PasswordExpiresAt.Equal(now.Add(pol.ValidityPeriod)) {
			t.Fatalf("after change: %+v", got)
		}
		if f.rev.count(u.ID) != 1 || !f.rev.calls[len(f.rev.calls)-1].At.Equal(now) {
			t.Fatalf("revocation: %+v", f.rev.calls)
		}
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, pw2); err != nil {
			t.Fatalf("new password: %v", err)
		}
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, pw1); !fault.Is(err, fault.WrongPassword) {
			t.Fatalf("old password still works: %v", err)
		}

		// History: pw1 (previous) is refused; after two more changes it is out of the last 3.
		f.clock.Advance(11 * time.Minute)
		err := f.svc.ChangePassword(f.ctx, u.ID, pw2, pw1)
		wantReason(t, err, fault.PasswordPolicy)
		if fault.As(err).Rule != "history" {
			t.Fatalf("rule %q, want history", fault.As(err).Rule)
		}
		if err := f.svc.ChangePassword(f.ctx, u.ID, pw2, pw3); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(11 * time.Minute)
		if err := f.svc.ChangePassword(f.ctx, u.ID, pw3, pw4); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(11 * time.Minute)
		if err := f.svc.ChangePassword(f.ctx, u.ID, pw4, pw1); err != nil {
			t.Fatalf("pw1 is 4 passwords back, allowed with 3: %v", err)
		}
		if h, _ := f.svc.history(f.ctx, u.ID); len(h) != 4 {
			t.Fatalf("history length %d, want 4", len(h))
		}

		// A user without a password: the original is always wrong.
		nopw := f.mkUser(t, UserInput{Name: sp("mona")})
		wantReason(t, f.svc.ChangePassword(f.ctx, nopw.ID, "", pw1), fault.WrongPassword)
		wantReason(t, f.svc.ChangePassword(f.ctx, NewID(), pw1, pw2), fault.UserNotFound)
	})
}

func TestPasswordHistoryTrim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, UserInput{Name: sp("nina"), Password: sp(pw1)})
		for i := range HistoryKept + 3 {
			if err := f.svc.ResetPassword(f.ctx, f.dom.ID, u.ID, []string{pw2, pw3}[i%2], false); err != nil {
				t.Fatalf("reset %d: %v", i, err)
			}
		}
		var n int64
		f.db.Model(&store.PasswordHistory{}).Where("user_id = ?", u.ID).Count(&n)
		if n != HistoryKept {
			t.Fatalf("history rows %d, want %d", n, HistoryKept)
		}
	})
}

func TestResetPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		pol := passwords.DefaultPolicy()
		pol.RecentDisallowed = 2
		pol.MinAge = time.Hour
		f := newFixture(t, env, WithPolicySource(func(context.Context, string) (passwords.Policy, error) { return pol, nil }))
		u := f.mkUser(t, UserInput{Name: sp("olga"), Password: sp(pw1), PwdStatus: bp(false)})

		// Exempt from minimum age; must-change flag as given; tokens revoked.
		if err := f.svc.ResetPassword(f.ctx, f.dom.ID, u.ID, pw2, true); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.User(f.ctx, f.dom.ID, u.ID)
		if !got.PwdStatus || f.rev.count(u.ID) != 1 {
			t.Fatalf("reset: pwd_status %v, revocations %d", got.PwdStatus, f.rev.count(u.ID))
		}
		if err := f.svc.ResetPassword(f.ctx, f.dom.ID, u.ID, pw3, false); err != nil {
			t.Fatal(err)
		}
		got, _ = f.svc.User(f.ctx, f.dom.ID, u.ID)
		if got.PwdStatus {
			t.Fatalf("mustChange false not applied")
		}

		cases := []struct {
			name, domainID, userID, pw string
			want                       fault.Reason
		}{
			{"same as current", f.dom.ID, u.ID, pw3, fault.PasswordSame},
			{"in history", f.dom.ID, u.ID, pw2, fault.PasswordPolicy},
			{"policy", f.dom.ID, u.ID, "short", fault.PasswordPolicy},
			{"unknown user", f.dom.ID, NewID(), pw4, fault.UserNotFound},
			{"foreign domain", NewID(), u.ID, pw4, fault.UserNotFound},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				wantReason(t, f.svc.ResetPassword(f.ctx, c.domainID, c.userID, c.pw, true), c.want)
			})
		}
		// pw1 is 3 back with RecentDisallowed 2: allowed.
		if err := f.svc.ResetPassword(f.ctx, f.dom.ID, u.ID, pw1, true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, pw1); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRevokeFailureIsReported(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, UserInput{Name: sp("paul"), Password: sp(pw1)})
		f.rev.err = errors.New("revocation store down")
		if err := f.svc.ChangePassword(f.ctx, u.ID, pw1, pw2); err == nil || fault.As(err) != nil {
			t.Fatalf("revocation failure must surface as an internal error, got %v", err)
		}
	})
}
