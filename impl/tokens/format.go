package tokens

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"github.com/latchkey/latchkey/impl/authn"
)

// Token string (version 1):
//
//	"lk1." base64url(payload) "." base64url(HMAC-SHA256(key, "lk1." base64url(payload)))
//
// The MAC covers the exact characters before the last dot, so no other
// spelling of the same payload verifies. Payload, all integers varint:
//
//	kind      byte (1 user, 2 client)
//	flags     byte (bit 0 restricted, bit 1 mfa_authn_at present)
//	token id  16 bytes
//	issued    unix microseconds (signed varint)
//	expires   microseconds after issued (signed varint)
//	[mfa]     microseconds after issued (signed varint; usually <= 0)
//	user id, user name, domain id, client id, scope domain id: one atom each
//	methods   uvarint count, then one atom each
//	roles     uvarint count, then one atom each
//
// An atom is a tag byte: 0 empty string; 1 followed by 16 bytes that stand
// for 32 lowercase hex characters (latchkey ids); 2 followed by a uvarint
// length and the raw bytes; knownBase+i for knownAtoms[i]. Times are kept at
// microsecond precision, the precision of the wire format and of PostgreSQL.
const (
	prefix      = "lk1."
	macLen      = 32
	macB64Len   = 43 // base64.RawURLEncoding.EncodedLen(macLen)
	maxTokenLen = 1024
	maxListLen  = 16

	flagRestricted = 1 << 0
	flagMFA        = 1 << 1

	atomEmpty = 0
	atomHex16 = 1
	atomRaw   = 2
	knownBase = 0x40
)

// knownAtoms are method and role names encoded as one byte. Append only:
// the index is part of the token format.
var knownAtoms = [...]string{
	"password", "token", "totp", "client_credentials",
	string(authn.RoleOwner), string(authn.RoleSecuAdmin),
}

var errFormat = errors.New("malformed token payload")

func appendAtom(b []byte, s string) []byte {
	if s == "" {
		return append(b, atomEmpty)
	}
	for i, k := range knownAtoms {
		if s == k {
			return append(b, byte(knownBase+i))
		}
	}
	if isHexID(s) {
		b = append(b, atomHex16)
		b, _ = hex.AppendDecode(b, []byte(s)) // cannot fail: isHexID
		return b
	}
	b = append(b, atomRaw)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// isHexID reports whether s is 32 lowercase hex characters, so that decoding
// the 16 bytes gives back exactly s.
func isHexID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func encodePayload(b []byte, c *Claims, id [16]byte) []byte {
	b = append(b, byte(c.Kind))
	var flags byte
	if c.Restricted {
		flags |= flagRestricted
	}
	if c.MFAAuthnAt != nil {
		flags |= flagMFA
	}
	b = append(b, flags)
	b = append(b, id[:]...)
	iat := c.IssuedAt.UnixMicro()
	b = binary.AppendVarint(b, iat)
	b = binary.AppendVarint(b, c.ExpiresAt.UnixMicro()-iat)
	if c.MFAAuthnAt != nil {
		b = binary.AppendVarint(b, c.MFAAuthnAt.UnixMicro()-iat)
	}
	b = appendAtom(b, c.UserID)
	b = appendAtom(b, c.UserName)
	b = appendAtom(b, c.DomainID)
	b = appendAtom(b, c.ClientID)
	b = appendAtom(b, c.ScopeDomainID)
	b = binary.AppendUvarint(b, uint64(len(c.Methods)))
	for _, m := range c.Methods {
		b = appendAtom(b, m)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Roles)))
	for _, r := range c.Roles {
		b = appendAtom(b, string(r))
	}
	return b
}

// reader decodes a payload; the first error sticks and every later read
// returns zero values, so decodePayload checks once at the end.
type reader struct {
	b   []byte
	err bool
}

func (r *reader) byte() byte {
	if r.err || len(r.b) < 1 {
		r.err = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) varint() int64 {
	if r.err {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	if r.err {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) atom() string {
	switch t := r.byte(); {
	case r.err:
		return ""
	case t == atomEmpty:
		return ""
	case t == atomHex16:
		if len(r.b) < 16 {
			r.err = true
			return ""
		}
		s := hex.EncodeToString(r.b[:16])
		r.b = r.b[16:]
		return s
	case t == atomRaw:
		n := r.uvarint()
		if r.err || n == 0 || n > uint64(len(r.b)) {
			r.err = true // an empty raw atom is never written
			return ""
		}
		s := string(r.b[:n])
		r.b = r.b[n:]
		return s
	case t >= knownBase && int(t-knownBase) < len(knownAtoms):
		return knownAtoms[t-knownBase]
	default:
		r.err = true
		return ""
	}
}

func (r *reader) count() int {
	n := r.uvarint()
	if n > maxListLen {
		r.err = true
		return 0
	}
	return int(n)
}

// usecTime converts unix microseconds to a UTC time.
func usecTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

func decodePayload(b []byte, c *Claims) error {
	r := reader{b: b}
	c.Kind = Kind(r.byte())
	flags := r.byte()
	if r.err || (c.Kind != KindUser && c.Kind != KindClient) || flags&^(flagRestricted|flagMFA) != 0 {
		return errFormat
	}
	if len(r.b) < 16 {
		return errFormat
	}
	c.TokenID = hex.EncodeToString(r.b[:16])
	r.b = r.b[16:]
	iat := r.varint()
	exp := r.varint()
	var mfa int64
	if flags&flagMFA != 0 {
		mfa = r.varint()
	}
	// Bound the times so the additions below cannot overflow.
	const lim = 1 << 60
	if r.err || iat < 0 || iat > lim || exp < -lim || exp > lim || mfa < -lim || mfa > lim {
		return errFormat
	}
	c.IssuedAt = usecTime(iat)
	c.ExpiresAt = usecTime(iat + exp)
	c.MFAAuthnAt = nil
	if flags&flagMFA != 0 {
		t := usecTime(iat + mfa)
		c.MFAAuthnAt = &t
	}
	c.Restricted = flags&flagRestricted != 0
	c.UserID = r.atom()
	c.UserName = r.atom()
	c.DomainID = r.atom()
	c.ClientID = r.atom()
	c.ScopeDomainID = r.atom()
	c.Methods = nil
	if n := r.count(); n > 0 {
		c.Methods = make([]string, n)
		for i := range c.Methods {
			c.Methods[i] = r.atom()
		}
	}
	c.Roles = nil
	if n := r.count(); n > 0 {
		c.Roles = make([]authn.Role, n)
		for i := range c.Roles {
			c.Roles[i] = authn.Role(r.atom())
		}
	}
	if r.err || len(r.b) != 0 {
		return errFormat
	}
	return nil
}
