package tests

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/passwords"
)

// Security policies (apis.md §3.3, §3.4) and lockout, over HTTP.

const (
	polPw  = "Polic1es-Alpha"
	polPw2 = "Polic1es-Bravo"
)

func polPath(domainID, which string) string {
	return "/v3.0/OS-SECURITYPOLICY/domains/" + domainID + "/" + which
}

func polIAMErr(t testing.TB, r *resp, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	m := r.JSON(t)
	if m["error_code"] != code {
		t.Fatalf("error_code %v, want %s: %s", m["error_code"], code, r.Body)
	}
	msg, _ := m["error_msg"].(string)
	return msg
}

func polObj(t testing.TB, r *resp, key string) map[string]any {
	t.Helper()
	mustStatus(t, r, http.StatusOK)
	m, ok := r.JSON(t)[key].(map[string]any)
	if !ok {
		t.Fatalf("no %s object: %s", key, r.Body)
	}
	return m
}

func polNum(t testing.TB, m map[string]any, key string) int {
	t.Helper()
	v, ok := m[key].(float64)
	if !ok {
		t.Fatalf("%s is %T %v, want a number", key, m[key], m[key])
	}
	return int(v)
}

func polChange(e *env, tok, uid, newPw, oldPw string) *resp {
	return e.do(req{Method: "POST", Path: "/v3/users/" + uid + "/password", Token: tok,
		Body: map[string]any{"user": map[string]any{"password": newPw, "original_password": oldPw}}})
}

func TestPolicyPasswordShowAndUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	e.createUser(adm, "polly", polPw, nil)
	user := e.token("polly", polPw)
	path := polPath(e.DomainID, "password-policy")

	// A new domain has the defaults, every field present.
	want := map[string]any{
		"minimum_password_length": 8.0, "maximum_password_length": 32.0, "password_char_combination": 2.0,
		"number_of_recent_passwords_disallowed": 0.0, "maximum_consecutive_identical_chars": 0.0,
		"minimum_password_age": 0.0, "password_validity_period": 0.0, "password_not_username_or_invert": true,
		"password_requirements": passwords.DefaultPolicy().Requirements(),
		"weak_password_check":   true, "personal_info_check": true,
	}
	for _, tok := range []string{adm, user} { // any user of the domain may read it
		got := polObj(t, e.do(req{Method: "GET", Path: path, Token: tok}), "password_policy")
		if len(got) != len(want) {
			t.Errorf("fields = %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("GET %s = %v, want %v", k, got[k], v)
			}
		}
	}

	// A partial update keeps the other fields and answers the whole policy.
	got := polObj(t, e.do(req{Method: "PUT", Path: path, Token: adm, Body: map[string]any{"password_policy": map[string]any{
		"minimum_password_length": 12, "password_char_combination": 3, "weak_password_check": false,
	}}}), "password_policy")
	want["minimum_password_length"], want["password_char_combination"], want["weak_password_check"] = 12.0, 3.0, false
	pol := passwords.DefaultPolicy()
	pol.MinLength, pol.CharCombination, pol.CheckWeak = 12, 3, false
	want["password_requirements"] = pol.Requirements()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("PUT %s = %v, want %v", k, got[k], v)
		}
	}
	if !strings.Contains(got["password_requirements"].(string), "at least three") {
		t.Errorf("requirements = %q", got["password_requirements"])
	}
	got = polObj(t, e.do(req{Method: "PUT", Path: path, Token: adm, Body: map[string]any{"password_policy": map[string]any{
		"personal_info_check": false, "maximum_password_length": 32, "password_requirements": "ignored",
	}}}), "password_policy")
	if got["minimum_password_length"] != 12.0 || got["personal_info_check"] != false || got["weak_password_check"] != false {
		t.Errorf("second update lost fields: %v", got)
	}
	got = polObj(t, e.do(req{Method: "GET", Path: path, Token: user}), "password_policy")
	if got["minimum_password_length"] != 12.0 || got["password_char_combination"] != 3.0 {
		t.Errorf("GET after PUT = %v", got)
	}

	// Callers.
	body := map[string]any{"password_policy": map[string]any{"minimum_password_length": 10}}
	polIAMErr(t, e.do(req{Method: "PUT", Path: path, Token: user, Body: body}), 403, "IAM.0002")
	foreign, foreignTok := e.otherDomain("polforeign")
	for _, id := range []string{foreign, "0123456789abcdef0123456789abcdef"} {
		polIAMErr(t, e.do(req{Method: "GET", Path: polPath(id, "password-policy"), Token: adm}), 404, "IAM.0004")
		polIAMErr(t, e.do(req{Method: "PUT", Path: polPath(id, "password-policy"), Token: adm, Body: body}), 404, "IAM.0004")
	}
	// The other domain still has its own defaults.
	other := polObj(t, e.do(req{Method: "GET", Path: polPath(foreign, "password-policy"), Token: foreignTok}), "password_policy")
	if other["minimum_password_length"] != 8.0 {
		t.Errorf("other domain = %v", other)
	}
	polIAMErr(t, e.do(req{Method: "GET", Path: path}), 401, "IAM.0001")
}

func TestPolicyPasswordRanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	path := polPath(e.DomainID, "password-policy")
	ranges := []struct {
		key    string
		lo, hi int
	}{
		{"minimum_password_length", 8, 32},
		{"password_char_combination", 2, 4},
		{"number_of_recent_passwords_disallowed", 0, 24},
		{"maximum_consecutive_identical_chars", 0, 32},
		{"minimum_password_age", 0, 1440},
		{"password_validity_period", 0, 180},
	}
	put := func(field string, v any) *resp {
		return e.do(req{Method: "PUT", Path: path, Token: adm, Body: map[string]any{"password_policy": map[string]any{field: v}}})
	}
	for _, rg := range ranges {
		for _, v := range []int{rg.lo - 1, rg.hi + 1} {
			msg := polIAMErr(t, put(rg.key, v), 400, "IAM.0073")
			// Policy settings are not secrets: the value is named.
			if !strings.Contains(msg, "'password_policy."+rg.key+"'") ||
				!strings.Contains(msg, "'"+fmt.Sprint(v)+"'") {
				t.Errorf("%s=%d: message %q does not name the key and the value", rg.key, v, msg)
			}
		}
		for _, v := range []int{rg.lo, rg.hi} {
			got := polObj(t, put(rg.key, v), "password_policy")
			if polNum(t, got, rg.key) != v {
				t.Errorf("%s=%d answered %v", rg.key, v, got[rg.key])
			}
		}
	}
	polIAMErr(t, put("minimum_password_length", "twelve"), 400, "IAM.0073")
	polIAMErr(t, put("weak_password_check", "yes"), 400, "IAM.0073")
	polIAMErr(t, e.do(req{Method: "PUT", Path: path, Token: adm, Body: map[string]any{}}), 400, "IAM.0072")
	polIAMErr(t, e.do(req{Method: "PUT", Path: path, Token: adm, Body: "{"}), 400, "IAM.0011")
}

// A policy change applies at once to every password-setting path, on every
// instance.
func TestPolicyPasswordAppliesImmediately(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	second := newEnvOn(t, e.DSN) // another instance on the same database
	adm := e.adminToken()
	uid := e.createUser(adm, "quinn", polPw, nil)
	tok := e.token("quinn", polPw)

	mustStatus(t, e.do(req{Method: "PUT", Path: polPath(e.DomainID, "password-policy"), Token: adm,
		Body: map[string]any{"password_policy": map[string]any{"minimum_password_length": 12}}}), http.StatusOK)

	eleven := "Abcdefgh1-x" // 11 characters
	rememberSecret(eleven)
	msg := ksErr(t, polChange(second, tok, uid, eleven, polPw), 400, "1103")
	if !strings.Contains(msg, "12 to 32") {
		t.Errorf("message %q does not name the rule", msg)
	}
	// Admin paths obey it too: IAM v3.0 create and update.
	polIAMErr(t, second.do(req{Method: "POST", Path: "/v3.0/OS-USER/users", Token: adm, Body: map[string]any{"user": map[string]any{
		"name": "rhea", "domain_id": e.DomainID, "password": eleven}}}), 400, "1103")
	twelve := "Abcdefgh1-xy"
	rememberSecret(twelve)
	mustStatus(t, polChange(second, tok, uid, twelve, polPw), http.StatusNoContent)

	// The weak-password check can be switched off (latchkey extension).
	tok = e.token("quinn", twelve)
	weak := "password1234" // in the dictionary, 12 characters, 2 types
	ksErr(t, polChange(e, tok, uid, weak, twelve), 400, "1118")
	mustStatus(t, e.do(req{Method: "PUT", Path: polPath(e.DomainID, "password-policy"), Token: adm,
		Body: map[string]any{"password_policy": map[string]any{"weak_password_check": false}}}), http.StatusOK)
	mustStatus(t, polChange(second, tok, uid, weak, twelve), http.StatusNoContent)
}

func TestPolicyLoginShowAndUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	e.createUser(adm, "lorna", polPw, nil)
	user := e.token("lorna", polPw)
	path := polPath(e.DomainID, "login-policy")

	want := map[string]any{
		"login_failed_times": 5.0, "period_with_login_failures": 15.0, "lockout_duration": 15.0,
		"account_validity_period": 0.0, "session_timeout": 60.0, "show_recent_login_info": false,
		"custom_info_for_login": "",
	}
	for _, tok := range []string{adm, user} {
		got := polObj(t, e.do(req{Method: "GET", Path: path, Token: tok}), "login_policy")
		if len(got) != len(want) {
			t.Errorf("fields = %v", got)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("GET %s = %v, want %v", k, got[k], v)
			}
		}
	}
	got := polObj(t, e.do(req{Method: "PUT", Path: path, Token: adm, Body: map[string]any{"login_policy": map[string]any{
		"login_failed_times": 3, "account_validity_period": 99, "session_timeout": 16, "show_recent_login_info": true,
	}}}), "login_policy")
	want["login_failed_times"], want["account_validity_period"], want["session_timeout"], want["show_recent_login_info"] = 3.0, 99.0, 16.0, true
	for k, v := range want {
		if got[k] != v {
			t.Errorf("PUT %s = %v, want %v", k, got[k], v)
		}
	}
	got = polObj(t, e.do(req{Method: "PUT", Path: path, Token: adm, Body: map[string]any{"login_policy": map[string]any{
		"custom_info_for_login": "Authorized use only.",
	}}}), "login_policy")
	want["custom_info_for_login"] = "Authorized use only."
	for k, v := range want {
		if got[k] != v {
			t.Errorf("second PUT %s = %v, want %v", k, got[k], v)
		}
	}
	if got := polObj(t, e.do(req{Method: "GET", Path: path, Token: user}), "login_policy"); got["custom_info_for_login"] != "Authorized use only." || got["login_failed_times"] != 3.0 {
		t.Errorf("GET after PUT = %v", got)
	}

	put := func(field string, v any) *resp {
		return e.do(req{Method: "PUT", Path: path, Token: adm, Body: map[string]any{"login_policy": map[string]any{field: v}}})
	}
	for _, rg := range []struct {
		key    string
		lo, hi int
	}{
		{"login_failed_times", 3, 10},
		{"period_with_login_failures", 15, 60},
		{"lockout_duration", 15, 30},
		{"account_validity_period", 0, 240},
		{"session_timeout", 15, 1440},
	} {
		for _, v := range []int{rg.lo - 1, rg.hi + 1} {
			msg := polIAMErr(t, put(rg.key, v), 400, "IAM.0073")
			if !strings.Contains(msg, "'login_policy."+rg.key+"'") || !strings.Contains(msg, "'"+fmt.Sprint(v)+"'") {
				t.Errorf("%s=%d: message %q does not name the key and the value", rg.key, v, msg)
			}
		}
		for _, v := range []int{rg.lo, rg.hi} {
			if got := polObj(t, put(rg.key, v), "login_policy"); polNum(t, got, rg.key) != v {
				t.Errorf("%s=%d answered %v", rg.key, v, got[rg.key])
			}
		}
	}
	polObj(t, put("custom_info_for_login", strings.Repeat("é", 64)), "login_policy")
	polIAMErr(t, put("custom_info_for_login", strings.Repeat("a", 65)), 400, "IAM.0073")
	for _, c := range strings.Split(`@ # % & < > \ $ ^ *`, " ") {
		polIAMErr(t, put("custom_info_for_login", "hello "+c), 400, "IAM.0073")
	}
	polIAMErr(t, put("show_recent_login_info", "yes"), 400, "IAM.0073")
	polIAMErr(t, e.do(req{Method: "PUT", Path: path, Token: adm, Body: map[string]any{"password_policy": map[string]any{}}}), 400, "IAM.0072")

	body := map[string]any{"login_policy": map[string]any{"login_failed_times": 4}}
	polIAMErr(t, e.do(req{Method: "PUT", Path: path, Token: user, Body: body}), 403, "IAM.0002")
	foreign, _ := e.otherDomain("loginforeign")
	polIAMErr(t, e.do(req{Method: "GET", Path: polPath(foreign, "login-policy"), Token: adm}), 404, "IAM.0004")
	polIAMErr(t, e.do(req{Method: "PUT", Path: polPath(foreign, "login-policy"), Token: adm, Body: body}), 404, "IAM.0004")
	polIAMErr(t, e.do(req{Method: "PUT", Path: polPath(foreign, "login-policy"), Token: user, Body: body}), 404, "IAM.0004")
}

