package passwords

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
)

func TestHasherStats(t *testing.T) {
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1, 50*time.Millisecond)
	if s := h.Stats(); s != (Stats{Slots: 1}) {
		t.Fatalf("idle stats %+v", s)
	}
	release, err := h.acquire(context.Background()) // hold the only slot
	if err != nil {
		t.Fatal(err)
	}
	if s := h.Stats(); s.InFlight != 1 {
		t.Errorf("in flight %d, want 1", s.InFlight)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "Stats-Secret-1!")
		done <- err
	}()
	deadline := time.Now().Add(time.Second)
	for h.Stats().Waiting != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s := h.Stats(); s.Waiting != 1 {
		t.Errorf("waiting %d, want 1", s.Waiting)
	}
	if err := <-done; !fault.Is(err, fault.Overloaded) {
		t.Fatalf("hash with no slot: %v, want overloaded", err)
	}
	// A caller whose context ends while queued is refused too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.DummyVerify(ctx, "x"); !fault.Is(err, fault.Overloaded) {
		t.Fatalf("dummy verify, canceled: %v", err)
	}
	release()
	if s := h.Stats(); s != (Stats{Slots: 1, Refused: 2}) {
		t.Errorf("stats after %+v, want 2 refused and nothing in flight or waiting", s)
	}
	if _, err := h.Hash(context.Background(), "Stats-Secret-1!"); err != nil {
		t.Fatal(err)
	}
	if s := h.Stats(); s.Refused != 2 || s.InFlight != 0 {
		t.Errorf("stats after a hash %+v", s)
	}
}
