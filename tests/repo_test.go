package tests

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// CodeArts Repo: HTTPS authentication mode, separate HTTPS password and
// validate-https-info (apis.md §4, DESIGN §3).

const (
	rpAcctPw  = "Wq8-Lmzt.r1"    // account password
	rpAcctPw2 = "Hv3_Npks.e7"    // a second account password
	rpHTTPSPw = "Gr8-Clone-Key!" // a well-formed HTTPS password
	rpTwoType = "quietharbor731" // valid account password, bad HTTPS format
)

func init() {
	for _, s := range []string{rpAcctPw, rpAcctPw2, rpHTTPSPw, rpTwoType} {
		rememberSecret(s)
	}
}

// rpBodies: the exact validate-https-info answers (seed 001).
var (
	rpPassed    = `{"result":"verificationPassed","status":"success"}`
	rpBadFormat = `{"error":{"code":"CH.080002","message":"Incorrect password format."},"status":"failed"}`
	rpNoUser    = `{"error":{"code":"CH.010112","message":"User does not exist."},"status":"failed"}`
	rpWrong     = `{"error":{"code":"CH.010008","message":"Invalid password."},"status":"failed"}`
)

// rpJSONEq fails unless got's body is the JSON document want.
func rpJSONEq(t testing.TB, got *resp, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got.Body, &g); err != nil {
		t.Fatalf("body is not JSON (%d): %s", got.Status, got.Body)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %s", want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body %s, want %s", strings.TrimSpace(string(got.Body)), want)
	}
}

// rpText fails unless r is 200 text/plain with body want.
func rpText(t testing.TB, r *resp, want string) {
	t.Helper()
	mustStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want text/plain", ct)
	}
	if string(r.Body) != want {
		t.Fatalf("body %q, want %q", r.Body, want)
	}
}

// rpErr fails unless r has status and, in the family envelope, code (and
// message when msg is not empty).
func rpErr(t testing.TB, r *resp, status int, code, msg string, v2 bool) {
	t.Helper()
	mustStatus(t, r, status)
	m := r.JSON(t)
	var gotCode, gotMsg any
	if v2 {
		e, ok := m["error"].(map[string]any)
		if !ok || m["status"] != "failed" || len(m) != 2 {
			t.Fatalf("not a v1/v2 envelope: %s", r.Body)
		}
		gotCode, gotMsg = e["code"], e["message"]
	} else {
		if len(m) != 2 {
			t.Fatalf("not a v4 envelope: %s", r.Body)
		}
		gotCode, gotMsg = m["error_code"], m["error_msg"]
	}
	if gotCode != code || (msg != "" && gotMsg != msg) {
		t.Fatalf("code %v message %v, want %s %q: %s", gotCode, gotMsg, code, msg, r.Body)
	}
}

func (e *env) rpValidate(tok, userID, pwd string) *resp {
	e.t.Helper()
	return e.do(req{Method: "POST", Path: "/v2/user/" + userID + "/validate-https-info", Token: tok, Body: map[string]any{"pwd": pwd}})
}

func (e *env) rpValidateV1(tok, userID, pwd string) *resp {
	e.t.Helper()
	return e.do(req{Method: "POST", Path: "/v1/user/" + userID + "/validateHttpsInfo", Token: tok, Body: map[string]any{"pwd": pwd}})
}

func (e *env) rpSetMode(tok string, v any) *resp {
	e.t.Helper()
	return e.do(req{Method: "PUT", Path: "/v4/user/https-password-setting", Token: tok, Body: map[string]any{"https_clone_iam_auth": v}})
}

func (e *env) rpMode(tok string) *resp {
	e.t.Helper()
	return e.do(req{Method: "GET", Path: "/v4/user/https-password-setting", Token: tok})
}

func (e *env) rpSetPassword(tok, account, pw string) *resp {
	e.t.Helper()
	return e.do(req{Method: "PUT", Path: "/v4/user/https-password", Token: tok,
		Body: map[string]any{"password": pw, "account_password": account}})
}

