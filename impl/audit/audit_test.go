package audit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/authn"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store/storetest"
	"github.com/latchkey/latchkey/impl/testclock"
)

func TestRecordFillsActorAndSource(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		clk := testclock.New(time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC))
		l := New(env.Open(t), quietLog(), WithClock(clk.Now))
		dom, user, admin := randHex(16), randHex(16), randHex(16)
		ctx := authn.WithClientIP(authn.WithPrincipal(context.Background(),
			&authn.Principal{Kind: authn.KindUserToken, UserID: admin, DomainID: dom}), "203.0.113.7")
		long := strings.Repeat("x", 300)
		if err := l.Record(ctx, Event{Type: PasswordReset, DomainID: dom, TargetID: user,
			Detail: map[string]string{"must_change": "true", "long": long}}); err != nil {
			t.Fatal(err)
		}
		client := authn.WithPrincipal(context.Background(), &authn.Principal{Kind: authn.KindCIAMClient, ClientID: "app-1", DomainID: dom})
		if err := l.Record(client, Event{Type: PasswordReset, DomainID: dom, TargetID: user}); err != nil {
			t.Fatal(err)
		}
		if err := l.Record(context.Background(), Event{Type: VerificationFailed, DomainID: dom, TargetID: user, Outcome: Failure}); err != nil {
			t.Fatal(err)
		}
		p, err := l.List(context.Background(), dom, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) != 3 || p.NextMarker != "" {
			t.Fatalf("page = %+v", p)
		}
		anon, cli, first := p.Events[0], p.Events[1], p.Events[2] // newest first
		if first.ActorID != admin || first.ActorType != ActorUser || first.SourceIP != "203.0.113.7" ||
			first.Outcome != Success || first.Type != PasswordReset || first.TargetID != user || len(first.ID) != 32 ||
			!first.Time.Equal(time.Date(2026, 11, 22, 12, 0, 0, 123456000, time.UTC)) ||
			first.Detail["must_change"] != "true" || len(first.Detail["long"]) != maxValueRunes {
			t.Fatalf("first = %+v", first)
		}
		if cli.ActorID != "app-1" || cli.ActorType != ActorClient || cli.SourceIP != "" {
			t.Fatalf("client event = %+v", cli)
		}
		if anon.ActorID != "" || anon.ActorType != ActorAnonymous || anon.Outcome != Failure || len(anon.Detail) != 0 {
			t.Fatalf("anonymous event = %+v", anon)
		}
	})
}

func TestListFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		base := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		clk := testclock.New(base)
		l := New(env.Open(t), quietLog(), WithClock(clk.Now))
		ctx := context.Background()
		dom, other := randHex(16), randHex(16)
		alice, bob := randHex(16), randHex(16)
		// 250 events, one per second, alternating users and types.
		for i := range 250 {
			ev := Event{Type: VerificationFailed, DomainID: dom, TargetID: alice, Outcome: Failure}
			if i%2 == 1 {
				ev = Event{Type: PasswordChanged, DomainID: dom, TargetID: bob, ActorID: bob, ActorType: ActorUser}
			}
			if err := l.Record(ctx, ev); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Second + 1500*time.Nanosecond) // sub-microsecond noise is truncated
		}
		if err := l.Record(ctx, Event{Type: PasswordChanged, DomainID: other, TargetID: alice}); err != nil {
			t.Fatal(err)
		}

		// Paging walks every event of the domain once, newest first.
		var seen []Record
		marker := ""
		for pages := 0; ; pages++ {
			p, err := l.List(ctx, dom, Filter{Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, p.Events...)
			if p.NextMarker == "" {
				if pages != 2 || len(p.Events) != 50 {
					t.Fatalf("last page %d has %d events", pages, len(p.Events))
				}
				break
			}
			marker = p.NextMarker
		}
		if len(seen) != 250 {
			t.Fatalf("saw %d events", len(seen))
		}
		ids := map[string]bool{}
		for i, r := range seen {
			if ids[r.ID] || r.DomainID != dom {
				t.Fatalf("event %d repeated or foreign: %+v", i, r)
			}
			ids[r.ID] = true
			if i > 0 && !r.Time.Before(seen[i-1].Time) {
				t.Fatalf("not newest first at %d", i)
			}
		}

		count := func(f Filter) int {
			t.Helper()
			f.Limit = MaxLimit
			p, err := l.List(ctx, dom, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(p.Events)
		}
		if n := count(Filter{Type: PasswordChanged}); n != 125 {
			t.Fatalf("by type: %d", n)
		}
		if n := count(Filter{UserID: alice}); n != 125 {
			t.Fatalf("by user: %d", n)
		}
		if n := count(Filter{UserID: bob, Type: VerificationFailed}); n != 0 {
			t.Fatalf("by user and type: %d", n)
		}
		// since is inclusive, until exclusive, at microsecond precision.
		t10 := base.Add(10 * (time.Second + 1500*time.Nanosecond)).Truncate(time.Microsecond)
		t20 := base.Add(20 * (time.Second + 1500*time.Nanosecond)).Truncate(time.Microsecond)
		if n := count(Filter{Since: t10, Until: t20}); n != 10 {
			t.Fatalf("since/until: %d", n)
		}
		if n := count(Filter{Since: t10.Add(time.Microsecond), Until: t20.Add(time.Microsecond)}); n != 10 {
			t.Fatalf("since/until shifted: %d", n)
		}
		p, err := l.List(ctx, dom, Filter{Limit: 3, Type: PasswordChanged})
		if err != nil || len(p.Events) != 3 || p.NextMarker != p.Events[2].ID {
			t.Fatalf("limit 3: %+v %v", p, err)
		}

		// Bad input.
		for _, f := range []Filter{{Marker: randHex(16)}, {Limit: MaxLimit + 1}, {Since: t20, Until: t10}} {
			if _, err := l.List(ctx, dom, f); !fault.Is(err, fault.ParameterInvalid) {
				t.Fatalf("%+v: %v", f, err)
			}
		}
		// A marker of another domain is unknown here.
		op, _ := l.List(ctx, other, Filter{})
		if _, err := l.List(ctx, dom, Filter{Marker: op.Events[0].ID}); !fault.Is(err, fault.ParameterInvalid) {
			t.Fatalf("foreign marker: %v", err)
		}

		n, err := l.Purge(ctx, t20)
		if err != nil || n != 20 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if n := count(Filter{}); n != 230 {
			t.Fatalf("after purge: %d", n)
		}
	})
}
