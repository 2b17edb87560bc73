package tests

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/config"
	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/lockout"
)

// The login policy's lockout across server instances (apis.md §3.4, issue 4):
// two real latchkey servers on ONE database (the same SQLite file, or the same
// PostgreSQL schema when LATCHKEY_TEST_POSTGRES_DSN is set) share the
// counters: concurrent guesses from both never verify more than
// login_failed_times passwords, a locked account answers without hashing on
// either instance, the lock ends by time only, a successful verification
// resets the counter, and the HTTPS Git credential counts on its own.
//
// Proving "without hashing" from outside: each instance runs with ONE
// hashing slot (HashWorkers = 1) and a queue wait longer than any test step.
// The test occupies that slot with one deliberately expensive argon2id
// verification of its own (a "hold"). While a hold runs, no request on that
// instance can hash; a request that needs hashing waits for the slot. So an
// answer that arrives while its instance's hold is still running was given
// without hashing. This is causal, not a timing guess: if a hold happens to
// end too early (slow machine), the observation is merely inconclusive and
// the step is repeated with a longer hold; it never passes a server that
// hashed. Holds are sized from a calibration burst against an account that is
// already locked (how long 50 refusals take on this machine right now, e.g.
// under -race). The failed-verification audit events count the
// verifications that did run.

const (
	liPw    = "Twin-Instance-47"
	liWrong = "Wrong-Instance-93"
	liNew   = "Fresh-Instance-58" // a valid new password; never accepted (the old one is always wrong)

	liFailedTimes = 3
	liPeriodMin   = 15
	liLockMin     = 20
	liBurst       = 50

	// liHoldAttempts is how often a "without hashing" step is tried, the
	// hold doubling each time, before the test gives up as inconclusive.
	liHoldAttempts = 4
	liHoldMin      = 2 * time.Second
)

func init() {
	for _, s := range []string{liPw, liWrong, liNew} {
		rememberSecret(s)
	}
}

// liOpts: one hashing slot per instance (a hold blocks every verification of
// that instance) and a queue wait far longer than any hold (a verification
// waits for the slot instead of being abandoned as overloaded, which would
// give its attempt back and blur the counts); the bootstrap CIAM client, whose
// change-password-verify tells the remaining attempts.
func liOpts(c *config.Config) {
	c.HashWorkers = 1
	c.HashQueueWait = 5 * time.Minute
	c.BootstrapClientID, c.BootstrapClientSecret = ciamBootID, ciamBootSecret
}

// liPair starts instance A and instance B on A's database and sets the login
// policy (3 failures in 15 minutes lock for 20 minutes) through B.
func liPair(t *testing.T) (a, b *env, adm string) {
	t.Helper()
	a = newEnv(t, liOpts)
	b = newEnvOn(t, a.DSN, liOpts)
	adm = a.adminToken()
	r := b.do(req{Method: "PUT", Path: polPath(a.DomainID, "login-policy"), Token: adm,
		Body: map[string]any{"login_policy": map[string]any{"login_failed_times": liFailedTimes,
			"period_with_login_failures": liPeriodMin, "lockout_duration": liLockMin}}})
	lp := polObj(t, r, "login_policy")
	if polNum(t, lp, "login_failed_times") != liFailedTimes || polNum(t, lp, "lockout_duration") != liLockMin {
		t.Fatalf("login policy not applied: %s", r.Body)
	}
	// The policy written through B is what A reads.
	lp = polObj(t, a.do(req{Method: "GET", Path: polPath(a.DomainID, "login-policy"), Token: adm}), "login_policy")
	if polNum(t, lp, "login_failed_times") != liFailedTimes {
		t.Fatalf("instance A does not see the policy set on B: %v", lp)
	}
	return a, b, adm
}

// --- holding an instance's only hashing slot ---

// holdCost is the argon2id cost of a hold's PHC string.
type holdCost struct{ memKiB, passes uint32 }

func (c holdCost) phc() string {
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", c.memKiB, c.passes, b64(make([]byte, 16)), b64(make([]byte, 32)))
}

// liPerPass measures one argon2id pass over 4 MiB on e's hasher (its slot
// must be free), to size holds. Each hold then refines it (hashHold.perPass).
func liPerPass(t *testing.T, e *env) time.Duration {
	t.Helper()
	// Long enough that the fixed costs (allocation, first touch of the
	// memory) do not inflate the pass time.
	for passes := uint32(8); ; passes *= 4 {
		start := time.Now()
		if _, _, err := e.App.Hasher.Verify(context.Background(), "calibrate", holdCost{4096, passes}.phc()); err != nil {
			t.Fatalf("calibrate hold: %v", err)
		}
		if took := time.Since(start); took >= 200*time.Millisecond || passes >= 1000/4 {
			return max(took/time.Duration(passes), time.Microsecond)
		}
	}
}

