package accounts

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/impl/lockout"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/policies"
	"github.com/latchkey/latchkey/impl/store/storetest"
)

// BenchmarkAuthenticateLockout is the cost the lockout (and the account
// validity check) adds to a successful login, against the same login without
// them in the same run. Hashing uses the cheap test parameters so that the
// database work shows; at the production argon2 parameters (tens of
// milliseconds per hash) the difference is noise.
//
//	go test -run '^$' -bench AuthenticateLockout ./impl/accounts
func BenchmarkAuthenticateLockout(b *testing.B) {
	for _, env := range storetest.Databases(b) {
		b.Run(env.Name, func(b *testing.B) {
			db := env.Open(b)
			h := passwords.NewHasher(fastParams, 4, 0)
			pol := policies.New(db, quietLog())
			plain := New(db, h, nil, quietLog(), WithPolicySource(pol.Password))
			res, err := plain.Bootstrap(context.Background(), "bench", "admin", ownerPassword)
			if err != nil {
				b.Fatal(err)
			}
			guarded := New(db, h, nil, quietLog(), WithPolicySource(pol.Password),
				WithLockout(lockout.New(db, pol, quietLog())), WithAccountValidity(pol.AccountValidity))
			ref := UserRef{ID: res.Admin.ID}
			ctx := context.Background()
			b.Run("baseline-no-lockout", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := plain.Authenticate(ctx, ref, ownerPassword); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("with-lockout", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := guarded.Authenticate(ctx, ref, ownerPassword); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
