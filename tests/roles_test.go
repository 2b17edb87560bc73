package tests

import (
	"net/http"
	"testing"
)

const rolesUserPassword = "Us3r-Secret!x"

func rolePath(domainID, userID, roleID string) string {
	p := "/v3/domains/" + domainID + "/users/" + userID + "/roles"
	if roleID != "" {
		p += "/" + roleID
	}
	return p
}

// roleNames returns the role names of a role list answer.
func roleNames(t *testing.T, r *resp) []string {
	t.Helper()
	var names []string
	for _, x := range r.JSON(t)["roles"].([]any) {
		m := x.(map[string]any)
		if m["id"] != m["name"] {
			t.Errorf("role id %v differs from name %v", m["id"], m["name"])
		}
		names = append(names, m["name"].(string))
	}
	return names
}

func TestRolesListAssignable(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken()
	e.createUser(admin, "plain", rolesUserPassword, nil)
	for _, tok := range []string{admin, e.token("plain", rolesUserPassword)} {
		r := e.do(req{Method: "GET", Path: "/v3/roles", Token: tok})
		mustStatus(t, r, http.StatusOK)
		if got := roleNames(t, r); len(got) != 1 || got[0] != "secu_admin" {
			t.Fatalf("assignable roles %v, want [secu_admin]", got)
		}
	}
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/roles"}), http.StatusUnauthorized)
}

func TestRolesGrantAndRevoke(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken()
	uid := e.createUser(admin, "officer", rolesUserPassword, nil)
	old := e.token("officer", rolesUserPassword)

	// A plain user cannot list users.
	r := e.do(req{Method: "GET", Path: "/v3/users", Token: old})
	mustStatus(t, r, http.StatusForbidden)
	if c := errorCode(t, r); c != "IAM.0002" {
		t.Fatalf("code %s, want IAM.0002", c)
	}
	r = e.do(req{Method: "GET", Path: rolePath(e.DomainID, uid, ""), Token: old})
	mustStatus(t, r, http.StatusOK)
	if got := roleNames(t, r); len(got) != 0 {
		t.Fatalf("plain user roles %v, want none", got)
	}

	mustStatus(t, e.do(req{Method: "PUT", Path: rolePath(e.DomainID, uid, "secu_admin"), Token: admin}), http.StatusNoContent)
	// Granting again is a no-op that still succeeds.
	mustStatus(t, e.do(req{Method: "PUT", Path: rolePath(e.DomainID, uid, "secu_admin"), Token: admin}), http.StatusNoContent)

	// Tokens carry roles, so the old one is revoked.
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users", Token: old}), http.StatusUnauthorized)

	sec := e.token("officer", rolesUserPassword)
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users", Token: sec}), http.StatusOK)
	r = e.do(req{Method: "GET", Path: rolePath(e.DomainID, uid, ""), Token: admin})
	mustStatus(t, r, http.StatusOK)
	if got := roleNames(t, r); len(got) != 1 || got[0] != "secu_admin" {
		t.Fatalf("roles %v, want [secu_admin]", got)
	}

	// A security administrator may not grant roles: only the owner may.
	other := e.createUser(admin, "other", rolesUserPassword, nil)
	r = e.do(req{Method: "PUT", Path: rolePath(e.DomainID, other, "secu_admin"), Token: sec})
	mustStatus(t, r, http.StatusForbidden)
	if c := errorCode(t, r); c != "IAM.0002" {
		t.Fatalf("code %s, want IAM.0002", c)
	}
	mustStatus(t, e.do(req{Method: "DELETE", Path: rolePath(e.DomainID, uid, "secu_admin"), Token: sec}), http.StatusForbidden)

	mustStatus(t, e.do(req{Method: "DELETE", Path: rolePath(e.DomainID, uid, "secu_admin"), Token: admin}), http.StatusNoContent)
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users", Token: sec}), http.StatusUnauthorized)
	plain := e.token("officer", rolesUserPassword)
	mustStatus(t, e.do(req{Method: "GET", Path: "/v3/users", Token: plain}), http.StatusForbidden)

	// Revoking a role the user does not have.
	r = e.do(req{Method: "DELETE", Path: rolePath(e.DomainID, uid, "secu_admin"), Token: admin})
	mustStatus(t, r, http.StatusNotFound)
	if c := errorCode(t, r); c != "IAM.0004" {
		t.Fatalf("code %s, want IAM.0004", c)
	}
}

