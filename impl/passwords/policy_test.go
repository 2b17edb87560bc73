package passwords

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
)

// bare is a policy with every optional rule off, so a test can switch on
// exactly the rule it looks at.
func bare() Policy {
	return Policy{MinLength: 8, MaxLength: 32, CharCombination: 2}
}

func rules(vs []Violation) []Rule {
	out := []Rule{}
	for _, v := range vs {
		out = append(out, v.Rule)
	}
	return out
}

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) *time.Time { t := now.Add(-d); return &t }

func mustHash(t *testing.T, h *Hasher, pw string) string {
	t.Helper()
	phc, err := h.Hash(context.Background(), pw)
	if err != nil {
		t.Fatal(err)
	}
	return phc
}

type ruleCase struct {
	name      string
	policy    Policy
	candidate string
	subject   Subject
	opts      CheckOptions
	want      []Rule // nil = no violation
}

func runRuleCases(t *testing.T, h *Hasher, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Now.IsZero() {
				tc.opts.Now = now
			}
			vs, err := tc.policy.Evaluate(context.Background(), h, tc.candidate, tc.subject, tc.opts)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			want := tc.want
			if want == nil {
				want = []Rule{}
			}
			if got := rules(vs); !reflect.DeepEqual(got, want) {
				t.Fatalf("Evaluate(%q) rules = %v, want %v", tc.candidate, got, want)
			}
			for _, v := range vs {
				if v.Message == "" {
					t.Errorf("rule %s has no message", v.Rule)
				}
				if len(tc.candidate) >= 3 && strings.Contains(v.Message, tc.candidate) {
					t.Errorf("rule %s message echoes the password: %q", v.Rule, v.Message)
				}
			}
			// Check agrees with Evaluate on the first violation.
			err = tc.policy.Check(context.Background(), h, tc.candidate, tc.subject, tc.opts)
			if len(vs) == 0 {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			fe := fault.As(err)
			if fe == nil || fe.Rule != string(vs[0].Rule) || fe.Message != vs[0].Message || !reflect.DeepEqual(fe.Params, vs[0].Params) {
				t.Fatalf("Check = %#v, want the first violation %+v", err, vs[0])
			}
		})
	}
}

func with(p Policy, f func(*Policy)) Policy { f(&p); return p }