// rpPassed200 checks a validation outcome on both API versions.
func (e *env) rpOutcome(t testing.TB, tok, userID, pwd, want string) {
	t.Helper()
	for _, r := range []*resp{e.rpValidate(tok, userID, pwd), e.rpValidateV1(tok, userID, pwd)} {
		mustStatus(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("Content-Type %q", ct)
		}
		rpJSONEq(t, r, want)
	}
}

func TestRepoHttpsFlow(t *testing.T) {
	e := newEnv(t)
	adm := e.adminToken()
	alice := e.createUser(adm, "alice", rpAcctPw, nil)
	tok := e.token("alice", rpAcctPw)

	// A new user is in account-password mode.
	rpText(t, e.rpMode(tok), "true")
	e.rpOutcome(t, tok, alice, rpAcctPw, rpPassed)
	e.rpOutcome(t, tok, alice, rpAcctPw2, rpWrong)
	// Account mode checks only the 8-32 length bound before verifying.
	e.rpOutcome(t, tok, alice, "Ab1-xyz", rpBadFormat)
	e.rpOutcome(t, tok, alice, "Ab1-"+strings.Repeat("x", 29), rpBadFormat)
	e.rpOutcome(t, tok, alice, rpTwoType, rpWrong)

	// Setting the HTTPS password: re-authentication, then the format.
	rpErr(t, e.rpSetPassword(tok, rpAcctPw2, rpHTTPSPw), http.StatusUnauthorized, "CH.010008", "Invalid password.", false)
	rpErr(t, e.rpSetPassword(tok, rpAcctPw, rpTwoType), http.StatusBadRequest, "CH.080002", "", false)
	rpErr(t, e.rpSetPassword(tok, rpAcctPw, rpHTTPSPw+strings.Repeat("z", 19)), http.StatusBadRequest, "CH.080002", "", false)
	rpErr(t, e.rpSetPassword(tok, rpAcctPw, "Ab1-xyz"), http.StatusBadRequest, "CH.080002", "", false)
	rpText(t, e.rpSetPassword(tok, rpAcctPw, rpHTTPSPw), "success")
	// Setting the password does not switch the mode.
	rpText(t, e.rpMode(tok), "true")
	// A success resets the failure counter (5 failures lock HTTPS Git).
	e.rpOutcome(t, tok, alice, rpAcctPw, rpPassed)
	e.rpOutcome(t, tok, alice, rpHTTPSPw, rpWrong)

	// Switch to the separate HTTPS password with a JSON boolean.
	rpText(t, e.rpSetMode(tok, false), "success")
	rpText(t, e.rpMode(tok), "false")
	e.rpOutcome(t, tok, alice, rpHTTPSPw, rpPassed)
	e.rpOutcome(t, tok, alice, "Gr8-Clone-Key?", rpWrong)
	e.rpOutcome(t, tok, alice, rpAcctPw, rpWrong)
	e.rpOutcome(t, tok, alice, rpTwoType, rpBadFormat)
	e.rpOutcome(t, tok, alice, "short", rpBadFormat)

	// Unknown user, and a user of another domain: "User does not exist." (200).
	e.rpOutcome(t, tok, strings.Repeat("0", 32), rpHTTPSPw, rpNoUser)
	e.rpOutcome(t, adm, strings.Repeat("ab", 16), rpHTTPSPw, rpNoUser)
	_, otherOwner := e.otherDomain("beta")
	otherID := e.rpSelfID(otherOwner)
	e.rpOutcome(t, adm, otherID, adminPassword, rpNoUser)
	e.rpOutcome(t, otherOwner, alice, rpHTTPSPw, rpNoUser)

	// Switch back with strings (what the Huawei SDK sends).
	rpText(t, e.rpSetMode(tok, "true"), "success")
	rpText(t, e.rpMode(tok), "true")
	e.rpOutcome(t, tok, alice, rpAcctPw, rpPassed)
	e.rpOutcome(t, tok, alice, rpHTTPSPw, rpWrong)
	rpText(t, e.rpSetMode(tok, "false"), "success")
	rpText(t, e.rpMode(tok), "false")
	e.rpOutcome(t, tok, alice, rpHTTPSPw, rpPassed)
	rpText(t, e.rpSetMode(tok, true), "success")
	rpText(t, e.rpMode(tok), "true")

	// Replacing the HTTPS password: only the new one works.
	rpText(t, e.rpSetMode(tok, false), "success")
	rpText(t, e.rpSetPassword(tok, rpAcctPw, "Tc9=Gfwx.o6-Git"), "success")
	e.rpOutcome(t, tok, alice, rpHTTPSPw, rpWrong)
	e.rpOutcome(t, tok, alice, "Tc9=Gfwx.o6-Git", rpPassed)
	rememberSecret("Tc9=Gfwx.o6-Git")

	// Settings are per user: the admin is still in account mode.
	rpText(t, e.rpMode(adm), "true")
}

