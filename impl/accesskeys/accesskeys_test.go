package accesskeys

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/store"
	"github.com/latchkey/latchkey/impl/store/storetest"
	"github.com/latchkey/latchkey/impl/testclock"
)

var signTime = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) // = testDate

type fixture struct {
	ctx   context.Context
	db    *store.DB
	key   []byte
	svc   *Service
	clock *testclock.Clock
	dom   string
	alice store.User
	bob   store.User
	other store.User // another domain
}

func newKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	return k
}

func newFixture(t *testing.T, env storetest.DB) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), db: env.Open(t), key: newKey(),
		clock: testclock.New(signTime.Add(time.Minute))}
	var err error
	f.svc, err = New(f.db, f.key, slog.New(slog.DiscardHandler), WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := randID(), randID()
	for _, d := range []store.Domain{{ID: d1, Name: "acme-" + d1[:6]}, {ID: d2, Name: "other-" + d2[:6]}} {
		if err := f.db.Create(&d).Error; err != nil {
			t.Fatal(err)
		}
	}
	f.dom = d1
	mk := func(dom, name string) store.User {
		u := store.User{ID: randID(), DomainID: dom, Name: name, Enabled: true, AccessMode: "default", Role: "user"}
		if err := f.db.Create(&u).Error; err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.alice, f.bob, f.other = mk(d1, "alice"), mk(d1, "bob"), mk(d2, "carol")
	return f
}

func randID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func wantReason(t *testing.T, err error, want fault.Reason) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !fault.Is(err, want) {
		t.Fatalf("error %v, want reason %s", err, want)
	}
}

func TestKeyLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		k1, sk1, err := f.svc.Create(f.ctx, f.dom, f.alice.ID, "first")
		wantReason(t, err, "")
		if len(k1.Access) != akLen || strings.Trim(k1.Access, akAlphabet) != "" || len(sk1) != skLen ||
			strings.Trim(sk1, skAlphabet) != "" || k1.Status != StatusActive || k1.Description != "first" {
			t.Fatalf("created %+v with a %d-char secret", k1, len(sk1))
		}
		k2, sk2, err := f.svc.Create(f.ctx, f.dom, f.alice.ID, "")
		wantReason(t, err, "")
		if k2.Access == k1.Access || sk2 == sk1 {
			t.Fatal("keys repeat")
		}
		// The third is over the quota (inactive keys count too).
		_, err = f.svc.Update(f.ctx, f.dom, k2.Access, ptr(StatusInactive), nil)
		wantReason(t, err, "")
		_, _, err = f.svc.Create(f.ctx, f.dom, f.alice.ID, "")
		wantReason(t, err, fault.PropertyInvalid)
		if !strings.HasPrefix(fault.As(err).Message, "akSkNumExceed") {
			t.Fatalf("quota message %q", fault.As(err).Message)
		}
		// Another user's quota is separate; a foreign or unknown user is not found.
		_, _, err = f.svc.Create(f.ctx, f.dom, f.bob.ID, "")
		wantReason(t, err, "")
		_, _, err = f.svc.Create(f.ctx, f.dom, f.other.ID, "")
		wantReason(t, err, fault.UserNotFound)
		_, _, err = f.svc.Create(f.ctx, f.dom, randID(), "")
		wantReason(t, err, fault.UserNotFound)
		_, _, err = f.svc.Create(f.ctx, f.dom, f.bob.ID, strings.Repeat("é", MaxDescription+1))
		wantReason(t, err, fault.PropertyInvalid)

		list, err := f.svc.List(f.ctx, f.dom, f.alice.ID)
		wantReason(t, err, "")
		if len(list) != 2 || list[0].Access != k1.Access || list[1].Status != StatusInactive {
			t.Fatalf("list %+v", list)
		}
		_, err = f.svc.List(f.ctx, f.dom, f.other.ID)
		wantReason(t, err, fault.UserNotFound)

		_, err = f.svc.Get(f.ctx, f.other.DomainID, k1.Access)
		wantReason(t, err, fault.NotFound)
		_, err = f.svc.Update(f.ctx, f.dom, k1.Access, nil, nil)
		wantReason(t, err, fault.PropertyMissing)
		_, err = f.svc.Update(f.ctx, f.dom, k1.Access, ptr("paused"), nil)
		wantReason(t, err, fault.PropertyInvalid)
		up, err := f.svc.Update(f.ctx, f.dom, k1.Access, nil, ptr("renamed"))
		wantReason(t, err, "")
		if up.Description != "renamed" || up.Status != StatusActive {
			t.Fatalf("updated %+v", up)
		}
		_, err = f.svc.Update(f.ctx, f.other.DomainID, k1.Access, nil, ptr("x"))
		wantReason(t, err, fault.NotFound)

		wantReason(t, f.svc.Delete(f.ctx, f.other.DomainID, k1.Access), fault.NotFound)
		wantReason(t, f.svc.Delete(f.ctx, f.dom, k1.Access), "")
		wantReason(t, f.svc.Delete(f.ctx, f.dom, k1.Access), fault.NotFound)
		_, _, err = f.svc.Create(f.ctx, f.dom, f.alice.ID, "after delete")
		wantReason(t, err, "")
	})
}

