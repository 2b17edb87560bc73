package authn

import "context"

type clientIPKey struct{}

// WithClientIP returns ctx carrying the address the request came from (gin's
// ClientIP: the peer address, since the server trusts no proxy headers). The
// audit trail records it.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the request's source address, or "" outside a request.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}
