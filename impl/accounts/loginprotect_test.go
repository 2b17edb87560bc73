package accounts

import (
	"sort"
	"testing"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

func TestLoginProtect(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		full := f.mkUser(t, UserInput{Name: sp("quinn"), Email: sp("quinn@example.com"), AreaCode: sp("0086"), Phone: sp("13800000011")})
		bare := f.mkUser(t, UserInput{Name: sp("rita")})
		other, _ := f.svc.Bootstrap(f.ctx, "other", "admin", ownerPassword)
		// full has a bound virtual MFA device (package mfa's table); bare an
		// unbound one, which does not count.
		for _, d := range []store.MFADevice{
			{UserID: full.ID, DomainID: f.dom.ID, Name: "quinn", SerialNumber: "iam:" + f.dom.ID + ":mfa/quinn", Secret: "X", Bound: true},
			{UserID: bare.ID, DomainID: f.dom.ID, Name: "rita", SerialNumber: "iam:" + f.dom.ID + ":mfa/rita", Secret: "X"},
		} {
			if err := f.db.Create(&d).Error; err != nil {
				t.Fatal(err)
			}
		}

		// Never set: 404; unknown or foreign user: user not found.
		if _, err := f.svc.LoginProtect(f.ctx, f.dom.ID, full.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("never set: %v", err)
		}
		if _, err := f.svc.LoginProtect(f.ctx, other.Domain.ID, full.ID); !fault.Is(err, fault.UserNotFound) {
			t.Fatalf("foreign: %v", err)
		}

		cases := []struct {
			name    string
			userID  string
			enabled bool
			method  string
			want    fault.Reason
			stored  bool // a row exists afterwards with these values
		}{
			{"sms with phone", full.ID, true, MethodSMS, "", true},
			{"switch to email", full.ID, true, MethodEmail, "", true},
			{"vmfa with a bound device", full.ID, true, MethodVMFA, "", true},
			{"vmfa without a bound device", bare.ID, true, MethodVMFA, fault.FactorMissing, false},
			{"disabled vmfa without a device is fine", bare.ID, false, MethodVMFA, "", true},
			{"disable with method", full.ID, false, MethodSMS, "", true},
			{"sms without phone", bare.ID, true, MethodSMS, fault.FactorMissing, false},
			{"email without email", bare.ID, true, MethodEmail, fault.FactorMissing, false},
			{"none enabled", full.ID, true, MethodNone, fault.PropertyInvalid, false},
			{"unknown method", full.ID, true, "totp", fault.PropertyInvalid, false},
			{"empty method", full.ID, false, "", fault.PropertyInvalid, false},
			{"unknown user", NewID(), false, MethodSMS, fault.UserNotFound, false},
			{"disabled sms without phone is fine", bare.ID, false, MethodSMS, "", true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				lp, err := f.svc.SetLoginProtect(f.ctx, f.dom.ID, c.userID, c.enabled, c.method)
				wantReason(t, err, c.want)
				if c.want != "" {
					return
				}
				if lp.UserID != c.userID || lp.Enabled != c.enabled || lp.VerificationMethod != c.method {
					t.Fatalf("returned %+v", lp)
				}
				got, err := f.svc.LoginProtect(f.ctx, f.dom.ID, c.userID)
				if err != nil || got.Enabled != c.enabled || got.VerificationMethod != c.method || got.DomainID != f.dom.ID {
					t.Fatalf("stored %+v %v", got, err)
				}
			})
		}

		// "none" with enabled=false: stored as sent, disabled.
		if _, err := f.svc.SetLoginProtect(f.ctx, f.dom.ID, full.ID, true, MethodEmail); err != nil {
			t.Fatal(err)
		}
		lp, err := f.svc.SetLoginProtect(f.ctx, f.dom.ID, full.ID, false, MethodNone)
		if err != nil || lp.Enabled || lp.VerificationMethod != MethodNone {
			t.Fatalf("none on existing: %+v %v", lp, err)
		}
		// ... and for a user who never set it.
		fresh := f.mkUser(t, UserInput{Name: sp("sam")})
		lp, err = f.svc.SetLoginProtect(f.ctx, f.dom.ID, fresh.ID, false, MethodNone)
		if err != nil || lp.Enabled || lp.VerificationMethod != MethodNone || lp.UserID != fresh.ID {
			t.Fatalf("none on fresh: %+v %v", lp, err)
		}
		if got, err := f.svc.LoginProtect(f.ctx, f.dom.ID, fresh.ID); err != nil || got.Enabled || got.VerificationMethod != MethodNone {
			t.Fatalf("none on fresh, stored: %+v %v", got, err)
		}

		// Foreign domain cannot set.
		if _, err := f.svc.SetLoginProtect(f.ctx, other.Domain.ID, full.ID, false, MethodSMS); !fault.Is(err, fault.UserNotFound) {
			t.Fatalf("foreign set: %v", err)
		}
		if _, err := f.svc.SetLoginProtect(f.ctx, other.Domain.ID, other.Admin.ID, true, MethodVMFA); !fault.Is(err, fault.FactorMissing) {
			t.Fatalf("vmfa without device: %v", err)
		}
		if _, err := f.svc.SetLoginProtect(f.ctx, other.Domain.ID, other.Admin.ID, false, MethodVMFA); err != nil {
			t.Fatal(err)
		}

		list, err := f.svc.ListLoginProtects(f.ctx, f.dom.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{full.ID, bare.ID, fresh.ID} // fresh: set with "none"
		sort.Strings(want)
		if len(list) != 3 || list[0].UserID != want[0] || list[1].UserID != want[1] || list[2].UserID != want[2] {
			t.Fatalf("list %+v, want users %v", list, want)
		}
		if list, _ := f.svc.ListLoginProtects(f.ctx, NewID()); len(list) != 0 || list == nil {
			t.Fatalf("unknown domain list: %#v", list)
		}
	})
}