func ptr[T any](v T) *T { return &v }

// Secrets are sealed: the row never holds the secret, opens only under the
// server key and only for its own access key id.
func TestSecretSealedAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		k, sk, err := f.svc.Create(f.ctx, f.dom, f.alice.ID, "")
		wantReason(t, err, "")
		k2, _, err := f.svc.Create(f.ctx, f.dom, f.alice.ID, "")
		wantReason(t, err, "")
		var row, row2 store.AccessKey
		if err := f.db.Where("access = ?", k.Access).Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		if err := f.db.Where("access = ?", k2.Access).Take(&row2).Error; err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(row.SecretEnc, []byte(sk)) || row.KeyID != f.svc.seal.keyID || len(row.KeyID) != 16 {
			t.Fatalf("row %x keyid %q", row.SecretEnc, row.KeyID)
		}
		if got, err := f.svc.seal.open(row.Access, row.SecretEnc); err != nil || got != sk {
			t.Fatalf("open: %q %v", got, err)
		}
		if _, err := f.svc.seal.open(row2.Access, row.SecretEnc); err == nil {
			t.Fatal("a sealed secret opened for another access key")
		}
		other, _ := newSealer(newKey())
		if _, err := other.open(row.Access, row.SecretEnc); err == nil {
			t.Fatal("a sealed secret opened under another server key")
		}
		if other.keyID == row.KeyID {
			t.Fatal("key ids collide")
		}
	})
}

// The quota holds under concurrent creation (the user row is locked).
func TestQuotaConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, quota := 0, 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := f.svc.Create(f.ctx, f.dom, f.alice.ID, "")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case fault.Is(err, fault.PropertyInvalid):
					quota++
				default:
					t.Errorf("create: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != MaxPerUser || quota != 8-MaxPerUser {
			t.Fatalf("%d created, %d refused", ok, quota)
		}
	})
}

