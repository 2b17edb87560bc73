package tests

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/impl/accounts"
	"github.com/latchkey/latchkey/impl/config"
	"github.com/latchkey/latchkey/impl/passwords"
	"github.com/latchkey/latchkey/impl/store"
)

// withPeppers sets the pepper settings of an instance.
func withPeppers(current, old string) envOption {
	return func(c *config.Config) { c.Pepper, c.OldPeppers = current, old }
}

// stop shuts an instance down (its cleanup closing it again is harmless), as
// a restart with new settings would.
func (e *env) stop() {
	e.srv.Close()
	_ = e.App.Close()
}

// storedHash reads a user's password hash straight from the database.
func (e *env) storedHash(t *testing.T, userID string) string {
	t.Helper()
	var u store.User
	if err := e.App.DB.WithContext(context.Background()).Where("id = ?", userID).Take(&u).Error; err != nil {
		t.Fatalf("read user %s: %v", userID, err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$") {
		t.Fatalf("stored hash of %s is not argon2id", userID)
	}
	return u.PasswordHash
}

// wantPepper checks which pepper ID a stored hash names ("" for none): the
// PHC string's keyid parameter, the B64 of the ID.
func wantPepper(t *testing.T, phc, id string) {
	t.Helper()
	params := strings.Split(phc, "$")[3]
	want := "m=64,t=1,p=1"
	if id != "" {
		want += ",keyid=" + base64.RawStdEncoding.EncodeToString([]byte(id))
	}
	if params != want {
		t.Fatalf("hash parameters %q, want %q", params, want)
	}
}

// TestPepperRotation configures a pepper on a running deployment, rotates
// it, and drops the old one: logins keep working, each successful login
// moves the stored hash to the current pepper, and a hash whose pepper is
// gone fails loudly (never as a successful login) until an administrator
// resets the password.
func TestPepperRotation(t *testing.T) {
	p1 := "p1:" + strings.Repeat("5a17", 16)                                         // 32 bytes, hex
	p2 := "p2:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 40))) // 40 bytes, base64
	for _, s := range []string{p1, p2, strings.TrimPrefix(p1, "p1:"), strings.TrimPrefix(p2, "p2:")} {
		rememberSecret(s)
	}
	const (
		pwAlice = "Sugar-Pepper-1!"
		pwBob   = "Salt-Pepper-2!x"
		pwBob2  = "Fresh-Reset-3!xy"
	)
	rememberSecret(pwAlice)
	rememberSecret(pwBob)
	rememberSecret(pwBob2)

	// 1. No pepper: hashes carry no keyid.
	e := newEnv(t)
	alice := e.createUser(e.adminToken(), "alice", pwAlice, nil)
	wantPepper(t, e.storedHash(t, alice), "")
	dsn := e.DSN
	e.stop()

	// 2. Restart with pepper p1: the old hash still verifies and is upgraded
	// by the login, not before.
	e = newEnvOn(t, dsn, withPeppers(p1, ""))
	wantPepper(t, e.storedHash(t, alice), "")
	e.token("alice", pwAlice)
	wantPepper(t, e.storedHash(t, alice), "p1")
	e.token("alice", pwAlice) // and verifies peppered
	mustStatus(t, e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog=true", Body: passwordAuth("alice", "Wrong-Sugar-1!x")}),
		http.StatusUnauthorized)
	bob := e.createUser(e.adminToken(), "bob", pwBob, nil) // new hashes use p1 at once
	wantPepper(t, e.storedHash(t, bob), "p1")
	e.stop()

	// 3. Rotate: p2 current, p1 old. Alice and the admin log in and move to
	// p2; Bob does not log in and stays on p1.
	e = newEnvOn(t, dsn, withPeppers(p2, p1))
	e.token("alice", pwAlice)
	e.adminToken()
	wantPepper(t, e.storedHash(t, alice), "p2")
	wantPepper(t, e.storedHash(t, bob), "p1")
	e.stop()

	// 4. Drop p1: Alice (upgraded) logs in; Bob's hash cannot be checked.
	e = newEnvOn(t, dsn, withPeppers(p2, ""))
	admin := e.adminToken()
	e.token("alice", pwAlice)
	wantPepper(t, e.storedHash(t, alice), "p2")
	_, _, err := e.App.Accounts.Authenticate(context.Background(), accounts.UserRef{Name: "bob", DomainName: domainName}, pwBob)
	if !errors.Is(err, passwords.ErrUnknownPepper) {
		t.Fatalf("login with a hash of a dropped pepper: %v, want ErrUnknownPepper", err)
	}
	if !strings.Contains(e.logs.String(), "unknown pepper") {
		t.Fatal("the unusable hash was not logged")
	}
	// Over HTTP it is a server error, not a login (e.do would flag the 500).
	raw, _ := json.Marshal(passwordAuth("bob", pwBob))
	hr, err := http.Post(e.URL+"/v3/auth/tokens?nocatalog=true", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	hr.Body.Close()
	if hr.StatusCode != http.StatusInternalServerError || hr.Header.Get("X-Subject-Token") != "" {
		t.Fatalf("login with a hash of a dropped pepper: %d, want 500 and no token", hr.StatusCode)
	}
	wantPepper(t, e.storedHash(t, bob), "p1")
	// The administrator's reset does not need the lost pepper.
	mustStatus(t, e.do(req{Method: "PUT", Path: "/v3.0/OS-USER/users/" + bob, Token: admin,
		Body: map[string]any{"user": map[string]any{"password": pwBob2, "pwd_status": false}}}), http.StatusOK)
	wantPepper(t, e.storedHash(t, bob), "p2")
	e.token("bob", pwBob2)
}
