package tests

import (
	"maps"
	"net/http"
	"net/url"
	"strconv"
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

// auditBootstrap splits off the one event every fresh domain starts with:
// the bootstrap CIAM client created by latchkey itself (actor_type system,
// no actor, no source address), the oldest event. The client must be one of
// the domain's clients. It returns that event and the others.
func auditBootstrap(t testing.TB, e *env, adminTok string, evs []auditEvent) (auditEvent, []auditEvent) {
	t.Helper()
	var boot []auditEvent
	var rest []auditEvent
	for _, ev := range evs {
		if ev.ActorType == "system" {
			boot = append(boot, ev)
		} else {
			rest = append(rest, ev)
		}
	}
	if len(boot) != 1 || evs[len(evs)-1].ID != boot[0].ID {
		t.Fatalf("want exactly one system event, the oldest: %+v", boot)
	}
	b := boot[0]
	if b.Type != "ciam_client.created" || b.DomainID != e.DomainID || b.ActorID != "" || b.SourceIP != "" ||
		b.Outcome != "success" || b.TargetID == "" ||
		!maps.Equal(b.Detail, map[string]string{"client_id": b.TargetID, "name": "bootstrap"}) {
		t.Errorf("bootstrap client event = %+v", b)
	}
	r := e.do(req{Method: "GET", Path: ciamClients, Token: adminTok})
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"`+b.TargetID+`"`) {
		t.Errorf("the bootstrap event names client %s, not a client of the domain: %s", b.TargetID, r.Body)
	}
	return b, rest
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
	full, next := auditList(t, e, adm, nil)
	if next != "" {
		t.Fatalf("unexpected next page: %s", next)
	}
	_, all := auditBootstrap(t, e, adm, full)
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
	inWindow := 0 // the bootstrap event may be older than start
	for _, ev := range full {
		if ts, _ := time.Parse("2006-01-02T15:04:05.000000Z", ev.Time); !ts.Before(start) {
			inWindow++
		}
	}
	if len(got) != inWindow {
		t.Errorf("since/until: %d of %d", len(got), inWindow)
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
	if len(walked) != len(full) {
		t.Fatalf("paging saw %d of %d", len(walked), len(full))
	}
	for i := range full {
		if walked[i].ID != full[i].ID {
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

// auditAll reads every event of the caller's domain, page by page (limit
// per page), newest first.
func auditAll(t testing.TB, e *env, tok string, limit int) []auditEvent {
	t.Helper()
	var all []auditEvent
	marker := ""
	for range 1000 {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if marker != "" {
			q.Set("marker", marker)
		}
		page, next := auditList(t, e, tok, q)
		all = append(all, page...)
		if next == "" {
			return all
		}
		marker = next
	}
	t.Fatal("paging does not end")
	return nil
}

// auditOne returns the only event of typ whose target is target.
func auditOne(t testing.TB, evs []auditEvent, typ, target string) auditEvent {
	t.Helper()
	var got []auditEvent
	for _, ev := range auditOf(evs, typ) {
		if ev.TargetID == target {
			got = append(got, ev)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d %s events about %s, want 1: %+v", len(got), typ, target, got)
	}
	return got[0]
}

// Virtual MFA device and access key changes over HTTP, read back from the
// trail: who acted on whom, in which domain, with what outcome and detail.
func TestAuditMFAAndAccessKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSecretKey)
	adm := e.adminToken()
	const pw = "Quartz-Lagoon.47"
	rememberSecret(pw)
	alice := e.createUser(adm, "audit-alice", pw, nil)
	bob := e.createUser(adm, "audit-bob", pw, nil)
	aliceTok, bobTok := e.token("audit-alice", pw), e.token("audit-bob", pw)

	// alice creates and binds a device, then unbinds it with a code.
	aSerial, aSecret := e.mfaCreate(aliceTok, alice, "audit-alice-phone")
	now := mfaSteadyStep()
	mustStatus(t, e.do(req{Method: "PUT", Path: mfaBind, Token: aliceTok, Body: map[string]any{
		"user_id": alice, "serial_number": aSerial,
		"authentication_code_first":  mfaCode(t, aSecret, now.Add(-30*time.Second)),
		"authentication_code_second": mfaCode(t, aSecret, now),
	}}), http.StatusNoContent)
	mustStatus(t, e.do(req{Method: "PUT", Path: mfaUnbind, Token: aliceTok, Body: map[string]any{
		"user_id": alice, "serial_number": aSerial, "authentication_code": mfaCode(t, aSecret, now.Add(30*time.Second))}}),
		http.StatusNoContent)
	// bob binds one; the admin resets it (the recovery path).
	bSerial, _ := e.mfaBindDevice(bobTok, bob, "audit-bob-phone")
	mustStatus(t, e.do(req{Method: "PUT", Path: mfaUnbind, Token: adm, Body: map[string]any{
		"user_id": bob, "serial_number": bSerial, "authentication_code": "000000"}}), http.StatusNoContent)
	// The admin creates and deletes a device of its own.
	admSerial, _ := e.mfaCreate(adm, e.AdminID, "audit-admin-phone")
	mustStatus(t, e.do(req{Method: "DELETE", Path: mfaDevices + "?user_id=" + e.AdminID + "&serial_number=" + url.QueryEscape(admSerial),
		Token: adm}), http.StatusNoContent)

	// Access keys: alice creates hers, the admin creates bob's and
	// deactivates alice's, alice deletes hers. A forged signature is refused
	// and not recorded.
	akA, _ := e.akCreate(aliceTok, alice)
	akB, _ := e.akCreate(adm, bob)
	mustStatus(t, e.do(req{Method: "PUT", Path: "/v3.0/OS-CREDENTIAL/credentials/" + akA, Token: adm,
		Body: map[string]any{"credential": map[string]any{"status": "inactive"}}}), http.StatusOK)
	mustStatus(t, e.signed(akSigned{Method: "GET", Path: "/v3/auth/domains"}, akB, strings.Repeat("x", 40)), http.StatusUnauthorized)
	mustStatus(t, e.do(req{Method: "DELETE", Path: "/v3.0/OS-CREDENTIAL/credentials/" + akA, Token: aliceTok}), http.StatusNoContent)

	_, all := auditBootstrap(t, e, adm, auditAll(t, e, adm, 4))
	want := map[string]int{"mfa_device.created": 3, "mfa_device.bound": 2, "mfa_device.unbound": 2, "mfa_device.deleted": 1,
		"access_key.created": 2, "access_key.updated": 1, "access_key.deleted": 1}
	n := 0
	for typ, c := range want {
		if got := len(auditOf(all, typ)); got != c {
			t.Errorf("%s: %d events, want %d", typ, got, c)
		}
		n += c
	}
	if len(all) != n {
		t.Errorf("%d events, want %d (nothing else, and no refused signature): %+v", len(all), n, all)
	}
	for _, ev := range all {
		if ev.DomainID != e.DomainID || ev.ActorType != "user" || ev.Outcome != "success" || ev.SourceIP != "127.0.0.1" || len(ev.ID) != 32 {
			t.Errorf("event %+v", ev)
		}
	}
	check := func(ev auditEvent, actor string, detail map[string]string) {
		t.Helper()
		if ev.ActorID != actor || !maps.Equal(ev.Detail, detail) {
			t.Errorf("%s about %s: actor %s, detail %v; want actor %s, detail %v", ev.Type, ev.TargetID, ev.ActorID, ev.Detail, actor, detail)
		}
	}
	check(auditOne(t, all, "mfa_device.created", alice), alice, map[string]string{"serial_number": aSerial, "replaced": "false"})
	check(auditOne(t, all, "mfa_device.bound", alice), alice, map[string]string{"serial_number": aSerial})
	check(auditOne(t, all, "mfa_device.unbound", alice), alice, map[string]string{"serial_number": aSerial, "by_admin": "false"})
	check(auditOne(t, all, "mfa_device.bound", bob), bob, map[string]string{"serial_number": bSerial})
	// The MFA reset: the admin is the actor, bob the target.
	check(auditOne(t, all, "mfa_device.unbound", bob), e.AdminID, map[string]string{"serial_number": bSerial, "by_admin": "true"})
	check(auditOne(t, all, "mfa_device.created", e.AdminID), e.AdminID, map[string]string{"serial_number": admSerial, "replaced": "false"})
	check(auditOne(t, all, "mfa_device.deleted", e.AdminID), e.AdminID, map[string]string{"serial_number": admSerial, "was_bound": "false"})
	check(auditOne(t, all, "access_key.created", alice), alice, map[string]string{"access_key": akA, "status": "active"})
	check(auditOne(t, all, "access_key.created", bob), e.AdminID, map[string]string{"access_key": akB, "status": "active"})
	check(auditOne(t, all, "access_key.updated", alice), e.AdminID, map[string]string{"access_key": akA, "status": "active -> inactive"})
	check(auditOne(t, all, "access_key.deleted", alice), alice, map[string]string{"access_key": akA, "status": "inactive"})

	// The new types are filters, and a user's filter finds its MFA reset.
	if got, _ := auditList(t, e, adm, url.Values{"type": {"mfa_device.unbound"}}); len(got) != 2 {
		t.Errorf("type filter: %d events", len(got))
	}
	got, _ := auditList(t, e, adm, url.Values{"user_id": {bob}})
	if len(got) != 4 || got[0].Type != "access_key.created" || got[1].Type != "mfa_device.unbound" {
		t.Errorf("bob's events: %+v", got)
	}
}

// CodeArts Repo HTTPS Git and CIAM client changes over HTTP, read back from
// the trail: the HTTPS password set and replaced, the mode changed (only
// real changes), the administrator reset that clears the HTTPS password,
// and a CIAM client created and deleted — with no password or client secret
// anywhere in the trail.
func TestAuditRepoAndCiamClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.adminToken()
	const acct, acct2, acct3 = "Tern-Ledger.42", "Umber-Kestrel.53", "Vesper-Lynx.64"
	const https1, https2 = "Gx7-Clone-Pass!", "Hy8-Clone-Pass?"
	const chosenSecret = "Wren-Client-Secret.75"
	for _, s := range []string{acct, acct2, acct3, https1, https2, chosenSecret} {
		rememberSecret(s)
	}
	uid := e.createUser(adm, "audit-gitter", acct, nil)
	tok := e.token("audit-gitter", acct)

	// HTTPS password: a wrong account password is refused (the account
	// password's verification_failed, not a set), then set and replaced.
	rpErr(t, e.rpSetPassword(tok, acct2, https1), http.StatusUnauthorized, "CH.010008", "Invalid password.", false)
	rpText(t, e.rpSetPassword(tok, acct, https1), "success")
	rpText(t, e.rpSetPassword(tok, acct, https2), "success")
	// Mode: true is the default (no change), then false, false again (no
	// change) and back to true.
	for _, v := range []bool{true, false, false, true, false} {
		rpText(t, e.rpSetMode(tok, v), "success")
	}
	// The administrator reset clears the HTTPS password (recorded on the
	// reset); a second reset has nothing left to clear.
	for _, pw := range []string{acct2, acct3} {
		mustStatus(t, e.do(req{Method: "PATCH", Path: "/v3/users/" + uid, Token: adm,
			Body: map[string]any{"user": map[string]any{"password": pw}}}), http.StatusOK)
	}
	e.rpOutcome(t, adm, uid, https2, rpWrong)

	// CIAM clients: one with a generated secret, one with a chosen secret
	// (deleted again); a refused delete is not recorded.
	genID, genSecret := ciamNewClient(t, e, adm, "audit-portal", "")
	rememberSecret(genSecret)
	chosenID, _ := ciamNewClient(t, e, adm, "audit-batch", chosenSecret)
	mustStatus(t, e.do(req{Method: "DELETE", Path: ciamClients + "/" + chosenID, Token: adm}), http.StatusNoContent)
	mustStatus(t, e.do(req{Method: "DELETE", Path: ciamClients + "/" + chosenID, Token: adm}), http.StatusNotFound)

	boot, all := auditBootstrap(t, e, adm, auditAll(t, e, adm, 5))
	// Failures: the wrong account password, and the old HTTPS password
	// checked on both validate-https-info versions.
	want := map[string]int{"credential.verification_failed": 3, "https_password.set": 2, "https_setting.changed": 3,
		"password.reset": 2, "ciam_client.created": 2, "ciam_client.deleted": 1}
	n := 0
	for typ, c := range want {
		if got := len(auditOf(all, typ)); got != c {
			t.Errorf("%s: %d events, want %d", typ, got, c)
		}
		n += c
	}
	if len(all) != n {
		t.Errorf("%d events, want %d: %+v", len(all), n, all)
	}
	for _, ev := range all {
		if ev.DomainID != e.DomainID || ev.SourceIP != "127.0.0.1" || len(ev.ID) != 32 {
			t.Errorf("event %+v", ev)
		}
	}
	check := func(ev auditEvent, actor, target string, detail map[string]string) {
		t.Helper()
		if ev.ActorID != actor || ev.ActorType != "user" || ev.TargetID != target || ev.Outcome != "success" || !maps.Equal(ev.Detail, detail) {
			t.Errorf("%s: actor %s/%s target %s outcome %s detail %v; want actor %s target %s detail %v",
				ev.Type, ev.ActorID, ev.ActorType, ev.TargetID, ev.Outcome, ev.Detail, actor, target, detail)
		}
	}
	// Newest first.
	sets := auditOf(all, "https_password.set")
	check(sets[1], uid, uid, map[string]string{"replaced": "false"})
	check(sets[0], uid, uid, map[string]string{"replaced": "true"})
	modes := auditOf(all, "https_setting.changed")
	for i, d := range []string{"true -> false", "false -> true", "true -> false"} {
		check(modes[len(modes)-1-i], uid, uid, map[string]string{"https_clone_iam_auth": d})
	}
	resets := auditOf(all, "password.reset")
	check(resets[1], e.AdminID, uid, map[string]string{"must_change": "false", "https_password_cleared": "true"})
	check(resets[0], e.AdminID, uid, map[string]string{"must_change": "false"})
	created := auditOf(all, "ciam_client.created")
	check(created[1], e.AdminID, genID, map[string]string{"client_id": genID, "name": "audit-portal"})
	check(created[0], e.AdminID, chosenID, map[string]string{"client_id": chosenID, "name": "audit-batch"})
	check(auditOf(all, "ciam_client.deleted")[0], e.AdminID, chosenID, map[string]string{"client_id": chosenID})
	if boot.TargetID == genID || boot.TargetID == chosenID {
		t.Errorf("bootstrap event names a client created later: %+v", boot)
	}

	// The new types are filters; the user's filter finds its HTTPS events
	// and resets, not the clients.
	for typ, c := range map[string]int{"https_password.set": 2, "https_setting.changed": 3, "ciam_client.created": 3, "ciam_client.deleted": 1} {
		if got, _ := auditList(t, e, adm, url.Values{"type": {typ}}); len(got) != c {
			t.Errorf("type filter %s: %d events, want %d", typ, len(got), c)
		}
	}
	if got, _ := auditList(t, e, adm, url.Values{"user_id": {uid}}); len(got) != 10 {
		t.Errorf("user filter: %d events, want 10: %+v", len(got), got)
	}

	// No password or client secret anywhere in the trail as served.
	r := e.do(req{Method: "GET", Path: auditPath + "?limit=1000", Token: adm})
	mustStatus(t, r, http.StatusOK)
	for _, s := range []string{acct, acct2, acct3, https1, https2, chosenSecret, genSecret} {
		if strings.Contains(string(r.Body), s) {
			t.Errorf("a secret (%s...) appears in the audit trail", s[:3])
		}
	}
}

// containsToken reports whether a short secret (a 6-digit code) occurs in s
// on its own, not inside a longer run of letters and digits (a random hex id
// may hold any 6 digits by chance).
func containsToken(s, tok string) bool {
	alnum := func(b byte) bool {
		return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
	}
	for i := 0; ; {
		j := strings.Index(s[i:], tok)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(tok)
		if (j == 0 || !alnum(s[j-1])) && (end == len(s) || !alnum(s[end])) {
			return true
		}
		i = j + 1
	}
}

// Every secret-carrying operation of the suite, then the whole trail (every
// page) and the server log: none of the secrets appears anywhere, not even
// the wrong ones.
func TestAuditNoSecrets(t *testing.T) {
	t.Parallel()
	e := ciamEnv(t, withSecretKey)
	adm := e.adminToken()
	type secret struct{ what, value string }
	var secrets []secret
	keep := func(what, v string) {
		t.Helper()
		if v == "" {
			t.Fatalf("%s: empty", what)
		}
		secrets = append(secrets, secret{what, v})
		if len(v) > 6 {
			rememberSecret(v) // the harness checks the log at cleanup too
		}
	}
	keep("admin password", adminPassword)
	keep("admin token", adm)

	// Keystone: a wrong original password, an own change, an admin reset.
	const pw1, pw2, pw3, pwWrong = "Fjord-Maple.71a", "Gravel-Nest.82b", "Harbor-Pine.93c", "Jasper-Rook.15e"
	for _, p := range []string{pw1, pw2, pw3, pwWrong} {
		keep("password", p)
	}
	uid := e.createUser(adm, "quill", pw1, map[string]any{"areacode": "0086", "phone": "13900004321"})
	tok := e.token("quill", pw1)
	keep("user token", tok)
	if r := polChange(e, tok, uid, pw2, pwWrong); r.Status == http.StatusNoContent {
		t.Fatal("a wrong original password changed the password")
	}
	mustStatus(t, polChange(e, tok, uid, pw2, pw1), http.StatusNoContent)
	mustStatus(t, e.do(req{Method: "PUT", Path: "/v3.0/OS-USER/users/" + uid, Token: adm,
		Body: map[string]any{"user": map[string]any{"password": pw3, "pwd_status": false}}}), http.StatusOK)
	tok = e.token("quill", pw3)
	keep("user token", tok)

	// HTTPS Git password: set, then checked right and wrong.
	const httpsPw, httpsWrong = "Ht7-Clone-Key!z", "Wr0ng-Clone-Key!"
	keep("HTTPS password", httpsPw)
	keep("HTTPS password", httpsWrong)
	rpText(t, e.rpSetPassword(tok, pw3, httpsPw), "success")
	rpText(t, e.rpSetMode(tok, false), "success")
	e.rpOutcome(t, adm, uid, httpsPw, rpPassed)
	e.rpOutcome(t, adm, uid, httpsWrong, rpWrong)

	// CIAM: client token, a user created with a password, a reset by the
	// client, a verified change (a wrong old password first), a new client.
	ctok := ciamBootToken(t, e)
	keep("CIAM token", ctok)
	keep("CIAM client secret", ciamBootSecret)
	const cpw1, cpw2, cpw3, cpwWrong = "Kelp#Meadow-2027", "Lumen#Orbit-2028", "Moss#Prairie-2029", "Nettle#Quarry-2030"
	for _, p := range []string{cpw1, cpw2, cpw3, cpwWrong} {
		keep("CIAM password", p)
	}
	cid := ciamCreateUser(t, e, ctok, map[string]any{"user_name": "quill-ciam", "mobile": "13800009876", "password": cpw1})
	mustStatus(t, ciamSetPassword(e, ctok, cid, map[string]any{"password": cpw2}), http.StatusOK)
	ciamError(t, ciamVerifyPassword(e, ctok, cid, cpwWrong, cpw3), 400, "LOGIN.0002")
	mustStatus(t, ciamVerifyPassword(e, ctok, cid, cpw2, cpw3), http.StatusOK)
	_, csec := ciamNewClient(t, e, adm, "quill-app", "")
	keep("CIAM client secret", csec)

	// Access key: the secret is returned once; a signed request uses it, a
	// forged one is refused.
	ak, sk := e.akCreate(tok, uid)
	keep("secret access key", sk)
	mustStatus(t, e.signed(akSigned{Method: "GET", Path: "/v3/auth/domains"}, ak, sk), http.StatusOK)
	forged := "Zz" + sk[2:]
	keep("forged secret access key", forged)
	mustStatus(t, e.signed(akSigned{Method: "GET", Path: "/v3/auth/domains"}, ak, forged), http.StatusUnauthorized)

	// MFA: the seed, the bind codes, a login with a code, a wrong code.
	var codes []string
	serial, seed := e.mfaCreate(tok, uid, "quill-phone")
	keep("TOTP seed", seed)
	now := mfaSteadyStep()
	c1, c2, c3 := mfaCode(t, seed, now.Add(-30*time.Second)), mfaCode(t, seed, now), mfaCode(t, seed, now.Add(30*time.Second))
	codes = append(codes, c1, c2, c3)
	mustStatus(t, e.do(req{Method: "PUT", Path: mfaBind, Token: tok, Body: map[string]any{
		"user_id": uid, "serial_number": serial, "authentication_code_first": c1, "authentication_code_second": c2}}), http.StatusNoContent)
	r := e.mfaLogin("quill", pw3, c3, nil)
	mfaTokenBody(t, r)
	keep("MFA token", r.Header.Get("X-Subject-Token"))
	wrongTOTP := "000000"
	if wrongTOTP == c3 || wrongTOTP == mfaCode(t, seed, time.Now()) {
		wrongTOTP = "999999"
	}
	codes = append(codes, wrongTOTP)
	mfaKSError(t, e.mfaLogin("quill", pw3, wrongTOTP, nil), http.StatusUnauthorized, "IAM.1061")

	// A login code by SMS through the development outbox: the receipt, a
	// wrong code and the right one.
	mustStatus(t, e.mfaProtect(adm, uid, true, "sms"), http.StatusOK)
	r = e.mfaLogin("quill", pw3, "", nil)
	mfaKSError(t, r, http.StatusUnauthorized, "IAM.1061")
	receipt := r.Header.Get("Openstack-Auth-Receipt")
	keep("auth receipt", receipt)
	code := e.mfaOutboxCode(adm, uid)["code"].(string)
	wrongCode := "111111"
	if code == wrongCode {
		wrongCode = "222222"
	}
	codes = append(codes, code, wrongCode)
	hdr := map[string]string{"Openstack-Auth-Receipt": receipt}
	mfaKSError(t, e.mfaLogin("quill", pw3, wrongCode, hdr), http.StatusUnauthorized, "IAM.1061")
	r = e.mfaLogin("quill", pw3, code, hdr)
	mfaTokenBody(t, r)
	keep("MFA token", r.Header.Get("X-Subject-Token"))

	// The whole trail, every page (small pages: paging is exercised too).
	all := auditAll(t, e, adm, 7)
	for _, typ := range []string{"password.changed", "password.reset", "credential.verification_failed", "login_protect.changed",
		"mfa_device.created", "mfa_device.bound", "login_code.sent", "access_key.created",
		"https_password.set", "https_setting.changed", "ciam_client.created"} {
		if len(auditOf(all, typ)) == 0 {
			t.Errorf("no %s event: the operations above did not all run", typ)
		}
	}
	// The bootstrap client (configured id) and the one the admin created.
	if boot, _ := auditBootstrap(t, e, adm, all); boot.TargetID != ciamBootID {
		t.Errorf("bootstrap client event about %s, want %s", boot.TargetID, ciamBootID)
	}
	if got := auditOf(all, "ciam_client.created"); len(got) != 2 || got[0].ActorID != e.AdminID || got[0].Detail["name"] != "quill-app" {
		t.Errorf("ciam_client.created: %+v", got)
	}
	if sent := auditOf(all, "login_code.sent"); len(sent) != 1 || !maps.Equal(sent[0].Detail, map[string]string{"channel": "sms"}) ||
		sent[0].TargetID != uid || sent[0].ActorType != "anonymous" {
		t.Errorf("login_code.sent: %+v", sent)
	}
	var trail strings.Builder
	for _, ev := range all {
		for _, v := range []string{ev.ID, ev.Type, ev.Time, ev.DomainID, ev.ActorID, ev.ActorType, ev.TargetID, ev.SourceIP, ev.Outcome} {
			trail.WriteString(v + "\n")
		}
		for k, v := range ev.Detail {
			trail.WriteString(k + "=" + v + "\n")
		}
	}
	logs := e.logs.String()
	if len(logs) == 0 {
		t.Fatal("no server log captured")
	}
	for where, text := range map[string]string{"the audit trail": trail.String(), "the server log": logs} {
		for _, s := range secrets {
			if strings.Contains(text, s.value) {
				t.Errorf("a %s appears in %s", s.what, where)
			}
		}
		for _, c := range codes {
			if containsToken(text, c) {
				t.Errorf("a one-time code appears in %s", where)
			}
		}
	}
	// The contact data a code went to stays out of the trail as well.
	if strings.Contains(trail.String(), "13900004321") {
		t.Error("the mobile number appears in the audit trail")
	}
}
