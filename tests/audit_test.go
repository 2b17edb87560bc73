package tests

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The security audit trail (GET /v3.0/OS-AUDIT/events), over HTTP.

const auditPath = "/v3.0/OS-AUDIT/events"

type auditEvent struct {
	ID, Type, Time, DomainID, ActorID, ActorType, TargetID, SourceIP, Outcome string
	Detail                                                                    map[string]string
}

func auditList(t testing.TB, e *env, tok string, q url.Values) ([]auditEvent, string) {
	t.Helper()
	path := auditPath
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	r := e.do(req{Method: "GET", Path: path, Token: tok})
	mustStatus(t, r, http.StatusOK)
	m := r.JSON(t)
	pi := m["page_info"].(map[string]any)
	next, _ := pi["next_marker"].(string)
	var out []auditEvent
	for _, raw := range m["events"].([]any) {
		o := raw.(map[string]any)
		ev := auditEvent{Detail: map[string]string{}}
		for k, p := range map[string]*string{"id": &ev.ID, "type": &ev.Type, "time": &ev.Time, "domain_id": &ev.DomainID,
			"actor_id": &ev.ActorID, "actor_type": &ev.ActorType, "target_id": &ev.TargetID, "source_ip": &ev.SourceIP,
			"outcome": &ev.Outcome} {
			*p = o[k].(string)
		}
		for k, v := range o["detail"].(map[string]any) {
			ev.Detail[k] = v.(string)
		}
		out = append(out, ev)
	}
	if int(pi["current_count"].(float64)) != len(out) {
		t.Fatalf("current_count %v for %d events", pi["current_count"], len(out))
	}
	return out, next
}

