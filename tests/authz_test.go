package tests

// The authorization matrix: every protected operation implemented so far
// (Keystone token validate/check/revoke, change password, /v3/users CRUD,
// /v3/auth/domains; IAM v3.0 users CRUD, /info, login protection) against
// every kind of caller, asserting the exact status, error code and family
// envelope of each cell (DESIGN §3, §4; apis.md §0, §1.2). Helpers of this
// file are prefixed "az".

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/config"
)

// azCaller is a column of the matrix.
type azCaller string

const (
	azOwner       azCaller = "owner"           // domain owner, acting on a plain user of the domain
	azSecu        azCaller = "secu_admin"      // security administrator, acting on a plain user
	azSelf        azCaller = "self"            // plain user acting on itself
	azPeer        azCaller = "plain_on_other"  // plain user acting on another user of the domain
	azForeign     azCaller = "foreign_owner"   // owner of another domain, acting on this domain's user
	azRestricted  azCaller = "restricted_self" // user with pwd_status true, acting on itself
	azNoToken     azCaller = "no_token"        // no X-Auth-Token
	azGarbage     azCaller = "garbage_token"   // X-Auth-Token that is no token at all
	azForged      azCaller = "forged_token"    // a real token with its signature altered
	azExpired     azCaller = "expired_token"   // a token past its lifetime
	azRevoked     azCaller = "revoked_token"   // a token revoked with DELETE /v3/auth/tokens
	azPw                   = "Amber#Falcon-92" // every fixture user's password
	azPwNew                = "Cedar!Meadow-48" // new password in change-password cells
	azRestrictMsg          = "password must be changed"
)

func init() {
	rememberSecret(azPw)
	rememberSecret(azPwNew)
}

// azWant is the expected outcome of one cell. restricted: the 403 must say
// that the password must be changed first.
type azWant struct {
	status     int
	code       string
	restricted bool
}

var (
	azOK         = azWant{status: http.StatusOK}
	azCreated    = azWant{status: http.StatusCreated}
	azNoContent  = azWant{status: http.StatusNoContent}
	azDenied     = azWant{status: http.StatusForbidden, code: "IAM.0002"}
	azNotFound   = azWant{status: http.StatusNotFound, code: "IAM.0004"}
	azMustChange = azWant{status: http.StatusForbidden, code: "IAM.0002", restricted: true}
)

// azFix is the fixture of one cell.
type azFix struct {
	e         *env
	caller    azCaller
	tok       string // the caller's X-Auth-Token ("" for none)
	target    string // the user acted on
	targetPw  string
	subject   string // X-Subject-Token for the token operations: a token of target
	seq       int    // makes names unique within the env
	domainID  string // the caller's own domain
	adminTok  func() string
	wantInDom bool // the caller's listing should show target (same-domain admin)
}

// azOp is a row of the matrix.
type azOp struct {
	name    string
	method  string
	path    func(f *azFix) string
	body    func(f *azFix) any
	subject bool // send X-Subject-Token: f.subject
	needsLP bool // the target gets a login protection setting first
	// Expectations of the callers that hold a valid token; the token-less
	// and bad-token callers always get 401.
	owner, secu, self, peer, foreign, restricted azWant
	// check runs on a 2xx answer.
	check func(t *testing.T, f *azFix, r *resp)
}

func azUserPath(prefix string) func(*azFix) string {
	return func(f *azFix) string { return prefix + "/" + f.target }
}

func azConst(p string) func(*azFix) string { return func(*azFix) string { return p } }

