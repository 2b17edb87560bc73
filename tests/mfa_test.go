package tests

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/impl/config"
	"github.com/latchkey/latchkey/impl/notify"
	"github.com/latchkey/latchkey/impl/notify/smtptest"
	"github.com/latchkey/latchkey/impl/store"
)

// Virtual MFA devices and login protection (apis.md §2.2, §3.2, §3.5).

const (
	mfaPw        = "Mfa-Secret-9x!"
	mfaDevices   = "/v3.0/OS-MFA/virtual-mfa-devices"
	mfaBind      = "/v3.0/OS-MFA/mfa-devices/bind"
	mfaUnbind    = "/v3.0/OS-MFA/mfa-devices/unbind"
	mfaOutbox    = "/v3.0/OS-MFA/outbox"
	mfaTokenPath = "/v3/auth/tokens?nocatalog"
)

func mfaShowPath(userID string) string { return "/v3.0/OS-MFA/users/" + userID + "/virtual-mfa-device" }

func mfaLPPath(userID string) string { return "/v3.0/OS-USER/users/" + userID + "/login-protect" }

// mfaCode computes the authenticator's code at t, with the TOTP library a
// real authenticator uses (RFC 6238: SHA-1, 6 digits, 30 s).
func mfaCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mfaSteadyStep waits until the current 30 s step has at least 5 s left, so
// that codes computed now are judged in the same step by the server.
func mfaSteadyStep() time.Time {
	for {
		now := time.Now()
		if left := 30 - now.Unix()%30; left >= 5 {
			return now
		}
		time.Sleep(time.Second)
	}
}

// mfaIAMError checks an IAM v3.0 error and returns its message.
func mfaIAMError(t testing.TB, r *resp, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d (%s): %s", r.Status, status, code, r.Body)
	}
	m := r.JSON(t)
	if m["error_code"] != code {
		t.Fatalf("error_code %v, want %s: %s", m["error_code"], code, r.Body)
	}
	msg, _ := m["error_msg"].(string)
	if msg == "" {
		t.Errorf("no error_msg: %s", r.Body)
	}
	return msg
}

// mfaKSError checks a Keystone error and returns its message.
func mfaKSError(t testing.TB, r *resp, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d (%s): %s", r.Status, status, code, r.Body)
	}
	e, _ := r.JSON(t)["error"].(map[string]any)
	if e == nil || e["error_code"] != code {
		t.Fatalf("error_code, want %s: %s", code, r.Body)
	}
	msg, _ := e["message"].(string)
	return msg
}

// mfaCreate creates a device for userID with its own token and returns the
// serial number and key.
func (e *env) mfaCreate(tok, userID, name string) (serial, secret string) {
	e.t.Helper()
	r := e.do(req{Method: "POST", Path: mfaDevices, Token: tok, Body: map[string]any{
		"virtual_mfa_device": map[string]any{"name": name, "user_id": userID}}})
	mustStatus(e.t, r, http.StatusCreated)
	d, _ := r.JSON(e.t)["virtual_mfa_device"].(map[string]any)
	serial, _ = d["serial_number"].(string)
	secret, _ = d["base32_string_seed"].(string)
	if serial == "" || secret == "" {
		e.t.Fatalf("create device: %s", r.Body)
	}
	rememberSecret(secret)
	return serial, secret
}

// mfaBindDevice creates and binds a device with the codes of the previous
// and the current step, which leaves the next step's code for a login.
func (e *env) mfaBindDevice(tok, userID, name string) (serial, secret string) {
	e.t.Helper()
	serial, secret = e.mfaCreate(tok, userID, name)
	now := mfaSteadyStep()
	r := e.do(req{Method: "PUT", Path: mfaBind, Token: tok, Body: map[string]any{
		"user_id": userID, "serial_number": serial,
		"authentication_code_first":  mfaCode(e.t, secret, now.Add(-30*time.Second)),
		"authentication_code_second": mfaCode(e.t, secret, now),
	}})
	mustStatus(e.t, r, http.StatusNoContent)
	return serial, secret
}

func (e *env) mfaProtect(tok, userID string, enabled bool, method string) *resp {
	e.t.Helper()
	return e.do(req{Method: "PUT", Path: mfaLPPath(userID), Token: tok, Body: map[string]any{
		"login_protect": map[string]any{"enabled": enabled, "verification_method": method}}})
}

// mfaLogin asks for a token by name and password and, when passcode is not
// empty, the totp method.
func (e *env) mfaLogin(name, password, passcode string, header map[string]string) *resp {
	e.t.Helper()
	id := map[string]any{
		"methods": []string{"password"},
		"password": map[string]any{"user": map[string]any{
			"name": name, "password": password, "domain": map[string]any{"name": domainName}}},
	}
	if passcode != "" {
		id["methods"] = []string{"password", " totp"} // the SDK's spelling
		id["totp"] = map[string]any{"user": map[string]any{
			"name": name, "domain": map[string]any{"name": domainName}, "passcode": passcode}}
	}
	return e.do(req{Method: "POST", Path: mfaTokenPath, Body: map[string]any{"auth": map[string]any{"identity": id}}, Header: header})
}

func TestMFADeviceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	alice := e.createUser(admin, "alice", mfaPw, nil)
	bob := e.createUser(admin, "bob", mfaPw, nil)
	aliceTok, bobTok := e.token("alice", mfaPw), e.token("bob", mfaPw)

	// Create: self only, whether or not the user exists.
	for _, uid := range []string{bob, strings.Repeat("9", 32)} {
		r := e.do(req{Method: "POST", Path: mfaDevices, Token: aliceTok, Body: map[string]any{
			"virtual_mfa_device": map[string]any{"name": "x", "user_id": uid}}})
		mfaIAMError(t, r, http.StatusForbidden, "IAM.0002")
	}
	r := e.do(req{Method: "POST", Path: mfaDevices, Token: aliceTok, Body: map[string]any{
		"virtual_mfa_device": map[string]any{"name": "alice-phone", "user_id": alice}}})
	mustStatus(t, r, http.StatusCreated)
	d, _ := r.JSON(t)["virtual_mfa_device"].(map[string]any)
	if want := "iam:" + e.DomainID + ":mfa/alice-phone"; d["serial_number"] != want {
		t.Errorf("serial_number %v, want %s", d["serial_number"], want)
	}
	secret, _ := d["base32_string_seed"].(string)
	rememberSecret(secret)
	if len(secret) != 32 {
		t.Errorf("base32_string_seed %q: want 32 base32 characters (160 bits)", secret)
	}
	u, err := url.Parse(d["otpauth_uri"].(string))
	if err != nil || u.Scheme != "otpauth" || u.Query().Get("secret") != secret || u.Path != "/latchkey:"+domainName+"@alice" {
		t.Errorf("otpauth_uri %v (%v)", d["otpauth_uri"], err)
	}
	png, err := base64.StdEncoding.DecodeString(d["qr_code_png"].(string))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("qr_code_png is not a base64 PNG (%v)", err)
	}
	serial := d["serial_number"].(string)

	// Show: self or admin; list: admin, the caller's domain.
	for _, tok := range []string{aliceTok, admin} {
		r = e.do(req{Method: "GET", Path: mfaShowPath(alice), Token: tok})
		mustStatus(t, r, http.StatusOK)
		if got := r.JSON(t)["virtual_mfa_device"].(map[string]any); got["user_id"] != alice || got["serial_number"] != serial || len(got) != 2 {
			t.Errorf("show: %s", r.Body)
		}
	}
	mfaIAMError(t, e.do(req{Method: "GET", Path: mfaShowPath(alice), Token: bobTok}), http.StatusForbidden, "IAM.0002")
	mfaIAMError(t, e.do(req{Method: "GET", Path: mfaShowPath(bob), Token: bobTok}), http.StatusNotFound, "IAM.0004")
	mfaIAMError(t, e.do(req{Method: "GET", Path: mfaShowPath(strings.Repeat("9", 32)), Token: admin}), http.StatusNotFound, "IAM.0004")
	mfaIAMError(t, e.do(req{Method: "GET", Path: mfaDevices, Token: aliceTok}), http.StatusForbidden, "IAM.0002")
	r = e.do(req{Method: "GET", Path: mfaDevices, Token: admin})
	mustStatus(t, r, http.StatusOK)
	if list := r.JSON(t)["virtual_mfa_devices"].([]any); len(list) != 1 || list[0].(map[string]any)["user_id"] != alice {
		t.Errorf("list: %s", r.Body)
	}
	_, otherTok := e.otherDomain("acme")
	mfaIAMError(t, e.do(req{Method: "GET", Path: mfaShowPath(alice), Token: otherTok}), http.StatusNotFound, "IAM.0004")
	r = e.do(req{Method: "GET", Path: mfaDevices, Token: otherTok})
	mustStatus(t, r, http.StatusOK)
	if list := r.JSON(t)["virtual_mfa_devices"].([]any); len(list) != 0 {
		t.Errorf("another domain sees devices: %s", r.Body)
	}

	// Bind: self, two consecutive codes.
	now := mfaSteadyStep()
	bind := func(tok, uid, s, c1, c2 string) *resp {
		return e.do(req{Method: "PUT", Path: mfaBind, Token: tok, Body: map[string]any{
			"user_id": uid, "serial_number": s, "authentication_code_first": c1, "authentication_code_second": c2}})
	}
	prev, cur := mfaCode(t, secret, now.Add(-30*time.Second)), mfaCode(t, secret, now)
	mfaIAMError(t, bind(bobTok, alice, serial, prev, cur), http.StatusForbidden, "IAM.0002")
	mfaIAMError(t, bind(aliceTok, alice, serial+"x", prev, cur), http.StatusNotFound, "IAM.0004")
	mfaIAMError(t, bind(aliceTok, alice, serial, "000000", cur), http.StatusBadRequest, "IAM.1061")
	mfaIAMError(t, bind(aliceTok, alice, serial, cur, prev), http.StatusBadRequest, "IAM.1061")
	mfaIAMError(t, bind(aliceTok, alice, serial, "12345", cur), http.StatusBadRequest, "IAM.1061")
	mustStatus(t, bind(aliceTok, alice, serial, prev, cur), http.StatusNoContent)
	mfaIAMError(t, bind(aliceTok, alice, serial, prev, cur), http.StatusConflict, "IAM.0005")
	// A second device while one is bound.
	r = e.do(req{Method: "POST", Path: mfaDevices, Token: aliceTok, Body: map[string]any{
		"virtual_mfa_device": map[string]any{"name": "alice-2", "user_id": alice}}})
	mfaIAMError(t, r, http.StatusConflict, "IAM.0005")

	// Unbind by the user: the code must be valid and unused.
	unbind := func(tok, uid, s, code string) *resp {
		return e.do(req{Method: "PUT", Path: mfaUnbind, Token: tok, Body: map[string]any{
			"user_id": uid, "serial_number": s, "authentication_code": code}})
	}
	mfaIAMError(t, unbind(aliceTok, alice, serial, cur), http.StatusBadRequest, "IAM.1061") // used by the bind
	mfaIAMError(t, unbind(aliceTok, alice, serial, "000000"), http.StatusBadRequest, "IAM.1061")
	mfaIAMError(t, unbind(bobTok, alice, serial, "000000"), http.StatusForbidden, "IAM.0002")
	mfaIAMError(t, unbind(otherTok, alice, serial, "000000"), http.StatusNotFound, "IAM.0004")
	// Login protection by vmfa holds the device.
	mustStatus(t, e.mfaProtect(aliceTok, alice, true, "vmfa"), http.StatusOK)
	msg := mfaIAMError(t, unbind(admin, alice, serial, "000000"), http.StatusBadRequest, "IAM.1062")
	if !strings.Contains(msg, "mfa") {
		t.Errorf("1062 message %q", msg)
	}
	mustStatus(t, e.mfaProtect(aliceTok, alice, false, "vmfa"), http.StatusOK)
	next := mfaCode(t, secret, now.Add(30*time.Second))
	mustStatus(t, unbind(aliceTok, alice, serial, next), http.StatusNoContent)
	mfaIAMError(t, e.do(req{Method: "GET", Path: mfaShowPath(alice), Token: aliceTok}), http.StatusNotFound, "IAM.0004")
	mfaIAMError(t, unbind(aliceTok, alice, serial, next), http.StatusNotFound, "IAM.0004")

	// Unbind by an admin: any six digits, never checked; not bound is 409.
	bobSerial, _ := e.mfaBindDevice(bobTok, bob, "bob-phone")
	mfaIAMError(t, unbind(admin, bob, bobSerial, "abc"), http.StatusBadRequest, "IAM.1061")
	mustStatus(t, unbind(admin, bob, bobSerial, "000000"), http.StatusNoContent)
	bobSerial, _ = e.mfaCreate(bobTok, bob, "bob-phone")
	mfaIAMError(t, unbind(admin, bob, bobSerial, "000000"), http.StatusConflict, "IAM.0005")

	// Delete: an admin's own device only.
	del := func(tok, uid, s string) *resp {
		return e.do(req{Method: "DELETE", Path: mfaDevices + "?user_id=" + uid + "&serial_number=" + url.QueryEscape(s), Token: tok})
	}
	mfaIAMError(t, del(bobTok, bob, bobSerial), http.StatusForbidden, "IAM.0002")
	mfaIAMError(t, del(admin, bob, bobSerial), http.StatusForbidden, "IAM.0002")
	mfaIAMError(t, e.do(req{Method: "DELETE", Path: mfaDevices + "?user_id=" + e.AdminID, Token: admin}), http.StatusBadRequest, "IAM.0007")
	adminSerial, _ := e.mfaBindDevice(admin, e.AdminID, "admin-phone")
	mfaIAMError(t, del(admin, e.AdminID, adminSerial+"x"), http.StatusNotFound, "IAM.0004")
	mustStatus(t, e.mfaProtect(admin, e.AdminID, true, "vmfa"), http.StatusOK)
	mfaIAMError(t, del(admin, e.AdminID, adminSerial), http.StatusBadRequest, "IAM.1062")
	mustStatus(t, e.mfaProtect(admin, e.AdminID, false, "vmfa"), http.StatusOK)
	mustStatus(t, del(admin, e.AdminID, adminSerial), http.StatusNoContent)
}

