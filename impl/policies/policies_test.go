package policies

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/audit"
	"github.com/latchkey/latchkey/impl/audit/audittest"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

func ip(v int) *int       { return &v }
func bp(v bool) *bool     { return &v }
func sp(v string) *string { return &v }

func wantInvalid(t *testing.T, err error, key, value string) {
	t.Helper()
	e := fault.As(err)
	if e == nil || e.Reason != fault.PropertyInvalid {
		t.Fatalf("error = %v, want %s", err, fault.PropertyInvalid)
	}
	if !strings.Contains(e.Message, "'"+key+"'") || !strings.Contains(e.Message, "'"+value+"'") {
		t.Fatalf("message %q does not name key %q and value %q", e.Message, key, value)
	}
}

func TestPasswordPolicyDefaultsAndPartialUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		ctx := context.Background()
		rec := &audittest.Recorder{}
		s := New(env.Open(t), quietLog(), WithAudit(rec))
		dom, other := randHex(16), randHex(16)

		got, err := s.Password(ctx, dom)
		if err != nil {
			t.Fatal(err)
		}
		if got != passwords.DefaultPolicy() {
			t.Fatalf("new domain policy = %+v, want defaults", got)
		}

		got, err = s.UpdatePassword(ctx, dom, PasswordChange{MinimumPasswordLength: ip(12), WeakPasswordCheck: bp(false)})
		if err != nil {
			t.Fatal(err)
		}
		want := passwords.DefaultPolicy()
		want.MinLength, want.CheckWeak = 12, false
		if got != want {
			t.Fatalf("after update = %+v, want %+v", got, want)
		}
		// A second partial update keeps the first one's fields.
		got, err = s.UpdatePassword(ctx, dom, PasswordChange{PasswordCharCombination: ip(3), PersonalInfoCheck: bp(false),
			MinimumPasswordAge: ip(60), PasswordValidityPeriod: ip(90), NumberOfRecentPasswordsDisallowed: ip(5),
			MaximumConsecutiveIdenticalChars: ip(3), PasswordNotUsernameOrInvert: bp(false)})
		if err != nil {
			t.Fatal(err)
		}
		want = passwords.Policy{MinLength: 12, MaxLength: 32, CharCombination: 3, RecentDisallowed: 5,
			MaxConsecutiveIdentical: 3, MinAge: time.Hour, ValidityPeriod: 90 * 24 * time.Hour}
		if got != want {
			t.Fatalf("after second update = %+v, want %+v", got, want)
		}
		if read, _ := s.Password(ctx, dom); read != want {
			t.Fatalf("read back = %+v, want %+v", read, want)
		}
		if read, _ := s.Password(ctx, other); read != passwords.DefaultPolicy() {
			t.Fatalf("other domain changed: %+v", read)
		}

		// An update that changes nothing records nothing.
		if _, err := s.UpdatePassword(ctx, dom, PasswordChange{MinimumPasswordLength: ip(12)}); err != nil {
			t.Fatal(err)
		}
		evs := rec.Events()
		if len(evs) != 2 {
			t.Fatalf("audit events = %d, want 2: %+v", len(evs), evs)
		}
		if evs[0].Type != audit.PasswordPolicyChanged || evs[0].DomainID != dom ||
			evs[0].Detail["minimum_password_length"] != "8 -> 12" || evs[0].Detail["weak_password_check"] != "true -> false" ||
			len(evs[0].Detail) != 2 {
			t.Fatalf("first event = %+v", evs[0])
		}
	})
}

func TestPasswordPolicyRanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		ctx := context.Background()
		s := New(env.Open(t), quietLog())
		dom := randHex(16)
		cases := []struct {
			key    string
			lo, hi int
			set    func(*PasswordChange, *int)
		}{
			{"minimum_password_length", 8, 32, func(c *PasswordChange, v *int) { c.MinimumPasswordLength = v }},
			{"password_char_combination", 2, 4, func(c *PasswordChange, v *int) { c.PasswordCharCombination = v }},
			{"number_of_recent_passwords_disallowed", 0, 24, func(c *PasswordChange, v *int) { c.NumberOfRecentPasswordsDisallowed = v }},
			{"maximum_consecutive_identical_chars", 0, 32, func(c *PasswordChange, v *int) { c.MaximumConsecutiveIdenticalChars = v }},
			{"minimum_password_age", 0, 1440, func(c *PasswordChange, v *int) { c.MinimumPasswordAge = v }},
			{"password_validity_period", 0, 180, func(c *PasswordChange, v *int) { c.PasswordValidityPeriod = v }},
		}
		for _, tc := range cases {
			t.Run(tc.key, func(t *testing.T) {
				for _, v := range []int{tc.lo - 1, tc.hi + 1} {
					var c PasswordChange
					tc.set(&c, ip(v))
					_, err := s.UpdatePassword(ctx, dom, c)
					wantInvalid(t, err, "password_policy."+tc.key, fmt.Sprint(v))
				}
				for _, v := range []int{tc.lo, tc.hi} {
					var c PasswordChange
					tc.set(&c, ip(v))
					if _, err := s.UpdatePassword(ctx, dom, c); err != nil {
						t.Fatalf("%s=%d: %v", tc.key, v, err)
					}
				}
			})
		}
		// A rejected update changes nothing.
		before, _ := s.Password(ctx, dom)
		if _, err := s.UpdatePassword(ctx, dom, PasswordChange{MinimumPasswordLength: ip(20), PasswordCharCombination: ip(5)}); err == nil {
			t.Fatal("out-of-range update accepted")
		}
		if after, _ := s.Password(ctx, dom); after != before {
			t.Fatalf("rejected update changed the policy: %+v -> %+v", before, after)
		}
	})
}

func TestPasswordValidityMovesExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		ctx := context.Background()
		db := env.Open(t)
		s := New(db, quietLog())
		dom, other := randHex(16), randHex(16)
		changed := time.Date(2026, 1, 10, 8, 30, 15, 123456000, time.UTC)
		mk := func(domain, name string, hash string, at *time.Time) string {
			u := store.User{ID: randHex(16), DomainID: domain, Name: name, Enabled: true, Role: "user",
				AccessMode: "default", PasswordHash: hash, PasswordChangedAt: at}
			if err := db.Create(&u).Error; err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		withPwd := mk(dom, "a", "$argon2id$x", &changed)
		noPwd := mk(dom, "b", "", nil)
		foreign := mk(other, "c", "$argon2id$x", &changed)
		expiry := func(id string) *time.Time {
			var u store.User
			if err := db.Where("id = ?", id).Take(&u).Error; err != nil {
				t.Fatal(err)
			}
			return u.PasswordExpiresAt
		}

		if _, err := s.UpdatePassword(ctx, dom, PasswordChange{PasswordValidityPeriod: ip(90)}); err != nil {
			t.Fatal(err)
		}
		want := changed.Add(90 * 24 * time.Hour)
		if got := expiry(withPwd); got == nil || !got.Equal(want) {
			t.Fatalf("expires_at = %v, want %v", got, want)
		}
		if got := expiry(noPwd); got != nil {
			t.Fatalf("user without password got expiry %v", got)
		}
		if got := expiry(foreign); got != nil {
			t.Fatalf("user of another domain got expiry %v", got)
		}
		if _, err := s.UpdatePassword(ctx, dom, PasswordChange{PasswordValidityPeriod: ip(0)}); err != nil {
			t.Fatal(err)
		}
		if got := expiry(withPwd); got != nil {
			t.Fatalf("validity 0 left expiry %v", got)
		}
	})
}

// Two instances update different fields of one policy at once: neither
// update is lost.
func TestConcurrentPartialUpdates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		ctx := context.Background()
		a, b := New(env.Open(t), quietLog()), New(env.Open(t), quietLog())
		dom := randHex(16)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := a.UpdateLogin(ctx, dom, LoginChange{LoginFailedTimes: ip(3)})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := b.UpdateLogin(ctx, dom, LoginChange{LockoutDuration: ip(30)})
			errs <- err
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := a.Login(ctx, dom)
		if err != nil {
			t.Fatal(err)
		}
		if got.FailedTimes != 3 || got.LockoutDuration != 30*time.Minute {
			t.Fatalf("lost an update: %+v", got)
		}
	})
}

func TestLoginPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		ctx := context.Background()
		rec := &audittest.Recorder{}
		s := New(env.Open(t), quietLog(), WithAudit(rec))
		dom := randHex(16)
		got, err := s.Login(ctx, dom)
		if err != nil {
			t.Fatal(err)
		}
		def := LoginPolicy{FailedTimes: 5, Period: 15 * time.Minute, LockoutDuration: 15 * time.Minute, SessionTimeout: time.Hour}
		if got != def || DefaultLoginPolicy() != def {
			t.Fatalf("defaults = %+v", got)
		}
		got, err = s.UpdateLogin(ctx, dom, LoginChange{LoginFailedTimes: ip(3), AccountValidityPeriod: ip(99),
			ShowRecentLoginInfo: bp(true), CustomInfoForLogin: sp("Authorized use only.")})
		if err != nil {
			t.Fatal(err)
		}
		want := def
		want.FailedTimes, want.AccountValidity, want.ShowRecentLoginInfo, want.CustomInfoForLogin = 3, 99*24*time.Hour, true, "Authorized use only."
		if got != want {
			t.Fatalf("after update = %+v, want %+v", got, want)
		}
		got, err = s.UpdateLogin(ctx, dom, LoginChange{PeriodWithLoginFailures: ip(60), SessionTimeout: ip(1440)})
		if err != nil {
			t.Fatal(err)
		}
		want.Period, want.SessionTimeout = time.Hour, 24*time.Hour
		if got != want {
			t.Fatalf("after second update = %+v, want %+v", got, want)
		}
		if read, _ := s.Login(ctx, dom); read != want {
			t.Fatalf("read back = %+v", read)
		}
		evs := rec.Events()
		if len(evs) != 2 || evs[0].Type != audit.LoginPolicyChanged || evs[0].Detail["custom_info_for_login"] != `"" -> "Authorized use only."` {
			t.Fatalf("events = %+v", evs)
		}

		ranges := []struct {
			key    string
			lo, hi int
			set    func(*LoginChange, *int)
		}{
			{"login_failed_times", 3, 10, func(c *LoginChange, v *int) { c.LoginFailedTimes = v }},
			{"period_with_login_failures", 15, 60, func(c *LoginChange, v *int) { c.PeriodWithLoginFailures = v }},
			{"lockout_duration", 15, 30, func(c *LoginChange, v *int) { c.LockoutDuration = v }},
			{"account_validity_period", 0, 240, func(c *LoginChange, v *int) { c.AccountValidityPeriod = v }},
			{"session_timeout", 15, 1440, func(c *LoginChange, v *int) { c.SessionTimeout = v }},
		}
		for _, tc := range ranges {
			for _, v := range []int{tc.lo - 1, tc.hi + 1} {
				var c LoginChange
				tc.set(&c, ip(v))
				_, err := s.UpdateLogin(ctx, dom, c)
				wantInvalid(t, err, "login_policy."+tc.key, fmt.Sprint(v))
			}
			for _, v := range []int{tc.lo, tc.hi} {
				var c LoginChange
				tc.set(&c, ip(v))
				if _, err := s.UpdateLogin(ctx, dom, c); err != nil {
					t.Fatalf("%s=%d: %v", tc.key, v, err)
				}
			}
		}

		for _, ok := range []string{"", strings.Repeat("a", 64), strings.Repeat("é", 64), "Welcome! (internal use) 100% - no", "Hi, team: a/b+c=d"} {
			if strings.ContainsAny(ok, customInfoForbidden) {
				continue
			}
			if _, err := s.UpdateLogin(ctx, dom, LoginChange{CustomInfoForLogin: sp(ok)}); err != nil {
				t.Fatalf("custom info %q: %v", ok, err)
			}
		}
		if _, err := s.UpdateLogin(ctx, dom, LoginChange{CustomInfoForLogin: sp(strings.Repeat("a", 65))}); !fault.Is(err, fault.PropertyInvalid) {
			t.Fatalf("65 characters: %v", err)
		}
		for _, r := range customInfoForbidden + "\n" {
			v := "x" + string(r) + "y"
			_, err := s.UpdateLogin(ctx, dom, LoginChange{CustomInfoForLogin: sp(v)})
			if !fault.Is(err, fault.PropertyInvalid) || !strings.Contains(fault.As(err).Message, "'login_policy.custom_info_for_login'") {
				t.Fatalf("custom info %q: %v", v, err)
			}
		}
	})
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultLoginPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultLoginPolicy()
	bad.LockoutDuration = 31 * time.Minute
	if err := bad.Validate(); !fault.Is(err, fault.PropertyInvalid) {
		t.Fatalf("31 minute lockout: %v", err)
	}
}