func TestLengthAndCharacters(t *testing.T) {
	min10 := with(bare(), func(p *Policy) { p.MinLength = 10 })
	comb := func(n int) Policy { return with(bare(), func(p *Policy) { p.CharCombination = n }) }
	runRuleCases(t, nil, []ruleCase{
		{name: "len 7 of min 8", policy: bare(), candidate: "abcdef1", want: []Rule{RuleLength}},
		{name: "len 8 of min 8", policy: bare(), candidate: "abcdefg1"},
		{name: "len 9 of min 8", policy: bare(), candidate: "abcdefgh1"},
		{name: "len 9 of min 10", policy: min10, candidate: "abcdefgh1", want: []Rule{RuleLength}},
		{name: "len 10 of min 10", policy: min10, candidate: "abcdefghi1"},
		{name: "len 11 of min 10", policy: min10, candidate: "abcdefghij1"},
		{name: "len 31", policy: bare(), candidate: strings.Repeat("a", 30) + "1"},
		{name: "len 32", policy: bare(), candidate: strings.Repeat("a", 31) + "1"},
		{name: "len 33", policy: bare(), candidate: strings.Repeat("a", 32) + "1", want: []Rule{RuleLength}},
		{name: "max 0 reads as 32", policy: with(bare(), func(p *Policy) { p.MaxLength = 0 }), candidate: strings.Repeat("a", 32) + "1", want: []Rule{RuleLength}},
		{name: "runes not bytes: 8 runes 16 bytes", policy: bare(), candidate: "éééééé1é"},
		{name: "runes not bytes: 32 runes", policy: bare(), candidate: strings.Repeat("é", 31) + "1"},
		{name: "runes not bytes: 7 runes", policy: bare(), candidate: "éééééé1", want: []Rule{RuleLength}},

		{name: "comb 2: one type", policy: comb(2), candidate: "abcdefgh", want: []Rule{RuleCharCombination}},
		{name: "comb 2: two types", policy: comb(2), candidate: "abcdefg1"},
		{name: "comb 2: digits only", policy: comb(2), candidate: "73920184", want: []Rule{RuleCharCombination}},
		{name: "comb 3: two types", policy: comb(3), candidate: "abcdefg1", want: []Rule{RuleCharCombination}},
		{name: "comb 3: three types", policy: comb(3), candidate: "Abcdefg1"},
		{name: "comb 4: three types", policy: comb(4), candidate: "Abcdefg1", want: []Rule{RuleCharCombination}},
		{name: "comb 4: four types", policy: comb(4), candidate: "Abcdef1!"},
		{name: "comb 4: space is special", policy: comb(4), candidate: "Abcdef1 "},
		{name: "comb 4: tilde is special", policy: comb(4), candidate: "Abcdef1~"},
		{name: "comb 3: non-ASCII upper counts", policy: comb(3), candidate: "Äbcdefg1"},
		{name: "comb 3: non-ASCII lower counts", policy: comb(3), candidate: "ABCDEFß1"},
		{name: "comb 2: CJK counts for nothing", policy: comb(2), candidate: "密码密码密码12", want: []Rule{RuleCharCombination}},
		{name: "comb 2: emoji counts for nothing", policy: comb(2), candidate: "🙂🙂🙂🙂🙂🙂🙂1", want: []Rule{RuleCharCombination}},
		{name: "comb 2: CJK allowed beside two types", policy: comb(2), candidate: "密码密码a1b2"},
		{name: "control char", policy: bare(), candidate: "Abcdef1\t!", want: []Rule{RuleCharCombination}},
		{name: "DEL", policy: bare(), candidate: "Abcdef1\x7f!", want: []Rule{RuleCharCombination}},
		{name: "NUL and one type", policy: bare(), candidate: "abcdefgh\x00", want: []Rule{RuleCharCombination, RuleCharCombination}},
		{name: "invalid UTF-8", policy: bare(), candidate: "Abcdef1\xff!", want: []Rule{RuleCharCombination}},
		{name: "literal U+FFFD is fine", policy: bare(), candidate: "Abcdef1\uFFFD"},
	})
}

func TestUsernameRules(t *testing.T) {
	s := Subject{UserName: "Dev.User1"}
	noInvert := with(bare(), func(p *Policy) { p.NotUsernameOrInvert = false })
	invert := with(bare(), func(p *Policy) { p.NotUsernameOrInvert = true })
	personal := with(bare(), func(p *Policy) { p.CheckPersonalInfo = true })
	both := with(invert, func(p *Policy) { p.CheckPersonalInfo = true })
	runRuleCases(t, nil, []ruleCase{
		{name: "username exact", policy: invert, candidate: "Dev.User1", subject: s, want: []Rule{RuleUsername}},
		{name: "username other case", policy: invert, candidate: "dEV.uSER1", subject: s, want: []Rule{RuleUsername}},
		{name: "username reversed", policy: invert, candidate: "1resU.veD", subject: s, want: []Rule{RuleUsernameReversed}},
		{name: "username reversed other case", policy: invert, candidate: "1RESU.VED", subject: s, want: []Rule{RuleUsernameReversed}},
		{name: "username off", policy: noInvert, candidate: "Dev.User1", subject: s},
		{name: "reversed off", policy: noInvert, candidate: "1resU.veD", subject: s},
		{name: "no username", policy: invert, candidate: "Dev.User1"},
		{name: "exact is not also contains", policy: both, candidate: "Dev.User1", subject: s, want: []Rule{RuleUsername}},
		{name: "contains when exact rule off", policy: personal, candidate: "Dev.User1", subject: s, want: []Rule{RuleContainsUsername}},
		{name: "contains username", policy: personal, candidate: "x!dev.user1!x", subject: s, want: []Rule{RuleContainsUsername}},
		{name: "contains off", policy: invert, candidate: "x!dev.user1!x", subject: s},
		{name: "short username ignored", policy: personal, candidate: "xboxboxbox1", subject: Subject{UserName: "bo"}},
		{name: "3-char username counted", policy: personal, candidate: "xbobxbob1", subject: Subject{UserName: "bob"}, want: []Rule{RuleContainsUsername}},
		{name: "palindrome username is one violation", policy: both, candidate: "abc1221cba", subject: Subject{UserName: "ABC1221CBA"}, want: []Rule{RuleUsername}},
	})
}