func TestDisabledWithoutKey(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	k, sk, err := f.svc.Create(f.ctx, f.dom, f.alice.ID, "")
	wantReason(t, err, "")
	off, err := New(f.db, nil, nil, WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if off.Enabled() {
		t.Fatal("enabled without a key")
	}
	_, _, err = off.Create(f.ctx, f.dom, f.alice.ID, "")
	wantReason(t, err, fault.NotImplemented)
	srv, got := captureServer(t)
	rec := roundTrip(t, srv, got, sdkRequest(t, srv.URL, sdkCase{method: "GET", path: "/v3/auth/domains"}, k.Access, sk))
	_, err = off.Verify(f.ctx, rec.r, rec.body)
	wantReason(t, err, fault.Unauthenticated)
}

func TestVerify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		k, sk, err := f.svc.Create(f.ctx, f.dom, f.alice.ID, "")
		wantReason(t, err, "")
		kb, skb, err := f.svc.Create(f.ctx, f.dom, f.bob.ID, "")
		wantReason(t, err, "")
		srv, got := captureServer(t)
		body := map[string]any{"user": map[string]any{"original_password": "a", "password": "b"}}
		base := sdkCase{method: "POST", path: "/v3/users/" + f.alice.ID + "/password", ct: "application/json;charset=UTF-8",
			headers: map[string]string{"User-Agent": "huaweicloud-usdk-go/3.0", HeaderDomainID: f.dom}, body: body}
		send := func(c sdkCase, ak, sk string, tamper func(*http.Request)) received {
			hr := sdkRequest(t, srv.URL, c, ak, sk)
			if tamper != nil {
				tamper(hr)
			}
			return roundTrip(t, srv, got, hr)
		}
		with := func(h map[string]string) sdkCase {
			c := base
			c.headers = map[string]string{}
			for k, v := range base.headers {
				c.headers[k] = v
			}
			for k, v := range h {
				if v == "" {
					delete(c.headers, k)
				} else {
					c.headers[k] = v
				}
			}
			return c
		}

		// A good signature: the key's user.
		rec := send(base, k.Access, sk, nil)
		v, err := f.svc.Verify(f.ctx, rec.r, rec.body)
		wantReason(t, err, "")
		if v.User.ID != f.alice.ID || v.Key.Access != k.Access {
			t.Fatalf("verified %+v", v)
		}
		// Bob's key, with his own project (region pseudo-project).
		rec = send(with(map[string]string{HeaderDomainID: "", HeaderProjectID: ProjectID(f.dom, "cn-north-4")}), kb.Access, skb, nil)
		v, err = f.svc.Verify(f.ctx, rec.r, rec.body)
		wantReason(t, err, "")
		if v.User.ID != f.bob.ID {
			t.Fatalf("verified %+v", v)
		}

		type tc struct {
			name   string
			c      sdkCase
			ak, sk string
			tamper func(*http.Request)
			prep   func()
			undo   func()
		}
		cases := []tc{
			{name: "unknown access key", c: base, ak: "NOSUCHKEY0000000000X", sk: sk},
			{name: "wrong secret", c: base, ak: k.Access, sk: skb},
			{name: "date 16 minutes behind", c: with(map[string]string{HeaderDate: signTime.Add(-16 * time.Minute).Format(DateFormat)}), ak: k.Access, sk: sk},
			{name: "date 16 minutes ahead", c: with(map[string]string{HeaderDate: signTime.Add(17 * time.Minute).Format(DateFormat)}), ak: k.Access, sk: sk},
			{name: "foreign X-Domain-Id", c: with(map[string]string{HeaderDomainID: f.other.DomainID}), ak: k.Access, sk: sk},
			{name: "foreign X-Project-Id", c: with(map[string]string{HeaderDomainID: "", HeaderProjectID: ProjectID(f.other.DomainID, "cn-north-4")}), ak: k.Access, sk: sk},
			{name: "made-up X-Project-Id", c: with(map[string]string{HeaderDomainID: "", HeaderProjectID: f.dom}), ak: k.Access, sk: sk},
			{name: "altered signed header", c: base, ak: k.Access, sk: sk,
				tamper: func(r *http.Request) { r.Header.Set("User-Agent", "curl/8") }},
			{name: "altered X-Sdk-Date", c: base, ak: k.Access, sk: sk,
				tamper: func(r *http.Request) { r.Header.Set(HeaderDate, signTime.Add(time.Second).Format(DateFormat)) }},
			{name: "altered body", c: base, ak: k.Access, sk: sk,
				tamper: func(r *http.Request) {
					b := []byte(`{"user":{"original_password":"a","password":"c"}}` + "\n")
					r.Body, r.ContentLength = readCloser(b), int64(len(b))
				}},
			{name: "altered path", c: base, ak: k.Access, sk: sk,
				tamper: func(r *http.Request) { r.URL.Path = "/v3/users/" + f.bob.ID + "/password" }},
			{name: "added query", c: base, ak: k.Access, sk: sk,
				tamper: func(r *http.Request) { r.URL.RawQuery = "x=1" }},
			{name: "signature in upper case hex", c: base, ak: k.Access, sk: sk,
				tamper: func(r *http.Request) {
					h := r.Header.Get("Authorization")
					i := strings.LastIndex(h, "=")
					r.Header.Set("Authorization", h[:i+1]+strings.ToUpper(h[i+1:]))
				}},
			{name: "missing X-Sdk-Date", c: base, ak: k.Access, sk: sk,
				tamper: func(r *http.Request) { r.Header.Del(HeaderDate) }},
			{name: "malformed Authorization", c: base, ak: k.Access, sk: sk,
				tamper: func(r *http.Request) {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Signature=", "Sig=", 1))
				}},
			{name: "inactive key", c: base, ak: k.Access, sk: sk,
				prep: func() { _, _ = f.svc.Update(f.ctx, f.dom, k.Access, ptr(StatusInactive), nil) },
				undo: func() { _, _ = f.svc.Update(f.ctx, f.dom, k.Access, ptr(StatusActive), nil) }},
			{name: "disabled user", c: base, ak: k.Access, sk: sk,
				prep: func() { f.db.Model(&store.User{}).Where("id = ?", f.alice.ID).Update("enabled", false) },
				undo: func() { f.db.Model(&store.User{}).Where("id = ?", f.alice.ID).Update("enabled", true) }},
			{name: "console-only user", c: base, ak: k.Access, sk: sk,
				prep: func() { f.db.Model(&store.User{}).Where("id = ?", f.alice.ID).Update("access_mode", "console") },
				undo: func() { f.db.Model(&store.User{}).Where("id = ?", f.alice.ID).Update("access_mode", "default") }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if c.prep != nil {
					c.prep()
				}
				if c.undo != nil {
					defer c.undo()
				}
				rec := send(c.c, c.ak, c.sk, c.tamper)
				v, err := f.svc.Verify(f.ctx, rec.r, rec.body)
				wantReason(t, err, fault.Unauthenticated)
				if v != nil {
					t.Fatal("a principal came back with the error")
				}
				if msg := fault.As(err).Message; strings.Contains(msg, sk) || strings.Contains(msg, skb) {
					t.Fatal("the message holds a secret")
				}
			})
		}

		// 14 minutes off is within the skew.
		rec = send(with(map[string]string{HeaderDate: signTime.Add(-13 * time.Minute).Format(DateFormat)}), k.Access, sk, nil)
		_, err = f.svc.Verify(f.ctx, rec.r, rec.body)
		wantReason(t, err, "")

		// UNSIGNED-PAYLOAD leaves the body out of the signature, as the SDK
		// intends for non-JSON bodies.
		up := sdkCase{method: "PUT", path: "/v4/blob", ct: "text/plain", body: "signed text"}
		rec = send(up, k.Access, sk, func(r *http.Request) {
			b := []byte("other text")
			r.Body, r.ContentLength = readCloser(b), int64(len(b))
		})
		_, err = f.svc.Verify(f.ctx, rec.r, rec.body)
		wantReason(t, err, "")

		// A deleted key stops at once; so does one sealed under another key.
		wantReason(t, f.svc.Delete(f.ctx, f.dom, kb.Access), "")
		rec = send(base, kb.Access, skb, nil)
		_, err = f.svc.Verify(f.ctx, rec.r, rec.body)
		wantReason(t, err, fault.Unauthenticated)
		rekeyed, _ := New(f.db, newKey(), nil, WithClock(f.clock.Now))
		rec = send(base, k.Access, sk, nil)
		_, err = rekeyed.Verify(f.ctx, rec.r, rec.body)
		wantReason(t, err, fault.Unauthenticated)
	})
}

