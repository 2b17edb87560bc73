package accesskeys

import (
	"context"
	"crypto/hmac"
	"fmt"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
)

// Headers that name the caller's scope; when present they must be the
// key's domain (X-Domain-Id) or one of its projects (X-Project-Id).
const (
	HeaderDomainID  = "X-Domain-Id"
	HeaderProjectID = "X-Project-Id"
)

// Refusals. Unknown key, inactive key, bad signature and a user who may not
// use it all read the same, so that a caller learns nothing about which
// keys exist; nothing ever hints at the secret.
func rejected() *fault.Error {
	return fault.New(fault.Unauthenticated, "The request signature is invalid, or the access key is unknown or inactive.")
}

func malformed() *fault.Error {
	return fault.New(fault.Unauthenticated,
		"The Authorization header is malformed: want SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=....")
}

// Verified is the outcome of a good signature: the key and its user.
type Verified struct {
	Key  Key
	User *store.User
}

// Verify checks the SDK-HMAC-SHA256 signature of r over the exact body
// bytes. r.URL.Path must be the decoded path. Failures are
// fault.Unauthenticated (answered 401 in the family's envelope); a database
// failure is returned as is.
func (s *Service) Verify(ctx context.Context, r *http.Request, body []byte) (*Verified, error) {
	a, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return nil, malformed()
	}
	date := r.Header.Get(HeaderDate)
	t, err := time.Parse(DateFormat, date)
	if err != nil {
		return nil, fault.New(fault.Unauthenticated, "The %s header is missing or not in the form YYYYMMDDTHHMMSSZ.", HeaderDate)
	}
	if d := s.now().Sub(t); d > s.skew || d < -s.skew {
		return nil, fault.New(fault.Unauthenticated,
			"The request time %s is more than %d minutes away from the server's time.", HeaderDate, int(s.skew/time.Minute))
	}
	cr, ok := CanonicalRequest(r, a.signedHeaders, body)
	if !ok {
		return nil, fault.New(fault.Unauthenticated, "The query string cannot be decoded.")
	}
	sts := StringToSign(date, cr)

	var row store.AccessKey
	err = s.db.WithContext(ctx).Where("access = ?", a.access).Take(&row).Error
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("find access key: %w", err)
	}
	if err != nil || s.seal == nil || row.Status != StatusActive {
		// The same work as a real check, so timing tells little.
		_ = hmac.Equal([]byte(Signature("", sts)), []byte(a.signature))
		return nil, rejected()
	}
	secret, err := s.seal.open(row.Access, row.SecretEnc)
	if err != nil {
		if row.KeyID != s.seal.keyID {
			s.log.ErrorContext(ctx, "access key was sealed under another server secret key (--secret-key changed?)",
				"access_key", row.Access)
		} else {
			s.log.ErrorContext(ctx, "access key secret does not decrypt", "access_key", row.Access)
		}
		return nil, rejected()
	}
	if !hmac.Equal([]byte(Signature(secret, sts)), []byte(a.signature)) {
		return nil, rejected()
	}

	var u store.User
	err = s.db.WithContext(ctx).Where("id = ? AND domain_id = ?", row.UserID, row.DomainID).Take(&u).Error
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("find user of access key: %w", err)
	}
	// A deleted or disabled user, or one restricted to console access, has
	// no programmatic access.
	if err != nil || !u.Enabled || u.AccessMode == "console" {
		return nil, rejected()
	}
	if v := r.Header.Get(HeaderDomainID); v != "" && v != row.DomainID {
		return nil, fault.New(fault.Unauthenticated, "%s is not the domain of the access key.", HeaderDomainID)
	}
	if v := r.Header.Get(HeaderProjectID); v != "" && !ProjectInDomain(v, row.DomainID) {
		return nil, fault.New(fault.Unauthenticated, "%s is not a project of the access key's domain.", HeaderProjectID)
	}
	s.touch(ctx, &row)
	return &Verified{Key: keyOf(&row), User: &u}, nil
}

// touch records the key's use, at most once per window: a busy key costs
// no write per request.
func (s *Service) touch(ctx context.Context, row *store.AccessKey) {
	now := s.now()
	if row.LastUsedAt != nil && now.Sub(*row.LastUsedAt) < lastUsedWindow {
		return
	}
	// The condition repeats the window check, so concurrent requests on
	// several instances write once. UpdateColumn: a use is not a change of
	// the key (updated_at stays).
	err := s.db.WithContext(ctx).Model(&store.AccessKey{}).
		Where("access = ? AND (last_used_at IS NULL OR last_used_at < ?)", row.Access, now.Add(-lastUsedWindow)).
		UpdateColumn("last_used_at", now).Error
	if err != nil {
		s.log.WarnContext(ctx, "record access key use failed", "access_key", row.Access, "err", err)
		return
	}
	row.LastUsedAt = &now
}