func TestPersonalInfo(t *testing.T) {
	p := with(bare(), func(p *Policy) { p.CheckPersonalInfo = true })
	off := bare()
	phone := Subject{AreaCode: "+86", Phone: "13800138000"}
	runRuleCases(t, nil, []ruleCase{
		{name: "phone", policy: p, candidate: "Pw13800138000", subject: phone, want: []Rule{RuleContainsPhone}},
		{name: "phone with area code", policy: p, candidate: "x+8613800138000", subject: phone, want: []Rule{RuleContainsPhone}},
		{name: "phone, one digit short", policy: p, candidate: "Pw1380013800", subject: phone},
		{name: "phone off", policy: off, candidate: "Pw13800138000", subject: phone},
		{name: "phone formatted in store", policy: p, candidate: "Pw13800138000", subject: Subject{Phone: "138 0013-8000"}, want: []Rule{RuleContainsPhone}},
		{name: "phone stored with 0086 prefix", policy: p, candidate: "Pw13800138000", subject: Subject{AreaCode: "0086", Phone: "0086-13800138000"}, want: []Rule{RuleContainsPhone}},
		{name: "phone stored with +86 prefix", policy: p, candidate: "Pw13800138000", subject: Subject{AreaCode: "+86", Phone: "+8613800138000"}, want: []Rule{RuleContainsPhone}},
		{name: "phone too short ignored", policy: p, candidate: "ab12cd12ef", subject: Subject{Phone: "12"}},

		{name: "email full", policy: p, candidate: "JOHN.DOE@example.com1", subject: Subject{Email: "john.doe@example.com"}, want: []Rule{RuleContainsEmail}},
		{name: "email local part", policy: p, candidate: "John.Doe!2024", subject: Subject{Email: "john.doe@example.com"}, want: []Rule{RuleContainsEmail}},
		{name: "email domain alone is fine", policy: p, candidate: "example.com!1", subject: Subject{Email: "john.doe@example.com"}},
		{name: "email short local part ignored", policy: p, candidate: "Xjo12345", subject: Subject{Email: "jo@x.io"}},
		{name: "email short address still checked", policy: p, candidate: "AAjo@x.io1", subject: Subject{Email: "jo@x.io"}, want: []Rule{RuleContainsEmail}},
		{name: "email off", policy: off, candidate: "John.Doe!2024", subject: Subject{Email: "john.doe@example.com"}},

		{name: "name joined", policy: p, candidate: "zhangwei#2024", subject: Subject{DisplayName: "Zhang Wei"}, want: []Rule{RuleContainsName}},
		{name: "name with space", policy: p, candidate: "Zhang Wei#2024", subject: Subject{DisplayName: "Zhang Wei"}, want: []Rule{RuleContainsName}},
		{name: "name long part", policy: p, candidate: "ZHANG#2024x", subject: Subject{DisplayName: "Zhang Wei"}, want: []Rule{RuleContainsName}},
		{name: "name short part ignored", policy: p, candidate: "Weixyz#2024", subject: Subject{DisplayName: "Zhang Wei"}},
		{name: "short name ignored", policy: p, candidate: "Lixyz#2024", subject: Subject{DisplayName: "Li"}},
		{name: "3-rune name counted", policy: p, candidate: "xLiu#2024", subject: Subject{DisplayName: "Liu"}, want: []Rule{RuleContainsName}},
		{name: "CJK name", policy: p, candidate: "张伟ab12cd34", subject: Subject{DisplayName: "张伟"}},
		{name: "CJK name 3 runes", policy: p, candidate: "欧阳娜ab12cd34", subject: Subject{DisplayName: "欧阳娜"}, want: []Rule{RuleContainsName}},
		{name: "name off", policy: off, candidate: "zhangwei#2024", subject: Subject{DisplayName: "Zhang Wei"}},
	})
}