func readCloser(b []byte) *nopCloser { return &nopCloser{bytes.NewReader(b)} }

type nopCloser struct{ *bytes.Reader }

func (*nopCloser) Close() error { return nil }

// Last use is recorded once per 15-minute window.
func TestLastUsed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.DB) {
		f := newFixture(t, env)
		k, sk, err := f.svc.Create(f.ctx, f.dom, f.alice.ID, "")
		wantReason(t, err, "")
		if k.LastUsedAt != nil {
			t.Fatal("new key has a last use")
		}
		srv, got := captureServer(t)
		use := func(at time.Time) {
			t.Helper()
			f.clock.Set(at)
			c := sdkCase{method: "GET", path: "/v3/auth/domains", headers: map[string]string{HeaderDate: at.Format(DateFormat)}}
			rec := roundTrip(t, srv, got, sdkRequest(t, srv.URL, c, k.Access, sk))
			if _, err := f.svc.Verify(f.ctx, rec.r, rec.body); err != nil {
				t.Fatal(err)
			}
		}
		lastUsed := func() time.Time {
			t.Helper()
			g, err := f.svc.Get(f.ctx, f.dom, k.Access)
			if err != nil || g.LastUsedAt == nil {
				t.Fatalf("get: %+v %v", g, err)
			}
			return g.LastUsedAt.UTC()
		}
		t0 := signTime
		use(t0)
		if !lastUsed().Equal(t0) {
			t.Fatalf("last used %v, want %v", lastUsed(), t0)
		}
		use(t0.Add(10 * time.Minute))
		if !lastUsed().Equal(t0) {
			t.Fatalf("last used moved within the window: %v", lastUsed())
		}
		use(t0.Add(16 * time.Minute))
		if !lastUsed().Equal(t0.Add(16 * time.Minute)) {
			t.Fatalf("last used %v after the window", lastUsed())
		}
	})
}