// mfaTokenBody returns the token object of a 201.
func mfaTokenBody(t testing.TB, r *resp) map[string]any {
	t.Helper()
	mustStatus(t, r, http.StatusCreated)
	if r.Header.Get("X-Subject-Token") == "" {
		t.Fatal("no X-Subject-Token")
	}
	rememberSecret(r.Header.Get("X-Subject-Token"))
	tok, _ := r.JSON(t)["token"].(map[string]any)
	return tok
}

func mfaMethods(tok map[string]any) string {
	var out []string
	for _, m := range tok["methods"].([]any) {
		out = append(out, m.(string))
	}
	return strings.Join(out, ",")
}

func TestMFALoginProtectPreconditions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	bare := e.createUser(admin, "pete", mfaPw, nil)
	peteTok := e.token("pete", mfaPw)
	for _, c := range []struct{ method, names string }{
		{"vmfa", "virtual MFA device"}, {"sms", "mobile"}, {"email", "email"},
	} {
		msg := mfaIAMError(t, e.mfaProtect(admin, bare, true, c.method), http.StatusBadRequest, "IAM.0007")
		if !strings.Contains(msg, c.names) {
			t.Errorf("%s without the factor: message %q does not name %q", c.method, msg, c.names)
		}
	}
	// An unbound device is not enough.
	e.mfaCreate(peteTok, bare, "pete-phone")
	mfaIAMError(t, e.mfaProtect(admin, bare, true, "vmfa"), http.StatusBadRequest, "IAM.0007")
	// Disabling needs nothing.
	mustStatus(t, e.mfaProtect(admin, bare, false, "vmfa"), http.StatusOK)
	// Bound: enabling works, and then the device is held.
	serial, _ := e.mfaBindDevice(peteTok, bare, "pete-phone")
	mustStatus(t, e.mfaProtect(peteTok, bare, true, "vmfa"), http.StatusOK)
	r := e.do(req{Method: "PUT", Path: mfaUnbind, Token: admin, Body: map[string]any{
		"user_id": bare, "serial_number": serial, "authentication_code": "000000"}})
	mfaIAMError(t, r, http.StatusBadRequest, "IAM.1062")
	// Switching protection to another method frees it.
	withPhone := e.createUser(admin, "paula", mfaPw, map[string]any{"areacode": "0086", "phone": "13900002222"})
	mustStatus(t, e.mfaProtect(admin, withPhone, true, "sms"), http.StatusOK)
}