func TestConsecutiveIdentical(t *testing.T) {
	lim := func(n int) Policy { return with(bare(), func(p *Policy) { p.MaxConsecutiveIdentical = n }) }
	runRuleCases(t, nil, []ruleCase{
		{name: "limit 3, run 3", policy: lim(3), candidate: "Abcdeee1"},
		{name: "limit 3, run 4", policy: lim(3), candidate: "Abcdeeee1", want: []Rule{RuleConsecutiveIdentical}},
		{name: "limit 3, run 2", policy: lim(3), candidate: "Abcdee12"},
		{name: "limit 1, run 1", policy: lim(1), candidate: "Abcdefg1"},
		{name: "limit 1, run 2", policy: lim(1), candidate: "Abcdeff1", want: []Rule{RuleConsecutiveIdentical}},
		{name: "case matters", policy: lim(1), candidate: "AaBbCc12"},
		{name: "multibyte run", policy: lim(2), candidate: "Abééé123", want: []Rule{RuleConsecutiveIdentical}},
		{name: "off", policy: lim(0), candidate: "Aaaaaaaaaaa1"},
		{name: "limit 32", policy: lim(32), candidate: strings.Repeat("a", 31) + "1"},
	})
	vs, _ := lim(3).Evaluate(context.Background(), nil, "Abcdeeee1", Subject{}, CheckOptions{})
	if !reflect.DeepEqual(vs[0].Params, []string{"3"}) {
		t.Fatalf("Params = %v, want [3]", vs[0].Params)
	}
}

func TestMinimumAge(t *testing.T) {
	p := with(bare(), func(p *Policy) { p.MinAge = 60 * time.Minute })
	runRuleCases(t, nil, []ruleCase{
		{name: "59m ago", policy: p, candidate: "Abcdefg1", subject: Subject{PasswordChangedAt: ago(59 * time.Minute)}, want: []Rule{RuleMinimumAge}},
		{name: "59m59s ago", policy: p, candidate: "Abcdefg1", subject: Subject{PasswordChangedAt: ago(59*time.Minute + 59*time.Second)}, want: []Rule{RuleMinimumAge}},
		{name: "60m ago", policy: p, candidate: "Abcdefg1", subject: Subject{PasswordChangedAt: ago(60 * time.Minute)}},
		{name: "61m ago", policy: p, candidate: "Abcdefg1", subject: Subject{PasswordChangedAt: ago(61 * time.Minute)}},
		{name: "never changed", policy: p, candidate: "Abcdefg1"},
		{name: "admin reset exempt", policy: p, candidate: "Abcdefg1", subject: Subject{PasswordChangedAt: ago(time.Minute)}, opts: CheckOptions{AdminReset: true}},
		{name: "off", policy: bare(), candidate: "Abcdefg1", subject: Subject{PasswordChangedAt: ago(0)}},
	})
	for _, tc := range []struct {
		ago  time.Duration
		want string
	}{
		{59 * time.Minute, "the password can be changed again in 1 minute"},
		{59*time.Minute + 59*time.Second, "the password can be changed again in 1 minute"},
		{35*time.Minute + 30*time.Second, "the password can be changed again in 25 minutes"},
		{0, "the password can be changed again in 60 minutes"},
		{-time.Hour, "the password can be changed again in 60 minutes"}, // clock skew: capped
	} {
		err := p.Check(context.Background(), nil, "Abcdefg1", Subject{PasswordChangedAt: ago(tc.ago)}, CheckOptions{Now: now})
		fe := fault.As(err)
		if fe == nil || fe.Reason != fault.PasswordPolicy || fe.Rule != "minimum_age" {
			t.Fatalf("ago %v: Check = %v", tc.ago, err)
		}
		if !reflect.DeepEqual(fe.Params, []string{tc.want}) {
			t.Errorf("ago %v: Params = %q, want [%q]", tc.ago, fe.Params, tc.want)
		}
	}
}

