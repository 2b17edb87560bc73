package tokens

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

func TestIssueValidateRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		clk := newClock()
		s := newService(t, db.Open(t), Config{Now: clk.Now})
		mfa := clk.Now().Add(-time.Second)
		tests := []struct {
			name string
			in   Claims
			exp  time.Time // zero: now + 24h
		}{
			{name: "unscoped password", in: userClaims()},
			{name: "domain scoped admin with totp", in: func() Claims {
				c := userClaims()
				c.Methods = []string{"password", "totp"}
				c.ScopeDomainID = c.DomainID
				c.Roles = []authn.Role{authn.RoleOwner, authn.RoleSecuAdmin}
				c.MFAAuthnAt = &mfa
				return c
			}()},
			{name: "restricted", in: func() Claims {
				c := userClaims()
				c.Restricted = true
				return c
			}()},
			{name: "rescoped keeps expiry", in: func() Claims {
				c := userClaims()
				c.Methods = []string{"token"}
				c.ExpiresAt = clk.Now().Add(time.Hour)
				return c
			}(), exp: clk.Now().Add(time.Hour)},
			{name: "user expiry clamped to lifetime", in: func() Claims {
				c := userClaims()
				c.ExpiresAt = clk.Now().Add(48 * time.Hour)
				return c
			}()},
			{name: "ciam client", in: Claims{
				Kind: KindClient, ClientID: "my-app-7f3a", DomainID: "fedcba9876543210fedcba9876543210",
				Methods: []string{"client_credentials"}, ExpiresAt: clk.Now().Add(1800 * time.Second),
			}, exp: clk.Now().Add(1800 * time.Second)},
			{name: "client may outlive user lifetime", in: Claims{
				Kind: KindClient, ClientID: "c", DomainID: "d", ExpiresAt: clk.Now().Add(72 * time.Hour),
			}, exp: clk.Now().Add(72 * time.Hour)},
			{name: "non-hex ids, unicode name, unknown names", in: Claims{
				Kind: KindUser, UserID: "20201028102749564-9082-DC8CD2722", UserName: "Zoë 李",
				DomainID: "ABCDEF0123456789ABCDEF0123456789", Methods: []string{" odd ", "saml"},
				Roles: []authn.Role{"te_admin", "readonly"},
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				tok, issued, err := s.Issue(ctx, tt.in)
				if err != nil {
					t.Fatalf("Issue: %v", err)
				}
				if !strings.HasPrefix(tok, "lk1.") || len(tok) > 300 {
					t.Errorf("token shape: %d chars, prefix %q", len(tok), tok[:4])
				}
				if _, ok := parseID(issued.TokenID); !ok {
					t.Errorf("TokenID %q is not 32 hex", issued.TokenID)
				}
				now := clk.Now().Truncate(time.Microsecond)
				if !issued.IssuedAt.Equal(now) {
					t.Errorf("IssuedAt = %v, want %v", issued.IssuedAt, now)
				}
				wantExp := tt.exp
				if wantExp.IsZero() {
					wantExp = now.Add(24 * time.Hour)
				}
				if !issued.ExpiresAt.Equal(wantExp.Truncate(time.Microsecond)) {
					t.Errorf("ExpiresAt = %v, want %v", issued.ExpiresAt, wantExp)
				}
				want := tt.in
				want.TokenID, want.IssuedAt, want.ExpiresAt = issued.TokenID, issued.IssuedAt, issued.ExpiresAt
				if want.MFAAuthnAt != nil {
					m := want.MFAAuthnAt.UTC().Truncate(time.Microsecond)
					want.MFAAuthnAt = &m
				}
				if !reflect.DeepEqual(issued, want) {
					t.Errorf("Issue claims\n got %+v\nwant %+v", issued, want)
				}
				got, err := s.Validate(ctx, tok)
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if !reflect.DeepEqual(got, issued) {
					t.Errorf("Validate claims\n got %+v\nwant %+v", got, issued)
				}
			})
		}
		t.Run("distinct ids", func(t *testing.T) {
			_, a := mustIssue(t, s, userClaims())
			_, b := mustIssue(t, s, userClaims())
			if a.TokenID == b.TokenID {
				t.Error("two tokens share an id")
			}
		})
	})
}