// rpSelfID returns the user id of a token (Keystone validate).
func (e *env) rpSelfID(tok string) string {
	e.t.Helper()
	r := e.do(req{Method: "GET", Path: "/v3/auth/tokens?nocatalog", Token: tok, Header: map[string]string{"X-Subject-Token": tok}})
	mustStatus(e.t, r, http.StatusOK)
	return r.JSON(e.t)["token"].(map[string]any)["user"].(map[string]any)["id"].(string)
}

func TestRepoHttpsPasswordFormat(t *testing.T) {
	e := newEnv(t)
	adm := e.adminToken()
	// A user name that is itself a well-formed password.
	id := e.createUser(adm, "Dev_User1", rpAcctPw, nil)
	tok := e.token("Dev_User1", rpAcctPw)
	cases := []struct{ name, pw, rule string }{
		{"user name", "Dev_User1", "username"},
		{"user name, other case", "dev_user1", "username"},
		{"user name reversed", "1resU_veD", "backwards"},
		{"7 characters", "Ab1-xyz", "8 to 32"},
		{"33 characters", "Ab1-" + strings.Repeat("x", 29), "8 to 32"},
		{"2 types", rpTwoType, "at least 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.rpSetPassword(tok, rpAcctPw, c.pw)
			rpErr(t, r, http.StatusBadRequest, "CH.080002", "", false)
			msg, _ := r.JSON(t)["error_msg"].(string)
			if !strings.HasPrefix(msg, "Incorrect password format.") || !strings.Contains(msg, c.rule) {
				t.Fatalf("message %q does not name the rule (%s)", msg, c.rule)
			}
			if strings.Contains(msg, c.pw) {
				t.Fatalf("message %q echoes the password", msg)
			}
		})
	}
	// In mode false, validation applies the same format.
	rpText(t, e.rpSetPassword(tok, rpAcctPw, rpHTTPSPw), "success")
	rpText(t, e.rpSetMode(tok, false), "success")
	e.rpOutcome(t, tok, id, "Dev_User1", rpBadFormat)
	e.rpOutcome(t, tok, id, "1resU_veD", rpBadFormat)
	e.rpOutcome(t, tok, id, rpHTTPSPw, rpPassed)
}

func TestRepoHttpsSeparateWithoutPassword(t *testing.T) {
	e := newEnv(t)
	adm := e.adminToken()
	id := e.createUser(adm, "nina", rpAcctPw, nil)
	tok := e.token("nina", rpAcctPw)
	rpText(t, e.rpSetMode(tok, "false"), "success")
	// Mode false without an HTTPS password: nothing passes, not even the account password.
	e.rpOutcome(t, tok, id, rpAcctPw, rpWrong)
	e.rpOutcome(t, tok, id, rpHTTPSPw, rpWrong)
}

