package passwords

import "sync/atomic"

// Stats is a snapshot of a Hasher's concurrency bound, for metrics. It is
// read without locks, so its fields may be a moment apart.
type Stats struct {
	Slots    int    // argon2 runs allowed at once
	InFlight int    // argon2 runs holding a slot now
	Waiting  int64  // callers queued for a slot now
	Refused  uint64 // callers refused (fault.Overloaded) since the Hasher was made
}

// hashStats are the counters acquire keeps; a slot's occupancy needs none
// (it is the semaphore's length).
type hashStats struct {
	waiting atomic.Int64
	refused atomic.Uint64
}

// Stats reports the Hasher's load. It costs a few atomic loads, so a
// metrics scrape may call it freely; nothing is counted unless a caller
// had to wait (the fast path takes no extra step).
func (h *Hasher) Stats() Stats {
	return Stats{
		Slots:    cap(h.slots),
		InFlight: len(h.slots),
		Waiting:  h.stats.waiting.Load(),
		Refused:  h.stats.refused.Load(),
	}
}