func TestIssueRejects(t *testing.T) {
	clk := newClock()
	s := newService(t, storetest.SQLite(t).Open(t), Config{Now: clk.Now})
	tests := []struct {
		name string
		mod  func(c *Claims)
	}{
		{"no kind", func(c *Claims) { c.Kind = 0 }},
		{"unknown kind", func(c *Claims) { c.Kind = 9 }},
		{"user without user id", func(c *Claims) { c.UserID = "" }},
		{"user without domain", func(c *Claims) { c.DomainID = "" }},
		{"client without client id", func(c *Claims) { c.Kind = KindClient }},
		{"expiry in the past", func(c *Claims) { c.ExpiresAt = clk.Now().Add(-time.Second) }},
		{"too many methods", func(c *Claims) { c.Methods = make([]string, 17) }},
		{"too long", func(c *Claims) { c.UserName = strings.Repeat("x", 800) }},
	}
	c := userClaims()
	c.ExpiresAt = clk.Now()
	_, _, err := s.Issue(context.Background(), c)
	wantReason(t, err, fault.TokenExpired)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := userClaims()
			tt.mod(&c)
			if tok, _, err := s.Issue(context.Background(), c); err == nil {
				t.Errorf("Issue succeeded: %d chars", len(tok))
			}
		})
	}
}

func wantReason(t *testing.T, err error, r fault.Reason) {
	t.Helper()
	if !fault.Is(err, r) {
		t.Fatalf("error = %v, want reason %s", err, r)
	}
}

func TestValidateRejectsForgeries(t *testing.T) {
	db := storetest.SQLite(t)
	s := newService(t, db.Open(t), Config{})
	tok, _ := mustIssue(t, s, userClaims())
	admin := userClaims()
	admin.Roles = []authn.Role{authn.RoleOwner}
	adminTok, _ := mustIssue(t, s, admin)
	other := newService(t, storetest.SQLite(t).Open(t), Config{}) // another database, another key
	foreign, _ := mustIssue(t, other, admin)

	dot := strings.LastIndexByte(tok, '.')
	adot := strings.LastIndexByte(adminTok, '.')
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct{ name, tok string }{
		{"empty", ""},
		{"prefix only", "lk1."},
		{"wrong version", "lk2." + tok[4:]},
		{"no prefix", tok[4:]},
		{"payload flipped", flip(tok, 10)},
		{"payload flipped at end", flip(tok, dot-1)},
		{"signature flipped", flip(tok, len(tok)-5)},
		{"signature truncated", tok[:len(tok)-1]},
		{"signature extended", tok + "A"},
		{"signature missing", tok[:dot]},
		{"signature non-base64", tok[:dot+1] + strings.Repeat("*", 43)},
		{"signature with newline", tok[:len(tok)-1] + "\n"},
		{"payload swapped", adminTok[:adot] + tok[dot:]},
		{"wrong key", foreign},
		{"payload with padding char", tok[:dot] + "=" + tok[dot:]},
		{"extra dot", tok[:5] + "." + tok[5:]},
		{"too long", tok + strings.Repeat("A", 2000)},
		{"jwt-like", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Validate(context.Background(), tt.tok)
			wantReason(t, err, fault.TokenInvalid)
		})
	}
	if _, err := s.Validate(context.Background(), tok); err != nil {
		t.Fatalf("original token no longer validates: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	db := storetest.SQLite(t)
	clk := newClock()
	s := newService(t, db.Open(t), Config{Now: clk.Now, Lifetime: time.Hour})
	tok, c := mustIssue(t, s, userClaims())
	client := Claims{Kind: KindClient, ClientID: "app", DomainID: "d", ExpiresAt: clk.Now().Add(30 * time.Minute)}
	ctok, _ := mustIssue(t, s, client)
	ctx := context.Background()

	clk.Advance(c.ExpiresAt.Sub(clk.Now()) - time.Microsecond) // 1 µs before expiry
	if _, err := s.Validate(ctx, tok); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	wantReason(t, mustErr(s.Validate(ctx, ctok)), fault.TokenExpired)
	clk.Advance(time.Microsecond) // exactly at expires_at
	wantReason(t, mustErr(s.Validate(ctx, tok)), fault.TokenExpired)
	clk.Advance(-2 * time.Hour) // a clock that went back: valid again, signature still good
	if _, err := s.Validate(ctx, tok); err != nil {
		t.Fatalf("clock back: %v", err)
	}

	// A user token is never honoured past the configured lifetime, even one
	// issued under a longer lifetime (restart with a shorter setting).
	long := newService(t, db.Open(t), Config{Now: clk.Now, Lifetime: 10 * time.Hour})
	ltok, _ := mustIssue(t, long, userClaims())
	clk.Advance(2 * time.Hour)
	if _, err := long.Validate(ctx, ltok); err != nil {
		t.Fatalf("long-lived token on its own service: %v", err)
	}
	wantReason(t, mustErr(s.Validate(ctx, ltok)), fault.TokenExpired)
}

func mustErr(_ Claims, err error) error { return err }

func TestRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		clk := newClock()
		s := newService(t, db.Open(t), Config{Now: clk.Now})
		a, ca := mustIssue(t, s, userClaims())
		b, _ := mustIssue(t, s, userClaims())
		if err := s.Revoke(ctx, ca); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		wantReason(t, mustErr(s.Validate(ctx, a)), fault.TokenInvalid)
		if _, err := s.Validate(ctx, b); err != nil {
			t.Errorf("other token of the same user: %v", err)
		}
		if err := s.Revoke(ctx, ca); err != nil {
			t.Errorf("second Revoke: %v", err)
		}
		if err := s.Revoke(ctx, Claims{TokenID: "nope"}); err == nil {
			t.Error("Revoke of a malformed id succeeded")
		}
		// Revoking an expired token is a no-op, not an error.
		var n int64
		db.Open(t).Model(&store.Revocation{}).Count(&n)
		clk.Advance(25 * time.Hour)
		_, cx := mustIssue(t, s, userClaims())
		cx.ExpiresAt = clk.Now().Add(-time.Second)
		if err := s.Revoke(ctx, cx); err != nil {
			t.Errorf("Revoke expired: %v", err)
		}
		var m int64
		db.Open(t).Model(&store.Revocation{}).Count(&m)
		if m != n {
			t.Errorf("rows %d -> %d after revoking an expired token", n, m)
		}
	})
}

func TestRevokeUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		clk := newClock()
		s := newService(t, db.Open(t), Config{Now: clk.Now})
		bob := userClaims()
		bob.UserID = "11111111111111111111111111111111"

		old, _ := mustIssue(t, s, userClaims())
		clk.Advance(time.Second)
		atTok, cat := mustIssue(t, s, userClaims())
		bobTok, _ := mustIssue(t, s, bob)
		clk.Advance(time.Microsecond)
		after, _ := mustIssue(t, s, userClaims())
		clk.Advance(time.Second)

		// Cut-off with nanoseconds: floored to the token's microseconds.
		if err := s.RevokeUser(ctx, userClaims().UserID, cat.IssuedAt.Add(999*time.Nanosecond)); err != nil {
			t.Fatalf("RevokeUser: %v", err)
		}
		fresh, _ := mustIssue(t, s, userClaims())
		tests := []struct {
			name    string
			tok     string
			revoked bool
		}{
			{"issued before", old, true},
			{"issued at the cut-off", atTok, true},
			{"issued 1µs after", after, false},
			{"issued after the revocation", fresh, false},
			{"another user", bobTok, false},
		}
		check := func(t *testing.T, s *Service) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := s.Validate(ctx, tt.tok)
					if tt.revoked {
						wantReason(t, err, fault.TokenInvalid)
					} else if err != nil {
						t.Errorf("Validate: %v", err)
					}
				})
			}
		}
		t.Run("this instance", func(t *testing.T) { check(t, s) })
		// An earlier cut-off does not undo a later one.
		if err := s.RevokeUser(ctx, userClaims().UserID, cat.IssuedAt.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		t.Run("after an older cut-off", func(t *testing.T) { check(t, s) })
		t.Run("after restart", func(t *testing.T) {
			check(t, newService(t, db.Open(t), Config{Now: clk.Now}))
		})
		if err := s.RevokeUser(ctx, "", time.Time{}); err == nil {
			t.Error("RevokeUser with no user succeeded")
		}
		// The zero time means now.
		if err := s.RevokeUser(ctx, userClaims().UserID, time.Time{}); err != nil {
			t.Fatal(err)
		}
		wantReason(t, mustErr(s.Validate(ctx, fresh)), fault.TokenInvalid)
	})
}

