package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/latchkey/latchkey/impl/envelope"
	"github.com/latchkey/latchkey/impl/fault"
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-Id"

// requestID keeps a sane incoming X-Request-Id (so a caller can correlate)
// or makes one, answers it on every response, and records it with the
// logger for envelope.Write.
func (s *server) requestID(c *gin.Context) {
	id := c.Request.Header.Get(HeaderRequestID)
	if !saneRequestID(id) {
		id = newRequestID()
	}
	c.Writer.Header().Set(HeaderRequestID, id)
	envelope.Attach(c, s.log, id)
	c.Next()
}

// saneRequestID accepts 1-128 characters of [A-Za-z0-9._-]: enough for UUIDs
// and hex ids, nothing that could forge log lines or headers.
func saneRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_' || b == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// accessLog writes one line per request: method, path (never the query,
// which may carry secrets), route, status, size, duration, request id.
// Never headers or bodies.
func (s *server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if !s.log.Enabled(c.Request.Context(), level) {
		return
	}
	s.log.LogAttrs(c.Request.Context(), level, "request",
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.String("route", c.FullPath()),
		slog.Int("status", status),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
		slog.Duration("duration", time.Since(start)),
		slog.String("request_id", envelope.RequestID(c)),
	)
}

// recovery turns a panic into a logged error and a 500 in the family
// envelope; the stack goes to the log, never to the client.
func (s *server) recovery(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
			panic(v)
		}
		s.log.LogAttrs(c.Request.Context(), slog.LevelError, "panic while serving a request",
			slog.String("request_id", envelope.RequestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("route", c.FullPath()),
			slog.String("panic", fmt.Sprint(v)),
			slog.String("stack", string(debug.Stack())),
		)
		envelope.Write(c, fault.New(fault.Internal, "panic"))
	}()
	c.Next()
}

// bodyLimit bounds the request body before anything reads it (validation
// reads it whole, twice on secured operations). A declared length over the
// limit is refused at once; a chunked body fails on read (mapped to 413 by
// the validation step and the strict request error handler).
func (s *server) bodyLimit(c *gin.Context) {
	r := c.Request
	if r.ContentLength > s.maxBody {
		envelope.Write(c, fault.New(fault.BodyTooLarge,
			"The request body size %d is invalid: the limit is %d bytes.", r.ContentLength, s.maxBody))
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(c.Writer, r.Body, s.maxBody)
	}
	c.Next()
}

// tooLarge is the fault for a body that overflowed the limit while read.
func (s *server) tooLarge() *fault.Error {
	return fault.New(fault.BodyTooLarge, "The request body size is invalid: the limit is %d bytes.", s.maxBody)
}