func TestParseAndLoadKey(t *testing.T) {
	k := newKey()
	for _, s := range []string{hex.EncodeToString(k), strings.ToUpper(hex.EncodeToString(k)),
		base64.StdEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k), " " + base64.StdEncoding.EncodeToString(k) + "\n"} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "short", hex.EncodeToString(k[:31]), base64.StdEncoding.EncodeToString(append(k, 1))} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		} else if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("the error echoes the value")
		}
	}

	// The setting wins, on any database.
	got, src, err := LoadKey(hex.EncodeToString(k), "postgres://x")
	if err != nil || !bytes.Equal(got, k) || src.Path != "" || src.Generated {
		t.Fatalf("setting: %v %+v", err, src)
	}
	if _, _, err := LoadKey("bad", "sqlite:x.db"); err == nil {
		t.Fatal("bad setting accepted")
	}
	// PostgreSQL without the setting: disabled.
	got, _, err = LoadKey("", "postgres://u@h/db")
	if err != nil || got != nil {
		t.Fatalf("postgres: %v %v", got, err)
	}
	// SQLite in memory: an ephemeral key.
	got, src, err = LoadKey("", "sqlite::memory:")
	if err != nil || len(got) != KeySize || !src.Ephemeral || src.Path != "" {
		t.Fatalf("memory: %v %+v", err, src)
	}
	// SQLite file: generated once into latchkey.secret (0600), then reused.
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "lk.db") + "?_pragma=x"
	first, src, err := LoadKey("", dsn)
	if err != nil || !src.Generated || src.Path != filepath.Join(dir, KeyFileName) || src.Encoded == "" {
		t.Fatalf("generate: %v %+v", err, src)
	}
	st, err := os.Stat(src.Path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v", st.Mode(), err)
	}
	again, src2, err := LoadKey("", "sqlite:file:"+filepath.Join(dir, "lk.db"))
	if err != nil || src2.Generated || !bytes.Equal(first, again) || src2.LoosePerms {
		t.Fatalf("reuse: %v %+v", err, src2)
	}
	if err := os.Chmod(src.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, src3, _ := LoadKey("", dsn); !src3.LoosePerms {
		t.Fatal("loose permissions not reported")
	}
	if err := os.WriteFile(src.Path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadKey("", dsn); err == nil || strings.Contains(err.Error(), "garbage") {
		t.Fatalf("a bad key file: %v", err)
	}
}

func TestProjects(t *testing.T) {
	d1, d2 := randID(), randID()
	p := ProjectID(d1, "cn-north-4")
	if len(p) != 32 || strings.Trim(p, "0123456789abcdef") != "" {
		t.Fatalf("project id %q", p)
	}
	if ProjectID(d1, "cn-north-4") != p || ProjectID(d1, "cn-north-1") == p || ProjectID(d2, "cn-north-4") == p {
		t.Fatal("project ids are not deterministic per domain and name")
	}
	if !ProjectInDomain(p, d1) || !ProjectInDomain(ProjectID(d1, "x"), d1) {
		t.Fatal("own project refused")
	}
	for _, bad := range []string{ProjectID(d2, "cn-north-4"), d1, "", strings.ToUpper(p), p[:31], "zz" + p[2:]} {
		if ProjectInDomain(bad, d1) {
			t.Errorf("ProjectInDomain(%q) accepted", bad)
		}
	}
}

var _ = errors.New
