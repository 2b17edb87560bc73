package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/latchkey/latchkey/impl/fault"
)

func init() { gin.SetMode(gin.TestMode) }

func TestFamilyOf(t *testing.T) {
	cases := map[string]Family{
		"/":                              Keystone,
		"/v3":                            Keystone,
		"/v3/":                           Keystone,
		"/v3/auth/tokens":                Keystone,
		"/v3.0":                          IAM,
		"/v3.0/OS-USER/users/x":          IAM,
		"/v1/user/x/validateHttpsInfo":   RepoV2,
		"/v2/user/x/validate-https-info": RepoV2,
		"/v2/user":                       RepoV2,
		"/v4/user/https-password":        RepoV4,
		"/v4":                            RepoV4,
		"/api/v2/tenant/token":           CIAM,
		"/api/v2/tenant":                 CIAM,
		"/healthz":                       None,
		"/docs/":                         None,
		"/v3x":                           None,
		"/v30/x":                         None,
		"/v1/users":                      None,
		"/v2/userx":                      None,
		"/v44":                           None,
		"/api/v2/tenantx":                None,
		"":                               None,
	}
	for p, want := range cases {
		if got := FamilyOf(p); got != want {
			t.Errorf("FamilyOf(%q) = %v, want %v", p, got, want)
		}
	}
}

// allReasons reads every fault.Reason constant from the fault package source,
// so that a reason added later without a mapping fails this test.
func allReasons(t *testing.T) []fault.Reason {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../fault/fault.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []fault.Reason
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				continue
			}
			for _, v := range vs.Values {
				lit := v.(*ast.BasicLit)
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, fault.Reason(s))
			}
		}
	}
	if len(out) < 40 {
		t.Fatalf("found only %d reasons in fault.go", len(out))
	}
	return out
}

func TestEveryReasonMappedInEveryFamily(t *testing.T) {
	for _, f := range []Family{Keystone, IAM, RepoV2, RepoV4, CIAM} {
		for _, r := range allReasons(t) {
			res, known := resolve(f, &fault.Error{Reason: r, Remaining: -1}, false, false)
			if !known {
				t.Errorf("%v: reason %q has no row", f, r)
			}
			if res.status < 400 || res.code == "" || res.msg == "" {
				t.Errorf("%v: reason %q -> %+v", f, r, res)
			}
		}
	}
}