// holdCostFor sizes a hold to last about target.
func holdCostFor(perPass, target time.Duration) holdCost {
	passes, mem := uint64(target/perPass)+1, uint64(4096)
	if passes > 1000 { // the hasher accepts at most 1000 passes: grow memory instead
		mem, passes = min(mem*passes/1000, 512*1024), 1000
	}
	return holdCost{uint32(mem), uint32(passes)}
}

// hashHold is one running hold.
type hashHold struct {
	done chan struct{}
	cost holdCost
	took time.Duration // set when done
}

// perPass is the time of one pass over 4 MiB this hold showed (under the
// load it was held in).
func (h *hashHold) perPass() time.Duration {
	return max(h.took*4096/time.Duration(h.cost.passes)/time.Duration(h.cost.memKiB), time.Microsecond)
}

// liRecalibrate returns the fastest pass time the ended holds showed, so that
// the next hold lasts at least as long as planned.
func liRecalibrate(perPass time.Duration, holds []*hashHold) time.Duration {
	if len(holds) == 0 {
		return perPass
	}
	p := holds[0].perPass()
	for _, h := range holds[1:] {
		p = min(p, h.perPass())
	}
	return p
}

// running reports whether the hold still occupies its instance's hashing
// slot. (The slot is given back a few instructions before done is closed; a
// request cannot hash, record its failure and answer within that gap.)
func (h *hashHold) running() bool {
	select {
	case <-h.done:
		return false
	default:
		return true
	}
}

// holdHashing occupies e's only hashing slot with one verification of cost c
// and returns once the slot is observed taken (nil when the hold ended before
// it could be observed: c was too small). Nothing else hashes on e while the
// hold starts: the test sends no request meanwhile.
func holdHashing(t *testing.T, e *env, c holdCost) *hashHold {
	t.Helper()
	h := &hashHold{done: make(chan struct{}), cost: c}
	phc := c.phc()
	start := time.Now()
	go func() {
		defer close(h.done)
		_, _, _ = e.App.Hasher.Verify(context.Background(), "hold", phc) // never matches; only its duration counts
		h.took = time.Since(start)
	}()
	t.Cleanup(func() { <-h.done })
	// A DummyVerify with a canceled context takes a free slot (and hashes
	// once, cheaply) but fails at once with Overloaded when the slot is taken.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	deadline := time.Now().Add(time.Minute)
	for {
		err := e.App.Hasher.DummyVerify(canceled, "probe")
		if fault.Is(err, fault.Overloaded) {
			return h
		}
		if err != nil {
			t.Fatalf("probe the hashing slot: %v", err)
		}
		if !h.running() {
			return nil
		}
		if time.Now().After(deadline) {
			t.Fatal("the hold never took the hashing slot")
		}
		time.Sleep(time.Millisecond)
	}
}

// holdBoth holds the hashing slot of every instance; nil when a hold was
// too short to be observed (then every started hold has ended).
func holdBoth(t *testing.T, insts []*env, c holdCost) []*hashHold {
	t.Helper()
	holds := make([]*hashHold, len(insts))
	for i, e := range insts {
		if holds[i] = holdHashing(t, e, c); holds[i] == nil {
			waitHolds(holds[:i])
			return nil
		}
	}
	return holds
}

func waitHolds(holds []*hashHold) {
	for _, h := range holds {
		if h != nil {
			<-h.done
		}
	}
}

// --- raw requests (safe from any goroutine: they never call t.Fatal) ---

// liClient has a deadline so a broken server cannot hang the test.
var liClient = &http.Client{Timeout: 3 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: liBurst}}

// liAnswer is one Keystone token answer.
type liAnswer struct {
	inst       int // 0: A, 1: B
	status     int
	code       string // error_code
	retryAfter string
	held       bool      // the answering instance's hold was still running when the answer arrived
	sent       time.Time // when the request was sent
	err        error
}

