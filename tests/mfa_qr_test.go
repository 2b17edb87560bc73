package tests

import (
	"bytes"
	"image/png"
	"net/http"
	"testing"
)

// A person sets up an authenticator app from Swagger UI: the QR code of a
// new device is served as an image until the device is bound.
func TestMFAQRCode(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken()
	const pw = "Quiet-Harbor-73"
	rememberSecret(pw)
	id := e.createUser(admin, "qr-user", pw, nil)
	tok := e.token("qr-user", pw)
	path := "/v3.0/OS-MFA/users/" + id + "/virtual-mfa-device/qr-code"

	// No device yet.
	r := e.do(req{Method: "GET", Path: path, Token: tok})
	mfaIAMError(t, r, http.StatusNotFound, "IAM.0004")

	e.mfaCreate(tok, id, "qr-phone")
	r = e.do(req{Method: "GET", Path: path, Token: tok})
	mustStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("Content-Type %q", ct)
	}
	img, err := png.Decode(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dx() != b.Dy() {
		t.Fatalf("QR image bounds %v", b)
	}

	// Nobody else sees it, not even an administrator: the seed is the user's.
	mfaIAMError(t, e.do(req{Method: "GET", Path: path, Token: admin}), http.StatusForbidden, "IAM.0002")

	// Once bound, the key is never shown again.
	other := e.createUser(admin, "qr-bound", pw, nil)
	otherTok := e.token("qr-bound", pw)
	e.mfaBindDevice(otherTok, other, "qr-bound-phone")
	r = e.do(req{Method: "GET", Path: "/v3.0/OS-MFA/users/" + other + "/virtual-mfa-device/qr-code", Token: otherTok})
	mfaIAMError(t, r, http.StatusNotFound, "IAM.0004")
}