func TestMap(t *testing.T) {
	withParams := func(r fault.Reason, rule string, params ...string) *fault.Error {
		e := fault.New(r, "")
		e.Rule, e.Params = rule, params
		return e
	}
	remaining := func(n int) *fault.Error {
		e := fault.New(fault.WrongPassword, "The username or password is wrong.")
		e.Remaining = n
		return e
	}
	cases := []struct {
		f         Family
		e         *fault.Error
		status    int
		code, msg string
	}{
		// Keystone / IAM (brief + apis.md §1.2, §6).
		{Keystone, fault.New(fault.BodyInvalid, ""), 400, "IAM.0011", "Request body is invalid."},
		{Keystone, fault.New(fault.PropertyMissing, "'auth' is a required property."), 400, "IAM.0072", "'auth' is a required property."},
		{Keystone, fault.New(fault.PropertyInvalid, ""), 400, "IAM.0073", "Invalid input for a field."},
		{Keystone, fault.New(fault.ParameterInvalid, ""), 400, "IAM.0007", "Request parameter is invalid."},
		{Keystone, fault.New(fault.Unauthenticated, ""), 401, "IAM.0001", "The request you have made requires authentication."},
		{Keystone, fault.New(fault.TokenExpired, ""), 401, "IAM.0066", "The token has expired."},
		{Keystone, fault.New(fault.TokenInvalid, ""), 401, "IAM.0067", "Invalid token."},
		{Keystone, fault.New(fault.SubjectTokenInvalid, ""), 404, "IAM.0009", "X-Subject-Token is invalid in the request."},
		{Keystone, fault.New(fault.Forbidden, ""), 403, "IAM.0002", "You are not authorized to perform the requested action."},
		{Keystone, fault.New(fault.Restricted, ""), 403, "IAM.0002", "The password must be changed first."},
		{Keystone, fault.New(fault.WrongPassword, ""), 401, "IAM.0062", "The username or password is wrong."},
		{Keystone, fault.New(fault.Locked, ""), 401, "IAM.0061", "Account locked."},
		{Keystone, fault.New(fault.Disabled, "The user alice is disabled."), 403, "IAM.0082", "The user alice is disabled."},
		{Keystone, fault.New(fault.ConsoleOnly, ""), 403, "IAM.0081", "This user only supports console access, not programmatic access."},
		{Keystone, fault.New(fault.TOTPInvalid, ""), 401, "IAM.1061", "Invalid TOTP passcode."},
		{IAM, fault.New(fault.TOTPInvalid, ""), 400, "IAM.1061", "Invalid TOTP passcode."},
		{Keystone, fault.New(fault.UnsupportedMethod, "Unsupported authentication method: saml."), 401, "IAM.0001", "Unsupported authentication method: saml."},
		{Keystone, fault.New(fault.ScopeDenied, ""), 401, "IAM.0001", "The user has no access to the requested scope."},
		{Keystone, fault.New(fault.NotFound, ""), 404, "IAM.0004", "Could not find the requested object."},
		{IAM, fault.New(fault.UserNotFound, "Could not find user: 0c5a."), 404, "IAM.0004", "Could not find user: 0c5a."},
		{IAM, fault.New(fault.PathNotFound, ""), 404, "IAM.0004", "Could not find the requested path."},
		{IAM, fault.New(fault.Conflict, ""), 409, "IAM.0005", "Conflict occurred when attempting to store the object."},
		{IAM, fault.New(fault.FactorMissing, "Login protection by sms needs a bound mobile number."), 400, "IAM.0007", "Login protection by sms needs a bound mobile number."},
		{IAM, fault.New(fault.MFABound, ""), 400, "IAM.1062", "Login protection has been bound to mfa, the unbinding operation cannot be performed."},
		{Keystone, fault.New(fault.MethodNotAllowed, ""), 405, "IAM.0007", "Request method is not allowed."},
		{Keystone, fault.New(fault.BodyTooLarge, ""), 413, "IAM.1101", "The request body size is invalid."},
		{Keystone, fault.New(fault.UnsupportedMediaType, ""), 415, "IAM.0011", "Request body is invalid: unsupported content type."},
		{Keystone, fault.New(fault.RateLimited, ""), 429, "IAM.0012", "The throttling threshold has been reached."},
		{Keystone, fault.New(fault.Internal, "query users: connection reset"), 500, "IAM.0006", "An unexpected error prevented the server from fulfilling your request."},
		{Keystone, fault.New(fault.Overloaded, ""), 503, "IAM.0006", "The service is temporarily unavailable."},
		{Keystone, fault.New(fault.NotImplemented, ""), 501, "IAM.0006", "This operation is not implemented yet."},
		{IAM, fault.New(fault.NameInvalid, ""), 400, "1101", "Invalid username."},
		{IAM, fault.New(fault.EmailInvalid, ""), 400, "1102", "Invalid email address."},
		{Keystone, fault.New(fault.PasswordPolicy, "The password must contain 8 to 32 characters."), 400, "1103", "The password must contain 8 to 32 characters."},
		{IAM, fault.New(fault.PhoneInvalid, ""), 400, "1104", "Invalid mobile number."},
		{IAM, fault.New(fault.PhonePairing, ""), 400, "1106", "The country code and mobile number must be set at the same time."},
		{Keystone, fault.New(fault.OwnerUndeletable, ""), 400, "1107", "The account administrator cannot be deleted."},
		{Keystone, fault.New(fault.PasswordSame, ""), 400, "1108", "The new password must be different from the old password."},
		{IAM, fault.New(fault.NameTaken, ""), 400, "1109", "Username already exists."},
		{IAM, fault.New(fault.EmailTaken, ""), 400, "1110", "Email address already exists."},
		{IAM, fault.New(fault.PhoneTaken, ""), 400, "1111", "Mobile number already exists."},
		{IAM, fault.New(fault.XUserPairing, ""), 400, "1100", "Mandatory parameters are not specified."},
		{IAM, fault.New(fault.XUserTaken, ""), 400, "1113", "xuser_id and xuser_type already exist."},
		{Keystone, fault.New(fault.QuotaExceeded, ""), 400, "1115", "The number of IAM users has reached the maximum."},
		{IAM, fault.New(fault.DescriptionBad, ""), 400, "1117", "Invalid user description."},
		{Keystone, fault.New(fault.PasswordWeak, ""), 400, "1118", "The password is a weak password."},

		// CodeArts Repo.
		{RepoV2, fault.New(fault.BodyInvalid, ""), 400, "CH.010001", "Param invalid"},
		{RepoV2, fault.New(fault.Unauthenticated, "ignored: vendor text wins"), 401, "CH.080401", "No Permission: the request requires a valid X-Auth-Token."},
		{RepoV2, fault.New(fault.Forbidden, ""), 403, "CH.080403", "Forbidden"},
		{RepoV2, fault.New(fault.NotFound, ""), 404, "CH.000404", "Not Found"},
		{RepoV2, fault.New(fault.MethodNotAllowed, ""), 405, "CH.010001", "Param invalid"},
		{RepoV2, fault.New(fault.BodyTooLarge, ""), 413, "CH.010001", "Param invalid"},
		{RepoV2, fault.New(fault.UnsupportedMediaType, ""), 415, "CH.010001", "Param invalid"},
		{RepoV2, fault.New(fault.Locked, ""), 429, "APIG.0308", "The throttling threshold has been reached: too many failed attempts."},
		{RepoV2, fault.New(fault.RateLimited, ""), 429, "APIG.0308", "The throttling threshold has been reached."},
		{RepoV2, fault.New(fault.Internal, ""), 500, "CH.000001", "Unknown error"},
		{RepoV2, fault.New(fault.Overloaded, ""), 503, "CH.000001", "The service is temporarily unavailable."},
		{RepoV4, fault.New(fault.TokenExpired, "The token has expired."), 401, "DEV.00000003", "Authentication information expired."},
		{RepoV4, fault.New(fault.Forbidden, ""), 403, "CH.004403", "You have no permission; upgrade your permissions and retry."},
		{RepoV4, fault.New(fault.Restricted, ""), 403, "CH.004403", "The password must be changed first."},
		{RepoV4, fault.New(fault.PathNotFound, ""), 404, "CH.000404", "Not Found"},
		{RepoV4, fault.New(fault.PasswordPolicy, "The HTTPS password must contain 8 to 32 characters."), 400, "CH.080002", "The HTTPS password must contain 8 to 32 characters."},
		{RepoV4, fault.New(fault.WrongPassword, ""), 401, "CH.010008", "Invalid password."},
		{RepoV4, fault.New(fault.RateLimited, ""), 429, "APIG.0308", "The throttling threshold has been reached."},
		{RepoV4, fault.New(fault.Internal, ""), 500, "CH.000001", "Unknown error"},

		// CIAM.
		{CIAM, fault.New(fault.PropertyMissing, "'password' is a required property."), 400, "IDAAS.TENANT.PARAM.0001", "'password' is a required property."},
		{CIAM, fault.New(fault.PathNotFound, ""), 404, "IDAAS.TENANT.PARAM.0001", "Unknown path."},
		{CIAM, fault.New(fault.MethodNotAllowed, ""), 405, "IDAAS.TENANT.PARAM.0001", "Method not allowed."},
		{CIAM, fault.New(fault.BodyTooLarge, ""), 413, "IDAAS.TENANT.PARAM.0001", "Request body too large."},
		{CIAM, fault.New(fault.TokenInvalid, "Invalid token."), 401, "IDAAS.TENANT.AUTH.0001", "The access token is missing, invalid or expired."},
		{CIAM, fault.New(fault.UserNotFound, "Could not find user: x."), 400, "IDAAS.TENANT.USER.0001", "User not found"},
		{CIAM, fault.New(fault.NotFound, ""), 400, "IDAAS.TENANT.USER.0001", "User not found"},
		{CIAM, fault.New(fault.NameTaken, ""), 400, "IDAAS.TENANT.USER.0002", "The user name already exists."},
		{CIAM, fault.New(fault.PhoneTaken, ""), 400, "IDAAS.TENANT.USER.0003", "The mobile number already exists."},
		{CIAM, fault.New(fault.EmailTaken, ""), 400, "IDAAS.TENANT.USER.0004", "The email address already exists."},
		{CIAM, fault.New(fault.PhoneInvalid, "bad"), 400, "USER.0038", "Invalid mobile number."},
		{CIAM, fault.New(fault.Locked, ""), 400, "LOGIN.0001", "User has been locked due to multiple login failures."},
		{CIAM, remaining(3), 400, "LOGIN.0002", "Invalid account name or password. Remaining attempts: 3."},
		{CIAM, remaining(0), 400, "LOGIN.0002", "Invalid account name or password. Remaining attempts: 0."},
		{CIAM, remaining(-1), 400, "LOGIN.0002", "Invalid account name or password."},
		{CIAM, withParams(fault.PasswordPolicy, "history"), 400, "IDAAS.TENANT.PWD.0001", "The password is used before, cannot be used again"},
		{CIAM, withParams(fault.PasswordPolicy, "same_as_current"), 400, "IDAAS.TENANT.PWD.0001", "The password is used before, cannot be used again"},
		{CIAM, fault.New(fault.PasswordSame, ""), 400, "IDAAS.TENANT.PWD.0001", "The password is used before, cannot be used again"},
		{CIAM, withParams(fault.PasswordPolicy, "username"), 400, "IDAAS.TENANT.PWD.0002", "Password cannot username in reverse order"},
		{CIAM, withParams(fault.PasswordPolicy, "username_reversed"), 400, "IDAAS.TENANT.PWD.0002", "Password cannot username in reverse order"},
		{CIAM, withParams(fault.PasswordPolicy, "contains_email"), 400, "IDAAS.TENANT.PWD.0003", "Password cannot contain :username, mobile number, email prefix, name in PinYing"},
		{CIAM, withParams(fault.PasswordPolicy, "contains_mobile"), 400, "IDAAS.TENANT.PWD.0003", "Password cannot contain :username, mobile number, email prefix, name in PinYing"},
		{CIAM, withParams(fault.PasswordPolicy, "char_combination", "use at least 3 of: uppercase letters, lowercase letters, digits, special characters"), 400, "IDAAS.TENANT.PWD.0004", "Your password complexity is low, use at least 3 of: uppercase letters, lowercase letters, digits, special characters"},
		{CIAM, withParams(fault.PasswordPolicy, "minimum_age", "wait 30 more minutes before changing the password again"), 400, "IDAAS.TENANT.PWD.0004", "Your password complexity is low, wait 30 more minutes before changing the password again"},
		{CIAM, withParams(fault.PasswordPolicy, "weak"), 400, "IDAAS.TENANT.PWD.0005", "The password is weak"},
		{CIAM, fault.New(fault.PasswordWeak, ""), 400, "IDAAS.TENANT.PWD.0005", "The password is weak"},
		{CIAM, withParams(fault.PasswordPolicy, "consecutive_identical", "3"), 400, "IDAAS.TENANT.PWD.0006", "Number of character repeat in password should not exceed 3"},
		{CIAM, withParams(fault.PasswordPolicy, "length", "8", "32"), 400, "IDAAS.TENANT.PWD.0007", "The password must contain 8 to 32 characters"},
		{CIAM, fault.New(fault.PasswordPolicy, "The password must contain 10 to 32 characters."), 400, "IDAAS.TENANT.PARAM.0001", "The password must contain 10 to 32 characters."},
		{CIAM, &fault.Error{Reason: fault.PasswordPolicy, Rule: "length", Message: "Length must be 8-32.", Remaining: -1}, 400, "IDAAS.TENANT.PWD.0007", "Length must be 8-32."},
		{CIAM, &fault.Error{Reason: fault.PasswordPolicy, Rule: "length", Remaining: -1}, 400, "IDAAS.TENANT.PWD.0007", "The password must contain to characters"},
		{CIAM, fault.New(fault.RateLimited, ""), 429, "APIG.0308", "The throttling threshold has been reached."},
		{CIAM, fault.New(fault.Internal, ""), 500, "IDAAS.TENANT.SYS.0001", "Internal error."},
		{CIAM, fault.New(fault.Overloaded, ""), 503, "IDAAS.TENANT.SYS.0001", "The service is temporarily unavailable."},

		// Unknown reasons are internal.
		{Keystone, fault.New(fault.Reason("no_such_reason"), "x"), 500, "IAM.0006", "An unexpected error prevented the server from fulfilling your request."},
		{CIAM, fault.New(fault.Reason("no_such_reason"), "x"), 500, "IDAAS.TENANT.SYS.0001", "Internal error."},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v/%s/%s", tc.f, tc.e.Reason, tc.e.Rule), func(t *testing.T) {
			status, code, msg := Map(tc.f, tc.e)
			if status != tc.status || code != tc.code || msg != tc.msg {
				t.Errorf("Map = %d %q %q, want %d %q %q", status, code, msg, tc.status, tc.code, tc.msg)
			}
		})
	}
}

