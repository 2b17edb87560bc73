package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
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
// and no field of any family means to carry one).
func useStrictJSON() {
	registerDecoder.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/json", strictJSON)
	})
}

var errTrailing = errors.New("unexpected data after the JSON value")
var errNUL = errors.New("a string contains a NUL character")

func strictJSON(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	dec := json.NewDecoder(body)
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
