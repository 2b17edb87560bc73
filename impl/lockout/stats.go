package lockout

import "sync/atomic"

// refusalCounts counts refused attempts (Begin answering fault.Locked) per
// kind, for metrics. Process-local: each instance reports its own.
type refusalCounts struct {
	password, https, totp, other atomic.Uint64
}

func (r *refusalCounts) of(k Kind) *atomic.Uint64 {
	switch k {
	case KindPassword:
		return &r.password
	case KindHTTPS:
		return &r.https
	case KindTOTP:
		return &r.totp
	}
	return &r.other
}

// Refusals reports how many attempts of kind this Guard refused because the
// credential was locked (or its attempts were all taken) since it was made.
// A nil Guard refuses nothing.
func (g *Guard) Refusals(k Kind) uint64 {
	if g == nil {
		return 0
	}
	return g.refused.of(k).Load()
}