func azOps() []azOp {
	tokenCheck := func(t *testing.T, f *azFix, r *resp) {
		if r.Header.Get("X-Subject-Token") != f.subject {
			t.Errorf("X-Subject-Token not echoed")
		}
		tk, _ := r.JSON(t)["token"].(map[string]any)
		u, _ := tk["user"].(map[string]any)
		if u["id"] != f.target {
			t.Errorf("token.user.id = %v, want %s", u["id"], f.target)
		}
	}
	revokedCheck := func(t *testing.T, f *azFix, _ *resp) {
		// The subject token is gone; an admin validating it gets 404.
		r := f.e.do(req{Method: "GET", Path: "/v3/auth/tokens", Token: f.adminTok(),
			Header: map[string]string{"X-Subject-Token": f.subject}})
		iaKeystoneError(t, r, http.StatusNotFound, "IAM.0009")
	}
	userCheck := func(t *testing.T, f *azFix, r *resp) {
		if id := iaUser(t, r)["id"]; id != f.target {
			t.Errorf("user.id = %v, want %s", id, f.target)
		}
	}
	goneCheck := func(t *testing.T, f *azFix, r *resp) {
		if len(r.Body) != 0 {
			t.Errorf("204 with a body: %q", r.Body)
		}
		g := f.e.do(req{Method: "GET", Path: iaUsersV3 + "/" + f.target, Token: f.adminTok()})
		iaIAMError(t, g, http.StatusNotFound, "IAM.0004")
	}
	listCheck := func(key string) func(t *testing.T, f *azFix, r *resp) {
		return func(t *testing.T, f *azFix, r *resp) {
			list, ok := r.JSON(t)[key].([]any)
			if !ok {
				t.Fatalf("no %s array: %s", key, r.Body)
			}
			found := false
			for _, x := range list {
				m, _ := x.(map[string]any)
				if m["id"] == f.target || m["user_id"] == f.target {
					found = true
				}
				if d, ok := m["domain_id"]; ok && d != f.domainID {
					t.Errorf("%s lists a user of domain %v to a caller of domain %s", key, d, f.domainID)
				}
			}
			if found != f.wantInDom {
				t.Errorf("target listed = %v, want %v: %s", found, f.wantInDom, r.Body)
			}
		}
	}
	lpCheck := func(t *testing.T, f *azFix, r *resp) {
		iaLP(t, r, f.target, true, "email")
	}
	return []azOp{
		{
			name: "Keystone GET /v3/auth/tokens", method: "GET", path: azConst("/v3/auth/tokens"), subject: true,
			owner: azOK, secu: azOK, self: azOK, peer: azDenied, foreign: azDenied, restricted: azOK,
			check: tokenCheck,
		},
		{
			name: "Keystone HEAD /v3/auth/tokens", method: "HEAD", path: azConst("/v3/auth/tokens"), subject: true,
			owner: azOK, secu: azOK, self: azOK, peer: azDenied, foreign: azDenied, restricted: azOK,
			check: func(t *testing.T, _ *azFix, r *resp) {
				if len(r.Body) != 0 {
					t.Errorf("HEAD with a body: %q", r.Body)
				}
			},
		},
		{
			name: "Keystone DELETE /v3/auth/tokens", method: "DELETE", path: azConst("/v3/auth/tokens"), subject: true,
			owner: azNoContent, secu: azNoContent, self: azNoContent, peer: azDenied, foreign: azDenied, restricted: azNoContent,
			check: revokedCheck,
		},
		{
			name: "Keystone POST /v3/users/{id}/password", method: "POST",
			path: func(f *azFix) string { return "/v3/users/" + f.target + "/password" },
			body: func(f *azFix) any {
				return map[string]any{"user": map[string]any{"password": azPwNew, "original_password": f.targetPw}}
			},
			// Only the user itself, whatever the caller's role; restricted tokens too.
			owner: azDenied, secu: azDenied, self: azNoContent, peer: azDenied, foreign: azDenied, restricted: azNoContent,
			check: func(t *testing.T, f *azFix, r *resp) {
				if len(r.Body) != 0 {
					t.Errorf("204 with a body: %q", r.Body)
				}
				// Every token of the user is revoked, the caller's included.
				g := f.e.do(req{Method: "GET", Path: "/v3/users/" + f.target, Token: f.tok})
				iaKeystoneError(t, g, http.StatusUnauthorized, "IAM.0067")
			},
		},
		{
			name: "Keystone POST /v3/users", method: "POST", path: azConst("/v3/users"),
			body: func(f *azFix) any {
				return map[string]any{"user": map[string]any{"name": fmt.Sprintf("kn-%d", f.seq), "password": azPw,
					"domain_id": f.e.DomainID}}
			},
			owner: azCreated, secu: azCreated, self: azDenied, peer: azDenied, foreign: azNotFound, restricted: azMustChange,
			check: func(t *testing.T, f *azFix, r *resp) {
				u := iaUser(t, r)
				if u["name"] != fmt.Sprintf("kn-%d", f.seq) || u["domain_id"] != f.e.DomainID || u["pwd_status"] != true {
					t.Errorf("created user = %v", u)
				}
			},
		},
		{
			name: "Keystone GET /v3/users", method: "GET",
			path:  func(f *azFix) string { return "/v3/users?domain_id=" + f.e.DomainID },
			owner: azOK, secu: azOK, self: azDenied, peer: azDenied, foreign: azOK, restricted: azMustChange,
			check: listCheck("users"),
		},
		{
			name: "Keystone GET /v3/users/{id}", method: "GET", path: azUserPath("/v3/users"),
			owner: azOK, secu: azOK, self: azOK, peer: azDenied, foreign: azNotFound, restricted: azOK,
			check: userCheck,
		},
		{
			name: "Keystone PATCH /v3/users/{id}", method: "PATCH", path: azUserPath("/v3/users"),
			body:  func(*azFix) any { return map[string]any{"user": map[string]any{"description": "patched"}} },
			owner: azOK, secu: azOK, self: azDenied, peer: azDenied, foreign: azNotFound, restricted: azMustChange,
			check: userCheck,
		},
		{
			name: "Keystone DELETE /v3/users/{id}", method: "DELETE", path: azUserPath("/v3/users"),
			owner: azNoContent, secu: azNoContent, self: azDenied, peer: azDenied, foreign: azNotFound, restricted: azMustChange,
			check: goneCheck,
		},
		{
			name: "Keystone GET /v3/auth/domains", method: "GET", path: azConst("/v3/auth/domains"),
			owner: azOK, secu: azOK, self: azOK, peer: azOK, foreign: azOK, restricted: azMustChange,
			check: func(t *testing.T, f *azFix, r *resp) {
				ds, _ := r.JSON(t)["domains"].([]any)
				if len(ds) != 1 || ds[0].(map[string]any)["id"] != f.domainID {
					t.Errorf("domains = %s, want only the caller's domain %s", r.Body, f.domainID)
				}
			},
		},
		{
			name: "IAM POST /v3.0/OS-USER/users", method: "POST", path: azConst(iaUsersV3),
			body: func(f *azFix) any {
				return map[string]any{"user": map[string]any{"name": fmt.Sprintf("in-%d", f.seq), "domain_id": f.e.DomainID}}
			},
			owner: azCreated, secu: azCreated, self: azDenied, peer: azDenied, foreign: azNotFound, restricted: azMustChange,
			check: func(t *testing.T, f *azFix, r *resp) {
				u := iaUser(t, r)
				if u["name"] != fmt.Sprintf("in-%d", f.seq) || u["domain_id"] != f.e.DomainID {
					t.Errorf("created user = %v", u)
				}
			},
		},
		{
			name: "IAM GET /v3.0/OS-USER/users", method: "GET", path: azConst(iaUsersV3),
			owner: azOK, secu: azOK, self: azDenied, peer: azDenied, foreign: azOK, restricted: azMustChange,
			check: listCheck("users"),
		},
		{
			name: "IAM GET /v3.0/OS-USER/users/{id}", method: "GET", path: azUserPath(iaUsersV3),
			owner: azOK, secu: azOK, self: azOK, peer: azDenied, foreign: azNotFound, restricted: azOK,
			check: userCheck,
		},
		{
			name: "IAM PUT /v3.0/OS-USER/users/{id}", method: "PUT", path: azUserPath(iaUsersV3),
			body:  func(*azFix) any { return map[string]any{"user": map[string]any{"description": "updated"}} },
			owner: azOK, secu: azOK, self: azDenied, peer: azDenied, foreign: azNotFound, restricted: azMustChange,
			check: userCheck,
		},
		{
			name: "IAM DELETE /v3.0/OS-USER/users/{id}", method: "DELETE", path: azUserPath(iaUsersV3),
			owner: azNoContent, secu: azNoContent, self: azDenied, peer: azDenied, foreign: azNotFound, restricted: azMustChange,
			check: goneCheck,
		},
		{
			name: "IAM PUT /v3.0/OS-USER/users/{id}/info", method: "PUT",
			path: func(f *azFix) string { return iaUsersV3 + "/" + f.target + "/info" },
			body: func(f *azFix) any {
				return map[string]any{"user": map[string]any{"email": fmt.Sprintf("info-%d@example.org", f.seq)}}
			},
			// Only the user itself, whatever the caller's role.
			owner: azDenied, secu: azDenied, self: azNoContent, peer: azDenied, foreign: azDenied, restricted: azMustChange,
			check: func(t *testing.T, f *azFix, r *resp) {
				g := iaGet(f.e, f.adminTok(), f.target)
				if g["email"] != fmt.Sprintf("info-%d@example.org", f.seq) {
					t.Errorf("email after /info = %v", g["email"])
				}
			},
		},
		{
			name: "IAM PUT /v3.0/OS-USER/users/{id}/login-protect", method: "PUT",
			path:  func(f *azFix) string { return iaLPPath(f.target) },
			body:  func(*azFix) any { return iaLPBody(true, "email") },
			owner: azOK, secu: azOK, self: azOK, peer: azDenied, foreign: azNotFound, restricted: azMustChange,
			check: lpCheck,
		},
		{
			name: "IAM GET /v3.0/OS-USER/users/{id}/login-protect", method: "GET",
			path: func(f *azFix) string { return iaLPPath(f.target) }, needsLP: true,
			owner: azOK, secu: azOK, self: azOK, peer: azDenied, foreign: azNotFound, restricted: azMustChange,
			check: lpCheck,
		},
		{
			name: "IAM GET /v3.0/OS-USER/login-protects", method: "GET", path: azConst(iaLPs), needsLP: true,
			owner: azOK, secu: azOK, self: azDenied, peer: azDenied, foreign: azOK, restricted: azMustChange,
			check: listCheck("login_protects"),
		},
	}
}