// login_failed_times wrong passwords lock the account on every instance:
// token issuance and change-password answer 401 IAM.0061 even with the right
// password, until lockout_duration has passed.
func TestPolicyLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	second := newEnvOn(t, e.DSN)
	adm := e.adminToken()
	mustStatus(t, e.do(req{Method: "PUT", Path: polPath(e.DomainID, "login-policy"), Token: adm,
		Body: map[string]any{"login_policy": map[string]any{"login_failed_times": 3, "lockout_duration": 20}}}), http.StatusOK)
	uid := e.createUser(adm, "lockie", polPw, nil)
	tok := e.token("lockie", polPw)
	wrongPw := "Not-The-Pa55word"
	rememberSecret(wrongPw)

	// Two wrong tokens on one instance, one wrong original on the other.
	for _, inst := range []*env{e, second} {
		ksErr(t, inst.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth("lockie", wrongPw)}), 401, "IAM.0062")
	}
	ksErr(t, polChange(second, tok, uid, polPw2, wrongPw), 401, "IAM.0062")

	for _, inst := range []*env{e, second} {
		r := inst.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth("lockie", polPw)})
		ksErr(t, r, 401, "IAM.0061")
		if ra := r.Header.Get("Retry-After"); ra == "" {
			t.Error("locked token request without Retry-After")
		}
		ksErr(t, polChange(inst, tok, uid, polPw2, polPw), 401, "IAM.0061")
	}
	// Other users and the admin are not affected.
	e.adminToken()

	// 20 minutes later the lock is over (both instances travel in time).
	later := func() time.Time { return time.Now().Add(20*time.Minute + time.Second) }
	e.App.Lockout.SetClock(later)
	second.App.Lockout.SetClock(later)
	second.token("lockie", polPw)
	mustStatus(t, polChange(e, tok, uid, polPw2, polPw), http.StatusNoContent)
}