func TestRolesRefusals(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken()
	uid := e.createUser(admin, "target", rolesUserPassword, nil)
	e.createUser(admin, "peer", rolesUserPassword, nil)
	plain := e.token("peer", rolesUserPassword)
	otherID, otherOwner := e.otherDomain("elsewhere")

	cases := []struct {
		name   string
		method string
		path   string
		token  string
		status int
		code   string
	}{
		{"plain user grants", "PUT", rolePath(e.DomainID, uid, "secu_admin"), plain, 403, "IAM.0002"},
		{"plain user grants itself", "PUT", rolePath(e.DomainID, uid, "secu_admin"), e.token("target", rolesUserPassword), 403, "IAM.0002"},
		{"plain user lists another", "GET", rolePath(e.DomainID, uid, ""), plain, 403, "IAM.0002"},
		{"unknown role", "PUT", rolePath(e.DomainID, uid, "superuser"), admin, 404, "IAM.0004"},
		{"owner role not assignable", "PUT", rolePath(e.DomainID, uid, "te_admin"), admin, 404, "IAM.0004"},
		{"unknown role revoke", "DELETE", rolePath(e.DomainID, uid, "superuser"), admin, 404, "IAM.0004"},
		{"bad role id", "PUT", rolePath(e.DomainID, uid, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), admin, 400, "IAM.0007"},
		{"unknown user", "PUT", rolePath(e.DomainID, "0123456789abcdef0123456789abcdef", "secu_admin"), admin, 404, "IAM.0004"},
		{"foreign domain grant", "PUT", rolePath(otherID, uid, "secu_admin"), admin, 404, "IAM.0004"},
		{"foreign domain list", "GET", rolePath(otherID, uid, ""), admin, 404, "IAM.0004"},
		{"foreign owner grants here", "PUT", rolePath(e.DomainID, uid, "secu_admin"), otherOwner, 404, "IAM.0004"},
		{"foreign user in own domain path", "PUT", rolePath(otherID, uid, "secu_admin"), otherOwner, 404, "IAM.0004"},
		{"owner roles unchangeable grant", "PUT", rolePath(e.DomainID, e.AdminID, "secu_admin"), admin, 403, "IAM.0002"},
		{"owner roles unchangeable revoke", "DELETE", rolePath(e.DomainID, e.AdminID, "secu_admin"), admin, 403, "IAM.0002"},
		{"no token", "PUT", rolePath(e.DomainID, uid, "secu_admin"), "", 401, "IAM.0001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{Method: tc.method, Path: tc.path, Token: tc.token})
			mustStatus(t, r, tc.status)
			if c := errorCode(t, r); c != tc.code {
				t.Fatalf("code %s, want %s: %s", c, tc.code, r.Body)
			}
		})
	}

	// The target is still a plain user after all of that.
	r := e.do(req{Method: "GET", Path: rolePath(e.DomainID, uid, ""), Token: admin})
	mustStatus(t, r, http.StatusOK)
	if got := roleNames(t, r); len(got) != 0 {
		t.Fatalf("roles %v, want none", got)
	}
}

func TestRolesSelfAndOwnerList(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken()
	uid := e.createUser(admin, "me", rolesUserPassword, nil)
	me := e.token("me", rolesUserPassword)
	r := e.do(req{Method: "GET", Path: rolePath(e.DomainID, uid, ""), Token: me})
	mustStatus(t, r, http.StatusOK)
	if got := roleNames(t, r); len(got) != 0 {
		t.Fatalf("own roles %v, want none", got)
	}
	r = e.do(req{Method: "GET", Path: rolePath(e.DomainID, e.AdminID, ""), Token: admin})
	mustStatus(t, r, http.StatusOK)
	got := roleNames(t, r)
	if len(got) != 2 || got[0] != "te_admin" || got[1] != "secu_admin" {
		t.Fatalf("owner roles %v, want [te_admin secu_admin]", got)
	}
	if self := r.JSON(t)["links"].(map[string]any)["self"].(string); self == "" {
		t.Fatal("no self link")
	}
}
