// Package audit keeps the security audit trail: who changed or reset a
// password, changed a policy or login protection, created, bound, unbound or
// deleted a virtual MFA device, was sent a login code, created, changed or
// deleted an access key, set an HTTPS Git password or changed its HTTPS
// authentication mode, created or deleted a CIAM client, failed a
// verification or got locked out — with the source address and the outcome,
// never a secret.
// Events are rows in the shared database, so every instance writes to and
// reads the same trail.
package audit

import "time"

// Type names what happened. The values are stable: they are stored and
// filtered on, and they are part of the API.
type Type string

// Event types.
const (
	// PasswordChanged: a user changed its own password (Keystone, CIAM
	// change-password-verify).
	PasswordChanged Type = "password.changed"
	// PasswordReset: an administrator (or CIAM client) set a user's password.
	// Detail: "must_change"; "https_password_cleared": "true" when the reset
	// also cleared the user's separate HTTPS Git password (it always does
	// when there is one; absent otherwise). The clearing is part of the
	// reset's transaction, so it is a fact of this event, not an event of
	// its own.
	PasswordReset Type = "password.reset"
	// VerificationFailed: a wrong password (or HTTPS Git password, or TOTP
	// code) for an existing user. Detail "credential" names which.
	VerificationFailed Type = "credential.verification_failed"
	// CredentialLocked: failures reached the login policy's limit and the
	// credential is locked. Detail: "credential", "locked_until".
	CredentialLocked Type = "credential.locked"
	// PasswordPolicyChanged / LoginPolicyChanged: an administrator changed a
	// policy of the domain. Detail: each changed field as "old -> new".
	PasswordPolicyChanged Type = "password_policy.changed"
	LoginPolicyChanged    Type = "login_policy.changed"
	// LoginProtectChanged: a user's login protection setting was stored.
	LoginProtectChanged Type = "login_protect.changed"

	// MFADeviceCreated: a user created its virtual MFA device. Detail:
	// "serial_number", "replaced" (an unbound device was replaced). The
	// seed is never recorded.
	MFADeviceCreated Type = "mfa_device.created"
	// MFADeviceBound: a user bound its device (the codes are not recorded).
	// Detail: "serial_number".
	MFADeviceBound Type = "mfa_device.bound"
	// MFADeviceUnbound: a bound device was unbound and removed, by its user
	// (with a device code) or by an administrator for another user (the MFA
	// reset: the actor is the administrator, the target the user). Detail:
	// "serial_number", "by_admin".
	MFADeviceUnbound Type = "mfa_device.unbound"
	// MFADeviceDeleted: an administrator deleted its own device. Detail:
	// "serial_number", "was_bound".
	MFADeviceDeleted Type = "mfa_device.deleted"
	// LoginCodeSent: login protection by SMS or e-mail sent a one-time code
	// at token issuance. Detail: "channel" only — never the code, the
	// receipt or the number/address.
	LoginCodeSent Type = "login_code.sent"

	// AccessKeyCreated: a permanent access key was created for the target
	// user. Detail: "access_key" (the AK, an identifier), "status". The
	// secret key is never recorded.
	AccessKeyCreated Type = "access_key.created"
	// AccessKeyUpdated: an access key's status or description changed.
	// Detail: "access_key", "status" as "old -> new" when it changed,
	// "description": "changed" when it changed (its text is not recorded).
	AccessKeyUpdated Type = "access_key.updated"
	// AccessKeyDeleted: an access key was deleted. Detail: "access_key",
	// "status" (at deletion).
	AccessKeyDeleted Type = "access_key.deleted"

	// HTTPSPasswordSet: a user set or replaced its separate HTTPS Git
	// password (CodeArts Repo). Detail: "replaced" (a password was set
	// before). The password is never recorded.
	HTTPSPasswordSet Type = "https_password.set"
	// HTTPSSettingChanged: a user's HTTPS Git authentication mode changed
	// (recorded only when it did). Detail: "https_clone_iam_auth" as
	// "old -> new".
	HTTPSSettingChanged Type = "https_setting.changed"

	// CIAMClientCreated: an OAuth client (CIAM application) was created, by
	// an administrator or, at bootstrap, by latchkey itself (ActorSystem).
	// The target is the client. Detail: "client_id", "name". The secret is
	// never recorded.
	CIAMClientCreated Type = "ciam_client.created"
	// CIAMClientDeleted: an OAuth client was deleted (its tokens end).
	// The target is the client. Detail: "client_id".
	CIAMClientDeleted Type = "ciam_client.deleted"
)

// Types lists every event type (the API's enum).
func Types() []Type {
	return []Type{PasswordChanged, PasswordReset, VerificationFailed, CredentialLocked,
		PasswordPolicyChanged, LoginPolicyChanged, LoginProtectChanged,
		MFADeviceCreated, MFADeviceBound, MFADeviceUnbound, MFADeviceDeleted, LoginCodeSent,
		AccessKeyCreated, AccessKeyUpdated, AccessKeyDeleted,
		HTTPSPasswordSet, HTTPSSettingChanged, CIAMClientCreated, CIAMClientDeleted}
}

// Outcome of the recorded action.
type Outcome string

// Outcomes.
const (
	Success Outcome = "success"
	Failure Outcome = "failure"
)

// Actor types.
const (
	ActorUser      = "user"      // a user's token
	ActorClient    = "client"    // a CIAM client
	ActorAnonymous = "anonymous" // nobody authenticated yet (token issuance)
	ActorSystem    = "system"    // latchkey itself (bootstrap); the actor id is ""
)

// Event is what a caller records. Empty ActorID/ActorType and SourceIP are
// filled from the request context (authn principal and client address);
// Outcome defaults to Success. Detail must never hold a secret: no password,
// hash, token, client secret or one-time code, not even a wrong one.
type Event struct {
	Type      Type
	DomainID  string
	ActorID   string
	ActorType string
	TargetID  string
	SourceIP  string
	Outcome   Outcome
	Detail    map[string]string
}

// Record is a stored event as read back.
type Record struct {
	ID        string
	Type      Type
	DomainID  string
	ActorID   string
	ActorType string
	TargetID  string
	SourceIP  string
	Outcome   Outcome
	Detail    map[string]string
	Time      time.Time
}