func TestWeakRule(t *testing.T) {
	p := with(bare(), func(p *Policy) { p.CheckWeak = true })
	runRuleCases(t, nil, []ruleCase{
		{name: "P@ssw0rd", policy: p, candidate: "P@ssw0rd", want: []Rule{RuleWeak}},
		{name: "Pa$$w0rd!", policy: p, candidate: "Pa$$w0rd!", want: []Rule{RuleWeak}},
		{name: "password123!", policy: p, candidate: "password123!", want: []Rule{RuleWeak}},
		{name: "Password1", policy: p, candidate: "Password1", want: []Rule{RuleWeak}},
		{name: "Summer2024!", policy: p, candidate: "Summer2024!", want: []Rule{RuleWeak}},
		{name: "123Qwerty", policy: p, candidate: "123Qwerty", want: []Rule{RuleWeak}},
		{name: "1L0v3Y0u!", policy: p, candidate: "1L0v3Y0u!", want: []Rule{RuleWeak}},
		{name: "strong", policy: p, candidate: "Xq7#mLp2vR"},
		{name: "off", policy: bare(), candidate: "P@ssw0rd"},
	})
}

func TestSameAsCurrentAndHistory(t *testing.T) {
	h := newTestHasher()
	cur := mustHash(t, h, "Current#1")
	h1 := mustHash(t, h, "Older#001") // newest previous
	h2 := mustHash(t, h, "Older#002")
	h3 := mustHash(t, h, "Older#003")
	withCur := Subject{CurrentHash: cur, History: []string{h1, h2, h3}}
	noCur := Subject{History: []string{h1, h2, h3}}
	recent := func(n int) Policy { return with(bare(), func(p *Policy) { p.RecentDisallowed = n }) }
	runRuleCases(t, h, []ruleCase{
		{name: "same as current", policy: bare(), candidate: "Current#1", subject: withCur, want: []Rule{RuleSameAsCurrent}},
		{name: "same as current, admin reset", policy: bare(), candidate: "Current#1", subject: withCur, opts: CheckOptions{AdminReset: true}, want: []Rule{RuleSameAsCurrent}},
		{name: "different from current", policy: bare(), candidate: "Another#1", subject: withCur},
		{name: "history off", policy: recent(0), candidate: "Older#001", subject: withCur},
		// N counts the current password: N=1 is the current one only.
		{name: "N=1 is current only", policy: recent(1), candidate: "Older#001", subject: withCur},
		{name: "N=2 covers newest previous", policy: recent(2), candidate: "Older#001", subject: withCur, want: []Rule{RuleHistory}},
		{name: "N=2 not the second", policy: recent(2), candidate: "Older#002", subject: withCur},
		{name: "N=3 covers the second", policy: recent(3), candidate: "Older#002", subject: withCur, want: []Rule{RuleHistory}},
		{name: "N=3 not the third", policy: recent(3), candidate: "Older#003", subject: withCur},
		{name: "N=4 covers the third", policy: recent(4), candidate: "Older#003", subject: withCur, want: []Rule{RuleHistory}},
		{name: "N=24 beyond history", policy: recent(24), candidate: "Older#003", subject: withCur, want: []Rule{RuleHistory}},
		{name: "N=24 fresh password", policy: recent(24), candidate: "Fresh#123", subject: withCur},
		{name: "no current: N=2 covers two", policy: recent(2), candidate: "Older#002", subject: noCur, want: []Rule{RuleHistory}},
		{name: "no current: N=2 not three", policy: recent(2), candidate: "Older#003", subject: noCur},
		{name: "history starting with current", policy: recent(3), candidate: "Older#002",
			subject: Subject{CurrentHash: cur, History: []string{cur, h1, h2, h3}}, want: []Rule{RuleHistory}},
		{name: "history starting with current, depth", policy: recent(3), candidate: "Older#003",
			subject: Subject{CurrentHash: cur, History: []string{cur, h1, h2, h3}}},
		{name: "admin reset still checks history", policy: recent(3), candidate: "Older#002", subject: withCur, opts: CheckOptions{AdminReset: true}, want: []Rule{RuleHistory}},
	})

	err := recent(5).Check(context.Background(), h, "Current#1", withCur, CheckOptions{})
	if fe := fault.As(err); fe == nil || fe.Reason != fault.PasswordSame || fe.Rule != "same_as_current" {
		t.Fatalf("Check(same) = %v, want PasswordSame", err)
	}
	err = recent(5).Check(context.Background(), h, "Older#003", withCur, CheckOptions{})
	if fe := fault.As(err); fe == nil || fe.Reason != fault.PasswordPolicy || fe.Rule != "history" || !reflect.DeepEqual(fe.Params, []string{"5"}) {
		t.Fatalf("Check(history) = %#v", err)
	}
}

