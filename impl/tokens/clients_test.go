package tokens

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

func clientClaims(id string) Claims {
	return Claims{Kind: KindClient, ClientID: id, DomainID: "fedcba9876543210fedcba9876543210",
		Methods: []string{"client_credentials"}}
}

func TestRevokeClient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		clk := newClock()
		s := newService(t, db.Open(t), Config{Now: clk.Now, ClientLifetime: time.Hour})
		const app = "my-app.7f3a" // configured ids need not be hex
		old, c := mustIssue(t, s, clientClaims(app))
		other, _ := mustIssue(t, s, clientClaims("0123456789abcdef0123456789abcdef"))
		// A user whose id equals the client id is another principal.
		u := userClaims()
		u.UserID = app
		user, _ := mustIssue(t, s, u)
		clk.Advance(time.Second)

		if err := s.RevokeClient(ctx, app, c.IssuedAt); err != nil {
			t.Fatalf("RevokeClient: %v", err)
		}
		clk.Advance(time.Microsecond)
		fresh, _ := mustIssue(t, s, clientClaims(app))
		check := func(t *testing.T, s *Service) {
			wantReason(t, mustErr(s.Validate(ctx, old)), fault.TokenInvalid)
			for name, tok := range map[string]string{"another client": other, "a user": user, "issued after": fresh} {
				if _, err := s.Validate(ctx, tok); err != nil {
					t.Errorf("%s: Validate: %v", name, err)
				}
			}
		}
		t.Run("this instance", func(t *testing.T) { check(t, s) })
		t.Run("after restart", func(t *testing.T) {
			check(t, newService(t, db.Open(t), Config{Now: clk.Now, ClientLifetime: time.Hour}))
		})
		if err := s.RevokeClient(ctx, "", time.Time{}); err == nil {
			t.Error("RevokeClient with no client succeeded")
		}

		// The row lives as long as a client token can: ClientLifetime + grace.
		conn := db.Open(t)
		count := func() (n int64) {
			conn.Model(&store.Revocation{}).Where("client_id = ?", app).Count(&n)
			return n
		}
		if n := count(); n != 1 {
			t.Fatalf("%d client revocation rows, want 1", n)
		}
		clk.Advance(time.Hour)
		if err := s.prune(ctx); err != nil || count() != 1 || len(s.revs.clients) != 1 {
			t.Fatalf("prune before expiry: %v, %d rows, %d clients", err, count(), len(s.revs.clients))
		}
		clk.Advance(rowGrace + time.Second)
		if err := s.prune(ctx); err != nil || count() != 0 || len(s.revs.clients) != 0 {
			t.Fatalf("prune after expiry: %v, %d rows, %d clients", err, count(), len(s.revs.clients))
		}
	})
}

func TestClientRevocationReachesOtherInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		a := newService(t, db.Open(t), Config{})
		b := newService(t, db.Open(t), Config{})
		runSync(t, b)
		tok, _ := mustIssue(t, a, clientClaims("0123456789abcdef0123456789abcdef"))
		if _, err := b.Validate(ctx, tok); err != nil {
			t.Fatalf("B rejects A's client token: %v", err)
		}
		start := time.Now()
		if err := a.RevokeClient(ctx, "0123456789abcdef0123456789abcdef", time.Time{}); err != nil {
			t.Fatal(err)
		}
		wantReason(t, mustErr(a.Validate(ctx, tok)), fault.TokenInvalid)
		waitRevoked(t, b, tok, start)
	})
}

func TestClientLifetimeBound(t *testing.T) {
	db := storetest.SQLite(t)
	clk := newClock()
	s := newService(t, db.Open(t), Config{Now: clk.Now, ClientLifetime: time.Hour})
	c := clientClaims("app")
	c.ExpiresAt = clk.Now().Add(3 * time.Hour)
	tok, got := mustIssue(t, s, c)
	if want := clk.Now().Add(time.Hour).UTC().Truncate(time.Microsecond); !got.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want clamped to %v", got.ExpiresAt, want)
	}
	// A token issued under a longer ClientLifetime is not honoured past this one's.
	long := newService(t, db.Open(t), Config{Now: clk.Now, ClientLifetime: 3 * time.Hour})
	ltok, _ := mustIssue(t, long, c)
	clk.Advance(time.Hour)
	wantReason(t, mustErr(s.Validate(context.Background(), ltok)), fault.TokenExpired)
	wantReason(t, mustErr(s.Validate(context.Background(), tok)), fault.TokenExpired)
	if _, err := long.Validate(context.Background(), ltok); err != nil {
		t.Errorf("on its own service: %v", err)
	}
}