func TestInstancesShareKeyAndRevocations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		a := newService(t, db.Open(t), Config{})
		b := newService(t, db.Open(t), Config{})
		runSync(t, a)
		runSync(t, b)
		if string(a.key) != string(b.key) {
			t.Fatal("instances use different keys")
		}
		tokA, ca := mustIssue(t, a, userClaims())
		if _, err := b.Validate(ctx, tokA); err != nil {
			t.Fatalf("B rejects A's token: %v", err)
		}
		tokB, _ := mustIssue(t, b, userClaims())
		if _, err := a.Validate(ctx, tokB); err != nil {
			t.Fatalf("A rejects B's token: %v", err)
		}

		start := time.Now()
		if err := a.Revoke(ctx, ca); err != nil {
			t.Fatal(err)
		}
		wantReason(t, mustErr(a.Validate(ctx, tokA)), fault.TokenInvalid) // at once on A
		waitRevoked(t, b, tokA, start)
		if _, err := b.Validate(ctx, tokB); err != nil {
			t.Fatalf("B's own token: %v", err)
		}

		start = time.Now()
		if err := b.RevokeUser(ctx, userClaims().UserID, time.Now()); err != nil {
			t.Fatal(err)
		}
		wantReason(t, mustErr(b.Validate(ctx, tokB)), fault.TokenInvalid)
		waitRevoked(t, a, tokB, start)
	})
}

// waitRevoked polls until s rejects tok, failing after 2 s.
func waitRevoked(t *testing.T, s *Service, tok string, start time.Time) {
	t.Helper()
	deadline := start.Add(2 * time.Second)
	for {
		_, err := s.Validate(context.Background(), tok)
		if fault.Is(err, fault.TokenInvalid) {
			t.Logf("revocation seen by the other instance after %v", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("revocation not seen within 2s (last error %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRestartSeesRevocations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		s := newService(t, db.Open(t), Config{})
		tok, c := mustIssue(t, s, userClaims())
		keep, _ := mustIssue(t, s, userClaims())
		if err := s.Revoke(ctx, c); err != nil {
			t.Fatal(err)
		}
		r := newService(t, db.Open(t), Config{}) // no Run: New alone loads them
		wantReason(t, mustErr(r.Validate(ctx, tok)), fault.TokenInvalid)
		if _, err := r.Validate(ctx, keep); err != nil {
			t.Errorf("unrevoked token after restart: %v", err)
		}
	})
}

func TestConcurrentFirstStartSharesKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		const n = 8
		dbs := make([]*store.DB, n)
		for i := range dbs {
			dbs[i] = db.Open(t)
		}
		keys := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				s, err := New(context.Background(), dbs[i], quietLog(), Config{})
				if err != nil {
					errs[i] = err
					return
				}
				keys[i] = string(s.key)
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("instance %d: %v", i, errs[i])
			}
			if keys[i] != keys[0] {
				t.Fatalf("instance %d has a different key", i)
			}
		}
		var count int64
		dbs[0].Model(&store.SigningKey{}).Count(&count)
		if count != 1 {
			t.Errorf("%d signing keys stored, want 1", count)
		}
	})
}

// A row that commits after a row with a higher id was already read is still
// picked up (the PostgreSQL sequence case), because sync re-reads from a
// watermark taken `overlap` ago.
func TestSyncReadsLateLowerIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		conn := db.Open(t)
		s := newService(t, db.Open(t), Config{})
		w := newService(t, conn, Config{})
		tokLow, cLow := mustIssue(t, w, userClaims())
		tokHigh, cHigh := mustIssue(t, w, userClaims())
		exp := cLow.ExpiresAt.Add(rowGrace)
		high := store.Revocation{ID: 1_000_010, TokenID: cHigh.TokenID, ExpiresAt: exp}
		if err := conn.Create(&high).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.syncOnce(ctx); err != nil {
			t.Fatal(err)
		}
		wantReason(t, mustErr(s.Validate(ctx, tokHigh)), fault.TokenInvalid)
		low := store.Revocation{ID: 1_000_005, TokenID: cLow.TokenID, ExpiresAt: exp}
		if err := conn.Create(&low).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.syncOnce(ctx); err != nil {
			t.Fatal(err)
		}
		wantReason(t, mustErr(s.Validate(ctx, tokLow)), fault.TokenInvalid)
	})
}

