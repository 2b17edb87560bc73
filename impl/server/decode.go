package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/gin-gonic/gin"

	"github.com/latchkey/latchkey/impl/fault"
)

var registerDecoder sync.Once

// useStrictJSON replaces kin-openapi's JSON body decoder (a process-wide
// registry) with one that refuses what the generated handlers would silently
// accept: data after the JSON value (the strict server decodes only the
// first value), and NUL characters in strings (PostgreSQL cannot store them,
// and no field of any family means to carry one). It decodes responses too:
// an off-spec response never leaves, so it must be at least as strict there.
func useStrictJSON() {
	registerDecoder.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/json", strictJSON)
		// Images (the MFA QR code) are validated as opaque binary strings.
		openapi3filter.RegisterBodyDecoder("image/png", openapi3filter.FileBodyDecoder)
	})
}

var errTrailing = errors.New("unexpected data after the JSON value")
var errNUL = errors.New("a string contains a NUL character")

// strictJSON decodes a body for validation. With encoding/json (a Decoder,
// reflection, a second walk for NULs) decoding was nearly half the cost of
// validating a small response; jsonParser does it in one pass and gives the very
// values encoding/json gives with UseNumber (json.Number keeps the literal,
// so number checks are unchanged; FuzzJSONParser holds it to that). A body
// it refuses goes to strictJSONStd, which decodes it again with
// encoding/json: errors keep their exact wording, and a parser too strict
// by mistake would cost time, not a wrong answer.
func strictJSON(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	p := parsers.Get().(*jsonParser)
	defer p.release()
	p.buf.Reset()
	if _, err := io.Copy(&p.buf, body); err != nil {
		return nil, &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: err}
	}
	return p.decode(p.buf.Bytes())
}

// decodeJSON is strictJSON on a body already in memory.
func decodeJSON(data []byte) (any, error) {
	p := parsers.Get().(*jsonParser)
	defer p.release()
	return p.decode(data)
}

// checkJSON is decodeJSON followed by check(value), for a value that is
// garbage once checked: when check returns nil, the value's objects are
// cleared and reused by later decodes (objects are most of what decoding
// allocates). check must keep no reference to the value when it returns
// nil (Schema.VisitJSON keeps none); its error may refer to the value, so
// then nothing is reused. decodeErr is decodeJSON's error.
func checkJSON(data []byte, check func(any) error) (decodeErr, checkErr error) {
	p := parsers.Get().(*jsonParser)
	defer p.release()
	p.reuse = true
	v, err := p.decode(data)
	if err != nil {
		p.reuse = false
		return err, nil
	}
	if err := check(v); err != nil {
		p.reuse = false
		return nil, err
	}
	return nil, nil
}

func (p *jsonParser) decode(data []byte) (any, error) {
	v, ok := p.parse(data)
	if !ok || p.nul && hasNUL(v) {
		return strictJSONStd(data)
	}
	return v, nil
}

// strictJSONStd is strictJSON with encoding/json: the reference for
// jsonParser (see FuzzJSONParser) and the source of its error messages.
func strictJSONStd(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: errTrailing}
	}
	if hasNUL(v) {
		return nil, &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: errNUL}
	}
	return v, nil
}

func hasNUL(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.IndexByte(t, 0) >= 0
	case map[string]any:
		for k, e := range t {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasNUL(e) {
				return true
			}
		}
	}
	return false
}

var parsers = sync.Pool{New: func() any { return new(jsonParser) }}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// jsonParser decodes one JSON document (and nothing but whitespace after it)
// into the values encoding/json's Decoder gives with UseNumber:
// map[string]any, []any, string, json.Number, bool and nil; duplicate member
// names keep the last value; invalid UTF-8 and lone surrogates in strings
// become U+FFFD. It only says whether the document is valid, not why.
type jsonParser struct {
	buf   bytes.Buffer // the body, reused
	s     string       // the body as a string: plain strings are substrings of it (one copy)
	pos   int
	depth int
	nul   bool  // a string (member name or value) holds a NUL
	stack []any // elements of the arrays being parsed, reused

	// With reuse set (checkJSON), the objects made are listed in made and
	// go back to spare at release.
	reuse bool
	made  []map[string]any
	spare []map[string]any
}

// Bounds on reused objects, so that the pool keeps little: only small
// objects (a map of up to 8 members is one group) and not too many.
const (
	maxReusedMembers = 8
	maxSpareObjects  = 64
)

func (p *jsonParser) release() {
	if p.buf.Cap() > 64<<10 {
		p.buf = bytes.Buffer{} // do not pin a big body in the pool
	}
	clear(p.stack[:cap(p.stack)])
	p.stack, p.s = p.stack[:0], ""
	for _, m := range p.made {
		if p.reuse && len(m) <= maxReusedMembers && len(p.spare) < maxSpareObjects {
			clear(m)
			p.spare = append(p.spare, m)
		}
	}
	clear(p.made)
	p.made, p.reuse = p.made[:0], false
	if cap(p.stack) > 4096 || cap(p.made) > 4096 {
		p.stack, p.made = nil, nil // a huge document's scratch is not kept either
	}
	parsers.Put(p)
}