func TestMFALoginVMFA(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	vera := e.createUser(admin, "vera", mfaPw, nil)
	veraTok := e.token("vera", mfaPw)
	_, secret := e.mfaBindDevice(veraTok, vera, "vera-phone")

	// Without protection, totp is optional and checked when sent.
	now := mfaSteadyStep()
	tok := mfaTokenBody(t, e.mfaLogin("vera", mfaPw, "", nil))
	if mfaMethods(tok) != "password" || tok["mfa_authn_at"] != nil {
		t.Errorf("password-only token: %v", tok)
	}
	mfaKSError(t, e.mfaLogin("vera", mfaPw, "000000", nil), http.StatusUnauthorized, "IAM.1061")

	mustStatus(t, e.mfaProtect(veraTok, vera, true, "vmfa"), http.StatusOK)
	// Password alone is refused, naming the missing method.
	msg := mfaKSError(t, e.mfaLogin("vera", mfaPw, "", nil), http.StatusUnauthorized, "IAM.1061")
	if !strings.Contains(msg, "totp") {
		t.Errorf("message %q does not name the totp method", msg)
	}
	// The password is checked first.
	mfaKSError(t, e.mfaLogin("vera", "Wrong-Secret-9x!", mfaCode(t, secret, now.Add(30*time.Second)), nil), http.StatusUnauthorized, "IAM.0062")
	// Wrong code, a code of the bind (used), a code too far ahead.
	mfaKSError(t, e.mfaLogin("vera", mfaPw, "123456", nil), http.StatusUnauthorized, "IAM.1061")
	mfaKSError(t, e.mfaLogin("vera", mfaPw, mfaCode(t, secret, now), nil), http.StatusUnauthorized, "IAM.1061")
	mfaKSError(t, e.mfaLogin("vera", mfaPw, mfaCode(t, secret, now.Add(90*time.Second)), nil), http.StatusUnauthorized, "IAM.1061")
	// The next step's code works, once.
	code := mfaCode(t, secret, now.Add(30*time.Second))
	r := e.mfaLogin("vera", mfaPw, code, nil)
	tok = mfaTokenBody(t, r)
	if mfaMethods(tok) != "password,totp" {
		t.Errorf("methods %v", tok["methods"])
	}
	if at, _ := tok["mfa_authn_at"].(string); !strings.HasSuffix(at, "Z") || len(at) != len("2026-11-22T12:00:00.000000Z") {
		t.Errorf("mfa_authn_at %v", tok["mfa_authn_at"])
	}
	subject := r.Header.Get("X-Subject-Token")
	v := e.do(req{Method: "GET", Path: "/v3/auth/tokens?nocatalog", Token: subject, Header: map[string]string{"X-Subject-Token": subject}})
	mustStatus(t, v, http.StatusOK)
	if vt := v.JSON(t)["token"].(map[string]any); mfaMethods(vt) != "password,totp" || vt["mfa_authn_at"] == nil {
		t.Errorf("validated token %s", v.Body)
	}
	msg = mfaKSError(t, e.mfaLogin("vera", mfaPw, code, nil), http.StatusUnauthorized, "IAM.1061")
	if strings.Contains(msg, code) {
		t.Error("the message echoes the passcode")
	}
	// The totp block must name the same user.
	other := e.createUser(admin, "walt", mfaPw, nil)
	body := map[string]any{"auth": map[string]any{"identity": map[string]any{
		"methods":  []string{"password", "totp"},
		"password": map[string]any{"user": map[string]any{"id": vera, "password": mfaPw}},
		"totp":     map[string]any{"user": map[string]any{"id": other, "passcode": mfaCode(t, secret, now.Add(-30*time.Second))}},
	}}}
	mfaKSError(t, e.do(req{Method: "POST", Path: mfaTokenPath, Body: body}), http.StatusUnauthorized, "IAM.1061")
	// By user id (the SDK's way), another user with a device of its own.
	_, waltSecret := e.mfaBindDevice(e.token("walt", mfaPw), other, "walt-phone")
	now = mfaSteadyStep()
	body = map[string]any{"auth": map[string]any{"identity": map[string]any{
		"methods":  []string{"password", " totp"},
		"password": map[string]any{"user": map[string]any{"id": other, "password": mfaPw}},
		"totp":     map[string]any{"user": map[string]any{"id": other, "passcode": mfaCode(t, waltSecret, now.Add(30*time.Second))}},
	}}}
	mfaTokenBody(t, e.do(req{Method: "POST", Path: mfaTokenPath, Body: body}))
}

