package accounts

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

func TestEvaluatePassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		pol := passwords.DefaultPolicy()
		pol.MinLength, pol.CharCombination, pol.MaxConsecutiveIdentical, pol.RecentDisallowed = 12, 3, 3, 5
		pol.MinAge = time.Hour
		f := newFixture(t, env, WithPolicySource(func(context.Context, string) (passwords.Policy, error) { return pol, nil }))
		u := f.mkUser(t, UserInput{Name: sp("oscar"), Password: sp("Garden-Gnome-7391"), Email: sp("oscar.wilde@example.com")})
		rules := func(ev Evaluation) []passwords.Rule {
			var out []passwords.Rule
			for _, v := range ev.Violations {
				out = append(out, v.Rule)
			}
			return out
		}
		ev, err := f.svc.EvaluatePassword(f.ctx, f.dom.ID, u.ID, "oooooscar1", false)
		if err != nil {
			t.Fatal(err)
		}
		want := []passwords.Rule{passwords.RuleLength, passwords.RuleCharCombination, passwords.RuleContainsUsername,
			passwords.RuleConsecutiveIdentical, passwords.RuleMinimumAge}
		if !slices.Equal(rules(ev), want) || ev.Policy != pol ||
			!slices.Equal(ev.NotEvaluated, []passwords.Rule{passwords.RuleSameAsCurrent, passwords.RuleHistory}) {
			t.Fatalf("evaluation = %+v", ev)
		}
		// The current password itself passes here: same_as_current is not
		// evaluated (no hashing).
		if ev, _ := f.svc.EvaluatePassword(f.ctx, f.dom.ID, u.ID, "Garden-Gnome-7391", true); len(ev.Violations) != 0 {
			t.Fatalf("current password: %+v", ev.Violations)
		}
		if _, err := f.svc.EvaluatePassword(f.ctx, "0123456789abcdef0123456789abcdef", u.ID, "x", false); !fault.Is(err, fault.UserNotFound) {
			t.Fatalf("foreign domain: %v", err)
		}
	})
}

func TestDormantUserDisabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		validity := 30 * 24 * time.Hour
		f := newFixture(t, env, WithAccountValidity(func(context.Context, string) (time.Duration, error) { return validity, nil }))
		u := f.mkUser(t, UserInput{Name: sp("pia"), Password: sp("Garden-Gnome-7391"), PwdStatus: bp(false)})
		f.clock.Advance(29 * 24 * time.Hour)
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, "Garden-Gnome-7391"); err != nil {
			t.Fatalf("active user: %v", err)
		}
		// 30 days after the last login: disabled, tokens revoked.
		f.clock.Advance(30*24*time.Hour + time.Minute)
		_, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, "Garden-Gnome-7391")
		wantReason(t, err, fault.Disabled)
		if got, _ := f.svc.User(f.ctx, f.dom.ID, u.ID); got.Enabled {
			t.Fatal("dormant user still enabled")
		}
		if f.rev.count(u.ID) == 0 {
			t.Fatal("tokens of the dormant user not revoked")
		}
		// A wrong password does not reveal the state.
		_, _, err = f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, "Wrong-Gnome-7391")
		wantReason(t, err, fault.WrongPassword)
		// An administrator re-enables it: the period starts again. (updated_at
		// is stamped by GORM with the wall clock, so the fake clock returns to
		// it.)
		if _, err := f.svc.UpdateUser(f.ctx, f.dom.ID, u.ID, UserInput{Enabled: bp(true)}); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Now().UTC().Add(time.Minute))
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, "Garden-Gnome-7391"); err != nil {
			t.Fatalf("re-enabled user: %v", err)
		}
		// Off: never disabled.
		validity = 0
		f.clock.Advance(400 * 24 * time.Hour)
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, "Garden-Gnome-7391"); err != nil {
			t.Fatalf("validity off: %v", err)
		}
	})
}
