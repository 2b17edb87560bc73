package tests

import (
	"net/http"
	"strconv"
	"testing"
)

// HTTPS Git validation counts failures on its own counter: a Git password
// guesser is cut off with 429 and Retry-After, and cannot lock out the
// console login of the same account.
func TestRepoHTTPSLockout(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken()
	const pw = "Quiet-Harbor-73"
	rememberSecret(pw)
	id := e.createUser(admin, "gitty", pw, nil)
	tok := e.token("gitty", pw)
	path := "/v2/user/" + id + "/validate-https-info"

	// The default login policy locks after 5 failures.
	for i := 1; i <= 5; i++ {
		r := e.do(req{Method: "POST", Path: path, Token: tok, Body: map[string]any{"pwd": "Wrong-Guess-" + strconv.Itoa(i)}})
		mustStatus(t, r, http.StatusOK)
		if code := errorCode(t, r); code != "CH.010008" {
			t.Fatalf("guess %d: code %s: %s", i, code, r.Body)
		}
	}
	// Locked: even the right password is refused, without hashing.
	r := e.do(req{Method: "POST", Path: path, Token: tok, Body: map[string]any{"pwd": pw}})
	mustStatus(t, r, http.StatusTooManyRequests)
	if code := errorCode(t, r); code != "APIG.0308" {
		t.Fatalf("locked: code %s: %s", code, r.Body)
	}
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra <= 0 || ra > 15*60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if m := r.JSON(t); m["status"] != "failed" {
		t.Fatalf("envelope: %s", r.Body)
	}
	// The console login has its own counter and still works.
	_ = e.token("gitty", pw)
}
