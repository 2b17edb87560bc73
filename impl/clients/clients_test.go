package clients

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

// fastParams keep argon2 cheap in tests.
var fastParams = passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// revoker records RevokeClient calls (token revocation is another package).
type revoker struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (r *revoker) RevokeClient(_ context.Context, id string, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, id)
	return r.err
}

type fixture struct {
	db   *store.DB
	svc  *Service
	rev  *revoker
	dom  string // a domain
	dom2 string // another domain
	ctx  context.Context
}

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC)

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, rev: &revoker{}, ctx: context.Background(),
		dom: "0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4", dom2: "16b26081f43d4c628c4bb88cf32e9f9b"}
	f.svc = New(db, passwords.NewHasher(fastParams, 4, 0), f.rev, quietLog(), WithClock(func() time.Time { return testNow }))
	for i, id := range []string{f.dom, f.dom2} {
		d := store.Domain{ID: id, Name: []string{"acme", "other"}[i], CreatedAt: testNow, UpdatedAt: testNow}
		if err := db.Create(&d).Error; err != nil {
			t.Fatalf("create domain: %v", err)
		}
	}
	return f
}

func wantReason(t *testing.T, err error, want fault.Reason) {
	t.Helper()
	if !fault.Is(err, want) {
		t.Fatalf("error = %v, want reason %s", err, want)
	}
}

func TestCreateAndAuthenticate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		db := env.Open(t)
		f := newFixture(t, db)
		tests := []struct {
			name string
			in   Input
		}{
			{"generated id and secret", Input{Name: "billing"}},
			{"chosen secret with special characters", Input{Name: "legacy", Secret: "p@ss word+/:="}},
			{"chosen id", Input{ID: "my-app.v2_~x", Secret: "Sekr3t-Sekr3t"}},
			{"unicode secret", Input{Secret: "пароль-密码-ÿ"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c, secret, err := f.svc.Create(f.ctx, f.dom, tt.in)
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				if tt.in.ID == "" && (len(c.ID) != 32 || strings.Trim(c.ID, "0123456789abcdef") != "") {
					t.Errorf("generated id %q is not 32 lowercase hex", c.ID)
				}
				if tt.in.ID != "" && c.ID != tt.in.ID {
					t.Errorf("id %q, want %q", c.ID, tt.in.ID)
				}
				if tt.in.Secret == "" {
					if len(secret) != 43 || strings.ContainsAny(secret, "+/=") {
						t.Errorf("generated secret %d chars, want 43 URL-safe", len(secret))
					}
				} else if secret != tt.in.Secret {
					t.Error("Create did not return the chosen secret")
				}
				if c.DomainID != f.dom || c.Name != tt.in.Name || !c.CreatedAt.Equal(testNow.Truncate(time.Microsecond)) {
					t.Errorf("client %+v", c)
				}

				// Stored hashed, never in clear.
				var row store.OAuthClient
				if err := db.Where("id = ?", c.ID).Take(&row).Error; err != nil {
					t.Fatal(err)
				}
				if strings.Contains(row.SecretHash, secret) {
					t.Fatal("secret stored in clear")
				}
				wantPrefix := "$argon2id$"
				if tt.in.Secret == "" {
					wantPrefix = "sha256$"
				}
				if !strings.HasPrefix(row.SecretHash, wantPrefix) {
					t.Errorf("hash %q..., want prefix %s", row.SecretHash[:10], wantPrefix)
				}

				got, err := f.svc.Authenticate(f.ctx, c.ID, secret)
				if err != nil || got.ID != c.ID || got.DomainID != f.dom {
					t.Fatalf("Authenticate = %+v, %v", got, err)
				}
				for _, bad := range []string{"", secret + "x", secret[:len(secret)-1], strings.ToUpper(secret)} {
					if bad == secret {
						continue
					}
					_, err := f.svc.Authenticate(f.ctx, c.ID, bad)
					wantReason(t, err, fault.WrongPassword)
				}
			})
		}
		_, err := f.svc.Authenticate(f.ctx, "no-such-client", "whatever-secret")
		wantReason(t, err, fault.WrongPassword)
		_, err = f.svc.Authenticate(f.ctx, "", "")
		wantReason(t, err, fault.WrongPassword)
	})
}

