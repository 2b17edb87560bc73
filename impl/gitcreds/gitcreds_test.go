package gitcreds

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

const (
	acctPw    = "Wq8-Lmzt.r1"    // account password, 4 character types
	acctPw2   = "Hv3_Npks.e7"    // another account password
	twoTypes  = "quietharbor731" // a valid account password, but only 2 types
	httpsPw   = "Gr8-Clone-Key!" // a valid HTTPS password
	httpsPw2  = "Tc9=Gfwx.o6-Git"
	devName   = "Dev_User1" // a user name that is itself a well-formed HTTPS password
	devNameRv = "1resU_veD"
)

func TestHttpsSetting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, "alice", acctPw)

		got, err := f.svc.Setting(f.ctx, u.ID)
		if err != nil || !got {
			t.Fatalf("default setting = %v, %v; want true", got, err)
		}
		if f.row(t, u.ID) != nil {
			t.Fatal("reading the setting created a row")
		}

		for _, want := range []bool{false, false, true, false} {
			wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, want), "")
			got, err := f.svc.Setting(f.ctx, u.ID)
			if err != nil || got != want {
				t.Fatalf("setting = %v, %v; want %v", got, err, want)
			}
		}
		// The column default (true) must not win over an explicit false on insert.
		v := f.mkUser(t, "victor", acctPw)
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, v.ID, false), "")
		if r := f.row(t, v.ID); r == nil || r.UseAccountPassword {
			t.Fatalf("first SetSetting(false) stored %+v", r)
		}

		// Switching the mode keeps a stored HTTPS password, and setting the
		// password keeps the mode.
		wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, u.ID, acctPw, httpsPw), "")
		if got, _ := f.svc.Setting(f.ctx, u.ID); got {
			t.Fatal("SetPassword switched the mode")
		}
		hash := f.row(t, u.ID).PasswordHash
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, true), "")
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, false), "")
		if f.row(t, u.ID).PasswordHash != hash {
			t.Fatal("SetSetting changed the HTTPS password")
		}
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, httpsPw), "")

		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, accounts.NewID(), false), fault.UserNotFound)
		other, err := f.accts.Bootstrap(f.ctx, "other", "owner", ownerPassword)
		if err != nil {
			t.Fatal(err)
		}
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, other.Admin.ID, false), fault.UserNotFound)
	})
}

func TestHttpsSetSettingConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, "alice", acctPw)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, i%2 == 0)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			wantReason(t, err, "")
		}
		var n int64
		if err := f.db.Model(&store.HTTPSCredential{}).Where("user_id = ?", u.ID).Count(&n).Error; err != nil || n != 1 {
			t.Fatalf("rows = %d, %v; want 1", n, err)
		}
	})
}

func TestHttpsSetPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, devName, acctPw)

		cases := []struct {
			name, account, pw string
			want              fault.Reason
			rule              passwords.Rule
		}{
			{"wrong account password", acctPw2, httpsPw, fault.WrongPassword, ""},
			{"wrong account password beats a bad format", acctPw2, "short", fault.WrongPassword, ""},
			{"empty account password", "", httpsPw, fault.WrongPassword, ""},
			{"7 characters", acctPw, "Ab1-xyz", fault.PasswordPolicy, passwords.RuleLength},
			{"33 characters", acctPw, "Ab1-" + strings.Repeat("x", 29), fault.PasswordPolicy, passwords.RuleLength},
			{"2 types", acctPw, twoTypes, fault.PasswordPolicy, passwords.RuleCharCombination},
			{"control character", acctPw, "Ab1-xyz\tqq", fault.PasswordPolicy, passwords.RuleCharCombination},
			{"user name", acctPw, devName, fault.PasswordPolicy, passwords.RuleUsername},
			{"user name, other case", acctPw, strings.ToUpper(devName[:1]) + strings.ToLower(devName[1:]), fault.PasswordPolicy, passwords.RuleUsername},
			{"user name reversed", acctPw, devNameRv, fault.PasswordPolicy, passwords.RuleUsernameReversed},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := f.svc.SetPassword(f.ctx, f.dom.ID, u.ID, c.account, c.pw)
				wantReason(t, err, c.want)
				if c.rule != "" {
					if e := fault.As(err); e.Rule != string(c.rule) || !strings.HasPrefix(e.Message, "Incorrect password format.") {
						t.Fatalf("rule %q message %q; want rule %q", e.Rule, e.Message, c.rule)
					}
				}
				if strings.Contains(fault.As(err).Message, c.pw) {
					t.Fatal("the message echoes the password")
				}
			})
		}
		if f.row(t, u.ID) != nil {
			t.Fatal("a refused SetPassword stored a row")
		}

		// 8 and 32 characters are the bounds; the account password itself is allowed.
		for _, pw := range []string{"Ab1-wxyz", "Ab1-" + strings.Repeat("x", 28), acctPw, httpsPw} {
			wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, u.ID, acctPw, pw), "")
		}
		r := f.row(t, u.ID)
		if !strings.HasPrefix(r.PasswordHash, "$argon2id$v=19$") || strings.Contains(r.PasswordHash, httpsPw) {
			t.Fatalf("stored hash %q is not an argon2id PHC string", r.PasswordHash)
		}
		if !r.UseAccountPassword {
			t.Fatal("SetPassword changed the mode")
		}

		// Replacing: only the newest HTTPS password works.
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, false), "")
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, httpsPw), "")
		wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, u.ID, acctPw, httpsPw2), "")
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, httpsPw), fault.WrongPassword)
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, httpsPw2), "")

		// Users of other domains, and unknown users, are not found.
		other, err := f.accts.Bootstrap(f.ctx, "other", "owner", ownerPassword)
		if err != nil {
			t.Fatal(err)
		}
		wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, other.Admin.ID, ownerPassword, httpsPw), fault.UserNotFound)
		wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, accounts.NewID(), acctPw, httpsPw), fault.UserNotFound)
	})
}

func TestHttpsValidate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		acct := f.mkUser(t, devName, acctPw)      // mode true
		weak := f.mkUser(t, "wendy", twoTypes)    // mode true, account password of 2 types
		sep := f.mkUser(t, "sepp", acctPw)        // mode false with an HTTPS password
		none := f.mkUser(t, "nina", acctPw)       // mode false without one
		named := f.mkUser(t, "Dev_Ops_1", acctPw) // mode false, name shaped like a password
		wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, sep.ID, acctPw, httpsPw), "")
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, sep.ID, false), "")
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, none.ID, false), "")
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, named.ID, false), "")
		other, err := f.accts.Bootstrap(f.ctx, "other", "owner", ownerPassword)
		if err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			name   string
			domain string
			user   string
			pwd    string
			want   fault.Reason
		}{
			{"account mode, right", f.dom.ID, acct.ID, acctPw, ""},
			{"account mode, wrong", f.dom.ID, acct.ID, acctPw2, fault.WrongPassword},
			{"account mode, 7 characters", f.dom.ID, acct.ID, "Ab1-xyz", fault.PasswordPolicy},
			{"account mode, 33 characters", f.dom.ID, acct.ID, "Ab1-" + strings.Repeat("x", 29), fault.PasswordPolicy},
			{"account mode, empty", f.dom.ID, acct.ID, "", fault.PasswordPolicy},
			{"account mode checks only length: user name is just wrong", f.dom.ID, acct.ID, devName, fault.WrongPassword},
			{"account mode, 2-type account password", f.dom.ID, weak.ID, twoTypes, ""},
			{"account mode, 8 multibyte characters", f.dom.ID, acct.ID, "ÄÖÜäöüßé", fault.WrongPassword},
			{"https mode, right", f.dom.ID, sep.ID, httpsPw, ""},
			{"https mode, account password", f.dom.ID, sep.ID, acctPw, fault.WrongPassword},
			{"https mode, 2 types", f.dom.ID, sep.ID, twoTypes, fault.PasswordPolicy},
			{"https mode, 7 characters", f.dom.ID, sep.ID, "Ab1-xyz", fault.PasswordPolicy},
			{"https mode, none set", f.dom.ID, none.ID, httpsPw, fault.WrongPassword},
			{"https mode, none set, bad format", f.dom.ID, none.ID, "short", fault.PasswordPolicy},
			{"https mode, user name", f.dom.ID, named.ID, "Dev_Ops_1", fault.PasswordPolicy},
			{"https mode, user name reversed", f.dom.ID, named.ID, "1_spO_veD", fault.PasswordPolicy},
			{"unknown user", f.dom.ID, accounts.NewID(), acctPw, fault.UserNotFound},
			{"user of another domain", f.dom.ID, other.Admin.ID, ownerPassword, fault.UserNotFound},
			{"the other domain's own view", other.Domain.ID, other.Admin.ID, ownerPassword, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := f.svc.Validate(f.ctx, c.domain, c.user, c.pwd)
				wantReason(t, err, c.want)
				if e := fault.As(err); e != nil {
					want := map[fault.Reason]string{fault.PasswordPolicy: MsgBadFormat, fault.UserNotFound: MsgNoSuchUser, fault.WrongPassword: MsgWrongPassword}[e.Reason]
					if e.Message != want {
						t.Fatalf("message %q, want %q", e.Message, want)
					}
				}
			})
		}
	})
}

