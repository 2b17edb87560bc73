// Package fault defines the domain errors of latchkey. Domain packages return
// *fault.Error with a Reason; each API family maps reasons to its own HTTP
// status and error code in one table (package envelope), so the domain never
// knows about HTTP.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Reason names what went wrong, independently of any API family.
type Reason string

// Request-shape reasons (mostly produced by the validation middleware).
const (
	BodyInvalid          Reason = "body_invalid"           // not JSON, or not an object
	PropertyMissing      Reason = "property_missing"       // required property absent
	PropertyInvalid      Reason = "property_invalid"       // wrong type, enum or range
	ParameterInvalid     Reason = "parameter_invalid"      // bad query, path or header parameter
	PathNotFound         Reason = "path_not_found"         // unknown path under a family prefix
	MethodNotAllowed     Reason = "method_not_allowed"     // known path, wrong method
	BodyTooLarge         Reason = "body_too_large"         // body over the limit
	UnsupportedMediaType Reason = "unsupported_media_type" // content type not in the spec
	NotImplemented       Reason = "not_implemented"        // operation in the contract, not built yet
)

// Authentication and authorization reasons.
const (
	Unauthenticated     Reason = "unauthenticated"       // no credentials
	TokenExpired        Reason = "token_expired"         // credentials expired
	TokenInvalid        Reason = "token_invalid"         // credentials unknown, malformed or revoked
	SubjectTokenInvalid Reason = "subject_token_invalid" // X-Subject-Token unknown/expired/revoked (404)
	Forbidden           Reason = "forbidden"             // role or ownership insufficient
	Restricted          Reason = "restricted"            // token restricted until the password is changed
	UnsupportedMethod   Reason = "unsupported_method"    // auth method not supported
	ScopeDenied         Reason = "scope_denied"          // requested scope not accessible
	WrongPassword       Reason = "wrong_password"        // bad user name or password
	Locked              Reason = "locked"                // locked by the login policy
	Disabled            Reason = "disabled"              // user disabled
	ConsoleOnly         Reason = "console_only"          // access_mode console: no API tokens
	TOTPInvalid         Reason = "totp_invalid"          // second factor missing, wrong or replayed
)

// Object reasons.
const (
	NotFound         Reason = "not_found"           // a named object does not exist (or is foreign)
	UserNotFound     Reason = "user_not_found"      // a named user does not exist (or is foreign)
	Conflict         Reason = "conflict"            // state conflict (e.g. MFA already bound)
	FactorMissing    Reason = "factor_missing"      // login protection needs a phone/e-mail/device first
	MFABound         Reason = "mfa_bound"           // device is in use by login protection
	NameInvalid      Reason = "name_invalid"        // user name rules (1101)
	NameTaken        Reason = "name_taken"          // 1109
	EmailInvalid     Reason = "email_invalid"       // 1102
	EmailTaken       Reason = "email_taken"         // 1110
	PhoneInvalid     Reason = "phone_invalid"       // 1104
	PhonePairing     Reason = "phone_pairing"       // areacode without phone or the reverse (1106)
	PhoneTaken       Reason = "phone_taken"         // 1111
	XUserPairing     Reason = "xuser_pairing"       // xuser_type without xuser_id or the reverse (1100)
	XUserTaken       Reason = "xuser_taken"         // 1113
	DescriptionBad   Reason = "description_invalid" // 1117
	OwnerUndeletable Reason = "owner_undeletable"   // 1107
	QuotaExceeded    Reason = "quota_exceeded"      // 1115
)

// Password reasons. Rule (on Error) carries the stable policy rule id.
const (
	PasswordPolicy Reason = "password_policy" // any policy rule (1103); Rule says which
	PasswordWeak   Reason = "password_weak"   // dictionary / weak (1118)
	PasswordSame   Reason = "password_same"   // same as the current password (1108)
)

// Service reasons.
const (
	RateLimited Reason = "rate_limited" // 429
	Overloaded  Reason = "overloaded"   // hashing saturated or database down: 503
	Internal    Reason = "internal"     // 500
)

// Error is a domain error. Message is safe to show to the caller: it never
// contains a secret.
type Error struct {
	Reason  Reason
	Message string
	// Rule is the stable id of the violated password rule (PasswordPolicy,
	// PasswordWeak, PasswordSame), e.g. "length".
	Rule string
	// Params fill message placeholders of families that use them (CIAM {0}, {1}).
	Params []string
	// RetryAfter, when positive, is sent as Retry-After (429, 503, lockouts).
	RetryAfter time.Duration
	// Allow lists the allowed methods for MethodNotAllowed.
	Allow []string
	// Remaining is the number of attempts left before lockout, -1 if unknown.
	Remaining int
	cause     error
	// OAuthError, when set, is the RFC 6749 §5.2 error code of a CIAM token
	// endpoint failure ("invalid_client", "invalid_request",
	// "unsupported_grant_type", ...); the CIAM envelope then adds
	// error/error_description. Added by the envelope work (impl/envelope).
	OAuthError string
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Reason, e.Message, e.cause)
	}
	return fmt.Sprintf("%s: %s", e.Reason, e.Message)
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// New returns an *Error with a formatted, caller-safe message.
func New(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Message: fmt.Sprintf(format, args...), Remaining: -1}
}

// Wrap returns an *Error that keeps cause for logs; the cause is never shown.
func Wrap(r Reason, cause error, format string, args ...any) *Error {
	e := New(r, format, args...)
	e.cause = cause
	return e
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Is reports whether err carries reason r.
func Is(err error, r Reason) bool {
	e := As(err)
	return e != nil && e.Reason == r
}