func TestPolicyPasswordEvaluate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	path := polPath(e.DomainID, "password-policy") + "/evaluate"
	mustStatus(t, e.do(req{Method: "PUT", Path: polPath(e.DomainID, "password-policy"), Token: adm,
		Body: map[string]any{"password_policy": map[string]any{"minimum_password_length": 12, "password_char_combination": 3,
			"maximum_consecutive_identical_chars": 3, "number_of_recent_passwords_disallowed": 5, "minimum_password_age": 60}}}), http.StatusOK)
	uid := e.createUser(adm, "alice", "Wonder-Land-2026x", map[string]any{"email": "alice.liddell@example.com"})
	tok := e.token("alice", "Wonder-Land-2026x")
	eval := func(tok string, body map[string]any) map[string]any {
		t.Helper()
		r := e.do(req{Method: "POST", Path: path, Token: tok, Body: map[string]any{"candidate": body}})
		mustStatus(t, r, http.StatusOK)
		for _, v := range body {
			if s, _ := v.(string); len(s) > 6 && strings.Contains(string(r.Body), `"`+s+`"`) && s != uid {
				t.Fatalf("the candidate is echoed: %s", r.Body)
			}
		}
		return r.JSON(t)
	}
	rules := func(m map[string]any) []string {
		var out []string
		for _, v := range m["evaluation"].(map[string]any)["violations"].([]any) {
			out = append(out, v.(map[string]any)["rule"].(string))
		}
		return out
	}

	// Every broken rule at once, in order, with each family's code.
	m := eval(tok, map[string]any{"password": "aaaaalice1"})
	ev := m["evaluation"].(map[string]any)
	if ev["valid"] != false || ev["user_id"] != uid {
		t.Fatalf("evaluation = %v", ev)
	}
	got := rules(m)
	want := []string{"length", "char_combination", "contains_username", "consecutive_identical", "minimum_age"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("rules = %v, want %v", got, want)
	}
	first := ev["violations"].([]any)[0].(map[string]any)
	codes := first["codes"].(map[string]any)
	if codes["keystone"] != "1103" || codes["iam"] != "1103" || codes["ciam"] != "IDAAS.TENANT.PWD.0007" ||
		first["ciam_message"] != "The password must contain 12 to 32 characters" ||
		fmt.Sprint(first["params"]) != "[12 32]" || !strings.Contains(first["message"].(string), "12 to 32") {
		t.Errorf("length violation = %v", first)
	}
	if ne := fmt.Sprint(ev["not_evaluated"]); ne != "[same_as_current history]" {
		t.Errorf("not_evaluated = %s", ne)
	}
	if pol := m["password_policy"].(map[string]any); pol["minimum_password_length"] != 12.0 || pol["maximum_password_length"] != 32.0 {
		t.Errorf("policy = %v", pol)
	}

	// Weak passwords and personal data.
	m = eval(tok, map[string]any{"password": "Password1234!"})
	weak := m["evaluation"].(map[string]any)["violations"].([]any)
	if w := weak[len(weak)-1].(map[string]any); w["rule"] != "weak" || w["codes"].(map[string]any)["iam"] != "1118" ||
		w["codes"].(map[string]any)["ciam"] != "IDAAS.TENANT.PWD.0005" {
		t.Errorf("weak = %v", weak)
	}
	if got := rules(eval(tok, map[string]any{"password": "Alice.Liddell-99x"})); !strings.Contains(strings.Join(got, ","), "contains_email") {
		t.Errorf("email rule missing: %v", got)
	}
	// An admin evaluates for a user as a reset: no minimum age.
	if got := rules(eval(adm, map[string]any{"user_id": uid, "password": "Quiet-Harbor-7391"})); len(got) != 0 {
		t.Errorf("admin evaluation = %v", got)
	}
	if got := rules(eval(tok, map[string]any{"password": "Quiet-Harbor-7391"})); strings.Join(got, ",") != "minimum_age" {
		t.Errorf("self evaluation = %v", got)
	}

	// A restricted token may evaluate its own next password.
	rid := e.createUser(adm, "rupert", "Init-Pass-4821-z", map[string]any{"pwd_status": true})
	rtok := e.token("rupert", "Init-Pass-4821-z")
	if m := eval(rtok, map[string]any{"password": "Quiet-Harbor-7391"}); m["evaluation"].(map[string]any)["user_id"] != rid {
		t.Errorf("restricted self = %v", m)
	}
	// Callers.
	body := map[string]any{"candidate": map[string]any{"user_id": uid, "password": "Quiet-Harbor-7391"}}
	polIAMErr(t, e.do(req{Method: "POST", Path: path, Token: rtok, Body: body}), 403, "IAM.0002")
	body["candidate"].(map[string]any)["user_id"] = "0123456789abcdef0123456789abcdef"
	polIAMErr(t, e.do(req{Method: "POST", Path: path, Token: tok, Body: body}), 403, "IAM.0002")
	polIAMErr(t, e.do(req{Method: "POST", Path: path, Token: adm, Body: body}), 404, "IAM.0004")
	foreign, _ := e.otherDomain("evalforeign")
	polIAMErr(t, e.do(req{Method: "POST", Path: polPath(foreign, "password-policy") + "/evaluate", Token: adm, Body: body}), 404, "IAM.0004")
	polIAMErr(t, e.do(req{Method: "POST", Path: path, Token: tok, Body: map[string]any{"candidate": map[string]any{}}}), 400, "IAM.0072")
}