// azColumn prepares one caller kind in its own server.
type azColumn struct {
	caller azCaller
	opts   []envOption
	// unauth: the 401 code every cell answers (token-less and bad-token callers).
	unauth string
}

func (c azColumn) want(op azOp) azWant {
	if c.unauth != "" {
		return azWant{status: http.StatusUnauthorized, code: c.unauth}
	}
	switch c.caller {
	case azOwner:
		return op.owner
	case azSecu:
		return op.secu
	case azSelf:
		return op.self
	case azPeer:
		return op.peer
	case azForeign:
		return op.foreign
	case azRestricted:
		return op.restricted
	}
	panic("unknown caller " + string(c.caller))
}

// azAssert checks one answer against its expectation and envelope.
func azAssert(t *testing.T, op azOp, path string, r *resp, w azWant) {
	t.Helper()
	if w.status < 300 {
		if r.Status != w.status {
			t.Fatalf("%s %s: status %d, want %d: %s", op.method, path, r.Status, w.status, r.Body)
		}
		return
	}
	msg := iaError(t, op.method, path, r, w.status, w.code)
	if op.method == http.MethodHead {
		return
	}
	says := strings.Contains(msg, azRestrictMsg)
	switch {
	case w.restricted && !says:
		t.Errorf("restricted-token 403 message %q does not say the %s first", msg, azRestrictMsg)
	case !w.restricted && says:
		t.Errorf("message %q talks about a password change for a caller whose token is not restricted", msg)
	}
}

