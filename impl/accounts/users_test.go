package accounts

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

func TestValidators(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want fault.Reason
	}{
		{"name ok", ValidateName("alice"), ""},
		{"name with space dash dot underscore", ValidateName("Al ice-_.1"), ""},
		{"name 64", ValidateName(strings.Repeat("a", 64)), ""},
		{"name 65", ValidateName(strings.Repeat("a", 65)), fault.NameInvalid},
		{"name empty", ValidateName(""), fault.NameInvalid},
		{"name starts with digit", ValidateName("1alice"), fault.NameInvalid},
		{"name starts with space", ValidateName(" alice"), fault.NameInvalid},
		{"name control char", ValidateName("ali\tce"), fault.NameInvalid},
		{"name non-ascii letter", ValidateName("аdmin"), fault.NameInvalid},
		{"name at sign", ValidateName("a@b"), fault.NameInvalid},
		{"email ok", ValidateEmail("alice@example.com"), ""},
		{"email display name", ValidateEmail("Alice <alice@example.com>"), fault.EmailInvalid},
		{"email brackets", ValidateEmail("<alice@example.com>"), fault.EmailInvalid},
		{"email no at", ValidateEmail("alice.example.com"), fault.EmailInvalid},
		{"email spaces", ValidateEmail(" alice@example.com"), fault.EmailInvalid},
		{"email too long", ValidateEmail(strings.Repeat("a", 250) + "@e.com"), fault.EmailInvalid},
		{"phone ok", ValidatePhone("13800000000"), ""},
		{"phone letters", ValidatePhone("1380000abc"), fault.PhoneInvalid},
		{"phone plus", ValidatePhone("+13800000000"), fault.PhoneInvalid},
		{"phone 33 digits", ValidatePhone(strings.Repeat("1", 33)), fault.PhoneInvalid},
		{"areacode 0086", ValidateAreaCode("0086"), ""},
		{"areacode +86", ValidateAreaCode("+86"), ""},
		{"areacode 86", ValidateAreaCode("86"), ""},
		{"areacode 1", ValidateAreaCode("+1"), ""},
		{"areacode too long", ValidateAreaCode("+12345"), fault.PhoneInvalid},
		{"areacode letters", ValidateAreaCode("+8a"), fault.PhoneInvalid},
		{"areacode leading zero", ValidateAreaCode("086"), fault.PhoneInvalid},
		{"areacode empty", ValidateAreaCode(""), fault.PhoneInvalid},
		{"description ok", ValidateDescription("team lead, Berlin (R-and-D)"), ""},
		{"description 255 runes", ValidateDescription(strings.Repeat("ü", 255)), ""},
		{"description 256 runes", ValidateDescription(strings.Repeat("ü", 256)), fault.DescriptionBad},
		{"description ampersand", ValidateDescription("R&D"), fault.DescriptionBad},
		{"description backslash", ValidateDescription(`a\b`), fault.DescriptionBad},
		{"description caret", ValidateDescription("a^b"), fault.DescriptionBad},
		{"access mode console", ValidateAccessMode("console"), ""},
		{"access mode bad", ValidateAccessMode("web"), fault.PropertyInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantReason(t, c.err, c.want) })
	}
}

func TestParseMobileAndExpiryFilter(t *testing.T) {
	ac, ph, err := ParseMobile("0086-123456789")
	if err != nil || ac != "0086" || ph != "123456789" {
		t.Fatalf("ParseMobile = %q %q %v", ac, ph, err)
	}
	for _, bad := range []string{"123456789", "0086-", "-123", "0086-12a", "x-1"} {
		if _, _, err := ParseMobile(bad); !fault.Is(err, fault.PhoneInvalid) {
			t.Errorf("ParseMobile(%q) = %v, want PhoneInvalid", bad, err)
		}
	}
	f, err := ParseExpiryFilter("lte:2026-11-22T12:00:00Z")
	if err != nil || f.Op != "lte" || !f.At.Equal(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseExpiryFilter = %+v %v", f, err)
	}
	for _, bad := range []string{"lte", "le:2026-11-22T12:00:00Z", "lt:yesterday", ""} {
		if _, err := ParseExpiryFilter(bad); !fault.Is(err, fault.ParameterInvalid) {
			t.Errorf("ParseExpiryFilter(%q) = %v", bad, err)
		}
	}
}

func TestCreateUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)

		u := f.mkUser(t, UserInput{Name: sp("alice"), Password: sp("Wq8-Lmzt.r1"), Email: sp("alice@example.com"),
			AreaCode: sp("0086"), Phone: sp("13800000001"), Description: sp("dev"), XUserType: sp("TenantIdp"),
			XUserID: sp("ext-1"), AccessMode: sp("programmatic"), DisplayName: sp("Alice A."), Extension: sp(`{"k":"v"}`)})
		if len(u.ID) != 32 || u.DomainID != f.dom.ID || !u.Enabled || !u.PwdStatus || u.Role != RoleUser || u.IsDomainOwner ||
			u.AccessMode != "programmatic" || deref(u.EmailDom) != f.dom.ID || deref(u.PhoneKey) != f.dom.ID+"/86-13800000001" ||
			deref(u.XUserKey) != f.dom.ID+"/TenantIdp/ext-1" || u.PasswordHash == "" || u.PasswordChangedAt == nil ||
			u.PasswordExpiresAt != nil || u.Extension != `{"k":"v"}` {
			t.Fatalf("unexpected user %+v", u)
		}
		got, err := f.svc.User(f.ctx, f.dom.ID, u.ID)
		if err != nil || got.Name != "alice" || deref(got.Email) != "alice@example.com" {
			t.Fatalf("read back: %+v %v", got, err)
		}

		// Defaults: no password -> PwdStatus false; explicit pwd_status wins.
		nopw := f.mkUser(t, UserInput{Name: sp("nopw"), PwdStatus: bp(true)})
		if nopw.PwdStatus || !nopw.Enabled || nopw.AccessMode != AccessDefault || nopw.PasswordHash != "" {
			t.Fatalf("defaults without password: %+v", nopw)
		}
		keep := f.mkUser(t, UserInput{Name: sp("keep"), Password: sp("Hv3_Npks.e7"), PwdStatus: bp(false), Enabled: bp(false)})
		if keep.PwdStatus || keep.Enabled {
			t.Fatalf("explicit flags ignored: %+v", keep)
		}

		cases := []struct {
			name string
			in   UserInput
			want fault.Reason
		}{
			{"name missing", UserInput{}, fault.PropertyMissing},
			{"name invalid", UserInput{Name: sp("1x")}, fault.NameInvalid},
			{"name too long", UserInput{Name: sp(strings.Repeat("n", 65))}, fault.NameInvalid},
			{"name taken", UserInput{Name: sp("alice")}, fault.NameTaken},
			{"email invalid", UserInput{Name: sp("b1"), Email: sp("not-an-email")}, fault.EmailInvalid},
			{"email taken", UserInput{Name: sp("b2"), Email: sp("alice@example.com")}, fault.EmailTaken},
			{"phone invalid", UserInput{Name: sp("b3"), AreaCode: sp("0086"), Phone: sp("12-34")}, fault.PhoneInvalid},
			{"areacode invalid", UserInput{Name: sp("b4"), AreaCode: sp("china"), Phone: sp("1234")}, fault.PhoneInvalid},
			{"phone without areacode", UserInput{Name: sp("b5"), Phone: sp("1234")}, fault.PhonePairing},
			{"areacode without phone", UserInput{Name: sp("b6"), AreaCode: sp("0086")}, fault.PhonePairing},
			{"phone taken", UserInput{Name: sp("b7"), AreaCode: sp("0086"), Phone: sp("13800000001")}, fault.PhoneTaken},
			{"phone taken other spelling", UserInput{Name: sp("b8"), AreaCode: sp("+86"), Phone: sp("13800000001")}, fault.PhoneTaken},
			{"xuser type alone", UserInput{Name: sp("b9"), XUserType: sp("TenantIdp")}, fault.XUserPairing},
			{"xuser id alone", UserInput{Name: sp("b10"), XUserID: sp("x")}, fault.XUserPairing},
			{"xuser too long", UserInput{Name: sp("b11"), XUserType: sp("t"), XUserID: sp(strings.Repeat("x", 129))}, fault.PropertyInvalid},
			{"xuser taken", UserInput{Name: sp("b12"), XUserType: sp("TenantIdp"), XUserID: sp("ext-1")}, fault.XUserTaken},
			{"description bad", UserInput{Name: sp("b13"), Description: sp("<b>")}, fault.DescriptionBad},
			{"description too long", UserInput{Name: sp("b14"), Description: sp(strings.Repeat("d", 256))}, fault.DescriptionBad},
			{"access mode bad", UserInput{Name: sp("b15"), AccessMode: sp("gui")}, fault.PropertyInvalid},
			{"extension not object", UserInput{Name: sp("b16"), Extension: sp(`[1]`)}, fault.PropertyInvalid},
			{"display name too long", UserInput{Name: sp("b17"), DisplayName: sp(strings.Repeat("n", 129))}, fault.PropertyInvalid},
			{"password too short", UserInput{Name: sp("b18"), Password: sp("Ab1.")}, fault.PasswordPolicy},
			{"password one class", UserInput{Name: sp("b19"), Password: sp("abcdefghij")}, fault.PasswordPolicy},
			{"password is username", UserInput{Name: sp("Bobby-Tables1"), Password: sp("Bobby-Tables1")}, fault.PasswordPolicy},
			{"password contains phone", UserInput{Name: sp("b20"), AreaCode: sp("0086"), Phone: sp("13912345678"), Password: sp("x13912345678")}, fault.PasswordPolicy},
			{"password weak", UserInput{Name: sp("b21"), Password: sp("P@ssw0rd")}, fault.PasswordWeak},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.CreateUser(f.ctx, f.dom.ID, c.in)
				wantReason(t, err, c.want)
			})
		}
		if _, err := f.svc.CreateUser(f.ctx, NewID(), UserInput{Name: sp("ghost")}); !fault.Is(err, fault.NotFound) {
			t.Fatalf("unknown domain: %v", err)
		}

		// Uniqueness is per domain.
		other, err := f.svc.Bootstrap(f.ctx, "other", "admin", ownerPassword)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateUser(f.ctx, other.Domain.ID, UserInput{Name: sp("alice"), Email: sp("alice@example.com"),
			AreaCode: sp("0086"), Phone: sp("13800000001"), XUserType: sp("TenantIdp"), XUserID: sp("ext-1")}); err != nil {
			t.Fatalf("same values in another domain: %v", err)
		}
	})
}

func TestCreateUserRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		// A second pool plays a second instance.
		svc2 := New(env.Open(t), passwords.NewHasher(fastParams, 4, 0), f.rev, quietLog())
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				s := f.svc
				if i%2 == 1 {
					s = svc2
				}
				<-start
				_, errs[i] = s.CreateUser(f.ctx, f.dom.ID, UserInput{Name: sp("racer"), Email: sp("racer@example.com")})
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case fault.Is(err, fault.NameTaken):
			default:
				t.Errorf("racing create: %v (want success or NameTaken)", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d creates succeeded, want 1", ok)
		}
	})
}

// TestDuplicateMapping checks the unique-index path itself (a writer that
// lost the race after the pre-check): the constraint error must become the
// right *Taken reason.
func TestDuplicateMapping(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		base := f.mkUser(t, UserInput{Name: sp("base"), Email: sp("base@example.com"), AreaCode: sp("+49"), Phone: sp("1701"),
			XUserType: sp("t"), XUserID: sp("1")})
		cases := []struct {
			name   string
			mutate func(u *store.User)
			want   fault.Reason
		}{
			{"name", func(u *store.User) { u.Name = base.Name }, fault.NameTaken},
			{"email", func(u *store.User) { u.Email, u.EmailDom = base.Email, base.EmailDom }, fault.EmailTaken},
			{"phone", func(u *store.User) { u.AreaCode, u.Phone, u.PhoneKey = base.AreaCode, base.Phone, base.PhoneKey }, fault.PhoneTaken},
			{"xuser", func(u *store.User) { u.XUserType, u.XUserID, u.XUserKey = base.XUserType, base.XUserID, base.XUserKey }, fault.XUserTaken},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				u := &store.User{ID: NewID(), DomainID: f.dom.ID, Name: "dup" + string(rune('a'+i)), Role: RoleUser, AccessMode: AccessDefault}
				c.mutate(u)
				err := f.db.WithContext(f.ctx).Create(u).Error
				if !isDuplicate(err) {
					t.Fatalf("insert: %v, want a duplicate-key error", err)
				}
				wantReason(t, f.svc.duplicate(f.ctx, u, err), c.want)
			})
		}
	})
}

func TestUpdateUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, UserInput{Name: sp("carol"), Password: sp("Jz5+Rbdy.u4"), Email: sp("carol@example.com"),
			AreaCode: sp("0086"), Phone: sp("13800000002"), Description: sp("first")})
		f.mkUser(t, UserInput{Name: sp("dave"), Email: sp("dave@example.com"), AreaCode: sp("0086"), Phone: sp("13800000003"),
			XUserType: sp("t"), XUserID: sp("dave")})

		// Partial update leaves other fields alone.
		got, err := f.svc.UpdateUser(f.ctx, f.dom.ID, u.ID, UserInput{Description: sp("second"), AccessMode: sp("console")})
		if err != nil || got.Description != "second" || got.AccessMode != "console" || deref(got.Email) != "carol@example.com" ||
			got.Name != "carol" || !got.Enabled || got.PasswordHash != u.PasswordHash {
			t.Fatalf("partial update: %+v %v", got, err)
		}
		if f.rev.count(u.ID) != 0 {
			t.Fatalf("a plain update revoked tokens")
		}
		// Phone alone is merged with the stored area code; clearing email.
		got, err = f.svc.UpdateUser(f.ctx, f.dom.ID, u.ID, UserInput{Phone: sp("13800000009"), Email: sp("")})
		if err != nil || deref(got.Phone) != "13800000009" || deref(got.AreaCode) != "0086" || got.Email != nil || got.EmailDom != nil ||
			deref(got.PhoneKey) != f.dom.ID+"/86-13800000009" {
			t.Fatalf("merge phone / clear email: %+v %v", got, err)
		}
		// Rename.
		if got, err = f.svc.UpdateUser(f.ctx, f.dom.ID, u.ID, UserInput{Name: sp("carol2")}); err != nil || got.Name != "carol2" {
			t.Fatalf("rename: %+v %v", got, err)
		}

		cases := []struct {
			name string
			in   UserInput
			want fault.Reason
		}{
			{"name taken", UserInput{Name: sp("dave")}, fault.NameTaken},
			{"name invalid", UserInput{Name: sp("")}, fault.NameInvalid},
			{"email taken", UserInput{Email: sp("dave@example.com")}, fault.EmailTaken},
			{"email invalid", UserInput{Email: sp("x@")}, fault.EmailInvalid},
			{"phone taken", UserInput{Phone: sp("13800000003")}, fault.PhoneTaken},
			{"phone invalid", UserInput{Phone: sp("phone")}, fault.PhoneInvalid},
			{"clear phone only", UserInput{Phone: sp("")}, fault.PhonePairing},
			{"xuser half", UserInput{XUserType: sp("t")}, fault.XUserPairing},
			{"xuser taken", UserInput{XUserType: sp("t"), XUserID: sp("dave")}, fault.XUserTaken},
			{"description bad", UserInput{Description: sp("50%")}, fault.DescriptionBad},
			{"access mode bad", UserInput{AccessMode: sp("")}, fault.PropertyInvalid},
			{"password same as current", UserInput{Password: sp("Jz5+Rbdy.u4")}, fault.PasswordSame},
			{"password policy", UserInput{Password: sp("short")}, fault.PasswordPolicy},
			{"password weak", UserInput{Password: sp("Password1")}, fault.PasswordWeak},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.UpdateUser(f.ctx, f.dom.ID, u.ID, c.in)
				wantReason(t, err, c.want)
			})
		}

		// Admin password set: new hash, history, tokens revoked, pwd_status as given.
		f.clock.Advance(time.Minute)
		got, err = f.svc.UpdateUser(f.ctx, f.dom.ID, u.ID, UserInput{Password: sp("Tc9=Gfwx.o6"), PwdStatus: bp(true)})
		if err != nil || got.PasswordHash == u.PasswordHash || !got.PwdStatus || !got.PasswordChangedAt.Equal(f.clock.Now()) {
			t.Fatalf("admin password set: %+v %v", got, err)
		}
		if f.rev.count(u.ID) != 1 {
			t.Fatalf("password set: %d revocations, want 1", f.rev.count(u.ID))
		}
		if h, _ := f.svc.history(f.ctx, u.ID); len(h) != 1 || h[0] != u.PasswordHash {
			t.Fatalf("history after admin set: %d entries", len(h))
		}
		if _, _, err := f.svc.Authenticate(f.ctx, UserRef{ID: u.ID}, "Tc9=Gfwx.o6"); err != nil {
			t.Fatalf("new password: %v", err)
		}

		// Disabling revokes; enabling does not; disabling again (no change) does not.
		if _, err := f.svc.UpdateUser(f.ctx, f.dom.ID, u.ID, UserInput{Enabled: bp(false)}); err != nil {
			t.Fatal(err)
		}
		if f.rev.count(u.ID) != 2 {
			t.Fatalf("disable: %d revocations, want 2", f.rev.count(u.ID))
		}
		if _, err := f.svc.UpdateUser(f.ctx, f.dom.ID, u.ID, UserInput{Enabled: bp(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateUser(f.ctx, f.dom.ID, u.ID, UserInput{Enabled: bp(true)}); err != nil {
			t.Fatal(err)
		}
		if f.rev.count(u.ID) != 2 {
			t.Fatalf("no-op disable / enable revoked: %d", f.rev.count(u.ID))
		}

		// Foreign domain and unknown user are not found.
		other, _ := f.svc.Bootstrap(f.ctx, "other", "admin", ownerPassword)
		if _, err := f.svc.UpdateUser(f.ctx, other.Domain.ID, u.ID, UserInput{Description: sp("x")}); !fault.Is(err, fault.UserNotFound) {
			t.Fatalf("foreign update: %v", err)
		}
		if _, err := f.svc.UpdateUser(f.ctx, f.dom.ID, NewID(), UserInput{}); !fault.Is(err, fault.UserNotFound) {
			t.Fatalf("unknown update: %v", err)
		}
	})
}

func TestUpdateContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, UserInput{Name: sp("erin")})
		if err := f.svc.UpdateContact(f.ctx, f.dom.ID, u.ID, sp("erin@example.com"), sp("0086-123456789")); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.User(f.ctx, f.dom.ID, u.ID)
		if deref(got.Email) != "erin@example.com" || deref(got.AreaCode) != "0086" || deref(got.Phone) != "123456789" {
			t.Fatalf("contact not stored: %+v", got)
		}
		wantReason(t, f.svc.UpdateContact(f.ctx, f.dom.ID, u.ID, nil, sp("123456789")), fault.PhoneInvalid)
		wantReason(t, f.svc.UpdateContact(f.ctx, f.dom.ID, u.ID, sp("bad"), nil), fault.EmailInvalid)
		if err := f.svc.UpdateContact(f.ctx, f.dom.ID, u.ID, nil, sp("")); err != nil {
			t.Fatal(err)
		}
		got, _ = f.svc.User(f.ctx, f.dom.ID, u.ID)
		if got.Phone != nil || got.AreaCode != nil || got.PhoneKey != nil || deref(got.Email) != "erin@example.com" {
			t.Fatalf("clear mobile: %+v", got)
		}
	})
}

func TestDeleteUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		u := f.mkUser(t, UserInput{Name: sp("frank"), Password: sp("Wq8-Lmzt.r1"), Email: sp("frank@example.com")})
		if err := f.svc.ChangePassword(f.ctx, u.ID, "Wq8-Lmzt.r1", "Hv3_Npks.e7"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetLoginProtect(f.ctx, f.dom.ID, u.ID, true, MethodEmail); err != nil {
			t.Fatal(err)
		}
		if err := f.db.Create(&store.HTTPSCredential{UserID: u.ID, UseAccountPassword: true}).Error; err != nil {
			t.Fatal(err)
		}
		revokes := f.rev.count(u.ID)

		wantReason(t, f.svc.DeleteUser(f.ctx, f.dom.ID, f.owner.ID), fault.OwnerUndeletable)
		other, _ := f.svc.Bootstrap(f.ctx, "other", "admin", ownerPassword)
		wantReason(t, f.svc.DeleteUser(f.ctx, other.Domain.ID, u.ID), fault.UserNotFound)

		if err := f.svc.DeleteUser(f.ctx, f.dom.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		if f.rev.count(u.ID) != revokes+1 {
			t.Fatalf("delete did not revoke")
		}
		for _, m := range []any{&store.User{}, &store.PasswordHistory{}, &store.LoginProtect{}, &store.HTTPSCredential{}} {
			var n int64
			col := "user_id"
			if _, ok := m.(*store.User); ok {
				col = "id"
			}
			f.db.Model(m).Where(col+" = ?", u.ID).Count(&n)
			if n != 0 {
				t.Errorf("%T rows left: %d", m, n)
			}
		}
		wantReason(t, f.svc.DeleteUser(f.ctx, f.dom.ID, u.ID), fault.UserNotFound)
		// The name is free again.
		f.mkUser(t, UserInput{Name: sp("frank"), Email: sp("frank@example.com")})
	})
}

func TestListUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		pol := passwords.DefaultPolicy()
		pol.ValidityPeriod = 90 * 24 * time.Hour
		f := newFixture(t, env, WithPolicySource(func(context.Context, string) (passwords.Policy, error) { return pol, nil }))
		f.mkUser(t, UserInput{Name: sp("zed"), Password: sp("Jz5+Rbdy.u4")})
		f.clock.Advance(24 * time.Hour)
		f.mkUser(t, UserInput{Name: sp("bob"), Password: sp("Tc9=Gfwx.o6"), Enabled: bp(false)})
		f.mkUser(t, UserInput{Name: sp("amy")}) // no password: never expires
		other, _ := f.svc.Bootstrap(f.ctx, "other", "admin", ownerPassword)
		if _, err := f.svc.CreateUser(f.ctx, other.Domain.ID, UserInput{Name: sp("outsider")}); err != nil {
			t.Fatal(err)
		}
		day0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC).Add(90 * 24 * time.Hour)
		cases := []struct {
			name string
			f    ListFilter
			want string
		}{
			{"all ordered by name", ListFilter{}, "admin,amy,bob,zed"},
			{"by name", ListFilter{Name: sp("bob")}, "bob"},
			{"by name unknown", ListFilter{Name: sp("outsider")}, ""},
			{"enabled", ListFilter{Enabled: bp(true)}, "admin,amy,zed"},
			{"disabled", ListFilter{Enabled: bp(false)}, "bob"},
			{"expires lt day1", ListFilter{PasswordExpires: &ExpiryFilter{"lt", day0.Add(time.Hour)}}, "admin,zed"},
			{"expires lte day0", ListFilter{PasswordExpires: &ExpiryFilter{"lte", day0}}, "admin,zed"},
			{"expires eq day0", ListFilter{PasswordExpires: &ExpiryFilter{"eq", day0}}, "admin,zed"},
			{"expires gt day0", ListFilter{PasswordExpires: &ExpiryFilter{"gt", day0}}, "bob"},
			{"expires gte day0", ListFilter{PasswordExpires: &ExpiryFilter{"gte", day0}}, "admin,bob,zed"},
			{"expires neq day0", ListFilter{PasswordExpires: &ExpiryFilter{"neq", day0}}, "bob"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				us, err := f.svc.ListUsers(f.ctx, f.dom.ID, c.f)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, u := range us {
					got = append(got, u.Name)
				}
				if s := strings.Join(got, ","); s != c.want {
					t.Fatalf("got %q, want %q", s, c.want)
				}
			})
		}
		if _, err := f.svc.ListUsers(f.ctx, f.dom.ID, ListFilter{PasswordExpires: &ExpiryFilter{Op: "like"}}); !fault.Is(err, fault.ParameterInvalid) {
			t.Fatalf("bad op: %v", err)
		}
	})
}