// Wrong passcodes lock the second factor (login policy, kind totp) without
// touching the password counter.
func TestMFALoginTOTPLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	id := e.createUser(admin, "lola", mfaPw, nil)
	tok := e.token("lola", mfaPw)
	_, secret := e.mfaBindDevice(tok, id, "lola-phone")
	mustStatus(t, e.mfaProtect(tok, id, true, "vmfa"), http.StatusOK)
	now := mfaSteadyStep()
	for i := range 5 { // the default login_failed_times
		mfaKSError(t, e.mfaLogin("lola", mfaPw, "00000"+string(rune('0'+i)), nil), http.StatusUnauthorized, "IAM.1061")
	}
	r := e.mfaLogin("lola", mfaPw, mfaCode(t, secret, now.Add(30*time.Second)), nil)
	mfaKSError(t, r, http.StatusUnauthorized, "IAM.0061")
	// The password itself is not locked: a user without protection would log in.
	mustStatus(t, e.mfaProtect(admin, id, false, "vmfa"), http.StatusOK)
	mfaTokenBody(t, e.mfaLogin("lola", mfaPw, "", nil))
}

func TestMFAGophercloudPasscode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	id := e.createUser(admin, "gwen", mfaPw, nil)
	tok := e.token("gwen", mfaPw)
	_, secret := e.mfaBindDevice(tok, id, "gwen-phone")
	mustStatus(t, e.mfaProtect(tok, id, true, "vmfa"), http.StatusOK)
	now := mfaSteadyStep()
	opts := gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3/", Username: "gwen", Password: mfaPw, DomainName: domainName}
	// Without the passcode: refused.
	if _, err := openstack.AuthenticatedClient(gcCtx(t), opts); gcStatus(err) != http.StatusUnauthorized {
		t.Fatalf("password only: %v", err)
	}
	opts.Passcode = mfaCode(t, secret, now.Add(30*time.Second))
	p, idc := gcClient(t, opts)
	res := tokens.Get(gcCtx(t), idc, p.Token())
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var body struct { // ExtractInto reads the "token" member
		Methods    []string `json:"methods"`
		MFAAuthnAt string   `json:"mfa_authn_at"`
	}
	if err := res.ExtractInto(&body); err != nil || strings.Join(body.Methods, ",") != "password,totp" || body.MFAAuthnAt == "" {
		t.Errorf("token %+v (%v)", body, err)
	}
	// The same passcode again (a second client): refused.
	if _, err := openstack.AuthenticatedClient(gcCtx(t), opts); gcStatus(err) != http.StatusUnauthorized {
		t.Fatalf("replayed passcode: %v", err)
	}
}

// mfaOutboxCode returns the newest development-outbox message of userID.
func (e *env) mfaOutboxCode(adminTok, userID string) map[string]any {
	e.t.Helper()
	r := e.do(req{Method: "GET", Path: mfaOutbox + "?limit=1&user_id=" + userID, Token: adminTok})
	mustStatus(e.t, r, http.StatusOK)
	list, _ := r.JSON(e.t)["messages"].([]any)
	if len(list) != 1 {
		e.t.Fatalf("outbox: %s", r.Body)
	}
	m := list[0].(map[string]any)
	return m
}

// mfaChallenge runs the password step of a protected login and returns the
// receipt.
func (e *env) mfaChallenge(name string) string {
	e.t.Helper()
	r := e.mfaLogin(name, mfaPw, "", nil)
	mfaKSError(e.t, r, http.StatusUnauthorized, "IAM.1061")
	rc := r.Header.Get("Openstack-Auth-Receipt")
	if rc == "" {
		e.t.Fatalf("no Openstack-Auth-Receipt: %s", r.Body)
	}
	rememberSecret(rc)
	return rc
}