// azNewUser creates a plain user with an e-mail address (so that e-mail login
// protection can be enabled for it) and returns its id and name.
func azNewUser(e *env, adminTok, prefix string, seq int, extra map[string]any) (string, string) {
	e.t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, seq)
	x := map[string]any{"email": name + "@example.com"}
	for k, v := range extra {
		x[k] = v
	}
	return e.createUser(adminTok, name, azPw, x), name
}

func azRunColumn(t *testing.T, col azColumn) {
	e := newEnv(t, col.opts...)
	admin := e.adminToken()
	// In the short-lifetime server the admin token of the fixture setup is
	// fetched fresh each time.
	adminTok := func() string {
		if col.caller == azExpired {
			return e.adminToken()
		}
		return admin
	}
	domainID := e.DomainID

	// Callers shared by every cell of the column.
	var shared string
	switch col.caller {
	case azOwner:
		shared = admin
	case azSecu:
		id, name := azNewUser(e, admin, "secu", 0, nil)
		e.setRole(id, "secu_admin") // revokes older tokens: take the token after
		shared = e.token(name, azPw)
	case azPeer:
		_, name := azNewUser(e, admin, "peer", 0, nil)
		shared = e.token(name, azPw)
	case azForeign:
		domainID, shared = e.otherDomain("acme")
	case azGarbage:
		shared = "garbage-token-value"
	case azForged:
		tk := e.adminToken()
		last := tk[len(tk)-1]
		repl := byte('A')
		if last == 'A' {
			repl = 'B'
		}
		shared = tk[:len(tk)-1] + string(repl)
	case azRevoked:
		tk := e.adminToken()
		r := e.do(req{Method: "DELETE", Path: "/v3/auth/tokens", Token: tk, Header: map[string]string{"X-Subject-Token": tk}})
		mustStatus(t, r, http.StatusNoContent)
		shared = tk
	case azExpired:
		shared = e.adminToken()
		time.Sleep(1200 * time.Millisecond)
	}

	for i, op := range azOps() {
		t.Run(op.name, func(t *testing.T) {
			seq := i + 1
			f := &azFix{e: e, caller: col.caller, tok: shared, targetPw: azPw, seq: seq, domainID: domainID, adminTok: adminTok}
			switch col.caller {
			case azSelf:
				id, name := azNewUser(e, adminTok(), "self", seq, nil)
				f.target, f.tok = id, e.token(name, azPw)
				f.subject = f.tok
			case azRestricted:
				id, name := azNewUser(e, adminTok(), "restricted", seq, map[string]any{"pwd_status": true})
				f.target, f.tok = id, e.token(name, azPw)
				f.subject = f.tok
			default:
				id, name := azNewUser(e, adminTok(), "victim", seq, nil)
				f.target = id
				if op.subject {
					f.subject = e.token(name, azPw)
				}
				f.wantInDom = col.caller == azOwner || col.caller == azSecu
			}
			if op.needsLP {
				mustStatus(t, e.do(req{Method: "PUT", Path: iaLPPath(f.target), Token: adminTok(),
					Body: iaLPBody(true, "email")}), http.StatusOK)
			}
			path := op.path(f)
			rq := req{Method: op.method, Path: path, Token: f.tok}
			if op.body != nil {
				rq.Body = op.body(f)
			}
			if op.subject {
				rq.Header = map[string]string{"X-Subject-Token": f.subject}
			}
			r := e.do(rq)
			w := col.want(op)
			azAssert(t, op, path, r, w)
			if w.status < 300 && op.check != nil {
				op.check(t, f, r)
			}
		})
	}
}

