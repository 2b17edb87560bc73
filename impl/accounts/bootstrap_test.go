package accounts

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

func TestBootstrap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		ctx := context.Background()
		db := env.Open(t)
		svc := New(db, passwords.NewHasher(fastParams, 2, 0), &fakeRevoker{}, quietLog())

		res, err := svc.Bootstrap(ctx, "default", "admin", "")
		if err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
		if !res.Created || res.GeneratedPassword == "" {
			t.Fatalf("first bootstrap: created=%v generated=%q", res.Created, res.GeneratedPassword)
		}
		a := res.Admin
		if a.Role != RoleOwner || !a.IsDomainOwner || !a.Enabled || a.PwdStatus || a.DomainID != res.Domain.ID ||
			a.Name != "admin" || len(a.ID) != 32 || len(res.Domain.ID) != 32 || a.PasswordChangedAt == nil {
			t.Fatalf("unexpected admin %+v", a)
		}
		if strings.ContainsAny(res.GeneratedPassword, " '\"\\`$") {
			t.Fatalf("generated password is not print-safe")
		}
		if err := passwords.DefaultPolicy().Check(ctx, nil, res.GeneratedPassword, passwords.Subject{UserName: "admin"}, passwords.CheckOptions{}); err != nil {
			t.Fatalf("generated password breaks the default policy: %v", err)
		}
		if _, _, err := svc.Authenticate(ctx, UserRef{Name: "admin", DomainName: "default"}, res.GeneratedPassword); err != nil {
			t.Fatalf("authenticate with the generated password: %v", err)
		}

		// Second start: nothing changes, even with another password.
		again, err := svc.Bootstrap(ctx, "default", "admin", "Other-Pass.77")
		if err != nil {
			t.Fatalf("second bootstrap: %v", err)
		}
		if again.Created || again.GeneratedPassword != "" || again.Domain.ID != res.Domain.ID || again.Admin.ID != a.ID {
			t.Fatalf("second bootstrap changed something: %+v", again)
		}
		if _, _, err := svc.Authenticate(ctx, UserRef{ID: a.ID}, "Other-Pass.77"); !fault.Is(err, fault.WrongPassword) {
			t.Fatalf("second bootstrap must not overwrite the password: %v", err)
		}

		// A given password is used as is, and must satisfy the policy.
		given, err := svc.Bootstrap(ctx, "second", "root", "Given-Pass.42")
		if err != nil || !given.Created || given.GeneratedPassword != "" {
			t.Fatalf("bootstrap with a given password: %+v, %v", given, err)
		}
		if _, _, err := svc.Authenticate(ctx, UserRef{Name: "root", DomainID: given.Domain.ID}, "Given-Pass.42"); err != nil {
			t.Fatalf("authenticate with the given password: %v", err)
		}
		if _, err := svc.Bootstrap(ctx, "third", "root", "password"); !fault.Is(err, fault.PasswordPolicy) && !fault.Is(err, fault.PasswordWeak) {
			t.Fatalf("weak bootstrap password: %v", err)
		}
		if _, err := svc.Bootstrap(ctx, "fourth", "9bad", "Given-Pass.42"); !fault.Is(err, fault.NameInvalid) {
			t.Fatalf("bad admin name: %v", err)
		}
		var n int64
		db.Model(&store.Domain{}).Count(&n)
		if n != 2 {
			t.Fatalf("domains = %d, want 2", n)
		}
	})
}

func TestBootstrapConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		ctx := context.Background()
		const instances = 4
		svcs := make([]*Service, instances)
		for i := range svcs { // one pool per "instance"
			svcs[i] = New(env.Open(t), passwords.NewHasher(fastParams, 2, 0), &fakeRevoker{}, quietLog())
		}
		results := make([]BootstrapResult, instances)
		errs := make([]error, instances)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range svcs {
			wg.Go(func() {
				<-start
				results[i], errs[i] = svcs[i].Bootstrap(ctx, "default", "admin", "")
			})
		}
		close(start)
		wg.Wait()
		created := 0
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("instance %d: %v", i, errs[i])
			}
			if results[i].Created {
				created++
			} else if results[i].GeneratedPassword != "" {
				t.Fatalf("instance %d reported a password it did not set", i)
			}
			if results[i].Domain.ID != results[0].Domain.ID || results[i].Admin.ID != results[0].Admin.ID {
				t.Fatalf("instances disagree: %+v vs %+v", results[i], results[0])
			}
		}
		if created != 1 {
			t.Fatalf("created by %d instances, want 1", created)
		}
		var domains, users int64
		db := env.Open(t)
		db.Model(&store.Domain{}).Count(&domains)
		db.Model(&store.User{}).Count(&users)
		if domains != 1 || users != 1 {
			t.Fatalf("domains=%d users=%d, want 1 and 1", domains, users)
		}
	})
}