func TestWatermark(t *testing.T) {
	t0 := time.Unix(1000, 0)
	st := syncState{marks: []mark{{t0, 3}}}
	ov := 5 * time.Second
	steps := []struct {
		now  time.Duration // since t0
		add  uint64        // mark appended after the sync (max id seen)
		want uint64
	}{
		{1 * time.Second, 10, 3}, // startup: the seed until overlap has passed
		{2 * time.Second, 12, 3},
		{3 * time.Second, 12, 3},
		{6 * time.Second, 20, 10}, // mark at 1s is >= 5s old
		{7 * time.Second, 20, 12},
		{20 * time.Second, 25, 20},
	}
	for _, s := range steps {
		if got := st.watermark(t0.Add(s.now), ov); got != s.want {
			t.Fatalf("at %v: watermark %d, want %d", s.now, got, s.want)
		}
		st.marks = append(st.marks, mark{t0.Add(s.now), s.add})
	}
	if len(st.marks) > 3 {
		t.Errorf("%d marks kept, want old ones dropped", len(st.marks))
	}
}

func TestPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		clk := newClock()
		conn := db.Open(t)
		s := newService(t, conn, Config{Now: clk.Now, Lifetime: time.Hour})
		_, c := mustIssue(t, s, userClaims())
		if err := s.Revoke(ctx, c); err != nil {
			t.Fatal(err)
		}
		clk.Advance(30 * time.Minute)
		if err := s.RevokeUser(ctx, "22222222222222222222222222222222", clk.Now()); err != nil {
			t.Fatal(err)
		}
		count := func() (n int64) { conn.Model(&store.Revocation{}).Count(&n); return n }
		if err := s.prune(ctx); err != nil || count() != 2 {
			t.Fatalf("prune before expiry: %v, %d rows", err, count())
		}
		clk.Advance(time.Hour) // token row expired (1h + grace after issue), user row not
		if err := s.prune(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Errorf("%d rows after the token row expired, want 1", n)
		}
		if len(s.revs.tokens) != 0 || len(s.revs.users) != 1 {
			t.Errorf("set holds %d tokens, %d users; want 0, 1", len(s.revs.tokens), len(s.revs.users))
		}
		clk.Advance(time.Hour)
		if err := s.prune(ctx); err != nil || count() != 0 || len(s.revs.users) != 0 {
			t.Errorf("final prune: %v, %d rows, %d users", err, count(), len(s.revs.users))
		}
	})
}