func liToken(base, name, password string) liAnswer {
	raw, err := json.Marshal(passwordAuth(name, password))
	if err != nil {
		return liAnswer{err: err}
	}
	sent := time.Now()
	res, err := liClient.Post(base+"/v3/auth/tokens?nocatalog=true", "application/json", bytes.NewReader(raw))
	if err != nil {
		return liAnswer{err: err}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return liAnswer{err: err}
	}
	a := liAnswer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), sent: sent}
	if res.StatusCode != http.StatusCreated {
		var env struct {
			Error struct {
				ErrorCode string `json:"error_code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Error.ErrorCode == "" {
			return liAnswer{err: fmt.Errorf("status %d, not a Keystone error: %s", res.StatusCode, body)}
		}
		a.code = env.Error.ErrorCode
	}
	return a
}

// liRetryAfter parses a Retry-After in seconds and checks its range.
func liRetryAfter(t *testing.T, what, ra string, lo, hi int) int {
	t.Helper()
	n, err := strconv.Atoi(ra)
	if err != nil || n < lo || n > hi {
		t.Errorf("%s: Retry-After %q, want seconds in [%d, %d]", what, ra, lo, hi)
	}
	return n
}

// --- observing the counters ---

var liRemainingRE = regexp.MustCompile(`Remaining attempts: (\d+)\.`)

// liCIAMWrong sends a wrong old password to CIAM change-password-verify on e
// and returns the remaining attempts the answer tells.
func liCIAMWrong(t *testing.T, e *env, ciamTok, uid string) int {
	t.Helper()
	msg := ciamError(t, ciamVerifyPassword(e, ciamTok, uid, liWrong, liNew), http.StatusBadRequest, "LOGIN.0002")
	m := liRemainingRE.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("LOGIN.0002 without the remaining attempts: %q", msg)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// liFailures returns the failed-verification audit events of a user and
// credential kind (one per verification that ran and did not match).
func liFailures(t *testing.T, e *env, adm, uid, credential string) []auditEvent {
	t.Helper()
	evs, next := auditList(t, e, adm, url.Values{"type": {"credential.verification_failed"}, "user_id": {uid}, "limit": {"1000"}})
	if next != "" {
		t.Fatalf("more failed verifications than a page: %s", next)
	}
	var out []auditEvent
	for _, ev := range evs {
		if ev.Detail["credential"] == credential {
			out = append(out, ev)
		}
	}
	return out
}

func liLocks(t *testing.T, e *env, adm, uid, credential string) []auditEvent {
	t.Helper()
	evs, _ := auditList(t, e, adm, url.Values{"type": {"credential.locked"}, "user_id": {uid}, "limit": {"1000"}})
	var out []auditEvent
	for _, ev := range evs {
		if ev.Detail["credential"] == credential {
			out = append(out, ev)
		}
	}
	return out
}

// liLockedUntil reads the end of the lock from a credential.locked event.
func liLockedUntil(t *testing.T, ev auditEvent) time.Time {
	t.Helper()
	until, err := time.Parse("2006-01-02T15:04:05.000000Z", ev.Detail["locked_until"])
	if err != nil {
		t.Fatalf("locked_until %q: %v", ev.Detail["locked_until"], err)
	}
	return until
}

func liRemainings(evs []auditEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Detail["remaining_attempts"])
	}
	slices.Sort(out)
	return out
}

// liGuesses sends n concurrent token requests for name with password,
// request i to insts[i%len(insts)], and marks each answer held when holds
// (may be nil) shows its instance's hold still running on arrival.
func liGuesses(insts []*env, holds []*hashHold, n int, name, password string) []liAnswer {
	answers := make([]liAnswer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			inst := i % len(insts)
			ans := liToken(insts[inst].URL, name, password)
			ans.inst = inst
			if holds != nil {
				ans.held = holds[inst].running()
			}
			answers[i] = ans
		})
	}
	close(start)
	wg.Wait()
	return answers
}

// liHoldTarget measures how long liBurst concurrent refusals of an already
// locked account take right now, spread over insts (no hashing involved), and
// returns a hold length comfortably above it: the holds themselves keep CPUs
// busy while the burst runs.
func liHoldTarget(t *testing.T, insts []*env, adm string) time.Duration {
	t.Helper()
	a := insts[0]
	const name = "calibrated"
	a.createUser(adm, name, liPw, nil)
	for range liFailedTimes {
		ksErr(t, a.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth(name, liWrong)}), http.StatusUnauthorized, "IAM.0062")
	}
	start := time.Now()
	for i, ans := range liGuesses(insts, nil, liBurst, name, liWrong) {
		if ans.err != nil || ans.status != http.StatusUnauthorized || ans.code != "IAM.0061" {
			t.Fatalf("calibration guess %d on a locked account: %d %s %v", i, ans.status, ans.code, ans.err)
		}
	}
	took := time.Since(start)
	t.Logf("%d refusals of a locked account took %v", liBurst, took)
	return max(liHoldMin, 8*took)
}

// frozenAt is a lockout clock stopped at t0 (both instances get the same one).
func frozenAt(t0 time.Time) func() time.Time { return func() time.Time { return t0 } }

// TestLockoutInstancesConcurrentGuesses: 50 concurrent wrong guesses spread
// over two instances verify at most login_failed_times passwords; the locked
// account answers without hashing on both; the lock ends by time; a success
// resets the shared counter.
func TestLockoutInstancesConcurrentGuesses(t *testing.T) {
	t.Parallel()
	a, b, adm := liPair(t)
	insts := []*env{a, b}
	perPass := liPerPass(t, a)
	target := liHoldTarget(t, insts, adm)

	// 1. The burst. Each attempt uses a fresh user; only the "without
	// hashing" proof can need a repeat (a hold that ended too early).
	var uid, name string
	for attempt := 1; ; attempt++ {
		name = fmt.Sprintf("herd%d", attempt)
		uid = a.createUser(adm, name, liPw, nil)
		holds := holdBoth(t, insts, holdCostFor(perPass, target))
		if holds == nil {
			if attempt == liHoldAttempts {
				t.Fatalf("no hold of up to %v could be observed", target)
			}
			target *= 2
			continue
		}
		answers := liGuesses(insts, holds, liBurst, name, liWrong) // spread evenly over A and B
		waitHolds(holds)
		perPass = liRecalibrate(perPass, holds)

		wrong, locked, refusedHeld := 0, 0, 0
		perInst := [2]int{}
		for i, ans := range answers {
			switch {
			case ans.err != nil:
				t.Fatalf("guess %d: %v", i, ans.err)
			case ans.status == http.StatusUnauthorized && ans.code == "IAM.0062":
				wrong++
				perInst[ans.inst]++
			case ans.status == http.StatusUnauthorized && ans.code == "IAM.0061":
				locked++
				if ans.retryAfter == "" {
					t.Errorf("guess %d: locked answer without Retry-After", i)
				}
				if ans.held {
					refusedHeld++
				}
			default:
				t.Fatalf("guess %d on instance %d: %d %s", i, ans.inst, ans.status, ans.code)
			}
		}
		if wrong != liFailedTimes || locked != liBurst-liFailedTimes {
			t.Fatalf("%d wrong-password answers (IAM.0062) and %d locked (IAM.0061), want %d and %d",
				wrong, locked, liFailedTimes, liBurst-liFailedTimes)
		}
		t.Logf("attempt %d: IAM.0062 per instance %v; %d of %d refusals answered while hashing was held (holds of %v and %v)",
			attempt, perInst, refusedHeld, locked, holds[0].took.Round(time.Millisecond), holds[1].took.Round(time.Millisecond))

		// The verifications that ran: exactly one failure event each, read
		// through the other instance.
		fails := liFailures(t, b, adm, uid, "password")
		if got := liRemainings(fails); !slices.Equal(got, []string{"0", "1", "2"}) {
			t.Fatalf("failed verifications: remaining_attempts %v, want exactly [0 1 2] (one per verification)", got)
		}
		locks := liLocks(t, a, adm, uid, "password")
		if len(locks) != 1 || locks[0].Detail["failures"] != strconv.Itoa(liFailedTimes) ||
			locks[0].Detail["lockout_minutes"] != strconv.Itoa(liLockMin) {
			t.Fatalf("lock events %+v, want exactly one", locks)
		}
		// Refused before the lock (attempts in flight): the window's end,
		// 15 minutes; after it: the lock's end, 20 minutes. Either way no
		// later than the lock's end as seen from when the request was sent.
		// (Not "<= lockout_duration": lockout.Begin reads its clock before
		// its UPDATE, which can wait while another instance sets the lock,
		// so a refusal may say 1201 seconds for a 20-minute lock.)
		until := liLockedUntil(t, locks[0])
		for i, ans := range answers {
			if ans.code == "IAM.0061" {
				hi := int((until.Sub(ans.sent) + time.Second - 1) / time.Second)
				liRetryAfter(t, fmt.Sprintf("guess %d", i), ans.retryAfter, 1, hi)
			}
		}
		if refusedHeld == locked {
			break // every refusal was answered while neither instance could hash
		}
		if attempt == liHoldAttempts {
			t.Fatalf("%d of %d refusals were answered only after the hashing slot was free again, with holds of up to %v: "+
				"the locked account was verified by hashing (or the machine is extremely slow)", locked-refusedHeld, locked, target)
		}
		target *= 2
	}

	// Both instances see the lock.
	ciamA, ciamB := ciamBootToken(t, a), ciamBootToken(t, b)
	if u := ciamShow(t, b, ciamB, uid); u["locked"] != "true" {
		t.Errorf("CIAM locked = %#v on instance B, want \"true\"", u["locked"])
	}
	st, err := a.App.Lockout.Status(context.Background(), uid, lockout.KindPassword)
	if err != nil || !st.Locked {
		t.Fatalf("status %+v, %v: want locked", st, err)
	}

	// 2. The right password on either instance is refused, without hashing
	// (two sequential requests: the shortest hold is plenty).
	target = liHoldMin
	for attempt := 1; ; attempt++ {
		holds := holdBoth(t, insts, holdCostFor(perPass, target))
		if holds == nil {
			if attempt == liHoldAttempts {
				t.Fatalf("no hold of up to %v could be observed", target)
			}
			target *= 2
			continue
		}
		var answers [2]liAnswer
		for i, e := range insts {
			answers[i] = liToken(e.URL, name, liPw)
			answers[i].held = holds[i].running()
		}
		waitHolds(holds)
		perPass = liRecalibrate(perPass, holds)
		for i, ans := range answers {
			if ans.err != nil || ans.status != http.StatusUnauthorized || ans.code != "IAM.0061" {
				t.Fatalf("right password on instance %d while locked: %d %s %v", i, ans.status, ans.code, ans.err)
			}
			// The lock's time, not the 15-minute window.
			liRetryAfter(t, "locked", ans.retryAfter, liPeriodMin*60+1, liLockMin*60)
		}
		if answers[0].held && answers[1].held {
			break
		}
		if attempt == liHoldAttempts {
			t.Fatalf("the locked answers waited for the hashing slot, with holds of up to %v: "+
				"the locked account was verified by hashing (or the machine is extremely slow)", target)
		}
		target *= 2
	}
	// The right password, refused, was no verification: still 3 failures.
	if n := len(liFailures(t, a, adm, uid, "password")); n != liFailedTimes {
		t.Fatalf("%d failed verifications after the refusals, want %d", n, liFailedTimes)
	}

	// The lock ends by time only. Both instances' lockout clocks are frozen
	// at the same instants, taken from the lock event.
	until := liLockedUntil(t, liLocks(t, b, adm, uid, "password")[0])
	if d := time.Until(until); d <= liPeriodMin*time.Minute || d > liLockMin*time.Minute {
		t.Fatalf("locked until %v from now, want lockout_duration (%d minutes)", d, liLockMin)
	}
	for _, e := range insts {
		e.App.Lockout.SetClock(frozenAt(until.Add(-time.Second)))
	}
	for i, e := range insts {
		ans := liToken(e.URL, name, liPw)
		if ans.err != nil || ans.code != "IAM.0061" {
			t.Fatalf("one second before the end, instance %d: %d %s %v", i, ans.status, ans.code, ans.err)
		}
		liRetryAfter(t, "one second before the end", ans.retryAfter, 1, 1)
	}
	for _, e := range insts {
		e.App.Lockout.SetClock(frozenAt(until.Add(time.Second)))
	}
	b.token(name, liPw) // the right password works on B
	if n := liCIAMWrong(t, a, ciamA, uid); n != liFailedTimes-1 {
		t.Fatalf("first wrong guess after the lock on A: %d remaining, want %d (a full counter)", n, liFailedTimes-1)
	}
	if n := liCIAMWrong(t, b, ciamB, uid); n != liFailedTimes-2 {
		t.Fatalf("second wrong guess, on B: %d remaining, want %d (the counter is shared)", n, liFailedTimes-2)
	}
	a.token(name, liPw) // a success on A resets the counter for both
	if n := liCIAMWrong(t, b, ciamB, uid); n != liFailedTimes-1 {
		t.Fatalf("wrong guess on B after a success on A: %d remaining, want %d (reset)", n, liFailedTimes-1)
	}
	// Keystone and CIAM share the counter: the third failure locks again,
	// for lockout_duration from the (frozen) now.
	ksErr(t, a.do(req{Method: "POST", Path: "/v3/auth/tokens", Body: passwordAuth(name, liWrong)}), http.StatusUnauthorized, "IAM.0062")
	if n := liCIAMWrong(t, b, ciamB, uid); n != 0 {
		t.Fatalf("third wrong guess: %d remaining, want 0", n)
	}
	for i, e := range insts {
		ans := liToken(e.URL, name, liPw)
		if ans.err != nil || ans.code != "IAM.0061" {
			t.Fatalf("locked again, instance %d: %d %s %v", i, ans.status, ans.code, ans.err)
		}
		liRetryAfter(t, "locked again", ans.retryAfter, liLockMin*60, liLockMin*60)
	}
	ciamError(t, ciamVerifyPassword(b, ciamB, uid, liPw, liNew), http.StatusBadRequest, "LOGIN.0001")
	// burst 2,1,0; after the lock 2,1; after the success 2, 1 (Keystone), 0.
	if got := liRemainings(liFailures(t, a, adm, uid, "password")); !slices.Equal(got, []string{"0", "0", "1", "1", "1", "2", "2", "2"}) {
		t.Errorf("failed verifications overall: remaining_attempts %v", got)
	}
	if n := len(liLocks(t, a, adm, uid, "password")); n != 2 {
		t.Errorf("%d lock events, want 2", n)
	}
	// Other accounts were never affected.
	a.adminToken()
	b.adminToken()
}

// TestLockoutInstancesSeparateCounters: locking the HTTPS Git credential on
// instance A (validate-https-info) leaves the console login's counter alone,
// on instance B as well.
func TestLockoutInstancesSeparateCounters(t *testing.T) {
	t.Parallel()
	a, b, adm := liPair(t)
	const name = "gitpair"
	uid := a.createUser(adm, name, liPw, nil)
	tokA, tokB := a.token(name, liPw), b.token(name, liPw)
	path := "/v2/user/" + uid + "/validate-https-info"

	for i := 1; i <= liFailedTimes; i++ {
		r := a.do(req{Method: "POST", Path: path, Token: tokA, Body: map[string]any{"pwd": liWrong}})
		mustStatus(t, r, http.StatusOK)
		if code := errorCode(t, r); code != "CH.010008" {
			t.Fatalf("wrong HTTPS password %d: %s: %s", i, code, r.Body)
		}
	}
	// Locked on both instances, even for the right password.
	for i, c := range []struct {
		e   *env
		tok string
	}{{a, tokA}, {b, tokB}} {
		r := c.e.do(req{Method: "POST", Path: path, Token: c.tok, Body: map[string]any{"pwd": liPw}})
		mustStatus(t, r, http.StatusTooManyRequests)
		if code := errorCode(t, r); code != "APIG.0308" {
			t.Fatalf("instance %d: locked HTTPS validation: %s: %s", i, code, r.Body)
		}
		liRetryAfter(t, "HTTPS lock", r.Header.Get("Retry-After"), liPeriodMin*60+1, liLockMin*60)
	}

	// The console password's counter is untouched (its full remaining
	// attempts, seen on B), and the console login works on B.
	ciamB := ciamBootToken(t, b)
	if n := liCIAMWrong(t, b, ciamB, uid); n != liFailedTimes-1 {
		t.Fatalf("console password after the HTTPS lock: %d remaining, want %d", n, liFailedTimes-1)
	}
	if u := ciamShow(t, b, ciamB, uid); u["locked"] != "false" {
		t.Errorf("CIAM locked = %#v, want \"false\" (only HTTPS Git is locked)", u["locked"])
	}
	b.token(name, liPw)

	if got := liRemainings(liFailures(t, b, adm, uid, "https")); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Errorf("HTTPS failed verifications: remaining_attempts %v", got)
	}
	if n := len(liLocks(t, b, adm, uid, "https")); n != 1 {
		t.Errorf("%d HTTPS lock events, want 1", n)
	}
	if n := len(liLocks(t, b, adm, uid, "password")); n != 0 {
		t.Errorf("%d console-password lock events, want 0", n)
	}
	for kind, want := range map[lockout.Kind]bool{lockout.KindHTTPS: true, lockout.KindPassword: false} {
		st, err := b.App.Lockout.Status(context.Background(), uid, kind)
		if err != nil || st.Locked != want {
			t.Errorf("status of %s: %+v, %v; want locked=%v", kind, st, err, want)
		}
	}
}