func TestMFALoginReceipt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	sara := e.createUser(admin, "sara", mfaPw, map[string]any{"areacode": "0086", "phone": "13800001234", "email": "sara@example.com"})
	mustStatus(t, e.mfaProtect(admin, sara, true, "sms"), http.StatusOK)

	// The password step: 401, the receipt in the header and the body.
	r := e.mfaLogin("sara", mfaPw, "", nil)
	msg := mfaKSError(t, r, http.StatusUnauthorized, "IAM.1061")
	receipt := r.Header.Get("Openstack-Auth-Receipt")
	rememberSecret(receipt)
	if receipt == "" || !strings.Contains(msg, "sms") || !strings.Contains(msg, "+86-138****1234") {
		t.Fatalf("challenge: header %q, message %q", receipt, msg)
	}
	m := r.JSON(t)
	er := m["error"].(map[string]any)["receipt"].(map[string]any)
	if req := er["required_auth_methods"].([]any); len(req) != 1 || len(req[0].([]any)) != 2 || req[0].([]any)[1] != "totp" {
		t.Errorf("error.receipt.required_auth_methods: %s", r.Body)
	}
	if ks := m["receipt"].(map[string]any); ks["methods"].([]any)[0] != "password" || ks["user"].(map[string]any)["id"] != sara {
		t.Errorf("receipt: %s", r.Body)
	}
	if m["required_auth_methods"] == nil || er["expires_at"] == nil {
		t.Errorf("receipt: %s", r.Body)
	}
	// A wrong password never sends anything.
	mfaKSError(t, e.mfaLogin("sara", "Wrong-Secret-9x!", "", nil), http.StatusUnauthorized, "IAM.0062")

	// The code is in the development outbox (admin only).
	sms := e.mfaOutboxCode(admin, sara)
	code := sms["code"].(string)
	if sms["channel"] != "sms" || sms["recipient"] != "+86-13800001234" || len(code) != 6 || !strings.Contains(sms["body"].(string), code) {
		t.Errorf("outbox message %v", sms)
	}
	walt := e.createUser(admin, "walt", mfaPw, nil)
	mfaIAMError(t, e.do(req{Method: "GET", Path: mfaOutbox, Token: e.token("walt", mfaPw)}), http.StatusForbidden, "IAM.0002")

	hdr := map[string]string{"Openstack-Auth-Receipt": receipt}
	// Without the receipt, the code is no passcode: a new challenge.
	r = e.mfaLogin("sara", mfaPw, code, nil)
	mfaKSError(t, r, http.StatusUnauthorized, "IAM.1061")
	if r.Header.Get("Openstack-Auth-Receipt") == "" {
		t.Error("no new receipt")
	}
	// Wrong code, then the right one, with the password repeated.
	mfaKSError(t, e.mfaLogin("sara", mfaPw, "000000", hdr), http.StatusUnauthorized, "IAM.1061")
	tok := mfaTokenBody(t, e.mfaLogin("sara", mfaPw, code, hdr))
	if mfaMethods(tok) != "password,totp" || tok["mfa_authn_at"] == nil {
		t.Errorf("token %v", tok)
	}
	// Used: never again.
	msg = mfaKSError(t, e.mfaLogin("sara", mfaPw, code, hdr), http.StatusUnauthorized, "IAM.1061")
	if !strings.Contains(msg, "used") {
		t.Errorf("reuse message %q", msg)
	}

	// Keystone's second step: the receipt and totp alone.
	receipt = e.mfaChallenge("sara")
	code = e.mfaOutboxCode(admin, sara)["code"].(string)
	totpOnly := func(userID, rc, passcode string) *resp {
		return e.do(req{Method: "POST", Path: mfaTokenPath, Header: map[string]string{"Openstack-Auth-Receipt": rc},
			Body: map[string]any{"auth": map[string]any{"identity": map[string]any{
				"methods": []string{"totp"},
				"totp":    map[string]any{"user": map[string]any{"id": userID, "passcode": passcode}},
			}}}})
	}
	mfaKSError(t, totpOnly(walt, receipt, code), http.StatusUnauthorized, "IAM.1061")                                                  // another user
	mfaKSError(t, totpOnly(sara, receipt+"x", code), http.StatusUnauthorized, "IAM.1061")                                              // unknown receipt
	mfaKSError(t, e.do(req{Method: "POST", Path: mfaTokenPath, Body: map[string]any{"auth": map[string]any{"identity": map[string]any{ // totp alone without a receipt
		"methods": []string{"totp"}, "totp": map[string]any{"user": map[string]any{"id": sara, "passcode": code}}}}}}), http.StatusUnauthorized, "IAM.0001")
	tok = mfaTokenBody(t, totpOnly(sara, receipt, code))
	if mfaMethods(tok) != "password,totp" || tok["user"].(map[string]any)["id"] != sara {
		t.Errorf("token %v", tok)
	}

	// Five wrong tries end a code (the login policy allows more failures
	// here, so that it is the code's own limit that shows).
	r = e.do(req{Method: "PUT", Path: "/v3.0/OS-SECURITYPOLICY/domains/" + e.DomainID + "/login-policy", Token: admin,
		Body: map[string]any{"login_policy": map[string]any{"login_failed_times": 10}}})
	mustStatus(t, r, http.StatusOK)
	receipt = e.mfaChallenge("sara")
	code = e.mfaOutboxCode(admin, sara)["code"].(string)
	wrong := "111111"
	if code == wrong {
		wrong = "222222"
	}
	for range 4 {
		mfaKSError(t, totpOnly(sara, receipt, wrong), http.StatusUnauthorized, "IAM.1061")
	}
	mfaKSError(t, totpOnly(sara, receipt, wrong), http.StatusUnauthorized, "IAM.1061")
	msg = mfaKSError(t, totpOnly(sara, receipt, code), http.StatusUnauthorized, "IAM.1061")
	if !strings.Contains(msg, "too many") {
		t.Errorf("right code after five wrong ones: %q", msg)
	}
	if strings.Contains(e.logs.String(), "code is "+code) {
		t.Error("a login code reached the logs")
	}
}

func TestMFALoginReceiptEmailAndQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	id := e.createUser(admin, "emma", mfaPw, map[string]any{"email": "emma@example.com"})
	mustStatus(t, e.mfaProtect(admin, id, true, "email"), http.StatusOK)
	for i := range 5 {
		receipt := e.mfaChallenge("emma")
		msg := e.mfaOutboxCode(admin, id)
		if msg["channel"] != "email" || msg["recipient"] != "emma@example.com" || msg["subject"] == "" {
			t.Fatalf("outbox message %v", msg)
		}
		if i == 4 {
			mfaTokenBody(t, e.mfaLogin("emma", mfaPw, msg["code"].(string), map[string]string{"Openstack-Auth-Receipt": receipt}))
		}
	}
	// The sixth code this hour is refused.
	r := e.mfaLogin("emma", mfaPw, "", nil)
	mfaKSError(t, r, http.StatusTooManyRequests, "IAM.0012")
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	if r.Header.Get("Openstack-Auth-Receipt") != "" {
		t.Error("a receipt with the 429")
	}
	// The outbox of another domain shows none of it.
	_, otherTok := e.otherDomain("acme")
	r = e.do(req{Method: "GET", Path: mfaOutbox, Token: otherTok})
	mustStatus(t, r, http.StatusOK)
	if l := r.JSON(t)["messages"].([]any); len(l) != 0 {
		t.Errorf("foreign outbox: %s", r.Body)
	}
	r = e.do(req{Method: "GET", Path: mfaOutbox, Token: admin})
	mustStatus(t, r, http.StatusOK)
	if l := r.JSON(t)["messages"].([]any); len(l) != 5 {
		t.Errorf("outbox has %d messages, want 5", len(l))
	}
	mfaIAMError(t, e.do(req{Method: "GET", Path: mfaOutbox + "?limit=0", Token: admin}), http.StatusBadRequest, "IAM.0007")
}

func TestMFALoginReceiptExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.MFACodeTTL = time.Second })
	admin := e.adminToken()
	id := e.createUser(admin, "exa", mfaPw, map[string]any{"areacode": "0086", "phone": "13800009999"})
	mustStatus(t, e.mfaProtect(admin, id, true, "sms"), http.StatusOK)
	receipt := e.mfaChallenge("exa")
	code := e.mfaOutboxCode(admin, id)["code"].(string)
	time.Sleep(1200 * time.Millisecond)
	msg := mfaKSError(t, e.mfaLogin("exa", mfaPw, code, map[string]string{"Openstack-Auth-Receipt": receipt}), http.StatusUnauthorized, "IAM.1061")
	if !strings.Contains(msg, "expired") {
		t.Errorf("message %q", msg)
	}
}

// mfaCodeIn finds the 6-digit code in a message text.
func mfaCodeIn(t testing.TB, text string) string {
	t.Helper()
	i := strings.Index(text, "code is ")
	if i < 0 || len(text) < i+14 {
		t.Fatalf("no code in %q", text)
	}
	return text[i+8 : i+14]
}

// An e-mail code goes out by SMTP (STARTTLS off: a local relay, with AUTH),
// not to the development outbox, and is cleared from the table once sent.
func TestMFADeliverySMTP(t *testing.T) {
	t.Parallel()
	smtp, err := smtptest.Start(smtptest.Config{Username: "relay", Password: "relay-secret-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	e := newEnv(t, func(c *config.Config) {
		c.SMTPHost, c.SMTPPort, c.SMTPFrom = "127.0.0.1", smtp.Port(), "latchkey@example.com"
		c.SMTPUsername, c.SMTPPassword, c.SMTPStartTLS = "relay", "relay-secret-1", false
	})
	rememberSecret("relay-secret-1")
	admin := e.adminToken()
	id := e.createUser(admin, "mona", mfaPw, map[string]any{"email": "mona@example.com"})
	mustStatus(t, e.mfaProtect(admin, id, true, "email"), http.StatusOK)
	receipt := e.mfaChallenge("mona")
	m, ok := smtp.Wait(1, 10*time.Second)
	if !ok {
		t.Fatal("no e-mail arrived")
	}
	if m.User != "relay" || m.From != "latchkey@example.com" || len(m.To) != 1 || m.To[0] != "mona@example.com" ||
		!strings.Contains(m.Data, "Subject: Your latchkey verification code") {
		t.Errorf("e-mail %+v", m)
	}
	code := mfaCodeIn(t, m.Data)
	// Not in the development outbox (off: SMTP is configured).
	r := e.do(req{Method: "GET", Path: mfaOutbox, Token: admin})
	mustStatus(t, r, http.StatusOK)
	if l := r.JSON(t)["messages"].([]any); len(l) != 0 {
		t.Errorf("development outbox: %s", r.Body)
	}
	tok := mfaTokenBody(t, e.mfaLogin("mona", mfaPw, code, map[string]string{"Openstack-Auth-Receipt": receipt}))
	if mfaMethods(tok) != "password,totp" {
		t.Errorf("token %v", tok)
	}
	row := e.mfaOutboxRow(id)
	if row.Status != "sent" || row.Body != "" || row.Code != "" || row.Notifier != "smtp" {
		t.Errorf("outbox row after delivery %+v", row)
	}
	if strings.Contains(e.logs.String(), code) && strings.Contains(e.logs.String(), "code is "+code) {
		t.Error("the code reached the logs")
	}
}

