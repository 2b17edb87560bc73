// Package smtptest is a minimal SMTP server for tests of e-mail delivery:
// EHLO, optional STARTTLS, optional AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP
// and QUIT on a loopback listener, keeping what it receives in memory.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data string
	// User is the AUTH PLAIN user name ("" without AUTH); TLS tells whether
	// STARTTLS was in effect.
	User string
	TLS  bool
}

// Config configures a Server.
type Config struct {
	// TLS, when set, offers STARTTLS with this configuration.
	TLS *tls.Config
	// Username and Password, when set, offer AUTH PLAIN (after STARTTLS if
	// TLS is set) and require it before MAIL.
	Username, Password string
	// RejectRcpt, when not 0, answers RCPT with this code (e.g. 550 or 451).
	RejectRcpt int
}

// Server is a running test server.
type Server struct {
	Addr string // host:port
	cfg  Config
	ln   net.Listener

	mu   sync.Mutex
	msgs []Message
	got  chan struct{}
	wg   sync.WaitGroup
}

// Start listens on 127.0.0.1 and serves until Close.
func Start(cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), cfg: cfg, ln: ln, got: make(chan struct{}, 1)}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Host and Port of the listener.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port returns the listener's port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

// Messages returns what was accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait returns the n-th message (1-based) once it has arrived, or false
// after timeout.
func (s *Server) Wait(n int, timeout time.Duration) (Message, bool) {
	deadline := time.After(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m[n-1], true
		}
		select {
		case <-s.got:
		case <-deadline:
			return Message{}, false
		}
	}
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
		}()
	}
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(c)
	reply := func(format string, args ...any) { _ = tp.PrintfLine(format, args...) }
	reply("220 smtptest ESMTP")
	var (
		tlsOn bool
		user  string
		cur   Message
	)
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"smtptest", "8BITMIME"}
			if s.cfg.TLS != nil && !tlsOn {
				lines = append(lines, "STARTTLS")
			}
			if s.cfg.Username != "" && (tlsOn || s.cfg.TLS == nil) {
				lines = append(lines, "AUTH PLAIN")
			}
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				reply("250%s%s", sep, l)
			}
		case "STARTTLS":
			if s.cfg.TLS == nil || tlsOn {
				reply("502 not supported")
				continue
			}
			reply("220 ready")
			tc := tls.Server(c, s.cfg.TLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, tlsOn = tc, true
			tp = textproto.NewConn(tc)
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if !strings.EqualFold(mech, "PLAIN") || err != nil || len(parts) != 3 ||
				parts[1] != s.cfg.Username || parts[2] != s.cfg.Password {
				reply("535 authentication failed")
				continue
			}
			user = parts[1]
			reply("235 authenticated")
		case "MAIL":
			if s.cfg.Username != "" && user == "" {
				reply("530 authentication required")
				continue
			}
			cur = Message{From: addr(arg), User: user, TLS: tlsOn}
			reply("250 ok")
		case "RCPT":
			if s.cfg.RejectRcpt != 0 {
				reply("%d recipient refused", s.cfg.RejectRcpt)
				continue
			}
			cur.To = append(cur.To, addr(arg))
			reply("250 ok")
		case "DATA":
			reply("354 go ahead")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.Data = string(b)
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			select {
			case s.got <- struct{}{}:
			default:
			}
			reply("250 accepted")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 unknown command")
		}
	}
}

// addr extracts the address of "FROM:<a@b>" / "TO:<a@b>".
func addr(arg string) string {
	if i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>'); i >= 0 && j > i {
		return arg[i+1 : j]
	}
	return arg
}

// SelfSigned returns a server TLS configuration for 127.0.0.1 and
// "localhost", and a pool that trusts it.
func SelfSigned() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smtptest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool, nil
}

// String describes the server (for test logs).
func (s *Server) String() string { return fmt.Sprintf("smtptest on %s", s.Addr) }