type logBuf struct{ bytes.Buffer }

func newCtx(method, target string, hdr ...string) (*gin.Context, *httptest.ResponseRecorder, *logBuf) {
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		c.Request.Header.Set(hdr[i], hdr[i+1])
	}
	logs := &logBuf{}
	Attach(c, slog.New(slog.NewJSONHandler(logs, nil)), "req-1")
	return c, rec, logs
}

func TestWrite(t *testing.T) {
	withRetry := func(r fault.Reason, d time.Duration) *fault.Error {
		e := fault.New(r, "")
		e.RetryAfter = d
		return e
	}
	oauth := func(r fault.Reason, code, msg string) *fault.Error {
		e := fault.New(r, "%s", msg)
		e.OAuthError = code
		return e
	}
	allow := fault.New(fault.MethodNotAllowed, "Request method PUT is not allowed for /v3/auth/tokens.")
	allow.Allow = []string{"GET", "HEAD", "POST"}

	type hdrs map[string]string
	cases := []struct {
		name    string
		method  string
		path    string
		reqHdr  []string
		err     error
		status  int
		body    string
		headers hdrs
		logHas  string
	}{
		{
			name: "keystone wrong password", path: "/v3/auth/tokens",
			err:     fault.New(fault.WrongPassword, "The username or password is wrong."),
			status:  401,
			body:    `{"error":{"code":401,"title":"Unauthorized","message":"The username or password is wrong.","error_code":"IAM.0062","error_msg":"The username or password is wrong."}}`,
			headers: hdrs{"Content-Type": "application/json"},
		},
		{
			name: "keystone policy with <&> unescaped", path: "/v3/users/u1/password",
			err:    fault.New(fault.PasswordPolicy, "The password must not contain <name> & co."),
			status: 400,
			body:   `{"error":{"code":400,"title":"Bad Request","message":"The password must not contain <name> & co.","error_code":"1103","error_msg":"The password must not contain <name> & co."}}`,
		},
		{
			name: "keystone 413 title", path: "/v3/users",
			err:    fault.New(fault.BodyTooLarge, "The request body size 40000 is invalid."),
			status: 413,
			body:   `{"error":{"code":413,"title":"Request Entity Too Large","message":"The request body size 40000 is invalid.","error_code":"IAM.1101","error_msg":"The request body size 40000 is invalid."}}`,
		},
		{
			name: "keystone 405 Allow", path: "/v3/auth/tokens", method: http.MethodPut, err: allow, status: 405,
			body:    `{"error":{"code":405,"title":"Method Not Allowed","message":"Request method PUT is not allowed for /v3/auth/tokens.","error_code":"IAM.0007","error_msg":"Request method PUT is not allowed for /v3/auth/tokens."}}`,
			headers: hdrs{"Allow": "GET, HEAD, POST"},
		},
		{
			name: "keystone locked with Retry-After", path: "/v3/auth/tokens",
			err: withRetry(fault.Locked, 59*time.Second+time.Millisecond), status: 401,
			body:    `{"error":{"code":401,"title":"Unauthorized","message":"Account locked.","error_code":"IAM.0061","error_msg":"Account locked."}}`,
			headers: hdrs{"Retry-After": "60"},
		},
		{
			name: "iam 429 default Retry-After", path: "/v3.0/OS-MFA/mfa-devices/bind",
			err: fault.New(fault.RateLimited, ""), status: 429,
			body:    `{"error_code":"IAM.0012","error_msg":"The throttling threshold has been reached."}`,
			headers: hdrs{"Retry-After": "1"},
		},
		{
			name: "iam 503 default Retry-After", path: "/v3.0/OS-USER/users",
			err: fault.New(fault.Overloaded, "Password hashing is saturated; retry later."), status: 503,
			body:    `{"error_code":"IAM.0006","error_msg":"Password hashing is saturated; retry later."}`,
			headers: hdrs{"Retry-After": "1"},
		},
		{
			name: "plain error is a generic 500, logged", path: "/v3.0/OS-USER/users/x",
			err:    fmt.Errorf("load user: %w", errors.New("sql: connection refused")),
			status: 500,
			body:   `{"error_code":"IAM.0006","error_msg":"An unexpected error prevented the server from fulfilling your request."}`,
			logHas: "sql: connection refused",
		},
		{
			name: "wrapped fault keeps its cause in the log only", path: "/v3/users",
			err:    fault.Wrap(fault.Internal, errors.New("disk full"), "create user"),
			status: 500,
			body:   `{"error":{"code":500,"title":"Internal Server Error","message":"An unexpected error prevented the server from fulfilling your request.","error_code":"IAM.0006","error_msg":"An unexpected error prevented the server from fulfilling your request."}}`,
			logHas: "disk full",
		},
		{
			name: "deadline is 503", path: "/v3/users",
			err:     fmt.Errorf("query: %w", context.DeadlineExceeded),
			status:  503,
			body:    `{"error":{"code":503,"title":"Service Unavailable","message":"The service is temporarily unavailable.","error_code":"IAM.0006","error_msg":"The service is temporarily unavailable."}}`,
			headers: hdrs{"Retry-After": "1"},
		},
		{
			name: "repo v2 locked 429", path: "/v2/user/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4/validate-https-info",
			err: withRetry(fault.Locked, 15*time.Minute), status: 429,
			body:    `{"error":{"code":"APIG.0308","message":"The throttling threshold has been reached: too many failed attempts."},"status":"failed"}`,
			headers: hdrs{"Retry-After": "900"},
		},
		{
			name: "repo v1 not found", path: "/v1/user/x/validateHttpsInfo",
			err: fault.New(fault.PathNotFound, "Could not find path: /v1/user/x/nope."), status: 404,
			body: `{"error":{"code":"CH.000404","message":"Could not find path: /v1/user/x/nope."},"status":"failed"}`,
		},
		{
			name: "repo v4 401", path: "/v4/user/https-password-setting",
			err: fault.New(fault.Unauthenticated, "whatever the authenticator said"), status: 401,
			body: `{"error_code":"DEV.00000003","error_msg":"Authentication information expired."}`,
		},
		{
			name: "repo v4 wrong account password", path: "/v4/user/https-password", method: http.MethodPut,
			err: fault.New(fault.WrongPassword, "Invalid password."), status: 401,
			body: `{"error_code":"CH.010008","error_msg":"Invalid password."}`,
		},
		{
			name: "ciam 401 WWW-Authenticate", path: "/api/v2/tenant/users/x",
			err: fault.New(fault.TokenExpired, "The token has expired."), status: 401,
			body:    `{"error_code":"IDAAS.TENANT.AUTH.0001","error_msg":"The access token is missing, invalid or expired."}`,
			headers: hdrs{"WWW-Authenticate": `Bearer error="invalid_token"`},
		},
		{
			name: "ciam wrong old password", path: "/api/v2/tenant/users/x/change-password-verify", method: http.MethodPut,
			err: func() error {
				e := fault.New(fault.WrongPassword, "x")
				e.Remaining = 2
				return e
			}(),
			status: 400,
			body:   `{"error_code":"LOGIN.0002","error_msg":"Invalid account name or password. Remaining attempts: 2."}`,
		},
		{
			name: "ciam token: no credentials", path: CIAMTokenPath, method: http.MethodPost,
			err: oauth(fault.Unauthenticated, "invalid_client", ""), status: 400,
			body:    `{"error_code":"APP.0002","error_msg":"Application ID required.","error":"invalid_client","error_description":"Application ID required."}`,
			headers: hdrs{"Cache-Control": "no-store", "WWW-Authenticate": ""},
		},
		{
			name: "ciam token: bad Basic credentials", path: CIAMTokenPath, method: http.MethodPost,
			reqHdr: []string{"Authorization", "Basic Y2xpZW50Ondyb25n"},
			err:    oauth(fault.WrongPassword, "invalid_client", "Client authentication failed."), status: 401,
			body:    `{"error_code":"APP.0001","error_msg":"Client authentication failed.","error":"invalid_client","error_description":"Client authentication failed."}`,
			headers: hdrs{"WWW-Authenticate": `Basic realm="latchkey"`},
		},
		{
			name: "ciam token: bad form credentials", path: CIAMTokenPath, method: http.MethodPost,
			err: oauth(fault.WrongPassword, "invalid_client", ""), status: 400,
			body: `{"error_code":"APP.0001","error_msg":"Client authentication failed.","error":"invalid_client","error_description":"Client authentication failed."}`,
		},
		{
			name: "ciam token: unsupported grant", path: CIAMTokenPath, method: http.MethodPost,
			err: oauth(fault.ParameterInvalid, "unsupported_grant_type", "grant_type must be client_credentials."), status: 400,
			body: `{"error_code":"IDAAS.TENANT.TOKEN.0001","error_msg":"grant_type must be client_credentials.","error":"unsupported_grant_type","error_description":"grant_type must be client_credentials."}`,
		},
		{
			name: "ciam token: validation error gets invalid_request", path: CIAMTokenPath, method: http.MethodPost,
			err: fault.New(fault.PropertyMissing, "'grant_type' is a required property."), status: 400,
			body: `{"error_code":"IDAAS.TENANT.TOKEN.0001","error_msg":"'grant_type' is a required property.","error":"invalid_request","error_description":"'grant_type' is a required property."}`,
		},
		{
			name: "ciam token: 429 has no RFC error", path: CIAMTokenPath, method: http.MethodPost,
			err: fault.New(fault.RateLimited, ""), status: 429,
			body: `{"error_code":"APIG.0308","error_msg":"The throttling threshold has been reached."}`,
		},
		{
			name: "ciam token: 405 keeps status", path: CIAMTokenPath, method: http.MethodGet,
			err: fault.New(fault.MethodNotAllowed, "Request method GET is not allowed for /api/v2/tenant/token."), status: 405,
			body: `{"error_code":"IDAAS.TENANT.PARAM.0001","error_msg":"Request method GET is not allowed for /api/v2/tenant/token.","error":"invalid_request","error_description":"Request method GET is not allowed for /api/v2/tenant/token."}`,
		},
		{
			name: "none family", path: "/nope",
			err: fault.New(fault.PathNotFound, "Could not find path: /nope."), status: 404,
			body: `{"error":"not found"}`,
		},
		{
			name: "HEAD has no body", method: http.MethodHead, path: "/v3/auth/tokens",
			err: fault.New(fault.SubjectTokenInvalid, ""), status: 404, body: "",
			headers: hdrs{"Content-Type": "application/json"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.method
			if m == "" {
				m = http.MethodGet
			}
			c, rec, logs := newCtx(m, tc.path, tc.reqHdr...)
			Write(c, tc.err)
			if !c.IsAborted() {
				t.Error("Write did not abort the chain")
			}
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			if got := strings.TrimSuffix(rec.Body.String(), "\n"); got != tc.body {
				t.Errorf("body\n got %s\nwant %s", got, tc.body)
			}
			for k, v := range tc.headers {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.logHas != "" && !strings.Contains(logs.String(), tc.logHas) {
				t.Errorf("log does not contain %q:\n%s", tc.logHas, logs.String())
			}
			if strings.Contains(rec.Body.String(), "sql:") || strings.Contains(rec.Body.String(), "disk full") {
				t.Errorf("internal detail leaked: %s", rec.Body.String())
			}
		})
	}
}

func TestWriteNil(t *testing.T) {
	c, rec, _ := newCtx(http.MethodGet, "/v3")
	Write(c, nil)
	if c.IsAborted() || rec.Body.Len() != 0 {
		t.Fatal("Write(nil) wrote something")
	}
}