func TestRepoBadBodies(t *testing.T) {
	e := newEnv(t)
	adm := e.adminToken()
	id := e.createUser(adm, "bea", rpAcctPw, nil)
	tok := e.token("bea", rpAcctPw)

	setting := []struct {
		name string
		body string
	}{
		{"missing field", `{}`},
		{"yes", `{"https_clone_iam_auth":"yes"}`},
		{"TRUE", `{"https_clone_iam_auth":"TRUE"}`},
		{"number", `{"https_clone_iam_auth":1}`},
		{"null", `{"https_clone_iam_auth":null}`},
		{"array", `{"https_clone_iam_auth":[true]}`},
		{"not JSON", `{"https_clone_iam_auth":`},
		{"not an object", `true`},
	}
	for _, c := range setting {
		t.Run("setting "+c.name, func(t *testing.T) {
			r := e.do(req{Method: "PUT", Path: "/v4/user/https-password-setting", Token: tok, Body: c.body})
			rpErr(t, r, http.StatusBadRequest, "CH.010001", "", false)
		})
	}
	// Nothing was stored by the refused requests.
	rpText(t, e.rpMode(tok), "true")

	password := []struct {
		name string
		body string
	}{
		{"missing account_password", `{"password":"Gr8-Clone-Key!"}`},
		{"missing password", `{"account_password":"Wq8-Lmzt.r1"}`},
		{"number", `{"password":12345678,"account_password":"Wq8-Lmzt.r1"}`},
		{"not JSON", `{"password":`},
	}
	for _, c := range password {
		t.Run("password "+c.name, func(t *testing.T) {
			r := e.do(req{Method: "PUT", Path: "/v4/user/https-password", Token: tok, Body: c.body})
			rpErr(t, r, http.StatusBadRequest, "CH.010001", "", false)
		})
	}

	validate := []struct {
		name string
		body string
	}{
		{"not JSON", `{"pwd":`},
		{"not an object", `"Gr8-Clone-Key!"`},
		{"missing pwd", `{}`},
		{"pwd number", `{"pwd":12345678}`},
		{"pwd null", `{"pwd":null}`},
	}
	for _, c := range validate {
		for _, path := range []string{"/v2/user/" + id + "/validate-https-info", "/v1/user/" + id + "/validateHttpsInfo"} {
			t.Run("validate "+c.name+" "+path[:3], func(t *testing.T) {
				r := e.do(req{Method: "POST", Path: path, Token: tok, Body: c.body})
				rpErr(t, r, http.StatusBadRequest, "CH.010001", "", true)
			})
		}
	}
	// A path id that is not 32 letters or digits.
	r := e.do(req{Method: "POST", Path: "/v2/user/" + id[:31] + "/validate-https-info", Token: tok, Body: map[string]any{"pwd": rpAcctPw}})
	rpErr(t, r, http.StatusBadRequest, "CH.010001", "", true)

	// Bodies arrive in any key order, with HTML escapes and a trailing newline.
	raw := `{"account_password":"Wq8-Lmzt.r1","password":"Gr8\u002dClone\u002dKey!"}` + "\n"
	rpText(t, e.do(req{Method: "PUT", Path: "/v4/user/https-password", Token: tok, Body: raw, CT: "application/json;charset=UTF-8"}), "success")
	rpText(t, e.do(req{Method: "PUT", Path: "/v4/user/https-password-setting", Token: tok, Body: `{"https_clone_iam_auth":"false"}` + "\n", CT: "application/json;charset=utf8"}), "success")
	e.rpOutcome(t, tok, id, rpHTTPSPw, rpPassed)
}

