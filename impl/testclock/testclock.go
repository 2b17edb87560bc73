// Package testclock gives tests a clock they move by hand, so that expiry,
// lockout windows and rotation can be tested without sleeping. Pass its Now
// method wherever the code under test takes a func() time.Time.
package testclock

import (
	"sync"
	"time"
)

// Clock is a settable time source. It is safe for concurrent use: the code
// under test may read it from its own goroutines while the test moves it.
// The zero value reads as the zero time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock that reads t until it is moved.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d; a negative d moves it back.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
