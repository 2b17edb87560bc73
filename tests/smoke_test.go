package tests

import (
	"net/http"
	"testing"
)

func TestSmokeTokenAndUser(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	id := e.createUser(tok, "alice", "Quiet-Harbor-73", nil)
	r := e.do(req{Method: "GET", Path: "/v3.0/OS-USER/users/" + id, Token: tok})
	mustStatus(t, r, http.StatusOK)
	if got := r.JSON(t)["user"].(map[string]any)["name"]; got != "alice" {
		t.Fatalf("name = %v", got)
	}
}