func TestHashErrorsSurface(t *testing.T) {
	ctx := context.Background()
	h := newTestHasher()
	cur := mustHash(t, h, "Current#1")

	// No hasher but hashes to verify: an error, not a pass.
	if _, err := bare().Evaluate(ctx, nil, "Another#1", Subject{CurrentHash: cur}, CheckOptions{}); err == nil {
		t.Fatal("Evaluate without a hasher succeeded")
	}
	// A malformed stored hash is an error.
	_, err := with(bare(), func(p *Policy) { p.RecentDisallowed = 3 }).
		Evaluate(ctx, h, "Another#1", Subject{CurrentHash: cur, History: []string{"garbage"}}, CheckOptions{})
	if err == nil || fault.As(err) != nil {
		t.Fatalf("Evaluate with a malformed history hash = %v, want a plain error", err)
	}
	// Overload surfaces as fault.Overloaded.
	busy := NewHasher(fastParams, 1, 10*time.Millisecond)
	busy.slots <- struct{}{}
	err = bare().Check(ctx, busy, "Another#1", Subject{CurrentHash: cur}, CheckOptions{})
	wantOverloaded(t, err)
	// Check stops before the expensive rules: with a cheap violation the
	// busy hasher is never asked.
	err = bare().Check(ctx, busy, "short", Subject{CurrentHash: cur}, CheckOptions{})
	if fe := fault.As(err); fe == nil || fe.Rule != "length" {
		t.Fatalf("Check = %v, want the length violation", err)
	}
}