// password_validity_period sets password_expires_at (moved for existing
// users when the policy changes); an expired password gives a restricted
// token until it is changed.
func TestPolicyPasswordExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.createUser(adm, "exp", polPw, nil)
	expiresAt := func() string {
		t.Helper()
		r := e.do(req{Method: "GET", Path: "/v3/users/" + uid, Token: adm})
		mustStatus(t, r, http.StatusOK)
		s, _ := r.JSON(t)["user"].(map[string]any)["password_expires_at"].(string)
		return s
	}
	if got := expiresAt(); got != "" {
		t.Fatalf("expiry without a validity period: %q", got)
	}
	var changed time.Time
	if err := e.App.DB.Raw("SELECT password_changed_at FROM users WHERE id = ?", uid).Row().Scan(&changed); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, e.do(req{Method: "PUT", Path: polPath(e.DomainID, "password-policy"), Token: adm,
		Body: map[string]any{"password_policy": map[string]any{"password_validity_period": 90}}}), http.StatusOK)
	if got, want := expiresAt(), changed.Add(90*24*time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z"); got != want {
		t.Fatalf("password_expires_at = %q, want %q", got, want)
	}

	// The password expires (time passes: the stored expiry moves back).
	if err := e.App.DB.Exec("UPDATE users SET password_expires_at = ? WHERE id = ?", time.Now().UTC().Add(-time.Minute), uid).Error; err != nil {
		t.Fatal(err)
	}
	tok := e.token("exp", polPw)
	polIAMErr(t, e.do(req{Method: "GET", Path: polPath(e.DomainID, "password-policy"), Token: tok}), 403, "IAM.0002")
	mustStatus(t, polChange(e, tok, uid, polPw2, polPw), http.StatusNoContent)
	fresh := e.token("exp", polPw2)
	mustStatus(t, e.do(req{Method: "GET", Path: polPath(e.DomainID, "password-policy"), Token: fresh}), http.StatusOK)
	got, err := time.Parse("2006-01-02T15:04:05.000000Z", expiresAt())
	if err != nil || got.Sub(time.Now().Add(90*24*time.Hour)).Abs() > time.Minute {
		t.Fatalf("new expiry %v (%v)", got, err)
	}
	// Validity 0: passwords never expire.
	mustStatus(t, e.do(req{Method: "PUT", Path: polPath(e.DomainID, "password-policy"), Token: adm,
		Body: map[string]any{"password_policy": map[string]any{"password_validity_period": 0}}}), http.StatusOK)
	if got := expiresAt(); got != "" {
		t.Fatalf("expiry after validity 0: %q", got)
	}
}

// account_validity_period: a user unused for longer is disabled at its next
// login (403 IAM.0082).
func TestPolicyAccountValidity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	uid := e.createUser(adm, "sleepy", polPw, nil)
	e.token("sleepy", polPw)
	mustStatus(t, e.do(req{Method: "PUT", Path: polPath(e.DomainID, "login-policy"), Token: adm,
		Body: map[string]any{"login_policy": map[string]any{"account_validity_period": 10}}}), http.StatusOK)
	e.token("sleepy", polPw) // used a moment ago
	// Eleven days pass without a sign of life.
	old := time.Now().UTC().Add(-11 * 24 * time.Hour)
	if err := e.App.DB.Exec("UPDATE users SET created_at = ?, updated_at = ?, last_login_at = ?, password_changed_at = ? WHERE id = ?",
		old, old, old, old, uid).Error; err != nil {
		t.Fatal(err)
	}
	ksErr(t, e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth("sleepy", polPw)}), 403, "IAM.0082")
	r := e.do(req{Method: "GET", Path: "/v3/users/" + uid, Token: adm})
	if r.JSON(t)["user"].(map[string]any)["enabled"] != false {
		t.Fatalf("dormant user still enabled: %s", r.Body)
	}
	// The admin re-enables the user: it may log in again.
	mustStatus(t, e.do(req{Method: "PATCH", Path: "/v3/users/" + uid, Token: adm,
		Body: map[string]any{"user": map[string]any{"enabled": true}}}), http.StatusOK)
	e.token("sleepy", polPw)
}