func auditOf(evs []auditEvent, typ string) []auditEvent {
	var out []auditEvent
	for _, ev := range evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func TestAuditTrail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	const pw1, pw2, pw3, wrongPw = "Aud1t-First.x", "Aud1t-Second.y", "Aud1t-Third.z", "Aud1t-Wrong.w"
	for _, s := range []string{pw1, pw2, pw3, wrongPw} {
		rememberSecret(s)
	}
	start := time.Now().UTC().Add(-time.Second)
	uid := e.createUser(adm, "auditee", pw1, nil)
	tok := e.token("auditee", pw1)
	e.createUser(adm, "watcher", pw1, nil)
	watcher := e.token("watcher", pw1)

	// Policy changes, a self-service change, an admin reset, failures, a lock
	// and a login protection change.
	mustStatus(t, e.do(req{Method: "PUT", Path: polPath(e.DomainID, "password-policy"), Token: adm,
		Body: map[string]any{"password_policy": map[string]any{"minimum_password_length": 12}}}), http.StatusOK)
	mustStatus(t, e.do(req{Method: "PUT", Path: polPath(e.DomainID, "login-policy"), Token: adm,
		Body: map[string]any{"login_policy": map[string]any{"login_failed_times": 3}}}), http.StatusOK)
	mustStatus(t, polChange(e, tok, uid, pw2, pw1), http.StatusNoContent)
	mustStatus(t, e.do(req{Method: "PATCH", Path: "/v3/users/" + uid, Token: adm,
		Body: map[string]any{"user": map[string]any{"password": pw3}}}), http.StatusOK)
	for range 3 {
		ksErr(t, e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth("auditee", wrongPw)}), 401, "IAM.0062")
	}
	ksErr(t, e.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth("auditee", pw3)}), 401, "IAM.0061")
	mustStatus(t, e.do(req{Method: "PUT", Path: "/v3.0/OS-USER/users/" + uid + "/login-protect", Token: adm,
		Body: map[string]any{"login_protect": map[string]any{"enabled": false, "verification_method": "vmfa"}}}), http.StatusOK)

	r := e.do(req{Method: "GET", Path: auditPath, Token: adm})
	mustStatus(t, r, http.StatusOK)
	for _, s := range []string{pw1, pw2, pw3, wrongPw} {
		if strings.Contains(string(r.Body), s) {
			t.Fatalf("a password appears in the audit trail")
		}
	}
	all, next := auditList(t, e, adm, nil)
	if next != "" {
		t.Fatalf("unexpected next page: %s", next)
	}
	want := map[string]int{"password_policy.changed": 1, "login_policy.changed": 1, "password.changed": 1,
		"password.reset": 1, "credential.verification_failed": 3, "credential.locked": 1, "login_protect.changed": 1}
	for typ, n := range want {
		if got := len(auditOf(all, typ)); got != n {
			t.Errorf("%s: %d events, want %d", typ, got, n)
		}
	}
	for _, ev := range all {
		if ev.DomainID != e.DomainID || len(ev.ID) != 32 || ev.SourceIP != "127.0.0.1" {
			t.Errorf("event %+v", ev)
		}
		if ts, err := time.Parse("2006-01-02T15:04:05.000000Z", ev.Time); err != nil || ts.Before(start) {
			t.Errorf("time %q: %v", ev.Time, err)
		}
	}
	pp := auditOf(all, "password_policy.changed")[0]
	if pp.ActorID != e.AdminID || pp.ActorType != "user" || pp.TargetID != e.DomainID || pp.Detail["minimum_password_length"] != "8 -> 12" {
		t.Errorf("policy event = %+v", pp)
	}
	ch := auditOf(all, "password.changed")[0]
	if ch.ActorID != uid || ch.TargetID != uid || ch.Outcome != "success" {
		t.Errorf("change event = %+v", ch)
	}
	rs := auditOf(all, "password.reset")[0]
	if rs.ActorID != e.AdminID || rs.TargetID != uid {
		t.Errorf("reset event = %+v", rs)
	}
	fails := auditOf(all, "credential.verification_failed")
	if f := fails[len(fails)-1]; f.ActorType != "anonymous" || f.TargetID != uid || f.Outcome != "failure" ||
		f.Detail["credential"] != "password" || f.Detail["remaining_attempts"] != "2" {
		t.Errorf("first failure = %+v", f)
	}
	lk := auditOf(all, "credential.locked")[0]
	if lk.TargetID != uid || lk.Detail["credential"] != "password" || lk.Detail["failures"] != "3" || lk.Detail["locked_until"] == "" {
		t.Errorf("lock event = %+v", lk)
	}
	if lp := auditOf(all, "login_protect.changed")[0]; lp.Detail["enabled"] != "false" || lp.Detail["verification_method"] != "vmfa" {
		t.Errorf("login protect event = %+v", lp)
	}
	if all[0].Type != "login_protect.changed" || all[len(all)-1].Type != "password_policy.changed" {
		t.Errorf("not newest first: %s ... %s", all[0].Type, all[len(all)-1].Type)
	}

	// Filters.
	got, _ := auditList(t, e, adm, url.Values{"type": {"credential.verification_failed"}})
	if len(got) != 3 {
		t.Errorf("type filter: %d", len(got))
	}
	got, _ = auditList(t, e, adm, url.Values{"user_id": {uid}})
	if len(got) != len(all)-2 { // all but the two policy changes
		t.Errorf("user filter: %d of %d", len(got), len(all))
	}
	got, _ = auditList(t, e, adm, url.Values{"since": {time.Now().UTC().Add(time.Hour).Format(time.RFC3339)}})
	if len(got) != 0 {
		t.Errorf("since the future: %d", len(got))
	}
	got, _ = auditList(t, e, adm, url.Values{"since": {start.Format(time.RFC3339Nano)}, "until": {time.Now().UTC().Add(time.Minute).Format(time.RFC3339)}})
	if len(got) != len(all) {
		t.Errorf("since/until: %d of %d", len(got), len(all))
	}
	// Paging with limit and marker walks everything once.
	var walked []auditEvent
	marker := ""
	for {
		q := url.Values{"limit": {"3"}}
		if marker != "" {
			q.Set("marker", marker)
		}
		page, next := auditList(t, e, adm, q)
		walked = append(walked, page...)
		if next == "" {
			break
		}
		if next != page[len(page)-1].ID {
			t.Fatalf("next_marker %s is not the last event", next)
		}
		marker = next
	}
	if len(walked) != len(all) {
		t.Fatalf("paging saw %d of %d", len(walked), len(all))
	}
	for i := range all {
		if walked[i].ID != all[i].ID {
			t.Fatalf("paging order differs at %d", i)
		}
	}

	// Bad parameters.
	for _, q := range []string{"type=password.stolen", "limit=0", "limit=1001", "since=yesterday",
		"marker=0123456789abcdef0123456789abcdef", "since=2026-11-23T00:00:00Z&until=2026-11-22T00:00:00Z"} {
		polIAMErr(t, e.do(req{Method: "GET", Path: auditPath + "?" + q, Token: adm}), 400, "IAM.0007")
	}

	// Callers: admins only, and only their own domain.
	polIAMErr(t, e.do(req{Method: "GET", Path: auditPath, Token: watcher}), 403, "IAM.0002")
	polIAMErr(t, e.do(req{Method: "GET", Path: auditPath}), 401, "IAM.0001")
	_, foreignTok := e.otherDomain("auditforeign")
	if got, _ := auditList(t, e, foreignTok, nil); len(got) != 0 {
		t.Errorf("another domain's admin sees %d events", len(got))
	}
}