func TestRepoAuthentication(t *testing.T) {
	e := newEnv(t)
	adm := e.adminToken()
	id := e.createUser(adm, "carl", rpAcctPw, nil)
	for _, tok := range []string{"", "not-a-token"} {
		v4 := []*resp{
			e.do(req{Method: "GET", Path: "/v4/user/https-password-setting", Token: tok}),
			e.do(req{Method: "PUT", Path: "/v4/user/https-password-setting", Token: tok, Body: map[string]any{"https_clone_iam_auth": true}}),
			e.do(req{Method: "PUT", Path: "/v4/user/https-password", Token: tok, Body: map[string]any{"password": rpHTTPSPw, "account_password": rpAcctPw}}),
		}
		for _, r := range v4 {
			rpErr(t, r, http.StatusUnauthorized, "DEV.00000003", "Authentication information expired.", false)
		}
		for _, r := range []*resp{e.rpValidate(tok, id, rpAcctPw), e.rpValidateV1(tok, id, rpAcctPw)} {
			rpErr(t, r, http.StatusUnauthorized, "CH.080401", "", true)
		}
	}
	// A revoked token is refused too.
	tok := e.token("carl", rpAcctPw)
	mustStatus(t, e.do(req{Method: "DELETE", Path: "/v3/auth/tokens", Token: tok, Header: map[string]string{"X-Subject-Token": tok}}), http.StatusNoContent)
	rpErr(t, e.rpMode(tok), http.StatusUnauthorized, "DEV.00000003", "", false)
	rpErr(t, e.rpValidate(tok, id, rpAcctPw), http.StatusUnauthorized, "CH.080401", "", true)
}

func TestRepoAuthorization(t *testing.T) {
	e := newEnv(t)
	adm := e.adminToken()
	alice := e.createUser(adm, "alice", rpAcctPw, nil)
	bob := e.createUser(adm, "bob", rpAcctPw2, nil)
	sec := e.createUser(adm, "sec", rpAcctPw2, nil)
	e.setRole(sec, "secu_admin")
	bobTok := e.token("bob", rpAcctPw2)
	secTok := e.token("sec", rpAcctPw2)

	// A plain user may not validate another user of its domain.
	rpErr(t, e.rpValidate(bobTok, alice, rpAcctPw), http.StatusForbidden, "CH.080403", "", true)
	rpErr(t, e.rpValidateV1(bobTok, alice, rpAcctPw), http.StatusForbidden, "CH.080403", "", true)
	rpErr(t, e.rpValidate(bobTok, e.AdminID, adminPassword), http.StatusForbidden, "CH.080403", "", true)
	// ... but itself, yes.
	e.rpOutcome(t, bobTok, bob, rpAcctPw2, rpPassed)
	// Admins (owner, security administrator) validate users of their domain.
	e.rpOutcome(t, adm, alice, rpAcctPw, rpPassed)
	e.rpOutcome(t, adm, alice, rpAcctPw2, rpWrong)
	e.rpOutcome(t, secTok, alice, rpAcctPw, rpPassed)
	e.rpOutcome(t, secTok, e.AdminID, adminPassword, rpPassed)
	// An admin of another domain sees nobody here.
	_, other := e.otherDomain("gamma")
	e.rpOutcome(t, other, alice, rpAcctPw, rpNoUser)

	// A restricted token (password must be changed) is 403 everywhere here.
	e.createUser(adm, "rudi", rpAcctPw, map[string]any{"pwd_status": true})
	rid := e.rpSelfID(e.token("rudi", rpAcctPw))
	rtok := e.token("rudi", rpAcctPw)
	rpErr(t, e.rpMode(rtok), http.StatusForbidden, "CH.004403", "", false)
	rpErr(t, e.rpSetMode(rtok, false), http.StatusForbidden, "CH.004403", "", false)
	rpErr(t, e.rpSetPassword(rtok, rpAcctPw, rpHTTPSPw), http.StatusForbidden, "CH.004403", "", false)
	rpErr(t, e.rpValidate(rtok, rid, rpAcctPw), http.StatusForbidden, "CH.080403", "", true)
	rpErr(t, e.rpValidateV1(rtok, rid, rpAcctPw), http.StatusForbidden, "CH.080403", "", true)
	// An admin checking that user: an administrator-set password that must
	// be changed does not work for HTTPS Git.
	e.rpOutcome(t, adm, rid, rpAcctPw, rpWrong)
}

