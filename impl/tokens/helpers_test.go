package tokens

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/testclock"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newClock returns a settable clock for Config.Now, at a time with
// nanoseconds (stored timestamps keep microseconds).
func newClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC))
}

func newService(t testing.TB, db *store.DB, cfg Config) *Service {
	s, err := New(context.Background(), db, quietLog(), cfg)
	if err != nil {
		t.Fatalf("tokens.New: %v", err)
	}
	return s
}

// runSync runs s.Run until the test ends.
func runSync(t testing.TB, s *Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func userClaims() Claims {
	return Claims{
		Kind:     KindUser,
		UserID:   "0123456789abcdef0123456789abcdef",
		UserName: "alice",
		DomainID: "fedcba9876543210fedcba9876543210",
		Methods:  []string{"password"},
	}
}

func mustIssue(t testing.TB, s *Service, c Claims) (string, Claims) {
	t.Helper()
	tok, got, err := s.Issue(context.Background(), c)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok, got
}
