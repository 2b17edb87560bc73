package testclock

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name string
		move func(c *Clock)
		want time.Time
	}{
		{"unmoved", func(*Clock) {}, start},
		{"advance", func(c *Clock) { c.Advance(90 * time.Second) }, start.Add(90 * time.Second)},
		{"advance twice", func(c *Clock) { c.Advance(time.Hour); c.Advance(time.Microsecond) }, start.Add(time.Hour + time.Microsecond)},
		{"back", func(c *Clock) { c.Advance(-2 * time.Hour) }, start.Add(-2 * time.Hour)},
		{"set", func(c *Clock) { c.Set(start.AddDate(1, 0, 0)) }, start.AddDate(1, 0, 0)},
		{"set then advance", func(c *Clock) { c.Set(start.Add(time.Minute)); c.Advance(time.Minute) }, start.Add(2 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(start)
			tt.move(c)
			if got := c.Now(); !got.Equal(tt.want) {
				t.Fatalf("Now() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestZeroValue(t *testing.T) {
	var c Clock
	if !c.Now().IsZero() {
		t.Fatalf("zero Clock reads %v, want the zero time", c.Now())
	}
	c.Advance(time.Second)
	if got := c.Now(); !got.Equal(time.Time{}.Add(time.Second)) {
		t.Fatalf("Now() = %v after Advance(1s) from zero", got)
	}
}

// TestConcurrent is for the race detector: readers and movers at once, and
// no step lost.
func TestConcurrent(t *testing.T) {
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	c := New(start)
	const movers, steps = 8, 100
	var wg sync.WaitGroup
	for range movers {
		wg.Go(func() {
			for range steps {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(movers*steps*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}
