package accesskeys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// The SDK-HMAC-SHA256 signature of the Huawei Cloud SDKs (apis.md §7.2),
// computed exactly as core/auth/signer of huaweicloud-sdk-go-v3 does.
const (
	// Algorithm is the scheme word of the Authorization header.
	Algorithm = "SDK-HMAC-SHA256"
	// HeaderDate carries the signing time, DateFormat, UTC.
	HeaderDate = "X-Sdk-Date"
	DateFormat = "20060102T150405Z"
	// HeaderContentSha256 set to UnsignedPayload replaces the body hash.
	HeaderContentSha256 = "X-Sdk-Content-Sha256"
	UnsignedPayload     = "UNSIGNED-PAYLOAD"
)

// IsSigned reports whether an Authorization header value claims an
// SDK-HMAC-SHA256 signature.
func IsSigned(authorization string) bool {
	return len(authorization) > len(Algorithm) && authorization[:len(Algorithm)] == Algorithm &&
		authorization[len(Algorithm)] == ' '
}

// authorization is a parsed `SDK-HMAC-SHA256 Access=..., SignedHeaders=...,
// Signature=...` header.
type authorization struct {
	access        string
	signedHeaders []string // as listed (the SDK lists them lower-cased, sorted)
	signature     string
}

// parseAuthorization reads the header; ok is false when it is malformed.
func parseAuthorization(h string) (a authorization, ok bool) {
	if !IsSigned(h) {
		return a, false
	}
	var signed string
	var haveSigned bool
	for _, part := range strings.Split(h[len(Algorithm)+1:], ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			return a, false
		}
		switch strings.TrimSpace(k) {
		case "Access":
			a.access = strings.TrimSpace(v)
		case "SignedHeaders":
			signed, haveSigned = strings.TrimSpace(v), true
		case "Signature":
			a.signature = strings.TrimSpace(v)
		default:
			return a, false
		}
	}
	if a.access == "" || a.signature == "" || !haveSigned || signed == "" {
		return a, false
	}
	a.signedHeaders = strings.Split(signed, ";")
	for _, n := range a.signedHeaders {
		if n == "" {
			return a, false
		}
	}
	return a, true
}

// shouldEscape: every byte outside A-Z a-z 0-9 _ - ~ . is percent-encoded.
func shouldEscape(c byte) bool {
	return !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '~' || c == '.')
}

// escape percent-encodes s byte-wise with uppercase hex, as the SDK does.
func escape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if shouldEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if shouldEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hexUpper[c>>4])
			b.WriteByte(hexUpper[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// CanonicalURI escapes each segment of the decoded path and ends it with
// "/": /v3/users/<id>/password -> /v3/users/<id>/password/.
func CanonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	u := strings.Join(segs, "/")
	if u == "" || u[len(u)-1] != '/' {
		u += "/"
	}
	return u
}

// CanonicalQuery sorts the parameters by key, then each key's values (on
// the raw strings, as the SDK does) and joins the escaped pairs k=v with &.
func CanonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		ek := escape(k)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(escape(v))
		}
	}
	return b.String()
}

// canonicalHeaders gives one "name:trimmed-value\n" per value of each
// signed header, in SignedHeaders order (several values of one header
// sorted). Host lives in r.Host, not in r.Header.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		var vals []string
		if strings.EqualFold(name, "host") {
			if r.Host != "" {
				vals = []string{r.Host}
			}
		} else {
			vals = append(vals, r.Header.Values(name)...)
		}
		sort.Strings(vals)
		for _, v := range vals {
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// PayloadHash is the hex SHA-256 of the exact body, or UNSIGNED-PAYLOAD
// when the request says so in X-Sdk-Content-Sha256.
func PayloadHash(h http.Header, body []byte) string {
	if h.Get(HeaderContentSha256) == UnsignedPayload {
		return UnsignedPayload
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// CanonicalRequest builds the canonical request of r (whose URL.Path is
// decoded) for the signed header names and the exact body bytes. ok is false
// when the query string cannot be decoded.
func CanonicalRequest(r *http.Request, signed []string, body []byte) (cr string, ok bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(CanonicalURI(r.URL.Path))
	b.WriteByte('\n')
	b.WriteString(CanonicalQuery(q))
	b.WriteByte('\n')
	b.WriteString(canonicalHeaders(r, signed))
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(PayloadHash(r.Header, body))
	return b.String(), true
}

// StringToSign is "SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex SHA-256 of the
// canonical request>".
func StringToSign(date, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])
}

// Signature is the hex HMAC-SHA256 of stringToSign keyed with the secret key.
func Signature(secret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}