// mfaOutboxRow reads the (only) outbox row of a user once its delivery is
// recorded (the receiver sees the message just before that).
func (e *env) mfaOutboxRow(userID string) store.OutboxMessage {
	e.t.Helper()
	var row store.OutboxMessage
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := e.App.DB.Where("user_id = ?", userID).Take(&row).Error; err != nil {
			e.t.Fatal(err)
		}
		if row.Status != "pending" {
			break
		}
	}
	return row
}

// mfaHook is an SMS gateway: it checks the signature and records messages;
// it answers fail while failing is set.
type mfaHook struct {
	t       testing.TB
	secret  string
	failing atomic.Bool
	calls   atomic.Int32
	got     chan notify.WebhookPayload
	srv     *httptest.Server
}

func newMFAHook(t testing.TB, secret string) *mfaHook {
	h := &mfaHook{t: t, secret: secret, got: make(chan notify.WebhookPayload, 10)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(notify.HeaderTimestamp), 10, 64)
		if r.Header.Get(notify.HeaderSignature) != notify.Sign(h.secret, ts, body) {
			t.Errorf("webhook: bad signature")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if h.failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p notify.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("webhook payload: %v", err)
		}
		h.got <- p
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *mfaHook) wait() notify.WebhookPayload {
	h.t.Helper()
	select {
	case p := <-h.got:
		return p
	case <-time.After(15 * time.Second):
		h.t.Fatal("no SMS reached the webhook")
	}
	return notify.WebhookPayload{}
}

func mfaWithHook(h *mfaHook) envOption {
	return func(c *config.Config) { c.SMSWebhookURL, c.SMSWebhookSecret = h.srv.URL+"/sms", h.secret }
}

func TestMFADeliveryWebhook(t *testing.T) {
	t.Parallel()
	hook := newMFAHook(t, "hook-secret-1")
	rememberSecret("hook-secret-1")
	e := newEnv(t, mfaWithHook(hook))
	admin := e.adminToken()
	id := e.createUser(admin, "nina", mfaPw, map[string]any{"areacode": "0086", "phone": "13800004321"})
	mustStatus(t, e.mfaProtect(admin, id, true, "sms"), http.StatusOK)
	receipt := e.mfaChallenge("nina")
	p := hook.wait()
	if p.To != "+86-13800004321" || p.Channel != "sms" || p.UserID != id || len(p.Code) != 6 || !strings.Contains(p.Message, p.Code) {
		t.Errorf("payload %+v", p)
	}
	mfaTokenBody(t, e.mfaLogin("nina", mfaPw, p.Code, map[string]string{"Openstack-Auth-Receipt": receipt}))
}

// A code queued while the gateway fails survives a restart: the next
// instance on the same database delivers it, and the login completes there.
func TestMFADeliveryAcrossRestart(t *testing.T) {
	t.Parallel()
	down := newMFAHook(t, "hook-secret-2")
	down.failing.Store(true)
	rememberSecret("hook-secret-2")
	e := newEnv(t, mfaWithHook(down))
	admin := e.adminToken()
	id := e.createUser(admin, "olga", mfaPw, map[string]any{"areacode": "0086", "phone": "13800008765"})
	mustStatus(t, e.mfaProtect(admin, id, true, "sms"), http.StatusOK)
	receipt := e.mfaChallenge("olga")
	deadline := time.Now().Add(10 * time.Second)
	for down.calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if down.calls.Load() == 0 {
		t.Fatal("the first instance never tried")
	}
	// Stop the first instance before it succeeds.
	e.srv.Close()
	if err := e.App.Close(); err != nil {
		t.Fatal(err)
	}
	up := newMFAHook(t, "hook-secret-2")
	e2 := newEnvOn(t, e.DSN, mfaWithHook(up))
	p := up.wait()
	if p.UserID != id {
		t.Fatalf("payload %+v", p)
	}
	mfaTokenBody(t, e2.mfaLogin("olga", mfaPw, p.Code, map[string]string{"Openstack-Auth-Receipt": receipt}))
	row := e2.mfaOutboxRow(id)
	if row.Status != "sent" || row.Attempts < 2 || row.Code != "" {
		t.Errorf("row %+v", row)
	}
}
