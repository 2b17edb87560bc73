package tests

// Black-box tests of the IAM v3.0 user API (/v3.0/OS-USER/users...) and of
// login protection (seed 004, apis.md §3.1, §3.2). Helpers of this file are
// prefixed "ia".

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Passwords used by these tests: they satisfy the default policy and are not
// in the common-password dictionary.
const (
	iaPw      = "Quiet-Harbor-73"
	iaPw2     = "Amber#Falcon-92"
	iaPw3     = "Cedar!Meadow-48"
	iaUsersV3 = "/v3.0/OS-USER/users"
)

// iaRejectedPws are passwords the server must refuse; like every password,
// they must never reach the log.
var iaRejectedPws = []string{"Password123!", "Ab3-xyz", "quietharborlamp", "marlowe-Harbor-73",
	"Kestrel-Harbor-73", "Harbor-13755551234"}

func init() {
	for _, pw := range append([]string{iaPw, iaPw2, iaPw3, "Tq7#mZ2pw"}, iaRejectedPws...) {
		rememberSecret(pw)
	}
}

var (
	iaHexID    = regexp.MustCompile(`^[0-9a-f]{32}$`)
	iaWireTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$`)
)

// iaIAMError asserts an IAM v3.0 error: the status, and exactly
// {"error_code": code, "error_msg": "<non-empty>"}. It returns error_msg.
func iaIAMError(t testing.TB, r *resp, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d (%s): %s", r.Status, status, code, r.Body)
	}
	m := r.JSON(t)
	if len(m) != 2 {
		t.Errorf("IAM v3.0 error envelope must have exactly error_code and error_msg: %s", r.Body)
	}
	got, ok := m["error_code"].(string)
	if !ok || got != code {
		t.Fatalf("error_code = %v, want %q: %s", m["error_code"], code, r.Body)
	}
	msg, ok := m["error_msg"].(string)
	if !ok || msg == "" {
		t.Errorf("error_msg missing or empty: %s", r.Body)
	}
	return msg
}

// iaKeystoneError asserts a Keystone-family error: the status, and exactly
// {"error":{"code":status,"title":<reason phrase>,"message":m,"error_code":code,"error_msg":m}}.
// It returns the message.
func iaKeystoneError(t testing.TB, r *resp, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d (%s): %s", r.Status, status, code, r.Body)
	}
	m := r.JSON(t)
	if len(m) != 1 {
		t.Errorf("Keystone error envelope must have only \"error\": %s", r.Body)
	}
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", r.Body)
	}
	if len(e) != 5 {
		t.Errorf("Keystone error object must have code, title, message, error_code, error_msg: %s", r.Body)
	}
	if c, ok := e["code"].(float64); !ok || int(c) != status {
		t.Errorf("error.code = %v, want the integer %d: %s", e["code"], status, r.Body)
	}
	if e["title"] != http.StatusText(status) {
		t.Errorf("error.title = %v, want %q", e["title"], http.StatusText(status))
	}
	if got, _ := e["error_code"].(string); got != code {
		t.Fatalf("error.error_code = %v, want %q: %s", e["error_code"], code, r.Body)
	}
	msg, _ := e["message"].(string)
	if msg == "" {
		t.Errorf("error.message missing or empty: %s", r.Body)
	}
	if e["error_msg"] != msg {
		t.Errorf("error.error_msg = %v, want it to repeat message %q", e["error_msg"], msg)
	}
	return msg
}

// iaError asserts the error in the envelope of the family of path (HEAD: the
// status and an empty body only).
func iaError(t testing.TB, method, path string, r *resp, status int, code string) string {
	t.Helper()
	if method == http.MethodHead {
		if r.Status != status {
			t.Fatalf("HEAD %s: status %d, want %d", path, r.Status, status)
		}
		if len(r.Body) != 0 {
			t.Errorf("HEAD %s: body %q, want none", path, r.Body)
		}
		return ""
	}
	if strings.HasPrefix(path, "/v3.0/") {
		return iaIAMError(t, r, status, code)
	}
	return iaKeystoneError(t, r, status, code)
}

// iaUser returns the "user" object of a response.
func iaUser(t testing.TB, r *resp) map[string]any {
	t.Helper()
	u, ok := r.JSON(t)["user"].(map[string]any)
	if !ok {
		t.Fatalf("no user object: %s", r.Body)
	}
	return u
}

// iaKeys asserts that m has exactly the given keys.
func iaKeys(t testing.TB, what string, m map[string]any, keys ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
		if _, ok := m[k]; !ok {
			t.Errorf("%s: field %q missing", what, k)
		}
	}
	for k := range m {
		if !want[k] {
			t.Errorf("%s: unexpected field %q = %v", what, k, m[k])
		}
	}
}

// iaFields asserts field values (JSON-decoded: strings, bools, nil).
func iaFields(t testing.TB, what string, m map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got, ok := m[k]; !ok {
			t.Errorf("%s: field %q missing (want %v)", what, k, v)
		} else if got != v {
			t.Errorf("%s: %s = %#v, want %#v", what, k, got, v)
		}
	}
}

// iaCreate posts a user (admin token) and returns the response.
func iaCreate(e *env, tok string, user map[string]any) *resp {
	e.t.Helper()
	return e.do(req{Method: "POST", Path: iaUsersV3, Token: tok, Body: map[string]any{"user": user}})
}

// iaGet reads a user through the IAM v3.0 API and returns the user object.
func iaGet(e *env, tok, id string) map[string]any {
	e.t.Helper()
	r := e.do(req{Method: "GET", Path: iaUsersV3 + "/" + id, Token: tok})
	mustStatus(e.t, r, http.StatusOK)
	return iaUser(e.t, r)
}

var iaCreatedKeys = []string{"id", "name", "domain_id", "enabled", "pwd_status", "xuser_id", "xuser_type",
	"access_mode", "description", "phone", "areacode", "email", "is_domain_owner", "create_time",
	"xdomain_id", "xdomain_type"}

var iaShowKeys = []string{"id", "name", "domain_id", "enabled", "links", "xuser_id", "xuser_type", "areacode",
	"email", "phone", "pwd_status", "update_time", "create_time", "last_login_time", "pwd_strength",
	"is_domain_owner", "access_mode", "description"}

var iaUpdatedKeys = []string{"id", "name", "domain_id", "enabled", "pwd_status", "xuser_id", "xuser_type",
	"access_mode", "description", "phone", "areacode", "email", "links"}

// iaCheckShowShape checks the fields every GET user carries; the optional
// newer fields (modify_pwd_time, last_pwd_auth_time, pwd_create_time) may be
// present and are checked for format when they are not null.
func iaCheckShowShape(t testing.TB, e *env, u map[string]any) {
	t.Helper()
	optional := map[string]bool{"modify_pwd_time": true, "last_pwd_auth_time": true, "pwd_create_time": true}
	core := map[string]any{}
	for k, v := range u {
		if optional[k] {
			if v != nil {
				if s, _ := v.(string); !iaWireTime.MatchString(s) {
					t.Errorf("%s = %v: not a wire timestamp", k, v)
				}
			}
			continue
		}
		core[k] = v
	}
	iaKeys(t, "GET user", core, iaShowKeys...)
	id, _ := u["id"].(string)
	if !iaHexID.MatchString(id) {
		t.Errorf("id %q is not 32 lowercase hex", id)
	}
	for _, k := range []string{"create_time", "update_time"} {
		if s, _ := u[k].(string); !iaWireTime.MatchString(s) {
			t.Errorf("%s = %v: not a wire timestamp", k, u[k])
		}
	}
	if v := u["last_login_time"]; v != nil {
		if s, _ := v.(string); !iaWireTime.MatchString(s) {
			t.Errorf("last_login_time = %v: not a wire timestamp", v)
		}
	}
	links, _ := u["links"].(map[string]any)
	iaKeys(t, "links", links, "self", "previous", "next")
	if links["self"] != e.URL+iaUsersV3+"/"+id {
		t.Errorf("links.self = %v, want %s", links["self"], e.URL+iaUsersV3+"/"+id)
	}
	if links["previous"] != nil || links["next"] != nil {
		t.Errorf("links.previous/next must be null: %v", links)
	}
}

func TestIAMCreateUserAllFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	r := iaCreate(e, tok, map[string]any{
		"name": "alice", "domain_id": e.DomainID, "password": iaPw,
		"email": "alice@example.com", "areacode": "0086", "phone": "13912345678",
		"enabled": true, "pwd_status": false,
		"xuser_type": "ldap", "xuser_id": "uid=alice,ou=people,dc=example,dc=com",
		"description": "Backend developer, payments team",
	})
	mustStatus(t, r, http.StatusCreated)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if strings.Contains(string(r.Body), iaPw) {
		t.Fatal("the response echoes the password")
	}
	u := iaUser(t, r)
	// The default policy has no validity period: password_expires_at is left
	// out, and status is never sent.
	iaKeys(t, "created user", u, iaCreatedKeys...)
	iaFields(t, "created user", u, map[string]any{
		"name": "alice", "domain_id": e.DomainID, "enabled": true, "pwd_status": false,
		"access_mode": "default", "email": "alice@example.com", "areacode": "0086", "phone": "13912345678",
		"xuser_type": "ldap", "xuser_id": "uid=alice,ou=people,dc=example,dc=com",
		"description": "Backend developer, payments team", "is_domain_owner": false,
		"xdomain_id": "", "xdomain_type": "",
	})
	id, _ := u["id"].(string)
	if !iaHexID.MatchString(id) {
		t.Errorf("id %q is not 32 lowercase hex", id)
	}
	ct, _ := u["create_time"].(string)
	if !iaWireTime.MatchString(ct) {
		t.Errorf("create_time %q is not YYYY-MM-DDTHH:MM:SS.ffffffZ", ct)
	}

	// GET shows the same user, with the phone as <areacode>-<number>.
	g := iaGet(e, tok, id)
	iaCheckShowShape(t, e, g)
	iaFields(t, "GET user", g, map[string]any{
		"id": id, "name": "alice", "domain_id": e.DomainID, "enabled": true, "pwd_status": false,
		"access_mode": "default", "email": "alice@example.com", "areacode": "0086", "phone": "0086-13912345678",
		"xuser_type": "ldap", "xuser_id": "uid=alice,ou=people,dc=example,dc=com",
		"description": "Backend developer, payments team", "is_domain_owner": false,
		"create_time": ct, "pwd_strength": "Strong", "last_login_time": nil,
	})

	// The user can log in with the password it was created with.
	e.token("alice", iaPw)
}

func TestIAMCreateUserDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()

	// Only the required fields: no password, so pwd_status is false; every
	// optional string is "".
	r := iaCreate(e, tok, map[string]any{"name": "bare", "domain_id": e.DomainID})
	mustStatus(t, r, http.StatusCreated)
	u := iaUser(t, r)
	iaKeys(t, "created user", u, iaCreatedKeys...)
	iaFields(t, "created user", u, map[string]any{
		"name": "bare", "enabled": true, "pwd_status": false, "access_mode": "default",
		"email": "", "areacode": "", "phone": "", "xuser_type": "", "xuser_id": "", "description": "",
		"is_domain_owner": false, "xdomain_id": "", "xdomain_type": "",
	})
	g := iaGet(e, tok, u["id"].(string))
	iaCheckShowShape(t, e, g)
	iaFields(t, "GET bare user", g, map[string]any{"phone": "-", "areacode": "", "email": "", "pwd_strength": "None",
		"last_login_time": nil})

	// A password without pwd_status: pwd_status defaults to true.
	r = iaCreate(e, tok, map[string]any{"name": "fresh", "domain_id": e.DomainID, "password": iaPw})
	mustStatus(t, r, http.StatusCreated)
	iaFields(t, "created with password", iaUser(t, r), map[string]any{"pwd_status": true})

	// Explicit access_mode and enabled=false are kept.
	r = iaCreate(e, tok, map[string]any{"name": "robot", "domain_id": e.DomainID, "password": iaPw,
		"access_mode": "programmatic", "enabled": false, "pwd_status": false})
	mustStatus(t, r, http.StatusCreated)
	iaFields(t, "created robot", iaUser(t, r), map[string]any{"access_mode": "programmatic", "enabled": false})

	// A console user is created, but cannot get an API token.
	r = iaCreate(e, tok, map[string]any{"name": "clicker", "domain_id": e.DomainID, "password": iaPw,
		"access_mode": "console", "pwd_status": false})
	mustStatus(t, r, http.StatusCreated)
	iaFields(t, "created console user", iaUser(t, r), map[string]any{"access_mode": "console"})
	lr := e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Body: passwordAuth("clicker", iaPw)})
	iaKeystoneError(t, lr, http.StatusForbidden, "IAM.0081")
}

func TestIAMCreateUserErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	// Existing users the duplicates collide with.
	mustStatus(t, iaCreate(e, tok, map[string]any{"name": "taken", "domain_id": e.DomainID, "password": iaPw,
		"email": "taken@example.com", "areacode": "0086", "phone": "13800000001",
		"xuser_type": "ldap", "xuser_id": "uid=taken"}), http.StatusCreated)
	otherDomain, _ := e.otherDomain("acme")

	user := func(kv ...any) map[string]any {
		u := map[string]any{"domain_id": e.DomainID}
		for i := 0; i+1 < len(kv); i += 2 {
			u[kv[i].(string)] = kv[i+1]
		}
		return u
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		msgHas string
	}{
		{"not JSON", []byte(`{"user":`), 400, "IAM.0011", ""},
		{"not an object", []byte(`[1,2]`), 400, "IAM.0011", ""},
		{"missing user", map[string]any{}, 400, "IAM.0072", "user"},
		{"missing name", map[string]any{"user": user()}, 400, "IAM.0072", "name"},
		{"missing domain_id", map[string]any{"user": map[string]any{"name": "nodomain"}}, 400, "IAM.0072", "domain_id"},
		{"name of wrong type", map[string]any{"user": user("name", 42)}, 400, "IAM.0073", "name"},
		{"bad access_mode", map[string]any{"user": user("name", "am", "access_mode", "root")}, 400, "IAM.0073", "access_mode"},
		{"enabled as a string", map[string]any{"user": user("name", "en", "enabled", "true")}, 400, "IAM.0073", "enabled"},
		{"name starts with a digit", map[string]any{"user": user("name", "1bob")}, 400, "1101", ""},
		{"name with a bad character", map[string]any{"user": user("name", "bob!")}, 400, "1101", ""},
		{"empty name", map[string]any{"user": user("name", "")}, 400, "1101", ""},
		{"name too long", map[string]any{"user": user("name", strings.Repeat("n", 65))}, 400, "1101", ""},
		{"duplicate name", map[string]any{"user": user("name", "taken")}, 400, "1109", ""},
		{"bad email", map[string]any{"user": user("name", "em", "email", "not-an-email")}, 400, "1102", ""},
		{"duplicate email", map[string]any{"user": user("name", "em2", "email", "taken@example.com")}, 400, "1110", ""},
		{"phone not digits", map[string]any{"user": user("name", "ph", "areacode", "0086", "phone", "139-1234")}, 400, "1104", ""},
		{"phone too long", map[string]any{"user": user("name", "ph2", "areacode", "0086", "phone", strings.Repeat("1", 33))}, 400, "1104", ""},
		{"areacode without phone", map[string]any{"user": user("name", "ac", "areacode", "0086")}, 400, "1106", ""},
		{"phone without areacode", map[string]any{"user": user("name", "ac2", "phone", "13912345678")}, 400, "1106", ""},
		{"duplicate phone", map[string]any{"user": user("name", "ph3", "areacode", "0086", "phone", "13800000001")}, 400, "1111", ""},
		{"duplicate phone, other spelling of the country code", map[string]any{"user": user("name", "ph4", "areacode", "+86", "phone", "13800000001")}, 400, "1111", ""},
		{"xuser_type without xuser_id", map[string]any{"user": user("name", "xu", "xuser_type", "ldap")}, 400, "1100", ""},
		{"xuser_id without xuser_type", map[string]any{"user": user("name", "xu2", "xuser_id", "uid=x")}, 400, "1100", ""},
		{"duplicate xuser pair", map[string]any{"user": user("name", "xu3", "xuser_type", "ldap", "xuser_id", "uid=taken")}, 400, "1113", ""},
		{"description with <", map[string]any{"user": user("name", "de", "description", "a <b> tag")}, 400, "1117", ""},
		{"description with $", map[string]any{"user": user("name", "de2", "description", "costs $5")}, 400, "1117", ""},
		{"weak password", map[string]any{"user": user("name", "pw1", "password", "Password123!")}, 400, "1118", ""},
		{"password too short", map[string]any{"user": user("name", "pw2", "password", "Ab3-xyz")}, 400, "1103", "8 to 32"},
		{"password of one character type", map[string]any{"user": user("name", "pw3", "password", "quietharborlamp")}, 400, "1103", "at least 2"},
		{"password containing the user name", map[string]any{"user": user("name", "marlowe", "password", "marlowe-Harbor-73")}, 400, "1103", "username"},
		{"password containing the email", map[string]any{"user": user("name", "pw5", "email", "kestrel@example.com", "password", "Kestrel-Harbor-73")}, 400, "1103", "email"},
		{"password containing the phone", map[string]any{"user": user("name", "pw6", "areacode", "0086", "phone", "13755551234", "password", "Harbor-13755551234")}, 400, "1103", "mobile"},
		{"domain_id of another domain", map[string]any{"user": map[string]any{"name": "intruder", "domain_id": otherDomain}}, 404, "IAM.0004", ""},
		{"domain_id that does not exist", map[string]any{"user": map[string]any{"name": "intruder", "domain_id": strings.Repeat("ab", 16)}}, 404, "IAM.0004", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(req{Method: "POST", Path: iaUsersV3, Token: tok, Body: c.body})
			msg := iaIAMError(t, r, c.status, c.code)
			if c.msgHas != "" && !strings.Contains(msg, c.msgHas) {
				t.Errorf("error_msg %q does not mention %q", msg, c.msgHas)
			}
			for _, s := range iaRejectedPws {
				if strings.Contains(msg, s) {
					t.Errorf("error_msg echoes a password: %q", msg)
				}
			}
		})
	}

	// None of the refused users exists.
	r := e.do(req{Method: "GET", Path: iaUsersV3, Token: tok})
	mustStatus(t, r, http.StatusOK)
	var list struct {
		Users []map[string]any `json:"users"`
	}
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Users) != 2 {
		names := []string{}
		for _, u := range list.Users {
			names = append(names, u["name"].(string))
		}
		t.Errorf("users after refused creations: %v, want only admin and taken", names)
	}
}

func TestIAMShowUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	id := e.createUser(tok, "bob", iaPw, map[string]any{"email": "bob@example.com", "areacode": "0044", "phone": "7700900123"})
	noPhone := e.createUser(tok, "carol", iaPw, nil)

	g := iaGet(e, tok, id)
	iaCheckShowShape(t, e, g)
	iaFields(t, "bob before login", g, map[string]any{
		"id": id, "name": "bob", "phone": "0044-7700900123", "areacode": "0044", "email": "bob@example.com",
		"last_login_time": nil, "pwd_strength": "Strong", "is_domain_owner": false, "pwd_status": false,
	})
	updated := g["update_time"]

	g = iaGet(e, tok, noPhone)
	iaFields(t, "carol", g, map[string]any{"phone": "-", "areacode": "", "email": ""})

	// A login sets last_login_time; it is not a change of the user.
	bobTok := e.token("bob", iaPw)
	g = iaGet(e, tok, id)
	iaCheckShowShape(t, e, g)
	if s, _ := g["last_login_time"].(string); !iaWireTime.MatchString(s) {
		t.Errorf("last_login_time after login = %v, want a wire timestamp", g["last_login_time"])
	}
	if g["update_time"] != updated {
		t.Errorf("update_time changed by a login: %v -> %v", updated, g["update_time"])
	}

	// The user reads itself.
	g = iaGet(e, bobTok, id)
	iaFields(t, "bob by bob", g, map[string]any{"id": id, "name": "bob"})

	// The owner is flagged.
	g = iaGet(e, tok, e.AdminID)
	iaFields(t, "admin", g, map[string]any{"is_domain_owner": true, "name": adminName})

	// A weaker password rates lower.
	medium := e.createUser(tok, "dave", "Tq7#mZ2pw", nil)
	iaFields(t, "dave", iaGet(e, tok, medium), map[string]any{"pwd_strength": "Medium"})

	// Unknown, and foreign, users are 404 for an admin.
	r := e.do(req{Method: "GET", Path: iaUsersV3 + "/" + strings.Repeat("0", 32), Token: tok})
	iaIAMError(t, r, http.StatusNotFound, "IAM.0004")
	_, otherTok := e.otherDomain("acme")
	r = e.do(req{Method: "GET", Path: iaUsersV3 + "/" + id, Token: otherTok})
	iaIAMError(t, r, http.StatusNotFound, "IAM.0004")
	// A plain user asking for someone else is 403 (whether or not it exists).
	r = e.do(req{Method: "GET", Path: iaUsersV3 + "/" + noPhone, Token: bobTok})
	iaIAMError(t, r, http.StatusForbidden, "IAM.0002")
	r = e.do(req{Method: "GET", Path: iaUsersV3 + "/" + strings.Repeat("0", 32), Token: bobTok})
	iaIAMError(t, r, http.StatusForbidden, "IAM.0002")
}

func TestIAMListUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	zed := e.createUser(tok, "zed", iaPw, nil)
	amy := e.createUser(tok, "amy", iaPw, map[string]any{"areacode": "0086", "phone": "13900000002"})
	_, otherTok := e.otherDomain("acme")

	r := e.do(req{Method: "GET", Path: iaUsersV3, Token: tok})
	mustStatus(t, r, http.StatusOK)
	m := r.JSON(t)
	iaKeys(t, "list", m, "users")
	users, _ := m["users"].([]any)
	var names []string
	for _, x := range users {
		u := x.(map[string]any)
		iaCheckShowShape(t, e, u)
		names = append(names, u["name"].(string))
		if u["id"] == amy {
			iaFields(t, "amy in list", u, map[string]any{"phone": "0086-13900000002", "areacode": "0086"})
		}
		if u["id"] == zed {
			iaFields(t, "zed in list", u, map[string]any{"phone": "-"})
		}
	}
	if strings.Join(names, ",") != "admin,amy,zed" {
		t.Errorf("users = %v, want admin,amy,zed (ordered by name)", names)
	}

	// Plain users may not list.
	zedTok := e.token("zed", iaPw)
	iaIAMError(t, e.do(req{Method: "GET", Path: iaUsersV3, Token: zedTok}), http.StatusForbidden, "IAM.0002")

	// The owner of another domain sees only its own domain.
	r = e.do(req{Method: "GET", Path: iaUsersV3, Token: otherTok})
	mustStatus(t, r, http.StatusOK)
	users, _ = r.JSON(t)["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["name"] != "owner-acme" {
		t.Errorf("other domain's list = %s", r.Body)
	}
}

func TestIAMUpdateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	id := e.createUser(tok, "erin", iaPw, map[string]any{
		"email": "erin@example.com", "areacode": "0086", "phone": "13911112222",
		"xuser_type": "ldap", "xuser_id": "uid=erin", "description": "Ops",
	})
	e.createUser(tok, "frank", iaPw, map[string]any{"email": "frank@example.com", "areacode": "0086", "phone": "13933334444"})
	before := iaGet(e, tok, id)
	path := iaUsersV3 + "/" + id
	put := func(user map[string]any) *resp {
		return e.do(req{Method: "PUT", Path: path, Token: tok, Body: map[string]any{"user": user}})
	}

	// A partial update keeps every other field.
	r := put(map[string]any{"description": "Platform team"})
	mustStatus(t, r, http.StatusOK)
	u := iaUser(t, r)
	iaKeys(t, "updated user", u, iaUpdatedKeys...)
	iaFields(t, "updated user", u, map[string]any{
		"id": id, "name": "erin", "domain_id": e.DomainID, "enabled": true, "pwd_status": false,
		"description": "Platform team", "email": "erin@example.com", "areacode": "0086", "phone": "13911112222",
		"xuser_type": "ldap", "xuser_id": "uid=erin", "access_mode": "default",
	})
	if l, _ := u["links"].(map[string]any); l == nil || l["self"] != e.URL+path || len(l) != 1 {
		t.Errorf("links = %v, want {self: %s}", u["links"], e.URL+path)
	}
	g := iaGet(e, tok, id)
	iaFields(t, "GET after update", g, map[string]any{
		"description": "Platform team", "email": "erin@example.com", "phone": "0086-13911112222",
		"create_time": before["create_time"],
	})

	// Several fields at once.
	r = put(map[string]any{"name": "erin.w", "email": "erin.w@example.com", "areacode": "0044", "phone": "7700900999",
		"access_mode": "programmatic"})
	mustStatus(t, r, http.StatusOK)
	iaFields(t, "renamed", iaUser(t, r), map[string]any{"name": "erin.w", "email": "erin.w@example.com",
		"areacode": "0044", "phone": "7700900999", "access_mode": "programmatic", "description": "Platform team"})

	// Errors leave the user unchanged.
	for _, c := range []struct {
		name   string
		user   map[string]any
		status int
		code   string
	}{
		{"name taken", map[string]any{"name": "frank"}, 400, "1109"},
		{"bad name", map[string]any{"name": " lead"}, 400, "1101"},
		{"email taken", map[string]any{"email": "frank@example.com"}, 400, "1110"},
		{"bad email", map[string]any{"email": "erin@"}, 400, "1102"},
		{"phone taken", map[string]any{"areacode": "0086", "phone": "13933334444"}, 400, "1111"},
		{"bad phone", map[string]any{"phone": "12ab"}, 400, "1104"},
		{"areacode cleared alone", map[string]any{"areacode": ""}, 400, "1106"},
		{"xuser_id cleared alone", map[string]any{"xuser_id": ""}, 400, "1100"},
		{"bad description", map[string]any{"description": "50% done"}, 400, "1117"},
		{"bad access_mode", map[string]any{"access_mode": "sudo"}, 400, "IAM.0073"},
		{"enabled as a string", map[string]any{"enabled": "false"}, 400, "IAM.0073"},
		{"weak password", map[string]any{"password": "Password123!"}, 400, "1118"},
		{"short password", map[string]any{"password": "Ab3-xyz"}, 400, "1103"},
		{"current password", map[string]any{"password": iaPw}, 400, "1108"},
	} {
		t.Run(c.name, func(t *testing.T) {
			iaIAMError(t, put(c.user), c.status, c.code)
		})
	}
	iaIAMError(t, e.do(req{Method: "PUT", Path: path, Token: tok, Body: map[string]any{}}), 400, "IAM.0072")
	iaIAMError(t, e.do(req{Method: "PUT", Path: path, Token: tok, Body: "nope"}), 400, "IAM.0011")
	g = iaGet(e, tok, id)
	iaFields(t, "after refused updates", g, map[string]any{"name": "erin.w", "email": "erin.w@example.com",
		"phone": "0044-7700900999", "access_mode": "programmatic", "description": "Platform team", "enabled": true})

	// Empty strings clear the optional fields.
	r = put(map[string]any{"email": "", "areacode": "", "phone": "", "xuser_type": "", "xuser_id": "", "description": ""})
	mustStatus(t, r, http.StatusOK)
	iaFields(t, "cleared", iaUser(t, r), map[string]any{"email": "", "areacode": "", "phone": "", "xuser_type": "",
		"xuser_id": "", "description": ""})
	iaFields(t, "GET cleared", iaGet(e, tok, id), map[string]any{"phone": "-", "email": ""})

	// A new password: the user's tokens are revoked, the old password stops
	// working and the new one works.
	userTok := e.token("erin.w", iaPw)
	r = put(map[string]any{"password": iaPw2})
	mustStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.Body), iaPw2) {
		t.Fatal("the response echoes the password")
	}
	r = e.do(req{Method: "GET", Path: path, Token: userTok})
	iaIAMError(t, r, http.StatusUnauthorized, "IAM.0067")
	r = e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Body: passwordAuth("erin.w", iaPw)})
	iaKeystoneError(t, r, http.StatusUnauthorized, "IAM.0062")
	userTok = e.token("erin.w", iaPw2)
	// The admin's own token is untouched.
	iaGet(e, tok, id)

	// pwd_status true makes the next token restricted.
	mustStatus(t, put(map[string]any{"pwd_status": true}), http.StatusOK)
	restricted := e.token("erin.w", iaPw2)
	r = e.do(req{Method: "GET", Path: "/v3/auth/domains", Token: restricted})
	if msg := iaKeystoneError(t, r, http.StatusForbidden, "IAM.0002"); !strings.Contains(msg, "password must be changed") {
		t.Errorf("restricted message %q", msg)
	}

	// Disabling revokes the user's tokens and refuses logins.
	userTok = e.token("erin.w", iaPw2)
	r = put(map[string]any{"enabled": false})
	mustStatus(t, r, http.StatusOK)
	iaFields(t, "disabled", iaUser(t, r), map[string]any{"enabled": false})
	iaIAMError(t, e.do(req{Method: "GET", Path: path, Token: userTok}), http.StatusUnauthorized, "IAM.0067")
	r = e.do(req{Method: "POST", Path: "/v3/auth/tokens?nocatalog", Body: passwordAuth("erin.w", iaPw2)})
	iaKeystoneError(t, r, http.StatusForbidden, "IAM.0082")

	// Unknown and foreign users are 404.
	r = e.do(req{Method: "PUT", Path: iaUsersV3 + "/" + strings.Repeat("f", 32), Token: tok,
		Body: map[string]any{"user": map[string]any{"description": "x"}}})
	iaIAMError(t, r, http.StatusNotFound, "IAM.0004")
	_, otherTok := e.otherDomain("acme")
	r = e.do(req{Method: "PUT", Path: path, Token: otherTok, Body: map[string]any{"user": map[string]any{"description": "x"}}})
	iaIAMError(t, r, http.StatusNotFound, "IAM.0004")
}

func TestIAMDeleteUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	id := e.createUser(tok, "gina", iaPw, map[string]any{"email": "gina@example.com"})
	ginaTok := e.token("gina", iaPw)
	mustStatus(t, e.do(req{Method: "PUT", Path: iaUsersV3 + "/" + id + "/login-protect", Token: tok,
		Body: map[string]any{"login_protect": map[string]any{"enabled": true, "verification_method": "email"}}}), http.StatusOK)

	r := e.do(req{Method: "DELETE", Path: iaUsersV3 + "/" + id, Token: tok})
	mustStatus(t, r, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with a body: %q", r.Body)
	}
	iaIAMError(t, e.do(req{Method: "GET", Path: iaUsersV3 + "/" + id, Token: tok}), http.StatusNotFound, "IAM.0004")
	iaIAMError(t, e.do(req{Method: "GET", Path: iaUsersV3 + "/" + id, Token: ginaTok}), http.StatusUnauthorized, "IAM.0067")
	iaIAMError(t, e.do(req{Method: "DELETE", Path: iaUsersV3 + "/" + id, Token: tok}), http.StatusNotFound, "IAM.0004")
	r = e.do(req{Method: "GET", Path: "/v3.0/OS-USER/login-protects", Token: tok})
	mustStatus(t, r, http.StatusOK)
	if lps, _ := r.JSON(t)["login_protects"].([]any); len(lps) != 0 {
		t.Errorf("login protection of a deleted user is still listed: %s", r.Body)
	}
	// The name is free again.
	e.createUser(tok, "gina", iaPw, map[string]any{"email": "gina@example.com"})

	// The owner cannot be deleted.
	iaIAMError(t, e.do(req{Method: "DELETE", Path: iaUsersV3 + "/" + e.AdminID, Token: tok}), http.StatusBadRequest, "1107")
	iaGet(e, tok, e.AdminID)
	// Nor can another domain's user.
	otherDom, otherTok := e.otherDomain("acme")
	_ = otherDom
	other := e.do(req{Method: "POST", Path: iaUsersV3, Token: otherTok, Body: map[string]any{"user": map[string]any{
		"name": "stranger", "domain_id": otherDom}}})
	mustStatus(t, other, http.StatusCreated)
	strangerID := iaUser(t, other)["id"].(string)
	iaIAMError(t, e.do(req{Method: "DELETE", Path: iaUsersV3 + "/" + strangerID, Token: tok}), http.StatusNotFound, "IAM.0004")
	mustStatus(t, e.do(req{Method: "GET", Path: iaUsersV3 + "/" + strangerID, Token: otherTok}), http.StatusOK)
}

func TestIAMUpdateUserInfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	id := e.createUser(tok, "hank", iaPw, nil)
	other := e.createUser(tok, "ivy", iaPw, map[string]any{"email": "ivy@example.com", "areacode": "0086", "phone": "13955556666"})
	hankTok := e.token("hank", iaPw)
	path := iaUsersV3 + "/" + id + "/info"
	info := func(tk, p string, user map[string]any) *resp {
		return e.do(req{Method: "PUT", Path: p, Token: tk, Body: map[string]any{"user": user}})
	}

	r := info(hankTok, path, map[string]any{"email": "hank@example.com", "mobile": "0086-123456789"})
	mustStatus(t, r, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with a body: %q", r.Body)
	}
	iaFields(t, "after info", iaGet(e, hankTok, id), map[string]any{
		"email": "hank@example.com", "areacode": "0086", "phone": "0086-123456789"})

	// A field left out keeps its value.
	mustStatus(t, info(hankTok, path, map[string]any{"email": "hank.h@example.com"}), http.StatusNoContent)
	iaFields(t, "email only", iaGet(e, hankTok, id), map[string]any{"email": "hank.h@example.com", "phone": "0086-123456789"})
	mustStatus(t, info(hankTok, path, map[string]any{"mobile": "+44-7700900555"}), http.StatusNoContent)
	iaFields(t, "mobile only", iaGet(e, hankTok, id), map[string]any{"email": "hank.h@example.com", "areacode": "+44",
		"phone": "+44-7700900555"})
	// An empty body object changes nothing.
	mustStatus(t, info(hankTok, path, map[string]any{}), http.StatusNoContent)

	for _, c := range []struct {
		name   string
		user   map[string]any
		status int
		code   string
	}{
		{"mobile without country code", map[string]any{"mobile": "123456789"}, 400, "1104"},
		{"mobile with letters", map[string]any{"mobile": "0086-12ab"}, 400, "1104"},
		{"bad email", map[string]any{"email": "hank at example"}, 400, "1102"},
		{"email taken", map[string]any{"email": "ivy@example.com"}, 400, "1110"},
		{"mobile taken", map[string]any{"mobile": "0086-13955556666"}, 400, "1111"},
		{"email of wrong type", map[string]any{"email": 7}, 400, "IAM.0073"},
	} {
		t.Run(c.name, func(t *testing.T) {
			iaIAMError(t, info(hankTok, path, c.user), c.status, c.code)
		})
	}
	iaIAMError(t, e.do(req{Method: "PUT", Path: path, Token: hankTok, Body: map[string]any{}}), 400, "IAM.0072")

	// Empty strings clear.
	mustStatus(t, info(hankTok, path, map[string]any{"email": "", "mobile": ""}), http.StatusNoContent)
	iaFields(t, "cleared", iaGet(e, hankTok, id), map[string]any{"email": "", "areacode": "", "phone": "-"})

	// Only the user itself: another user's id is 403, for a plain user and
	// for an admin alike, and so is an unknown id.
	iaIAMError(t, info(hankTok, iaUsersV3+"/"+other+"/info", map[string]any{"email": "x@example.com"}), http.StatusForbidden, "IAM.0002")
	iaIAMError(t, info(tok, path, map[string]any{"email": "x@example.com"}), http.StatusForbidden, "IAM.0002")
	iaIAMError(t, info(hankTok, iaUsersV3+"/"+strings.Repeat("1", 32)+"/info", map[string]any{"email": "x@example.com"}), http.StatusForbidden, "IAM.0002")
	iaFields(t, "ivy untouched", iaGet(e, tok, other), map[string]any{"email": "ivy@example.com"})
}

// --- Login protection (seed 004, apis.md §3.2) ---

const iaLPs = "/v3.0/OS-USER/login-protects"

func iaLPPath(id string) string { return iaUsersV3 + "/" + id + "/login-protect" }

func iaLPBody(enabled any, method any) map[string]any {
	return map[string]any{"login_protect": map[string]any{"enabled": enabled, "verification_method": method}}
}

// iaLP asserts a 200 answer of exactly {"login_protect":{user_id, enabled, verification_method}}.
func iaLP(t testing.TB, r *resp, userID string, enabled bool, method string) {
	t.Helper()
	mustStatus(t, r, http.StatusOK)
	m := r.JSON(t)
	iaKeys(t, "login protect response", m, "login_protect")
	lp, _ := m["login_protect"].(map[string]any)
	iaKeys(t, "login_protect", lp, "user_id", "enabled", "verification_method")
	iaFields(t, "login_protect", lp, map[string]any{"user_id": userID, "enabled": enabled, "verification_method": method})
}

func TestLoginProtectUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	withEmail := e.createUser(tok, "jack", iaPw, map[string]any{"email": "jack@example.com"})
	withPhone := e.createUser(tok, "kate", iaPw, map[string]any{"areacode": "0086", "phone": "13977778888"})
	bare := e.createUser(tok, "liam", iaPw, nil)
	put := func(tk, id string, body any) *resp {
		return e.do(req{Method: "PUT", Path: iaLPPath(id), Token: tk, Body: body})
	}

	// The seed's example, by an admin, for a user with an e-mail address.
	iaLP(t, put(tok, withEmail, iaLPBody(true, "email")), withEmail, true, "email")
	iaLP(t, e.do(req{Method: "GET", Path: iaLPPath(withEmail), Token: tok}), withEmail, true, "email")
	// sms with a phone.
	iaLP(t, put(tok, withPhone, iaLPBody(true, "sms")), withPhone, true, "sms")
	// vmfa needs a bound virtual MFA device: refused, then accepted once
	// the user has bound one.
	msg := iaIAMError(t, put(tok, bare, iaLPBody(true, "vmfa")), http.StatusBadRequest, "IAM.0007")
	if !strings.Contains(strings.ToLower(msg), "mfa") {
		t.Errorf("vmfa without a device: message %q does not name the MFA device", msg)
	}
	// liam's token is taken before protection makes a password alone refused.
	liamTok := e.token("liam", iaPw)
	e.mfaBindDevice(liamTok, bare, "liam-phone")
	iaLP(t, put(tok, bare, iaLPBody(true, "vmfa")), bare, true, "vmfa")
	iaLP(t, e.do(req{Method: "GET", Path: iaLPPath(bare), Token: tok}), bare, true, "vmfa")

	// The factor must be in place; the message names the missing one.
	msg = iaIAMError(t, put(tok, withEmail, iaLPBody(true, "sms")), http.StatusBadRequest, "IAM.0007")
	if !strings.Contains(strings.ToLower(msg), "mobile") && !strings.Contains(strings.ToLower(msg), "phone") {
		t.Errorf("sms without phone: message %q does not name the mobile number", msg)
	}
	msg = iaIAMError(t, put(tok, withPhone, iaLPBody(true, "email")), http.StatusBadRequest, "IAM.0007")
	if !strings.Contains(strings.ToLower(msg), "email") {
		t.Errorf("email without e-mail: message %q does not name the e-mail address", msg)
	}
	// The refused PUTs changed nothing.
	iaLP(t, e.do(req{Method: "GET", Path: iaLPPath(withEmail), Token: tok}), withEmail, true, "email")
	iaLP(t, e.do(req{Method: "GET", Path: iaLPPath(withPhone), Token: tok}), withPhone, true, "sms")

	// Disabling needs no factor and stores the method sent.
	iaLP(t, put(tok, withEmail, iaLPBody(false, "sms")), withEmail, false, "sms")
	iaLP(t, e.do(req{Method: "GET", Path: iaLPPath(withEmail), Token: tok}), withEmail, false, "sms")
	// "none" goes with enabled false (TestLoginProtectNone covers what is stored).
	neverSet := e.createUser(tok, "zoe", iaPw, nil)
	iaLP(t, put(tok, neverSet, iaLPBody(false, "none")), neverSet, false, "none")

	// Schema errors.
	for _, c := range []struct {
		name   string
		body   any
		status int
		code   string
		msgHas string
	}{
		{"none with enabled true", iaLPBody(true, "none"), 400, "IAM.0073", "verification_method"},
		{"enabled as the string true", iaLPBody("true", "email"), 400, "IAM.0073", "enabled"},
		{"enabled as a number", iaLPBody(1, "email"), 400, "IAM.0073", "enabled"},
		{"unknown method", iaLPBody(true, "fax"), 400, "IAM.0073", "verification_method"},
		{"method in upper case", iaLPBody(true, "EMAIL"), 400, "IAM.0073", "verification_method"},
		{"missing verification_method", map[string]any{"login_protect": map[string]any{"enabled": true}}, 400, "IAM.0072", "verification_method"},
		{"missing enabled", map[string]any{"login_protect": map[string]any{"verification_method": "email"}}, 400, "IAM.0072", "enabled"},
		{"missing login_protect", map[string]any{}, 400, "IAM.0072", "login_protect"},
		{"not JSON", []byte(`{"login_protect":`), 400, "IAM.0011", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := iaIAMError(t, put(tok, bare, c.body), c.status, c.code)
			if c.msgHas != "" && !strings.Contains(msg, c.msgHas) {
				t.Errorf("message %q does not name %q", msg, c.msgHas)
			}
		})
	}
	iaLP(t, e.do(req{Method: "GET", Path: iaLPPath(bare), Token: tok}), bare, true, "vmfa")

	// Self may set its own protection; not another user's.
	iaLP(t, put(liamTok, bare, iaLPBody(false, "vmfa")), bare, false, "vmfa")
	iaLP(t, e.do(req{Method: "GET", Path: iaLPPath(bare), Token: liamTok}), bare, false, "vmfa")
	msg = iaIAMError(t, put(liamTok, withEmail, iaLPBody(true, "email")), http.StatusForbidden, "IAM.0002")
	if msg == "" {
		t.Error("403 without a message")
	}
	iaIAMError(t, e.do(req{Method: "GET", Path: iaLPPath(withEmail), Token: liamTok}), http.StatusForbidden, "IAM.0002")
	// ... whether or not the other user exists.
	iaIAMError(t, put(liamTok, strings.Repeat("9", 32), iaLPBody(true, "email")), http.StatusForbidden, "IAM.0002")

	// A security administrator manages others' protection.
	secu := e.createUser(tok, "mona", iaPw, nil) // unprotected: a password alone logs in
	e.setRole(secu, "secu_admin")
	secuTok := e.token("mona", iaPw)
	iaLP(t, put(secuTok, withEmail, iaLPBody(true, "email")), withEmail, true, "email")

	// Unknown and foreign users: 404 for an admin.
	iaIAMError(t, put(tok, strings.Repeat("9", 32), iaLPBody(true, "vmfa")), http.StatusNotFound, "IAM.0004")
	iaIAMError(t, e.do(req{Method: "GET", Path: iaLPPath(strings.Repeat("9", 32)), Token: tok}), http.StatusNotFound, "IAM.0004")
	_, otherTok := e.otherDomain("acme")
	iaIAMError(t, put(otherTok, withEmail, iaLPBody(false, "email")), http.StatusNotFound, "IAM.0004")
	iaIAMError(t, e.do(req{Method: "GET", Path: iaLPPath(withEmail), Token: otherTok}), http.StatusNotFound, "IAM.0004")
	iaLP(t, e.do(req{Method: "GET", Path: iaLPPath(withEmail), Token: tok}), withEmail, true, "email")
}

func TestLoginProtectShowNeverSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	id := e.createUser(tok, "mia", iaPw, map[string]any{"email": "mia@example.com"})
	miaTok := e.token("mia", iaPw)
	iaIAMError(t, e.do(req{Method: "GET", Path: iaLPPath(id), Token: tok}), http.StatusNotFound, "IAM.0004")
	iaIAMError(t, e.do(req{Method: "GET", Path: iaLPPath(id), Token: miaTok}), http.StatusNotFound, "IAM.0004")
	iaIAMError(t, e.do(req{Method: "GET", Path: iaLPPath(e.AdminID), Token: tok}), http.StatusNotFound, "IAM.0004")
	// After a PUT it is found.
	iaLP(t, e.do(req{Method: "PUT", Path: iaLPPath(id), Token: miaTok, Body: iaLPBody(true, "email")}), id, true, "email")
	iaLP(t, e.do(req{Method: "GET", Path: iaLPPath(id), Token: miaTok}), id, true, "email")
}

// TestLoginProtectNone pins what the contract says of "none" (DESIGN §3:
// accepted with enabled false and stored as disabled; openapi
// UpdateLoginProtect: "the method is stored as sent (`none` included)";
// IamLoginProtect.verification_method: "`none` only when protection was
// switched off with `none`").
func TestLoginProtectNone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()

	t.Run("over an existing setting", func(t *testing.T) {
		id := e.createUser(tok, "nora", iaPw, map[string]any{"email": "nora@example.com"})
		iaLP(t, e.do(req{Method: "PUT", Path: iaLPPath(id), Token: tok, Body: iaLPBody(true, "email")}), id, true, "email")
		r := e.do(req{Method: "PUT", Path: iaLPPath(id), Token: tok, Body: iaLPBody(false, "none")})
		mustStatus(t, r, http.StatusOK)
		lp, _ := r.JSON(t)["login_protect"].(map[string]any)
		if lp["enabled"] != false {
			t.Fatalf("none did not disable: %s", r.Body)
		}
		if lp["verification_method"] != "none" {
			t.Fatalf("PUT {enabled:false, verification_method:none} over an existing setting answered %s; want none stored as sent", r.Body)
		}
		iaLP(t, e.do(req{Method: "GET", Path: iaLPPath(id), Token: tok}), id, false, "none")
	})

	t.Run("never set before", func(t *testing.T) {
		id := e.createUser(tok, "omar", iaPw, nil)
		iaLP(t, e.do(req{Method: "PUT", Path: iaLPPath(id), Token: tok, Body: iaLPBody(false, "none")}), id, false, "none")
		r := e.do(req{Method: "GET", Path: iaLPPath(id), Token: tok})
		iaLP(t, r, id, false, "none")
	})
}

func TestLoginProtectList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	ids := []string{
		e.createUser(tok, "oscar", iaPw, map[string]any{"email": "oscar@example.com"}),
		e.createUser(tok, "pia", iaPw, map[string]any{"areacode": "0086", "phone": "13900001111"}),
		e.createUser(tok, "quinn", iaPw, nil),
	}
	never := e.createUser(tok, "rita", iaPw, nil)
	_ = never

	// Empty at first.
	r := e.do(req{Method: "GET", Path: iaLPs, Token: tok})
	mustStatus(t, r, http.StatusOK)
	m := r.JSON(t)
	iaKeys(t, "list", m, "login_protects")
	if l, ok := m["login_protects"].([]any); !ok || len(l) != 0 {
		t.Errorf("login_protects before any setting = %s, want []", r.Body)
	}

	e.mfaBindDevice(e.token("quinn", iaPw), ids[2], "quinn-phone") // vmfa needs a bound device
	want := map[string][2]any{
		ids[0]: {true, "email"},
		ids[1]: {false, "sms"},
		ids[2]: {true, "vmfa"},
	}
	for id, w := range want {
		mustStatus(t, e.do(req{Method: "PUT", Path: iaLPPath(id), Token: tok, Body: iaLPBody(w[0], w[1])}), http.StatusOK)
	}
	// Another domain's settings never show.
	otherDom, otherTok := e.otherDomain("acme")
	or := e.do(req{Method: "POST", Path: iaUsersV3, Token: otherTok, Body: map[string]any{"user": map[string]any{
		"name": "stranger", "domain_id": otherDom}}})
	mustStatus(t, or, http.StatusCreated)
	stranger := iaUser(t, or)["id"].(string)
	mustStatus(t, e.do(req{Method: "PUT", Path: iaLPPath(stranger), Token: otherTok, Body: iaLPBody(false, "vmfa")}), http.StatusOK)

	r = e.do(req{Method: "GET", Path: iaLPs, Token: tok})
	mustStatus(t, r, http.StatusOK)
	var list struct {
		LoginProtects []map[string]any `json:"login_protects"`
	}
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatal(err)
	}
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	if len(list.LoginProtects) != len(sorted) {
		t.Fatalf("login_protects = %s, want %d entries", r.Body, len(sorted))
	}
	for i, lp := range list.LoginProtects {
		iaKeys(t, "list entry", lp, "user_id", "enabled", "verification_method")
		if lp["user_id"] != sorted[i] {
			t.Errorf("entry %d user_id = %v, want %s (ordered by user_id)", i, lp["user_id"], sorted[i])
			continue
		}
		w := want[sorted[i]]
		iaFields(t, "list entry", lp, map[string]any{"enabled": w[0], "verification_method": w[1]})
	}

	// The other domain lists only its own.
	r = e.do(req{Method: "GET", Path: iaLPs, Token: otherTok})
	mustStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.LoginProtects) != 1 || list.LoginProtects[0]["user_id"] != stranger {
		t.Errorf("other domain's list = %s", r.Body)
	}

	// Admin only.
	userTok := e.token("rita", iaPw) // oscar's login now needs a second factor
	iaIAMError(t, e.do(req{Method: "GET", Path: iaLPs, Token: userTok}), http.StatusForbidden, "IAM.0002")
	e.setRole(ids[1], "secu_admin")
	mustStatus(t, e.do(req{Method: "GET", Path: iaLPs, Token: e.token("pia", iaPw)}), http.StatusOK)
}