func TestCreateRejects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env.Open(t))
		if _, _, err := f.svc.Create(f.ctx, f.dom, Input{ID: "taken"}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			domain string
			in     Input
			want   fault.Reason
		}{
			{"id too long", f.dom, Input{ID: strings.Repeat("a", 65)}, fault.PropertyInvalid},
			{"id with colon", f.dom, Input{ID: "a:b"}, fault.PropertyInvalid},
			{"id with space", f.dom, Input{ID: "a b"}, fault.PropertyInvalid},
			{"id taken", f.dom, Input{ID: "taken"}, fault.Conflict},
			{"id taken in another domain", f.dom2, Input{ID: "taken"}, fault.Conflict},
			{"name too long", f.dom, Input{Name: strings.Repeat("n", 65)}, fault.PropertyInvalid},
			{"name with control", f.dom, Input{Name: "a\nb"}, fault.PropertyInvalid},
			{"secret too short", f.dom, Input{Secret: "1234567"}, fault.PropertyInvalid},
			{"secret too long", f.dom, Input{Secret: strings.Repeat("s", 129)}, fault.PropertyInvalid},
			{"secret with control", f.dom, Input{Secret: "abc\x00defgh"}, fault.PropertyInvalid},
			{"secret not UTF-8", f.dom, Input{Secret: "abcdefg\xff"}, fault.PropertyInvalid},
			{"unknown domain", "ffffffffffffffffffffffffffffffff", Input{}, fault.NotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, err := f.svc.Create(f.ctx, tt.domain, tt.in)
				wantReason(t, err, tt.want)
				if tt.in.Secret != "" && strings.Contains(err.Error(), tt.in.Secret) {
					t.Error("error echoes the secret")
				}
			})
		}
		// Boundaries that pass.
		for _, in := range []Input{{ID: strings.Repeat("a", 64)}, {Name: strings.Repeat("名", 64)}, {Secret: "12345678"}, {Secret: strings.Repeat("s", 128)}} {
			if _, _, err := f.svc.Create(f.ctx, f.dom, in); err != nil {
				t.Errorf("Create(%.20q...): %v", in.ID+in.Name, err)
			}
		}
	})
}

func TestListGetDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env.Open(t))
		a, _, _ := f.svc.Create(f.ctx, f.dom, Input{Name: "a"})
		b, bSecret, _ := f.svc.Create(f.ctx, f.dom, Input{Name: "b"})
		other, _, _ := f.svc.Create(f.ctx, f.dom2, Input{Name: "other"})

		list, err := f.svc.List(f.ctx, f.dom)
		if err != nil || len(list) != 2 {
			t.Fatalf("List = %v, %v", list, err)
		}
		for _, c := range list {
			if c.DomainID != f.dom || (c.ID != a.ID && c.ID != b.ID) {
				t.Errorf("listed %+v", c)
			}
		}
		if empty, err := f.svc.List(f.ctx, "ffffffffffffffffffffffffffffffff"); err != nil || empty == nil || len(empty) != 0 {
			t.Errorf("List of a domain without clients = %#v, %v; want empty, non-nil", empty, err)
		}
		if got, err := f.svc.Get(f.ctx, f.dom, a.ID); err != nil || got != a {
			t.Errorf("Get = %+v, %v; want %+v", got, err, a)
		}
		_, err = f.svc.Get(f.ctx, f.dom, other.ID) // foreign: not found
		wantReason(t, err, fault.NotFound)

		wantReason(t, f.svc.Delete(f.ctx, f.dom, other.ID), fault.NotFound)
		if _, err := f.svc.Get(f.ctx, f.dom2, other.ID); err != nil {
			t.Fatalf("a foreign delete removed the client: %v", err)
		}
		if err := f.svc.Delete(f.ctx, f.dom, b.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if len(f.rev.calls) != 1 || f.rev.calls[0] != b.ID {
			t.Errorf("revocations %v, want [%s]", f.rev.calls, b.ID)
		}
		_, err = f.svc.Authenticate(f.ctx, b.ID, bSecret)
		wantReason(t, err, fault.WrongPassword)
		wantReason(t, f.svc.Delete(f.ctx, f.dom, b.ID), fault.NotFound)
		if list, _ := f.svc.List(f.ctx, f.dom); len(list) != 1 || list[0].ID != a.ID {
			t.Errorf("after delete: %+v", list)
		}

		// A failed revocation is reported: the tokens may still work.
		f.rev.err = fault.New(fault.Internal, "boom")
		if err := f.svc.Delete(f.ctx, f.dom, a.ID); err == nil {
			t.Error("Delete hid a failed revocation")
		}
	})
}