func TestAuthzMatrix(t *testing.T) {
	t.Parallel()
	short := func(c *config.Config) { c.TokenLifetime = 1 * time.Second }
	for _, col := range []azColumn{
		{caller: azOwner},
		{caller: azSecu},
		{caller: azSelf},
		{caller: azPeer},
		{caller: azForeign},
		{caller: azRestricted},
		{caller: azNoToken, unauth: "IAM.0001"},
		{caller: azGarbage, unauth: "IAM.0067"},
		{caller: azForged, unauth: "IAM.0067"},
		{caller: azExpired, unauth: "IAM.0066", opts: []envOption{short}},
		{caller: azRevoked, unauth: "IAM.0067"},
	} {
		t.Run(string(col.caller), func(t *testing.T) {
			t.Parallel()
			azRunColumn(t, col)
		})
	}
}

// TestAuthzRestrictedAdmin: a security administrator who must change the
// password holds a restricted token, which may read its own user only
// (apis.md §0 "Restricted tokens", DESIGN §3), not other users, and may
// manage nobody.
func TestAuthzRestrictedAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.adminToken()
	other := e.createUser(admin, "ursula", azPw, nil)
	id := e.createUser(admin, "victor", azPw, map[string]any{"pwd_status": true})
	e.setRole(id, "secu_admin")
	tok := e.token("victor", azPw)

	// Its own user: allowed.
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users/" + id, Token: tok}), http.StatusOK)
	mustStatus(t, e.do(req{Method: "GET", Path: iaUsersV3 + "/" + id, Token: tok}), http.StatusOK)
	// Managing others: refused as restricted.
	for _, rq := range []req{
		{Method: "GET", Path: iaUsersV3, Token: tok},
		{Method: "PUT", Path: iaUsersV3 + "/" + other, Token: tok, Body: map[string]any{"user": map[string]any{"description": "x"}}},
		{Method: "PATCH", Path: "/v3/users/" + other, Token: tok, Body: map[string]any{"user": map[string]any{"description": "x"}}},
		{Method: "GET", Path: iaLPs, Token: tok},
	} {
		r := e.do(rq)
		if msg := iaError(t, rq.Method, rq.Path, r, http.StatusForbidden, "IAM.0002"); !strings.Contains(msg, azRestrictMsg) {
			t.Errorf("%s %s: message %q", rq.Method, rq.Path, msg)
		}
	}
	// Reading another user: a restricted token reads its own user only,
	// whatever the role.
	for _, p := range []string{"/v3/users/" + other, iaUsersV3 + "/" + other} {
		t.Run("GET "+p[:strings.LastIndexByte(p, '/')]+"/{other}", func(t *testing.T) {
			r := e.do(req{Method: "GET", Path: p, Token: tok})
			if msg := iaError(t, "GET", p, r, http.StatusForbidden, "IAM.0002"); !strings.Contains(msg, azRestrictMsg) {
				t.Errorf("message %q does not say the %s first", msg, azRestrictMsg)
			}
		})
	}
	// Changing the password lifts the restriction.
	r := e.do(req{Method: "POST", Path: "/v3/users/" + id + "/password", Token: tok,
		Body: map[string]any{"user": map[string]any{"password": azPwNew, "original_password": azPw}}})
	mustStatus(t, r, http.StatusNoContent)
	tok = e.token("victor", azPwNew)
	mustStatus(t, e.do(req{Method: "GET", Path: iaUsersV3 + "/" + other, Token: tok}), http.StatusOK)
	mustStatus(t, e.do(req{Method: "GET", Path: iaUsersV3, Token: tok}), http.StatusOK)
}

// TestAuthzEnvelopes pins the two envelopes on the same failure (no token)
// for each family, byte for byte in shape.
func TestAuthzEnvelopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(req{Method: "GET", Path: "/v3/users"})
	if msg := iaKeystoneError(t, r, http.StatusUnauthorized, "IAM.0001"); msg == "" {
		t.Error("empty message")
	}
	r = e.do(req{Method: "GET", Path: iaUsersV3})
	iaIAMError(t, r, http.StatusUnauthorized, "IAM.0001")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	// HEAD errors carry no body.
	r = e.do(req{Method: "HEAD", Path: "/v3/auth/tokens", Header: map[string]string{"X-Subject-Token": "x"}})
	iaError(t, "HEAD", "/v3/auth/tokens", r, http.StatusUnauthorized, "")
}
