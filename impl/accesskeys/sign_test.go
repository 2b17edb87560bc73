package accesskeys

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

const (
	testSK   = "TTqAHPbhWorg9ozx8Dv9MUyzYnOKDppxzHt0Kq4W"
	testAK   = "P83EVBZJMXCYTMUIIV7Q"
	testDate = "20261122T120000Z"
)

func TestEscapeAndCanonicalURI(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/v3/users/abc/password", "/v3/users/abc/password/"},
		{"/v3/auth/tokens/", "/v3/auth/tokens/"},
		{"/v1/a b/\u00fc~x", "/v1/a%20b/%C3%BC~x/"},
		{"/p/A-Z_a.z~0", "/p/A-Z_a.z~0/"},
		{"/p/:@!$&'()*+,;=", "/p/%3A%40%21%24%26%27%28%29%2A%2B%2C%3B%3D/"},
		{"/p/%41", "/p/%2541/"},
		{"//double", "//double/"},
	} {
		if got := CanonicalURI(c.in); got != c.want {
			t.Errorf("CanonicalURI(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{"", ""},
		{"name=cn-north-4", "name=cn-north-4"},
		// keys sorted, then each key's values; empty and valueless give k=
		{"b=2&a=z&a=y&c=&d", "a=y&a=z&b=2&c=&d="},
		// spaces arrive as %20 (or +), a literal plus as %2B
		{"q=x%20y%2Bz&r=a+b", "q=x%20y%2Bz&r=a%20b"},
		// sorted on the raw strings, escaped afterwards: "B" < "a" < "~"
		{"~=1&a=2&B=3", "B=3&a=2&~=1"},
		{"k=%C3%BC&k=z", "k=z&k=%C3%BC"},
	} {
		q, err := url.ParseQuery(c.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := CanonicalQuery(q); got != c.want {
			t.Errorf("CanonicalQuery(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	good := "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=user-agent;x-sdk-date, Signature=abc"
	a, ok := parseAuthorization(good)
	if !ok || a.access != "AK1" || a.signature != "abc" || strings.Join(a.signedHeaders, ",") != "user-agent,x-sdk-date" {
		t.Fatalf("parse %q: %+v %v", good, a, ok)
	}
	for _, bad := range []string{
		"", "Bearer x", "SDK-HMAC-SHA256", "SDK-HMAC-SHA256 ", "sdk-hmac-sha256 Access=a, SignedHeaders=x, Signature=s",
		"SDK-HMAC-SHA256 Access=, SignedHeaders=x, Signature=s",
		"SDK-HMAC-SHA256 Access=a, SignedHeaders=, Signature=s",
		"SDK-HMAC-SHA256 Access=a, SignedHeaders=x;;y, Signature=s",
		"SDK-HMAC-SHA256 Access=a, SignedHeaders=x",
		"SDK-HMAC-SHA256 Access=a, SignedHeaders=x, Signature=s, Extra=1",
		"SDK-HMAC-SHA256 Access=a SignedHeaders=x Signature=s",
	} {
		if _, ok := parseAuthorization(bad); ok {
			t.Errorf("parse %q: accepted", bad)
		}
	}
}

// Fixed vectors, computed independently of this package (a few lines of
// Python's hashlib/hmac following apis.md §7.2).
func TestSignatureFixedVectors(t *testing.T) {
	body := `{"user":{"original_password":"Old-Pass1!","password":"New-Pass2@"}}` + "\n"
	for _, c := range []struct {
		name    string
		method  string
		target  string
		headers map[string]string
		signed  []string
		body    string
		wantCR  string
		wantSig string
	}{{
		name:   "change password, JSON body with the SDK's newline",
		method: "POST", target: "/v3/users/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4/password",
		headers: map[string]string{"User-Agent": "huaweicloud-usdk-go/3.0", "X-Domain-Id": "9a8b7c6d5e4f40312a1b2c3d4e5f6a7b", "X-Sdk-Date": testDate},
		signed:  []string{"user-agent", "x-domain-id", "x-sdk-date"},
		body:    body,
		wantCR: "POST\n/v3/users/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4/password/\n\nuser-agent:huaweicloud-usdk-go/3.0\n" +
			"x-domain-id:9a8b7c6d5e4f40312a1b2c3d4e5f6a7b\nx-sdk-date:20261122T120000Z\n\nuser-agent;x-domain-id;x-sdk-date\n" +
			"62cd1ff1ff8743ba7b1f74db8ce4c5c5bd1e5f76ccaa8f0b22a02d43b180f876",
		wantSig: "558afc5451fd91d7e97d211b3c80b35749475b3f8d0595b0598206d7b949e94b",
	}, {
		name:   "project discovery, empty body",
		method: "GET", target: "/v3/projects?name=cn-north-4",
		headers: map[string]string{"X-Sdk-Date": testDate},
		signed:  []string{"x-sdk-date"},
		wantCR: "GET\n/v3/projects/\nname=cn-north-4\nx-sdk-date:20261122T120000Z\n\nx-sdk-date\n" +
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		wantSig: "a0187b77488d769b3a75d544af55416b528953b2b12fd3920dc4f6cd344c3eff",
	}, {
		name:   "escaped path, sorted and escaped query",
		method: "GET", target: "/v1/a%20b/%C3%BC~x?b=2&a=z&a=y&c=&d=x%20y%2Bz",
		headers: map[string]string{"X-Sdk-Date": testDate},
		signed:  []string{"x-sdk-date"},
		wantCR: "GET\n/v1/a%20b/%C3%BC~x/\na=y&a=z&b=2&c=&d=x%20y%2Bz\nx-sdk-date:20261122T120000Z\n\nx-sdk-date\n" +
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		wantSig: "005e69e8405836ccaa98328cd9ba31431637b2db559547c8b39f0913d43ab4ec",
	}, {
		name:   "unsigned payload",
		method: "PUT", target: "/v4/user/https-password-setting",
		headers: map[string]string{"X-Project-Id": "p1", "X-Sdk-Date": testDate, HeaderContentSha256: UnsignedPayload},
		signed:  []string{"x-project-id", "x-sdk-date"},
		body:    "anything",
		wantCR:  "PUT\n/v4/user/https-password-setting/\n\nx-project-id:p1\nx-sdk-date:20261122T120000Z\n\nx-project-id;x-sdk-date\nUNSIGNED-PAYLOAD",
		wantSig: "e2b1af166a25a19da706ca67e83fec7f303c0b3145998cf61287fe085eaf3d80",
	}} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			cr, ok := CanonicalRequest(r, c.signed, []byte(c.body))
			if !ok {
				t.Fatal("query not decodable")
			}
			if cr != c.wantCR {
				t.Fatalf("canonical request\n got %q\nwant %q", cr, c.wantCR)
			}
			if got := Signature(testSK, StringToSign(testDate, cr)); got != c.wantSig {
				t.Fatalf("signature %s, want %s", got, c.wantSig)
			}
		})
	}
}

// sdkCase is a request as the Huawei SDK builds it.
type sdkCase struct {
	name    string
	method  string
	path    string
	query   map[string]any // values: string or []string
	headers map[string]string
	body    any // nil, a string (sent as is) or a value (JSON-encoded)
	ct      string
}

// sdkRequest signs c with the SDK's own signer (at testDate unless the case
// sets X-Sdk-Date) and returns the wire request for endpoint.
func sdkRequest(t *testing.T, endpoint string, c sdkCase, ak, sk string) *http.Request {
	t.Helper()
	b := request.NewHttpRequestBuilder().WithEndpoint(endpoint).WithPath(c.path).WithMethod(c.method)
	for k, v := range c.query {
		b = b.AddQueryParam(k, reflect.ValueOf(v))
	}
	if c.ct != "" {
		b = b.AddHeaderParam("Content-Type", c.ct)
	}
	if _, ok := c.headers[HeaderDate]; !ok {
		b = b.AddHeaderParam(HeaderDate, testDate)
	}
	for k, v := range c.headers {
		b = b.AddHeaderParam(k, v)
	}
	if c.body != nil {
		b = b.WithBody("json", c.body)
	}
	req := b.Build()
	add, err := signer.Signer{}.Sign(req, ak, sk)
	if err != nil {
		t.Fatalf("sdk sign: %v", err)
	}
	hr, err := req.ConvertRequest()
	if err != nil {
		t.Fatalf("sdk convert: %v", err)
	}
	for k, v := range add {
		hr.Header.Set(k, v)
	}
	return hr
}

// received is what a server saw of a request.
type received struct {
	r    *http.Request
	body []byte
}

// roundTrip sends hr to a server and returns the request as received.
func roundTrip(t *testing.T, srv *httptest.Server, got chan received, hr *http.Request) received {
	t.Helper()
	res, err := srv.Client().Do(hr)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	_ = res.Body.Close()
	return <-got
}

func captureServer(t *testing.T) (*httptest.Server, chan received) {
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r: r.Clone(context.Background()), body: b}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

var sdkCases = []sdkCase{
	{name: "empty body", method: "GET", path: "/v3/auth/domains"},
	{name: "query name", method: "GET", path: "/v3/projects", query: map[string]any{"name": "cn-north-4"}},
	{name: "query sorting and escaping", method: "GET", path: "/v3.0/OS-CREDENTIAL/credentials",
		query: map[string]any{"user_id": "a b+c/d", "zeta": []string{"z2", "z1", "Z0"}, "Alpha": "ü~.", "empty": ""}},
	{name: "path escaping", method: "DELETE", path: "/v3.0/OS-CREDENTIAL/credentials/a b:@!$&()*+,;=ü%41~"},
	{name: "JSON body", method: "POST", path: "/v3/users/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4/password",
		ct:      "application/json;charset=UTF-8",
		headers: map[string]string{"User-Agent": "huaweicloud-usdk-go/3.0", "X-Domain-Id": "9a8b7c6d5e4f40312a1b2c3d4e5f6a7b"},
		body: map[string]any{"user": map[string]any{
			"original_password": "Old<Pass>&1", "password": "New-Pass2@"}}},
	{name: "string body", method: "PUT", path: "/v4/user/https-password-setting", ct: "application/json",
		headers: map[string]string{"X-Project-Id": "5d1e3f7a9b2c4d6e3c2b1a0f9e8d7c6b"},
		body:    `{"https_clone_iam_auth":true}`},
	{name: "unsigned payload", method: "PUT", path: "/v4/blob", ct: "text/plain", body: "raw text, not hashed"},
	{name: "header spaces and token", method: "GET", path: "/v3/auth/tokens",
		headers: map[string]string{"X-Custom": "  padded value  ", "X-Security-Token": "tok", "X_Under": "not signed"}},
}

// The canonical request and signature computed on the receiving side match
// what the SDK's own signer sent, for every shape of request.
func TestSignatureMatchesSDKSigner(t *testing.T) {
	srv, got := captureServer(t)
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			rec := roundTrip(t, srv, got, sdkRequest(t, srv.URL, c, testAK, testSK))
			a, ok := parseAuthorization(rec.r.Header.Get("Authorization"))
			if !ok {
				t.Fatalf("SDK Authorization not parsed: %q", rec.r.Header.Get("Authorization"))
			}
			if a.access != testAK {
				t.Fatalf("access %q", a.access)
			}
			for _, h := range a.signedHeaders {
				if h == "host" || h == "content-type" || strings.Contains(h, "_") {
					t.Errorf("SDK signed %q", h)
				}
			}
			cr, ok := CanonicalRequest(rec.r, a.signedHeaders, rec.body)
			if !ok {
				t.Fatal("query not decodable")
			}
			sig := Signature(testSK, StringToSign(rec.r.Header.Get(HeaderDate), cr))
			if sig != a.signature {
				t.Fatalf("signature %s, SDK sent %s\ncanonical request:\n%s", sig, a.signature, cr)
			}
			if c.ct == "text/plain" && PayloadHash(rec.r.Header, rec.body) != UnsignedPayload {
				t.Fatal("text body was not sent as UNSIGNED-PAYLOAD")
			}
		})
	}
}