func TestBootstrap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env.Open(t))

		// Nothing configured and not the first start: nothing to do.
		res, err := f.svc.Bootstrap(f.ctx, f.dom, "", "", false)
		if err != nil || res.Created || res.Client.ID != "" {
			t.Fatalf("Bootstrap = %+v, %v", res, err)
		}

		// First start, nothing configured: generated id and secret.
		res, err = f.svc.Bootstrap(f.ctx, f.dom, "", "", true)
		if err != nil || !res.Created || len(res.Client.ID) != 32 || res.GeneratedSecret == "" {
			t.Fatalf("Bootstrap = %+v, %v", res, err)
		}
		if _, err := f.svc.Authenticate(f.ctx, res.Client.ID, res.GeneratedSecret); err != nil {
			t.Fatalf("generated bootstrap client: %v", err)
		}

		// Configured id and secret: created once, never overwritten.
		res, err = f.svc.Bootstrap(f.ctx, f.dom, "ops-app", "p@ss word+/:=", false)
		if err != nil || !res.Created || res.Client.ID != "ops-app" || res.GeneratedSecret != "" {
			t.Fatalf("Bootstrap = %+v, %v", res, err)
		}
		res, err = f.svc.Bootstrap(f.ctx, f.dom, "ops-app", "another-secret", false)
		if err != nil || res.Created || res.Client.ID != "ops-app" {
			t.Fatalf("second Bootstrap = %+v, %v", res, err)
		}
		if _, err := f.svc.Authenticate(f.ctx, "ops-app", "p@ss word+/:="); err != nil {
			t.Fatalf("the configured secret was overwritten: %v", err)
		}
		_, err = f.svc.Authenticate(f.ctx, "ops-app", "another-secret")
		wantReason(t, err, fault.WrongPassword)

		// Configured id without a secret: generated secret, shown once.
		res, err = f.svc.Bootstrap(f.ctx, f.dom, "ops-app-2", "", false)
		if err != nil || !res.Created || res.GeneratedSecret == "" {
			t.Fatalf("Bootstrap = %+v, %v", res, err)
		}
		res, err = f.svc.Bootstrap(f.ctx, f.dom, "ops-app-2", "", true)
		if err != nil || res.Created || res.GeneratedSecret != "" {
			t.Fatalf("repeat Bootstrap = %+v, %v", res, err)
		}

		// Invalid configuration is an error.
		if _, err := f.svc.Bootstrap(f.ctx, f.dom, "bad id", "", true); err == nil {
			t.Error("Bootstrap accepted an invalid id")
		}
		if _, err := f.svc.Bootstrap(f.ctx, f.dom, "short", "1234", true); err == nil {
			t.Error("Bootstrap accepted a 4-character secret")
		}
	})
}

// Several instances starting at once create the configured client once.
func TestBootstrapConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env.Open(t))
		var wg sync.WaitGroup
		created := make(chan bool, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := f.svc.Bootstrap(f.ctx, f.dom, "shared-app", "Shared-Secret-1", true)
				if err != nil {
					t.Errorf("Bootstrap: %v", err)
				}
				created <- res.Created
			}()
		}
		wg.Wait()
		close(created)
		n := 0
		for c := range created {
			if c {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d instances created the client, want 1", n)
		}
	})
}
