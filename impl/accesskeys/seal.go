package accesskeys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// KeySize is the size of the server secret key (AES-256).
const KeySize = 32

// KeyFileName is the file, next to a SQLite database, that holds a
// generated server secret key when --secret-key is not set.
const KeyFileName = "latchkey.secret"

// ParseKey decodes a server secret key: 32 bytes as 64 hex digits or as
// base64 (standard or URL alphabet, padded or not).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				break
			}
			return b, nil
		}
	}
	// The value itself is a secret: never echoed.
	return nil, fmt.Errorf("secret key: want %d bytes as 64 hex digits or base64", KeySize)
}

// KeySource tells where the server secret key came from.
type KeySource struct {
	// Path is the key file used (empty when the key came from the setting,
	// or when there is none).
	Path string
	// Generated is true when the key was generated at this start; Encoded
	// (base64) is then set so that it can be shown to the operator once.
	Generated bool
	Encoded   string
	// Ephemeral is true for an in-memory SQLite database: the key lives
	// as long as the data, in memory only.
	Ephemeral bool
	// LoosePerms is true when the key file is readable by group or others.
	LoosePerms bool
}

// LoadKey returns the server secret key that seals the secret access keys.
//
// Decision (a database dump alone must not reveal secret keys, so the key is
// never stored in the database): the key comes from the setting
// (--secret-key / LATCHKEY_SECRET_KEY). Without it, a SQLite database gets a
// generated key in a file latchkey.secret next to it (mode 0600), created on
// the first start and read on later ones. PostgreSQL has no such place (and
// instances must share the key): without the setting the key is nil and
// access keys are disabled — creating one is refused, and no signed request
// authenticates.
func LoadKey(setting, dsn string) ([]byte, KeySource, error) {
	if strings.TrimSpace(setting) != "" {
		k, err := ParseKey(setting)
		return k, KeySource{}, err
	}
	path, ok := sqlitePath(dsn)
	if !ok {
		return nil, KeySource{}, nil
	}
	if path == "" {
		k := make([]byte, KeySize)
		_, _ = rand.Read(k)
		return k, KeySource{Ephemeral: true}, nil
	}
	file := filepath.Join(filepath.Dir(path), KeyFileName)
	raw, err := os.ReadFile(file)
	if err == nil {
		k, err := ParseKey(string(raw))
		if err != nil {
			return nil, KeySource{}, fmt.Errorf("%s: %w", file, err)
		}
		src := KeySource{Path: file}
		if st, err := os.Stat(file); err == nil && st.Mode().Perm()&0o077 != 0 {
			src.LoosePerms = true
		}
		return k, src, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, KeySource{}, fmt.Errorf("read secret key: %w", err)
	}
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	enc := base64.StdEncoding.EncodeToString(k)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another instance on the same database won the race: use its key,
		// once it has been written.
		for range 40 {
			if raw, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(raw))) > 0 {
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		return LoadKey("", dsn)
	}
	if err != nil {
		return nil, KeySource{}, fmt.Errorf("create secret key file: %w", err)
	}
	_, werr := f.WriteString(enc + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(file)
		return nil, KeySource{}, fmt.Errorf("write secret key file: %w", werr)
	}
	return k, KeySource{Path: file, Generated: true, Encoded: enc}, nil
}

// sqlitePath returns the database file of a "sqlite:" DSN ("" for an
// in-memory database); ok is false for any other DSN.
func sqlitePath(dsn string) (path string, ok bool) {
	if !strings.HasPrefix(dsn, "sqlite:") {
		return "", false
	}
	p := strings.TrimPrefix(dsn, "sqlite:")
	p = strings.TrimPrefix(p, "file:")
	p, query, _ := strings.Cut(p, "?")
	if p == "" || p == ":memory:" || strings.Contains(query, "mode=memory") {
		return "", true
	}
	return p, true
}

// sealer encrypts secret keys with AES-256-GCM.
type sealer struct {
	aead  cipher.AEAD
	keyID string
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key: want %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("latchkey access key sealing key id"))
	return &sealer{aead: aead, keyID: hex.EncodeToString(m.Sum(nil))[:16]}, nil
}

// additional data binds a sealed secret to its access key id.
func aad(access string) []byte { return []byte("latchkey/ak/" + access) }

func (s *sealer) seal(access, secret string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(secret), aad(access))
}

var errUnseal = errors.New("secret key does not decrypt")

func (s *sealer) open(access string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return "", errUnseal
	}
	pt, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad(access))
	if err != nil {
		return "", errUnseal
	}
	return string(pt), nil
}