func TestPrincipal(t *testing.T) {
	mfa := time.Now()
	tests := []struct {
		name string
		c    Claims
		want authn.Principal
	}{
		{"user", Claims{Kind: KindUser, TokenID: "t", UserID: "u", UserName: "n", DomainID: "d",
			Roles: []authn.Role{authn.RoleSecuAdmin}, Restricted: true, MFAAuthnAt: &mfa,
			IssuedAt: time.Unix(1, 0), ExpiresAt: time.Unix(2, 0)},
			authn.Principal{Kind: authn.KindUserToken, TokenID: "t", UserID: "u", UserName: "n", DomainID: "d",
				Roles: []authn.Role{authn.RoleSecuAdmin}, Restricted: true,
				IssuedAt: time.Unix(1, 0), ExpiresAt: time.Unix(2, 0)}},
		{"client", Claims{Kind: KindClient, TokenID: "t", ClientID: "c", DomainID: "d"},
			authn.Principal{Kind: authn.KindCIAMClient, TokenID: "t", ClientID: "c", DomainID: "d", Roles: []authn.Role{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.Principal()
			if got.Roles == nil {
				got.Roles = []authn.Role{}
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
	if !(Claims{Kind: KindClient, DomainID: "d"}).Principal().IsAdmin() {
		t.Error("client principal is not admin of its domain")
	}
}

func TestTokenLength(t *testing.T) {
	s := newService(t, storetest.SQLite(t).Open(t), Config{})
	c := userClaims()
	c.UserName = strings.Repeat("n", 64)
	c.Methods = []string{"password", "totp"}
	c.Roles = []authn.Role{authn.RoleOwner, authn.RoleSecuAdmin}
	c.ScopeDomainID = c.DomainID
	now := time.Now()
	c.MFAAuthnAt = &now
	tok, _ := mustIssue(t, s, c)
	t.Logf("largest ordinary token: %d characters", len(tok))
	if len(tok) > 300 {
		t.Errorf("token is %d characters", len(tok))
	}
}

func FuzzValidate(f *testing.F) {
	db := storetest.SQLite(f)
	s := newService(f, db.Open(f), Config{})
	tok, _ := mustIssue(f, s, userClaims())
	full := userClaims()
	mfa := time.Now()
	full.MFAAuthnAt, full.Restricted, full.Roles = &mfa, true, []authn.Role{authn.RoleOwner, "x"}
	tok2, _ := mustIssue(f, s, full)
	f.Add(tok)
	f.Add(tok2)
	f.Add("lk1..")
	f.Add("lk1.AAAA." + strings.Repeat("A", 43))
	for _, c := range []Claims{userClaims(), full} {
		var id [16]byte
		c.IssuedAt, c.ExpiresAt = time.Now(), time.Now().Add(time.Hour)
		f.Add(string(encodePayload(nil, &c, id)))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, in string) {
		// As a token: must not panic, and a forged one never validates.
		if c, err := s.Validate(ctx, in); err == nil && in != tok && in != tok2 {
			t.Fatalf("accepted an unissued token: %+v", c)
		}
		// As a payload signed with the right key: exercises the decoder.
		var c Claims
		if decodePayload([]byte(in), &c) != nil {
			return
		}
		enc := encodePayload(nil, &c, [16]byte(mustHex(t, c.TokenID)))
		var back Claims
		if err := decodePayload(enc, &back); err != nil || !reflect.DeepEqual(back, c) {
			t.Fatalf("re-encoding changed the claims: %v\n%+v\n%+v", err, c, back)
		}
		_, _ = s.Validate(ctx, signForTest(s, []byte(in)))
	})
}

func mustHex(t *testing.T, s string) []byte {
	id, ok := parseID(s)
	if !ok {
		t.Fatalf("bad token id %q", s)
	}
	return id[:]
}

// signForTest builds a correctly signed token around any payload.
func signForTest(s *Service, payload []byte) string {
	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	tok := []byte(prefix)
	tok = base64.RawURLEncoding.AppendEncode(tok, payload)
	sc.mac.Reset()
	sc.mac.Write(tok)
	tok = append(tok, '.')
	return string(base64.RawURLEncoding.AppendEncode(tok, sc.mac.Sum(nil)))
}

func BenchmarkValidate(b *testing.B) {
	s := newService(b, storetest.SQLite(b).Open(b), Config{})
	c := userClaims()
	c.Roles = []authn.Role{authn.RoleOwner, authn.RoleSecuAdmin}
	c.ScopeDomainID = c.DomainID
	tok, _ := mustIssue(b, s, c)
	// A realistic revocation set: some revoked tokens and users.
	for i := range 10000 {
		_, ci := mustIssue(b, s, userClaims())
		s.revs.addToken([16]byte(mustHexB(ci.TokenID)), time.Now().Add(time.Hour).UnixMicro())
		s.revs.addUser(fmt.Sprintf("%032x", i+1), 0, time.Now().Add(time.Hour).UnixMicro())
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Validate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateParallel(b *testing.B) {
	s := newService(b, storetest.SQLite(b).Open(b), Config{})
	tok, _ := mustIssue(b, s, userClaims())
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Validate(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkIssue(b *testing.B) {
	s := newService(b, storetest.SQLite(b).Open(b), Config{})
	c := userClaims()
	c.Roles = []authn.Role{authn.RoleOwner, authn.RoleSecuAdmin}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Issue(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

func mustHexB(s string) []byte {
	id, _ := parseID(s)
	return id[:]
}
