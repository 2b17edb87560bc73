package tests

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
)

// gcCtx bounds every gophercloud call: a client that hangs fails the test
// instead of the whole run.
func gcCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// gcStatus returns the HTTP status an error of gophercloud reports, or 0.
func gcStatus(err error) int {
	var v gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &v) {
		return v.Actual
	}
	var p *gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &p) {
		return p.Actual
	}
	return 0
}

// gcBody returns the response body an error of gophercloud carries.
func gcBody(err error) string {
	var v gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &v) {
		return string(v.Body)
	}
	var p *gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &p) {
		return string(p.Body)
	}
	return ""
}

// gcClient authenticates and returns the provider and an identity v3 client.
func gcClient(t testing.TB, opts gophercloud.AuthOptions) (*gophercloud.ProviderClient, *gophercloud.ServiceClient) {
	t.Helper()
	ctx := gcCtx(t)
	p, err := openstack.AuthenticatedClient(ctx, opts)
	if err != nil {
		t.Fatalf("AuthenticatedClient: %v", err)
	}
	rememberSecret(p.Token())
	id, err := openstack.NewIdentityV3(p, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatalf("NewIdentityV3: %v", err)
	}
	return p, id
}

func TestGophercloudAuthenticate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "gina", ksPwA, nil)
	e.ksUser(adm, "gene", ksPwAmp, nil)

	tests := []struct {
		name     string
		opts     gophercloud.AuthOptions
		user     string
		scoped   bool
		userName string
	}{
		{name: "v3 endpoint, user id", opts: gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", UserID: uid, Password: ksPwA}},
		{name: "v3 endpoint with slash, user id", opts: gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3/", UserID: uid, Password: ksPwA}},
		{name: "v3 endpoint, name and domain name", opts: gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", Username: "gina", DomainName: domainName, Password: ksPwA}},
		{name: "v3 endpoint, name and domain id", opts: gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", Username: "gina", DomainID: e.DomainID, Password: ksPwA}},
		{name: "versionless endpoint (discovery)", opts: gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/", Username: "gina", DomainName: domainName, Password: ksPwA}},
		{name: "versionless endpoint without slash", opts: gophercloud.AuthOptions{IdentityEndpoint: e.URL, UserID: uid, Password: ksPwA}},
		{name: "domain scope by id", opts: gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", UserID: uid, Password: ksPwA, Scope: &gophercloud.AuthScope{DomainID: e.DomainID}}, scoped: true},
		{name: "domain scope by name", opts: gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/", Username: "gina", DomainName: domainName, Password: ksPwA, Scope: &gophercloud.AuthScope{DomainName: domainName}}, scoped: true},
		{name: "password with <>&", opts: gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", Username: "gene", DomainName: domainName, Password: ksPwAmp}, userName: "gene"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := gcCtx(t)
			p, id := gcClient(t, tc.opts)
			if p.Token() == "" {
				t.Fatal("no token")
			}
			if id.Endpoint != e.URL+"/v3/" {
				t.Errorf("identity endpoint %q, want %s/v3/", id.Endpoint, e.URL)
			}
			want := "gina"
			if tc.userName != "" {
				want = tc.userName
			}
			res, ok := p.GetAuthResult().(tokens.CreateResult)
			if !ok {
				t.Fatalf("auth result %T", p.GetAuthResult())
			}
			u, err := res.ExtractUser()
			if err != nil || u.Name != want || u.Domain.ID != e.DomainID || u.Domain.Name != domainName {
				t.Errorf("user %+v (%v)", u, err)
			}
			tok, err := res.ExtractToken()
			if err != nil || tok.ExpiresAt.IsZero() || time.Until(tok.ExpiresAt) < 23*time.Hour {
				t.Errorf("token %+v (%v)", tok, err)
			}
			d, err := res.ExtractDomain()
			if err != nil {
				t.Fatal(err)
			}
			if tc.scoped != (d != nil) || (d != nil && d.ID != e.DomainID) {
				t.Errorf("domain %+v, scoped %v", d, tc.scoped)
			}
			cat, err := res.ExtractServiceCatalog()
			if err != nil || len(cat.Entries) != 1 || cat.Entries[0].Type != "identity" {
				t.Fatalf("catalog %+v (%v)", cat, err)
			}
			// The catalog leads to this server (client must-have 11).
			byCat, err := openstack.NewIdentityV3(p, gophercloud.EndpointOpts{Availability: gophercloud.AvailabilityPublic})
			if err != nil {
				t.Fatalf("identity from the catalog: %v", err)
			}
			if byCat.Endpoint != e.URL+"/v3/" {
				t.Errorf("catalog endpoint %q", byCat.Endpoint)
			}
			// The client works.
			got, err := users.Get(ctx, byCat, u.ID).Extract()
			if err != nil || got.Name != want || got.DomainID != e.DomainID || !got.Enabled {
				t.Errorf("users.Get %+v (%v)", got, err)
			}
		})
	}

	t.Run("token passthrough", func(t *testing.T) {
		ctx := gcCtx(t)
		tok := e.ksFor(t).ksTok("gina", ksPwA)
		p, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", TokenID: tok})
		if err != nil {
			t.Fatalf("passthrough: %v", err)
		}
		if p.Token() != tok {
			t.Errorf("passthrough changed the token")
		}
	})

	fails := []struct {
		name   string
		opts   gophercloud.AuthOptions
		status int
	}{
		{"wrong password", gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", UserID: uid, Password: ksPwB}, 401},
		{"unknown user", gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/", Username: "nobody", DomainName: domainName, Password: ksPwB}, 401},
		{"project scope", gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", UserID: uid, Password: ksPwA, Scope: &gophercloud.AuthScope{ProjectID: "5f4e3d2c1b0a49382716a5b4c3d2e1f0"}}, 401},
		{"garbage token passthrough", gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", TokenID: "garbage"}, 401},
	}
	for _, tc := range fails {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openstack.AuthenticatedClient(gcCtx(t), tc.opts)
			if gcStatus(err) != tc.status {
				t.Fatalf("err %v, want status %d", err, tc.status)
			}
		})
	}
}

func TestGophercloudTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "tara", ksPwA, nil)
	ctx := gcCtx(t)
	_, admID := gcClient(t, gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", Username: adminName, DomainName: domainName, Password: adminPassword})
	userP, userID := gcClient(t, gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", UserID: uid, Password: ksPwA})
	tok := userP.Token()

	// tokens.Get, by the admin and by the user itself.
	for name, c := range map[string]*gophercloud.ServiceClient{"admin": admID, "self": userID} {
		res := tokens.Get(ctx, c, tok)
		u, err := res.ExtractUser()
		if err != nil || u.ID != uid || u.Name != "tara" {
			t.Errorf("%s: tokens.Get user %+v (%v)", name, u, err)
		}
		if got := res.Header.Get("X-Subject-Token"); got != tok {
			t.Errorf("%s: X-Subject-Token not echoed", name)
		}
		tk, err := res.ExtractToken()
		if err != nil || tk.ID != tok || tk.ExpiresAt.IsZero() {
			t.Errorf("%s: token %+v (%v)", name, tk, err)
		}
		if cat, err := res.ExtractServiceCatalog(); err != nil || len(cat.Entries) != 1 {
			t.Errorf("%s: catalog %+v (%v)", name, cat, err)
		}
	}
	ok, err := tokens.Validate(ctx, admID, tok)
	if err != nil || !ok {
		t.Fatalf("Validate of a valid token: %v %v", ok, err)
	}
	ok, err = tokens.Validate(ctx, admID, "garbage")
	if err != nil || ok {
		t.Fatalf("Validate of garbage: %v %v (a bad subject token must be 404)", ok, err)
	}
	if err := tokens.Revoke(ctx, admID, tok).Err; err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	ok, err = tokens.Validate(ctx, admID, tok)
	if err != nil || ok {
		t.Fatalf("Validate after Revoke: %v %v, want false, nil", ok, err)
	}
	if err := tokens.Get(ctx, admID, tok).Err; gcStatus(err) != http.StatusNotFound {
		t.Errorf("Get after Revoke: %v, want 404", err)
	}
	if err := tokens.Revoke(ctx, admID, tok).Err; gcStatus(err) != http.StatusNotFound {
		t.Errorf("second Revoke: %v, want 404", err)
	}
	// The revoked user client fails cleanly (no re-auth configured).
	if _, err := users.Get(ctx, userID, uid).Extract(); gcStatus(err) != http.StatusUnauthorized {
		t.Errorf("revoked client: %v, want 401", err)
	}
	// Self-revocation through the client's own token.
	p2, id2 := gcClient(t, gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", UserID: uid, Password: ksPwA})
	if err := tokens.Revoke(ctx, id2, p2.Token()).Err; err != nil {
		t.Fatalf("self Revoke: %v", err)
	}
	if ok, err := tokens.Validate(ctx, admID, p2.Token()); err != nil || ok {
		t.Errorf("after self Revoke: %v %v", ok, err)
	}
}

func TestGophercloudChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "cleo", ksPwA, nil)
	ctx := gcCtx(t)
	_, admID := gcClient(t, gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", Username: adminName, DomainName: domainName, Password: adminPassword})
	p, id := gcClient(t, gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", UserID: uid, Password: ksPwA})
	old := p.Token()

	// A policy violation is an error carrying the code.
	err := users.ChangePassword(ctx, id, uid, users.ChangePasswordOpts{OriginalPassword: ksPwA, Password: "Ab-1"}).ExtractErr()
	if gcStatus(err) != http.StatusBadRequest || !strings.Contains(gcBody(err), `"1103"`) {
		t.Fatalf("short password: %v", err)
	}
	err = users.ChangePassword(ctx, id, uid, users.ChangePasswordOpts{OriginalPassword: ksPwB, Password: ksPwC}).ExtractErr()
	if gcStatus(err) != http.StatusUnauthorized || !strings.Contains(gcBody(err), "IAM.0062") {
		t.Fatalf("wrong original: %v", err)
	}

	if err := users.ChangePassword(ctx, id, uid, users.ChangePasswordOpts{OriginalPassword: ksPwA, Password: ksPwB}).ExtractErr(); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if ok, err := tokens.Validate(ctx, admID, old); err != nil || ok {
		t.Errorf("old token after the change: valid=%v err=%v", ok, err)
	}
	if _, err := users.Get(ctx, id, uid).Extract(); gcStatus(err) != http.StatusUnauthorized {
		t.Errorf("old client after the change: %v, want 401", err)
	}
	if _, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", UserID: uid, Password: ksPwA}); gcStatus(err) != http.StatusUnauthorized {
		t.Errorf("old password: %v, want 401", err)
	}
	_, id2 := gcClient(t, gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/", Username: "cleo", DomainName: domainName, Password: ksPwB})
	u, err := users.Get(ctx, id2, uid).Extract()
	if err != nil || u.Name != "cleo" {
		t.Fatalf("new password client: %+v %v", u, err)
	}
}

func TestGophercloudAllowReauth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.ksUser(adm, "reese", ksPwA, nil)
	ctx := gcCtx(t)
	p, id := gcClient(t, gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", UserID: uid, Password: ksPwA, AllowReauth: true})

	t.Run("re-auth after a revoked token", func(t *testing.T) {
		before := p.Token()
		if err := tokens.Revoke(ctx, id, before).Err; err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		// 401, then gophercloud re-authenticates with the cached password.
		u, err := users.Get(ctx, id, uid).Extract()
		if err != nil || u.Name != "reese" {
			t.Fatalf("after re-auth: %+v %v", u, err)
		}
		if p.Token() == before {
			t.Error("the client did not re-authenticate")
		}
		rememberSecret(p.Token())
	})
	t.Run("wrong original password with re-auth", func(t *testing.T) {
		// 401, re-auth succeeds, the retry is 401 again: an error, not a loop.
		err := users.ChangePassword(ctx, id, uid, users.ChangePasswordOpts{OriginalPassword: ksPwB, Password: ksPwC}).ExtractErr()
		if gcStatus(err) != http.StatusUnauthorized {
			t.Fatalf("wrong original: %v, want 401", err)
		}
		rememberSecret(p.Token())
	})
	t.Run("re-auth with the old password fails cleanly", func(t *testing.T) {
		if err := users.ChangePassword(ctx, id, uid, users.ChangePasswordOpts{OriginalPassword: ksPwA, Password: ksPwB}).ExtractErr(); err != nil {
			t.Fatalf("ChangePassword: %v", err)
		}
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- errors.New("panic in gophercloud")
				}
			}()
			_, err := users.Get(ctx, id, uid).Extract()
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("gophercloud hangs re-authenticating with the old password")
		}
		if err == nil {
			t.Fatal("a client with the old password still works")
		}
		var reauth *gophercloud.ErrUnableToReauthenticate
		if !errors.As(err, &reauth) {
			t.Fatalf("err %T %v, want ErrUnableToReauthenticate", err, err)
		}
		if gcStatus(reauth.ErrReauth) != http.StatusUnauthorized || !strings.Contains(gcBody(reauth.ErrReauth), "IAM.0062") {
			t.Errorf("re-auth error %v, want 401 IAM.0062", reauth.ErrReauth)
		}
	})
	t.Run("a fresh client with the new password", func(t *testing.T) {
		_, id := gcClient(t, gophercloud.AuthOptions{IdentityEndpoint: e.URL + "/v3", UserID: uid, Password: ksPwB, AllowReauth: true})
		if _, err := users.Get(gcCtx(t), id, uid).Extract(); err != nil {
			t.Fatal(err)
		}
	})
}