// TestRepoHttpsAdminReset: an administrator reset of the account password
// clears the separate HTTPS password, and an account password that must be
// changed does not authenticate HTTPS Git until the user changes it.
func TestRepoHttpsAdminReset(t *testing.T) {
	e := newEnv(t)
	adm := e.adminToken()
	const newPw, ownPw = "Jz5+Rbdy.u4", "Kx7#Plmq.w2"
	rememberSecret(newPw)
	rememberSecret(ownPw)
	// This flow checks many wrong passwords in a row: allow 10 (the most the
	// login policy allows) before the HTTPS Git lockout.
	mustStatus(t, e.do(req{Method: "PUT", Path: "/v3.0/OS-SECURITYPOLICY/domains/" + e.DomainID + "/login-policy", Token: adm,
		Body: map[string]any{"login_policy": map[string]any{"login_failed_times": 10}}}), http.StatusOK)

	// alice: mode false with an HTTPS password; carl: account mode.
	alice := e.createUser(adm, "alice", rpAcctPw, nil)
	carl := e.createUser(adm, "carl", rpAcctPw, nil)
	atok := e.token("alice", rpAcctPw)
	rpText(t, e.rpSetPassword(atok, rpAcctPw, rpHTTPSPw), "success")
	rpText(t, e.rpSetMode(atok, false), "success")
	e.rpOutcome(t, adm, alice, rpHTTPSPw, rpPassed)
	e.rpOutcome(t, adm, carl, rpAcctPw, rpPassed)

	reset := func(id string) {
		t.Helper()
		r := e.do(req{Method: "PUT", Path: "/v3.0/OS-USER/users/" + id, Token: adm,
			Body: map[string]any{"user": map[string]any{"password": newPw, "pwd_status": true}}})
		mustStatus(t, r, http.StatusOK)
	}
	reset(alice)
	reset(carl)

	// alice's HTTPS password is gone; her mode is kept.
	e.rpOutcome(t, adm, alice, rpHTTPSPw, rpWrong)
	// carl's admin-set password does not work for HTTPS Git while it must be changed.
	e.rpOutcome(t, adm, carl, newPw, rpWrong)
	e.rpOutcome(t, adm, carl, rpAcctPw, rpWrong)

	// Both change their password themselves (restricted tokens may do that).
	for _, u := range []struct{ name, id string }{{"alice", alice}, {"carl", carl}} {
		tok := e.token(u.name, newPw)
		r := e.do(req{Method: "POST", Path: "/v3/users/" + u.id + "/password", Token: tok,
			Body: map[string]any{"user": map[string]any{"original_password": newPw, "password": ownPw}}})
		mustStatus(t, r, http.StatusNoContent)
	}
	e.rpOutcome(t, adm, carl, ownPw, rpPassed)
	// alice is still in mode false with no HTTPS password until she sets one.
	atok = e.token("alice", ownPw)
	rpText(t, e.rpMode(atok), "false")
	e.rpOutcome(t, atok, alice, rpHTTPSPw, rpWrong)
	e.rpOutcome(t, atok, alice, ownPw, rpWrong)
	rpText(t, e.rpSetPassword(atok, ownPw, rpHTTPSPw), "success")
	e.rpOutcome(t, atok, alice, rpHTTPSPw, rpPassed)

	// A user's own password change keeps the HTTPS password.
	r := e.do(req{Method: "POST", Path: "/v3/users/" + alice + "/password", Token: atok,
		Body: map[string]any{"user": map[string]any{"original_password": ownPw, "password": rpAcctPw2}}})
	mustStatus(t, r, http.StatusNoContent)
	e.rpOutcome(t, adm, alice, rpHTTPSPw, rpPassed)
}
