package lockout

import (
	"testing"

	"github.com/latchkey/latchkey/impl/store/storetest"
)

// BenchmarkLockout measures the lockout's cost on one hot account against
// the baseline of the same run: a raw single-row UPDATE that changes that
// account's counter row (an UPDATE that writes identical values would be
// skipped by SQLite and flatter the baseline). A successful login pays Begin
// (one UPDATE that also reads the policy) plus Success (one UPDATE); a
// guess refused while locked pays one UPDATE that matches nothing and one
// read, and no hashing.
//
//	go test -run '^$' -bench Lockout ./impl/lockout
//	LATCHKEY_TEST_POSTGRES_DSN=... go test -run '^$' -bench Lockout ./impl/lockout
func BenchmarkLockout(b *testing.B) {
	for _, env := range storetest.Databases(b) {
		b.Run(env.Name, func(b *testing.B) {
			f := newFixture(b, env, 10)
			user := randHex(16)
			tk, err := f.g.Begin(f.ctx, f.dom, user, KindPassword)
			if err != nil {
				b.Fatal(err)
			}
			tk.Success(f.ctx)

			b.Run("baseline-raw-update", func(b *testing.B) {
				for b.Loop() {
					if err := f.db.WithContext(f.ctx).Exec("UPDATE lockout_counters SET failures = failures + 1 WHERE user_id = ? AND kind = ?", user, "password").Error; err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("begin", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.g.Begin(f.ctx, f.dom, user, KindPassword); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					_ = f.db.Exec("UPDATE lockout_counters SET attempts = 0 WHERE user_id = ?", user).Error
					b.StartTimer()
				}
			})
			b.Run("begin+success", func(b *testing.B) {
				for b.Loop() {
					tk, err := f.g.Begin(f.ctx, f.dom, user, KindPassword)
					if err != nil {
						b.Fatal(err)
					}
					tk.Success(f.ctx)
				}
			})
			b.Run("begin+success-parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						tk, err := f.g.Begin(f.ctx, f.dom, user, KindPassword)
						if err != nil {
							continue // attempts all in flight: refused, as designed
						}
						tk.Success(f.ctx)
					}
				})
			})
			locked := randHex(16)
			for range 10 {
				tk, err := f.g.Begin(f.ctx, f.dom, locked, KindPassword)
				if err != nil {
					b.Fatal(err)
				}
				tk.Failure(f.ctx)
			}
			b.Run("refused-while-locked", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.g.Begin(f.ctx, f.dom, locked, KindPassword); err == nil {
						b.Fatal("not locked")
					}
				}
			})
		})
	}
}