// newObject returns an empty map for an object, a spare one if it can.
func (p *jsonParser) newObject() map[string]any {
	if !p.reuse {
		return map[string]any{}
	}
	var m map[string]any
	if n := len(p.spare); n > 0 {
		m, p.spare[n-1] = p.spare[n-1], nil
		p.spare = p.spare[:n-1]
	} else {
		m = map[string]any{}
	}
	p.made = append(p.made, m)
	return m
}

func (p *jsonParser) parse(data []byte) (v any, ok bool) {
	p.s, p.pos, p.depth, p.nul = string(data), 0, 0, false
	if v, ok = p.value(); !ok {
		return nil, false
	}
	p.skipSpace()
	return v, p.pos == len(p.s)
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, bool) {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.string()
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, false
}

func (p *jsonParser) literal(lit string) bool {
	if !strings.HasPrefix(p.s[p.pos:], lit) {
		return false
	}
	p.pos += len(lit)
	return true
}

func (p *jsonParser) object() (any, bool) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, false
	}
	p.pos++ // '{'
	m := p.newObject()
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		p.pos++
		p.depth--
		return m, true
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != '"' {
			return nil, false
		}
		k, ok := p.string()
		if !ok {
			return nil, false
		}
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return nil, false
		}
		p.pos++
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, false
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			return m, true
		default:
			return nil, false
		}
	}
}

func (p *jsonParser) array() (any, bool) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, false
	}
	p.pos++ // '['
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		p.pos++
		p.depth--
		return []any{}, true
	}
	// Elements gather on the shared stack, so the array is allocated once,
	// at its final length.
	base := len(p.stack)
	for {
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, v)
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, false
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			a := make([]any, len(p.stack)-base)
			copy(a, p.stack[base:])
			clear(p.stack[base:])
			p.stack = p.stack[:base]
			return a, true
		default:
			return nil, false
		}
	}
}

// number checks JSON's number grammar and keeps the literal, as UseNumber.
func (p *jsonParser) number() (any, bool) {
	s, start := p.s, p.pos
	i := start
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = skipDigits(s, i)
	default:
		return nil, false
	}
	if i < len(s) && s[i] == '.' {
		if i++; i >= len(s) || s[i] < '0' || s[i] > '9' {
			return nil, false
		}
		i = skipDigits(s, i)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		if i++; i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return nil, false
		}
		i = skipDigits(s, i)
	}
	p.pos = i
	return json.Number(s[start:i]), true
}

func skipDigits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// string parses the string starting at p.pos (its opening quote). One
// without escapes and in valid UTF-8 is a substring of p.s; any other is
// unquoted as encoding/json does.
func (p *jsonParser) string() (string, bool) {
	s := p.s
	start := p.pos + 1
	i := start
	for i < len(s) {
		c := s[i]
		if c == '"' {
			p.pos = i + 1
			return s[start:i], true
		}
		if c == '\\' || c < ' ' {
			break
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	b := make([]byte, i-start, i-start+16)
	copy(b, s[start:i])
	for i < len(s) {
		switch c := s[i]; {
		case c == '"':
			p.pos = i + 1
			return string(b), true
		case c < ' ':
			return "", false
		case c == '\\':
			if i++; i >= len(s) {
				return "", false
			}
			switch s[i] {
			case '"', '\\', '/':
				b = append(b, s[i])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s[i+1:])
				if r < 0 {
					return "", false
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A valid pair is one character; anything else is U+FFFD,
					// and an escape that follows is read on its own.
					r2 := rune(-1)
					if strings.HasPrefix(s[i+1:], `\u`) {
						r2 = hex4(s[i+3:])
					}
					if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
						i += 6
					}
				}
				if r == 0 {
					p.nul = true
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", false
			}
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			b = utf8.AppendRune(b, r)
			i += size
		}
	}
	return "", false
}

// hex4 decodes the 4 hex digits s starts with, or returns -1.
func hex4(s string) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// badParam names the first path or query parameter carrying a NUL or
// invalid UTF-8, which no parameter of the contract can mean and which
// PostgreSQL refuses; "" when all are sane.
func badParam(c *gin.Context) string {
	for _, p := range c.Params {
		if !saneParam(p.Value) {
			return p.Key
		}
	}
	if raw := c.Request.URL.RawQuery; raw != "" && strings.IndexByte(raw, '%') >= 0 {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return "query"
		}
		for k, vs := range q {
			if !saneParam(k) {
				return "query"
			}
			for _, v := range vs {
				if !saneParam(v) {
					return k
				}
			}
		}
	}
	return ""
}

func saneParam(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

func badParamFault(name string) *fault.Error {
	if !saneParam(name) {
		name = "query"
	}
	return fault.New(fault.ParameterInvalid, "Request parameter %s is invalid.", name)
}