func TestHttpsValidateAccountStates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		pol := passwords.DefaultPolicy()
		pol.ValidityPeriod = 30 * 24 * time.Hour
		f := newFixture(t, env, accounts.WithPolicySource(func(context.Context, string) (passwords.Policy, error) { return pol, nil }))

		// pwd_status true: the account password does not work for HTTPS Git.
		name, pw, yes := "mona", acctPw, true
		must, err := f.accts.CreateUser(f.ctx, f.dom.ID, accounts.UserInput{Name: &name, Password: &pw, PwdStatus: &yes})
		if err != nil {
			t.Fatal(err)
		}
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, must.ID, acctPw), fault.WrongPassword)
		wantReason(t, f.accts.ChangePassword(f.ctx, must.ID, acctPw, acctPw2), "")
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, must.ID, acctPw2), "")

		// Disabled: neither mode passes.
		off := f.mkUser(t, "otto", acctPw)
		wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, off.ID, acctPw, httpsPw), "")
		no := false
		if _, err := f.accts.UpdateUser(f.ctx, f.dom.ID, off.ID, accounts.UserInput{Enabled: &no}); err != nil {
			t.Fatal(err)
		}
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, off.ID, acctPw), fault.WrongPassword)
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, off.ID, false), "")
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, off.ID, httpsPw), fault.WrongPassword)

		// Expired: account mode fails once the password expires; the user's
		// own HTTPS password is independent of the account password's age.
		exp := f.mkUser(t, "eric", acctPw)
		both := f.mkUser(t, "bert", acctPw)
		wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, both.ID, acctPw, httpsPw), "")
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, both.ID, false), "")
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, exp.ID, acctPw), "")
		f.clock.Advance(31 * 24 * time.Hour)
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, exp.ID, acctPw), fault.WrongPassword)
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, both.ID, httpsPw), "")
	})
}

func TestHttpsAdminReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		// withHTTPS creates a user in mode false with an HTTPS password.
		withHTTPS := func(t *testing.T, name string) *store.User {
			t.Helper()
			u := f.mkUser(t, name, acctPw)
			wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, u.ID, acctPw, httpsPw), "")
			wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, false), "")
			wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, httpsPw), "")
			return u
		}
		cleared := func(t *testing.T, u *store.User) {
			t.Helper()
			r := f.row(t, u.ID)
			if r == nil || r.PasswordHash != "" {
				t.Fatalf("HTTPS password not cleared: %+v", r)
			}
			if r.UseAccountPassword {
				t.Fatal("the reset changed the mode")
			}
			wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, httpsPw), fault.WrongPassword)
		}

		t.Run("reset with must-change", func(t *testing.T) {
			u := withHTTPS(t, "rita")
			wantReason(t, f.accts.ResetPassword(f.ctx, f.dom.ID, u.ID, acctPw2, true), "")
			cleared(t, u)
			// Account mode: the admin's password does not work until the user changes it.
			wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, true), "")
			wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, acctPw2), fault.WrongPassword)
			wantReason(t, f.accts.ChangePassword(f.ctx, u.ID, acctPw2, "Jz5+Rbdy.u4"), "")
			wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, "Jz5+Rbdy.u4"), "")
		})
		t.Run("reset without must-change", func(t *testing.T) {
			u := withHTTPS(t, "rolf")
			wantReason(t, f.accts.ResetPassword(f.ctx, f.dom.ID, u.ID, acctPw2, false), "")
			cleared(t, u)
			wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, true), "")
			wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, acctPw2), "")
		})
		t.Run("user update with a password", func(t *testing.T) {
			u := withHTTPS(t, "ursula")
			pw := acctPw2
			if _, err := f.accts.UpdateUser(f.ctx, f.dom.ID, u.ID, accounts.UserInput{Password: &pw}); err != nil {
				t.Fatal(err)
			}
			cleared(t, u)
			// A new HTTPS password works again (re-authenticating with the new account password).
			wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, u.ID, acctPw2, httpsPw2), "")
			wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, httpsPw2), "")
		})
		t.Run("user update without a password keeps it", func(t *testing.T) {
			u := withHTTPS(t, "uwe")
			d := "new description"
			if _, err := f.accts.UpdateUser(f.ctx, f.dom.ID, u.ID, accounts.UserInput{Description: &d}); err != nil {
				t.Fatal(err)
			}
			wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, httpsPw), "")
		})
		t.Run("own change keeps it", func(t *testing.T) {
			u := withHTTPS(t, "chris")
			wantReason(t, f.accts.ChangePassword(f.ctx, u.ID, acctPw, acctPw2), "")
			wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, httpsPw), "")
		})
		t.Run("reset of a user without a credential row", func(t *testing.T) {
			u := f.mkUser(t, "nobody", acctPw)
			wantReason(t, f.accts.ResetPassword(f.ctx, f.dom.ID, u.ID, acctPw2, false), "")
			if f.row(t, u.ID) != nil {
				t.Fatal("the reset created a credential row")
			}
		})
	})
}

func TestHttpsRehash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, "alice", acctPw)
		wantReason(t, f.svc.SetPassword(f.ctx, f.dom.ID, u.ID, acctPw, httpsPw), "")
		wantReason(t, f.svc.SetSetting(f.ctx, f.dom.ID, u.ID, false), "")
		old := f.row(t, u.ID).PasswordHash

		stronger := fastParams
		stronger.Memory = 128
		h2 := passwords.NewHasher(stronger, 2, 0)
		svc2 := New(f.db, accounts.New(f.db, h2, nil, quietLog()), h2, quietLog())
		wantReason(t, svc2.Validate(f.ctx, f.dom.ID, u.ID, "Wrong-Pass-1"), fault.WrongPassword)
		if f.row(t, u.ID).PasswordHash != old {
			t.Fatal("a wrong password caused a rehash")
		}
		wantReason(t, svc2.Validate(f.ctx, f.dom.ID, u.ID, httpsPw), "")
		now := f.row(t, u.ID).PasswordHash
		if now == old || !strings.Contains(now, "m=128,") {
			t.Fatalf("hash not upgraded: %s", now)
		}
		wantReason(t, f.svc.Validate(f.ctx, f.dom.ID, u.ID, httpsPw), "")
	})
}