func TestEvaluateAllViolations(t *testing.T) {
	h := newTestHasher()
	ctx := context.Background()
	p := DefaultPolicy()
	p.MaxConsecutiveIdentical = 2
	p.RecentDisallowed = 3
	p.MinAge = time.Hour
	s := Subject{
		UserName:          "alice",
		DisplayName:       "Alice Liddell",
		Email:             "alice@example.com",
		Phone:             "5550100",
		PasswordChangedAt: ago(time.Minute),
	}
	vs, err := p.Evaluate(ctx, h, "aliceeee5550100", s, CheckOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{RuleContainsUsername, RuleContainsPhone, RuleContainsEmail, RuleContainsName, RuleConsecutiveIdentical, RuleMinimumAge}
	if got := rules(vs); !reflect.DeepEqual(got, want) {
		t.Fatalf("rules = %v, want %v", got, want)
	}

	// Cheap and expensive rules together: the candidate is the current
	// password, also in history (another salt), and too short and weak.
	cur := mustHash(t, h, "monkey")
	s2 := Subject{UserName: "bob", CurrentHash: cur, History: []string{mustHash(t, h, "x"), mustHash(t, h, "monkey")}}
	vs, err = p.Evaluate(ctx, h, "monkey", s2, CheckOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want = []Rule{RuleLength, RuleCharCombination, RuleWeak, RuleSameAsCurrent, RuleHistory}
	if got := rules(vs); !reflect.DeepEqual(got, want) {
		t.Fatalf("rules = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(vs[0].Params, []string{"8", "32"}) {
		t.Errorf("length Params = %v", vs[0].Params)
	}
	if !reflect.DeepEqual(vs[1].Params, []string{"use at least 2 of: uppercase letters, lowercase letters, digits, special characters"}) {
		t.Errorf("char_combination Params = %v", vs[1].Params)
	}

	// Check returns the first of them.
	err = p.Check(ctx, h, "monkey", s2, CheckOptions{Now: now})
	fe := fault.As(err)
	if fe == nil || fe.Reason != fault.PasswordPolicy || fe.Rule != "length" || !reflect.DeepEqual(fe.Params, []string{"8", "32"}) ||
		fe.Message != "The password must be 8 to 32 characters long." {
		t.Fatalf("Check = %#v", err)
	}
}

func TestCheckFaults(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		policy    Policy
		candidate string
		reason    fault.Reason
		rule      string
		params    []string
		message   string
	}{
		{"length", DefaultPolicy(), "Ab1", fault.PasswordPolicy, "length", []string{"8", "32"}, "The password must be 8 to 32 characters long."},
		{"combination", with(DefaultPolicy(), func(p *Policy) { p.CharCombination = 3 }), "xkcdzqvw1", fault.PasswordPolicy, "char_combination",
			[]string{"use at least 3 of: uppercase letters, lowercase letters, digits, special characters"},
			"The password must contain at least 3 of: uppercase letters, lowercase letters, digits, special characters."},
		{"consecutive", with(DefaultPolicy(), func(p *Policy) { p.MaxConsecutiveIdentical = 2 }), "Xkcd111zq", fault.PasswordPolicy, "consecutive_identical",
			[]string{"2"}, "The password must not repeat a character more than 2 times in a row."},
		{"weak", DefaultPolicy(), "P@ssw0rd1", fault.PasswordWeak, "weak", nil, "The password is too common or too easy to guess."},
		{"ok", DefaultPolicy(), "Xkcd-zq7Lm", "", "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(ctx, nil, tc.candidate, Subject{UserName: "someone"}, CheckOptions{})
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			fe := fault.As(err)
			if fe == nil {
				t.Fatalf("Check = %v, want a fault", err)
			}
			if fe.Reason != tc.reason || fe.Rule != tc.rule || !reflect.DeepEqual(fe.Params, tc.params) || fe.Message != tc.message {
				t.Fatalf("Check = {%s %s %q %q}, want {%s %s %q %q}", fe.Reason, fe.Rule, fe.Params, fe.Message, tc.reason, tc.rule, tc.params, tc.message)
			}
		})
	}
}

func TestHTTPSPolicy(t *testing.T) {
	s := Subject{UserName: "Dev.User1", Email: "dev@example.com", Phone: "13800138000"}
	runRuleCases(t, nil, []ruleCase{
		{name: "ok", policy: HTTPSPolicy(), candidate: "Abcdefg1", subject: s},
		{name: "len 7", policy: HTTPSPolicy(), candidate: "Abcdef1", subject: s, want: []Rule{RuleLength}},
		{name: "len 32", policy: HTTPSPolicy(), candidate: "A" + strings.Repeat("b", 30) + "1", subject: s},
		{name: "len 33", policy: HTTPSPolicy(), candidate: "A" + strings.Repeat("b", 31) + "1", subject: s, want: []Rule{RuleLength}},
		{name: "two types", policy: HTTPSPolicy(), candidate: "abcdefg1", subject: s, want: []Rule{RuleCharCombination}},
		{name: "three types without upper", policy: HTTPSPolicy(), candidate: "abcdef1!", subject: s},
		{name: "username", policy: HTTPSPolicy(), candidate: "dev.user1", subject: s, want: []Rule{RuleUsername}},
		{name: "username, two types", policy: HTTPSPolicy(), candidate: "devuser1", subject: Subject{UserName: "DevUser1"}, want: []Rule{RuleCharCombination, RuleUsername}},
		{name: "username 3 types", policy: HTTPSPolicy(), candidate: "DEV.USER1", subject: s, want: []Rule{RuleUsername}},
		{name: "username reversed", policy: HTTPSPolicy(), candidate: "1resU.veD", subject: s, want: []Rule{RuleUsernameReversed}},
		{name: "weak is not checked", policy: HTTPSPolicy(), candidate: "P@ssw0rd", subject: s},
		{name: "personal info is not checked", policy: HTTPSPolicy(), candidate: "x13800138000Dev.User1", subject: s},
		{name: "consecutive not checked", policy: HTTPSPolicy(), candidate: "Aaaaaaaa1", subject: s},
	})
}

func TestDefaults(t *testing.T) {
	d := DefaultPolicy()
	want := Policy{MinLength: 8, MaxLength: 32, CharCombination: 2, NotUsernameOrInvert: true, CheckWeak: true, CheckPersonalInfo: true}
	if d != want {
		t.Fatalf("DefaultPolicy() = %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := HTTPSPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRequirements(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{DefaultPolicy(), "A password must contain at least two of the following: uppercase letters, lowercase letters, digits, and special characters. " +
			"It must be 8 to 32 characters long. It must not be the username or the username spelled backwards."},
		{HTTPSPolicy(), "A password must contain at least three of the following: uppercase letters, lowercase letters, digits, and special characters. " +
			"It must be 8 to 32 characters long. It must not be the username or the username spelled backwards."},
		{with(bare(), func(p *Policy) {
			p.CharCombination = 4
			p.MinLength = 12
			p.MaxConsecutiveIdentical = 2
			p.RecentDisallowed = 5
		}),
			"A password must contain all of the following: uppercase letters, lowercase letters, digits, and special characters. " +
				"It must be 12 to 32 characters long. No character may appear more than 2 times in a row. It must differ from the last 5 passwords."},
		{with(bare(), func(p *Policy) { p.RecentDisallowed = 1 }),
			"A password must contain at least two of the following: uppercase letters, lowercase letters, digits, and special characters. " +
				"It must be 8 to 32 characters long. It must differ from the last 1 password."},
	} {
		if got := tc.p.Requirements(); got != tc.want {
			t.Errorf("Requirements() =\n%q\nwant\n%q", got, tc.want)
		}
	}
}

func TestExpiresAt(t *testing.T) {
	changed := time.Date(2026, 1, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	if got := DefaultPolicy().ExpiresAt(changed); got != nil {
		t.Fatalf("ExpiresAt with no validity = %v, want nil", got)
	}
	p := with(DefaultPolicy(), func(p *Policy) { p.ValidityPeriod = 90 * 24 * time.Hour })
	got := p.ExpiresAt(changed)
	want := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	if got == nil || !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("ExpiresAt = %v, want %v (UTC)", got, want)
	}
}

func TestValidate(t *testing.T) {
	ok := []func(*Policy){
		func(p *Policy) { p.MinLength = 8 },
		func(p *Policy) { p.MinLength = 32 },
		func(p *Policy) { p.MaxLength = 0 },
		func(p *Policy) { p.CharCombination = 4 },
		func(p *Policy) { p.RecentDisallowed = 24 },
		func(p *Policy) { p.MaxConsecutiveIdentical = 32 },
		func(p *Policy) { p.MinAge = 1440 * time.Minute },
		func(p *Policy) { p.ValidityPeriod = 180 * 24 * time.Hour },
	}
	for i, f := range ok {
		if err := with(DefaultPolicy(), f).Validate(); err != nil {
			t.Errorf("ok case %d: %v", i, err)
		}
	}
	for _, tc := range []struct {
		f    func(*Policy)
		key  string
		want string
	}{
		{func(p *Policy) { p.MinLength = 7 }, "minimum_password_length", "7"},
		{func(p *Policy) { p.MinLength = 33 }, "minimum_password_length", "33"},
		{func(p *Policy) { p.MaxLength = 64 }, "maximum_password_length", "64"},
		{func(p *Policy) { p.CharCombination = 1 }, "password_char_combination", "1"},
		{func(p *Policy) { p.CharCombination = 5 }, "password_char_combination", "5"},
		{func(p *Policy) { p.RecentDisallowed = -1 }, "number_of_recent_passwords_disallowed", "-1"},
		{func(p *Policy) { p.RecentDisallowed = 25 }, "number_of_recent_passwords_disallowed", "25"},
		{func(p *Policy) { p.MaxConsecutiveIdentical = 33 }, "maximum_consecutive_identical_chars", "33"},
		{func(p *Policy) { p.MinAge = 1441 * time.Minute }, "minimum_password_age", "1441"},
		{func(p *Policy) { p.MinAge = -time.Minute }, "minimum_password_age", "-1"},
		{func(p *Policy) { p.MinAge = 90 * time.Second }, "minimum_password_age", "1m30s"},
		{func(p *Policy) { p.ValidityPeriod = 181 * 24 * time.Hour }, "password_validity_period", "181"},
		{func(p *Policy) { p.ValidityPeriod = 36 * time.Hour }, "password_validity_period", "36h"},
	} {
		err := with(DefaultPolicy(), tc.f).Validate()
		fe := fault.As(err)
		if fe == nil || fe.Reason != fault.PropertyInvalid {
			t.Errorf("%s=%s: Validate = %v, want PropertyInvalid", tc.key, tc.want, err)
			continue
		}
		if !strings.Contains(fe.Message, tc.key) || !strings.Contains(fe.Message, tc.want) {
			t.Errorf("message %q does not name %s and %s", fe.Message, tc.key, tc.want)
		}
	}
}
