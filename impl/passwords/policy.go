package passwords

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/latchkey/latchkey/impl/fault"
)

// Policy is a password policy (apis.md §3.3). The zero value is not useful:
// start from DefaultPolicy or HTTPSPolicy.
//
// Character types: ASCII A-Z are uppercase, a-z lowercase, 0-9 digits, and
// printable ASCII that is neither (0x20-0x7E, space included, as in the
// vendor's list of specials) is special. Non-ASCII letters that have a case
// count as uppercase or lowercase by their Unicode case; other non-ASCII
// characters (uncased letters such as CJK, digits of other scripts, symbols,
// emoji) are allowed but count toward no type. Control characters (Unicode
// Cc) and invalid UTF-8 are never allowed: they are reported under rule
// "char_combination".
type Policy struct {
	MinLength               int           // 8..32, default 8
	MaxLength               int           // fixed 32 (0 is read as 32)
	CharCombination         int           // 2..4, default 2: types among upper, lower, digit, special
	RecentDisallowed        int           // 0..24, default 0: the last N passwords, the current one included
	MaxConsecutiveIdentical int           // 0..32, default 0 = off: longest run of one repeated character
	MinAge                  time.Duration // 0..1440 min, default 0
	ValidityPeriod          time.Duration // 0..180 days, default 0 = never expires
	NotUsernameOrInvert     bool          // default true: not the username nor the username reversed
	CheckWeak               bool          // default true: dictionary / weak passwords
	CheckPersonalInfo       bool          // default true: must not contain username, phone, e-mail, name
}

// MaxPasswordLength is the fixed maximum_password_length.
const MaxPasswordLength = 32

// DefaultPolicy is the policy of a new domain (apis.md §3.3).
func DefaultPolicy() Policy {
	return Policy{
		MinLength:           8,
		MaxLength:           MaxPasswordLength,
		CharCombination:     2,
		NotUsernameOrInvert: true,
		CheckWeak:           true,
		CheckPersonalInfo:   true,
	}
}

// HTTPSPolicy is the fixed format of the HTTPS Git password (seed 001,
// apis.md §4.2-4.3): 8-32 characters, 3 of 4 types, not the username or the
// username reversed, nothing else.
func HTTPSPolicy() Policy {
	return Policy{
		MinLength:           8,
		MaxLength:           MaxPasswordLength,
		CharCombination:     3,
		NotUsernameOrInvert: true,
	}
}

// Rule is the stable id of a policy rule; it travels in fault.Error.Rule.
type Rule string

// The rules, in the order Check evaluates them.
const (
	RuleLength               Rule = "length"
	RuleCharCombination      Rule = "char_combination"
	RuleUsername             Rule = "username"
	RuleUsernameReversed     Rule = "username_reversed"
	RuleContainsUsername     Rule = "contains_username"
	RuleContainsPhone        Rule = "contains_phone"
	RuleContainsEmail        Rule = "contains_email"
	RuleContainsName         Rule = "contains_name"
	RuleConsecutiveIdentical Rule = "consecutive_identical"
	RuleMinimumAge           Rule = "minimum_age"
	RuleWeak                 Rule = "weak"
	RuleSameAsCurrent        Rule = "same_as_current"
	RuleHistory              Rule = "history"
)

// Subject is the user whose password is being set.
type Subject struct {
	UserName, DisplayName, Email, AreaCode, Phone string
	// CurrentHash is the PHC string of the current password, "" if none.
	CurrentHash string
	// History holds PHC strings of previous passwords, newest first. It should
	// not include the current password; if History[0] equals CurrentHash it
	// is skipped.
	History []string
	// PasswordChangedAt is when the current password was set; nil if never
	// (or when the change is forced, so minimum_age must not block it).
	PasswordChangedAt *time.Time
}

// CheckOptions tune one evaluation.
type CheckOptions struct {
	// Now is the time minimum_age is measured at; zero means time.Now().
	Now time.Time
	// AdminReset marks a password set by an administrator for someone else.
	// It exempts the change from minimum_age only (that rule stops users from
	// cycling through passwords, not administrators from resetting one).
	// history and same_as_current still apply: the vendor's admin reset
	// (CIAM change-password, seed 003) rejects reused passwords with
	// IDAAS.TENANT.PWD.0001. A caller that wants no history check passes a
	// Subject without History.
	AdminReset bool
}

// Violation is one broken rule. Message is English, names the rule and never
// contains the password. Params fill the CIAM {0}/{1} placeholders:
// length -> [min, max]; char_combination -> [advice sentence];
// consecutive_identical -> [limit]; minimum_age -> [sentence stating the
// wait]; history -> [N]; none for the others.
type Violation struct {
	Rule    Rule
	Message string
	Params  []string
}

// Err converts v to the domain error Check returns: fault.PasswordWeak for
// "weak", fault.PasswordSame for "same_as_current", fault.PasswordPolicy
// otherwise, with Rule and Params set.
func (v Violation) Err() *fault.Error {
	reason := fault.PasswordPolicy
	switch v.Rule {
	case RuleWeak:
		reason = fault.PasswordWeak
	case RuleSameAsCurrent:
		reason = fault.PasswordSame
	}
	e := fault.New(reason, "%s", v.Message)
	e.Rule = string(v.Rule)
	e.Params = v.Params
	return e
}

// Evaluate returns every rule candidate breaks, cheapest checks first (the
// order of the Rule constants). The argon2 checks (same_as_current, history)
// run last, verifying against each stored hash; h may be nil when s has no
// hashes. The error is non-nil only when a check could not be made (hashing
// overloaded, ctx ended, a stored hash malformed).
func (p Policy) Evaluate(ctx context.Context, h *Hasher, candidate string, s Subject, o CheckOptions) ([]Violation, error) {
	return p.evaluate(ctx, h, candidate, s, o, false)
}

// Check returns nil when candidate satisfies the policy, else the first
// violation (in the order of the Rule constants) as a *fault.Error (see
// Violation.Err). It stops at the first violation, so the argon2 checks run
// only when everything cheaper passed.
func (p Policy) Check(ctx context.Context, h *Hasher, candidate string, s Subject, o CheckOptions) error {
	vs, err := p.evaluate(ctx, h, candidate, s, o, true)
	if err != nil {
		return err
	}
	if len(vs) > 0 {
		return vs[0].Err()
	}
	return nil
}

func (p Policy) maxLen() int {
	if p.MaxLength <= 0 {
		return MaxPasswordLength
	}
	return p.MaxLength
}

func (p Policy) evaluate(ctx context.Context, h *Hasher, candidate string, s Subject, o CheckOptions, firstOnly bool) ([]Violation, error) {
	var out []Violation
	// add records v and reports whether evaluation should stop.
	add := func(v Violation) bool {
		out = append(out, v)
		return firstOnly
	}

	// length
	if n := utf8.RuneCountInString(candidate); n < p.MinLength || n > p.maxLen() {
		if add(Violation{RuleLength, fmt.Sprintf("The password must be %d to %d characters long.", p.MinLength, p.maxLen()),
			[]string{strconv.Itoa(p.MinLength), strconv.Itoa(p.maxLen())}}) {
			return out, nil
		}
	}

	// char_combination (and forbidden characters)
	types, forbidden := charTypes(candidate)
	if forbidden {
		if add(Violation{RuleCharCombination, "The password must not contain control characters.",
			[]string{"do not use control characters"}}) {
			return out, nil
		}
	}
	if types < p.CharCombination {
		advice := fmt.Sprintf("use at least %d of: uppercase letters, lowercase letters, digits, special characters", p.CharCombination)
		if add(Violation{RuleCharCombination, fmt.Sprintf("The password must contain at least %d of: uppercase letters, lowercase letters, digits, special characters.", p.CharCombination),
			[]string{advice}}) {
			return out, nil
		}
	}

	// username, username_reversed
	isUser, isReversed := false, false
	if p.NotUsernameOrInvert && s.UserName != "" {
		isUser = strings.EqualFold(candidate, s.UserName)
		isReversed = !isUser && strings.EqualFold(candidate, reverse(s.UserName))
		if isUser && add(Violation{RuleUsername, "The password must not be the username.", nil}) {
			return out, nil
		}
		if isReversed && add(Violation{RuleUsernameReversed, "The password must not be the username spelled backwards.", nil}) {
			return out, nil
		}
	}

	// contains_*
	if p.CheckPersonalInfo {
		lc := strings.ToLower(candidate)
		if !isUser && containsAny(lc, []string{s.UserName}, minTokenRunes) {
			if add(Violation{RuleContainsUsername, "The password must not contain the username.", nil}) {
				return out, nil
			}
		}
		if containsAny(lc, phoneTokens(s.AreaCode, s.Phone), minTokenRunes) {
			if add(Violation{RuleContainsPhone, "The password must not contain the mobile number.", nil}) {
				return out, nil
			}
		}
		if containsAny(lc, emailTokens(s.Email), minTokenRunes) {
			if add(Violation{RuleContainsEmail, "The password must not contain the email address or its part before the @.", nil}) {
				return out, nil
			}
		}
		if containsAny(lc, nameTokens(s.DisplayName), minTokenRunes) {
			if add(Violation{RuleContainsName, "The password must not contain the user's name.", nil}) {
				return out, nil
			}
		}
	}

	// consecutive_identical
	if lim := p.MaxConsecutiveIdentical; lim > 0 && longestRun(candidate) > lim {
		if add(Violation{RuleConsecutiveIdentical, fmt.Sprintf("The password must not repeat a character more than %d times in a row.", lim),
			[]string{strconv.Itoa(lim)}}) {
			return out, nil
		}
	}

	// minimum_age
	if p.MinAge > 0 && s.PasswordChangedAt != nil && !o.AdminReset {
		now := o.Now
		if now.IsZero() {
			now = time.Now()
		}
		if left := s.PasswordChangedAt.Add(p.MinAge).Sub(now); left > 0 {
			if left > p.MinAge { // changed "in the future": clock skew
				left = p.MinAge
			}
			wait := plural(int((left+time.Minute-1)/time.Minute), "minute")
			if add(Violation{RuleMinimumAge,
				fmt.Sprintf("The password was changed less than %s ago; it can be changed again in %s.", plural(int(p.MinAge/time.Minute), "minute"), wait),
				[]string{"the password can be changed again in " + wait}}) {
				return out, nil
			}
		}
	}

	// weak
	if p.CheckWeak && isWeak(candidate) {
		if add(Violation{RuleWeak, "The password is too common or too easy to guess.", nil}) {
			return out, nil
		}
	}

	// same_as_current (always, whatever RecentDisallowed says)
	if s.CurrentHash != "" {
		same, err := verifyWith(ctx, h, candidate, s.CurrentHash)
		if err != nil {
			return nil, fmt.Errorf("password policy: current password: %w", err)
		}
		if same && add(Violation{RuleSameAsCurrent, "The new password must be different from the current password.", nil}) {
			return out, nil
		}
	}

	// history: the last RecentDisallowed passwords, the current one included
	// (it was checked above), so RecentDisallowed-1 entries of History.
	if n := p.RecentDisallowed; n > 0 {
		hist := s.History
		if len(hist) > 0 && s.CurrentHash != "" && hist[0] == s.CurrentHash {
			hist = hist[1:]
		}
		depth := n
		if s.CurrentHash != "" {
			depth = n - 1
		}
		hist = hist[:min(depth, len(hist))]
		for i, old := range hist {
			reused, err := verifyWith(ctx, h, candidate, old)
			if err != nil {
				return nil, fmt.Errorf("password policy: history entry %d: %w", i, err)
			}
			if reused {
				if add(Violation{RuleHistory, fmt.Sprintf("The password must not be one of the last %s.", plural(n, "password")),
					[]string{strconv.Itoa(n)}}) {
					return out, nil
				}
				break
			}
		}
	}
	return out, nil
}

// verifyWith reports whether candidate is the password of phc. A hash made
// with a pepper that is no longer configured cannot be compared at all; it
// counts as a different password rather than an error, so that an
// administrator can still reset the password of a user whose hash became
// unusable (login reports ErrUnknownPepper, and its caller logs it).
func verifyWith(ctx context.Context, h *Hasher, candidate, phc string) (bool, error) {
	if h == nil {
		return false, errors.New("no hasher to verify with")
	}
	ok, _, err := h.Verify(ctx, candidate, phc)
	if errors.Is(err, ErrUnknownPepper) {
		return false, nil
	}
	return ok, err
}

// charTypes counts the character types in s (see Policy) and reports a
// forbidden character (control or invalid UTF-8).
func charTypes(s string) (types int, forbidden bool) {
	var upper, lower, digit, special bool
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				forbidden = true // invalid encoding, not a literal U+FFFD
			}
		case unicode.IsControl(r):
			forbidden = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case r >= 0x20 && r <= 0x7e:
			special = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		}
	}
	for _, b := range []bool{upper, lower, digit, special} {
		if b {
			types++
		}
	}
	return types, forbidden
}

// minTokenRunes: personal data shorter than this is not searched for, since
// short tokens ("li", "jo") appear by chance in many good passwords.
const minTokenRunes = 3

// minNamePartRunes applies to single words of the display name, which are
// more often ordinary syllables ("van", "der") than whole names.
const minNamePartRunes = 4

func containsAny(lowerCandidate string, tokens []string, minRunes int) bool {
	for _, t := range tokens {
		t = strings.ToLower(strings.TrimSpace(t))
		if utf8.RuneCountInString(t) >= minRunes && strings.Contains(lowerCandidate, t) {
			return true
		}
	}
	return false
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// phoneTokens are the digits of the phone number and, when the stored number
// carries the area code ("0086138...", "+86138..."), the national number. A
// password containing areacode+phone contains the phone digits, so that form
// needs no token of its own.
func phoneTokens(areaCode, phone string) []string {
	p := digitsOf(phone)
	if p == "" {
		return nil
	}
	out := []string{p}
	if ac := strings.TrimLeft(digitsOf(areaCode), "0"); ac != "" {
		for _, prefix := range []string{"00" + ac, ac} {
			if rest, ok := strings.CutPrefix(p, prefix); ok && len(rest) >= 6 {
				out = append(out, rest)
				break
			}
		}
	}
	return out
}

// emailTokens are the whole address and its local part.
func emailTokens(email string) []string {
	email = strings.TrimSpace(email)
	if email == "" {
		return nil
	}
	out := []string{email}
	if at := strings.LastIndexByte(email, '@'); at > 0 {
		out = append(out, email[:at])
	}
	return out
}

// nameTokens are the display name, the name without separators ("John
// Smith" -> "johnsmith"), each word of at least minNamePartRunes runes and,
// for a Chinese name, its pinyin spellings (pinyinTokens: 张伟 -> "zhangwei",
// "zhang wei", "weizhang", ...).
func nameTokens(name string) []string {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil
	}
	sep := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	words := strings.FieldsFunc(name, sep)
	out := []string{name, strings.Join(words, "")}
	for _, w := range words {
		if utf8.RuneCountInString(w) >= minNamePartRunes {
			out = append(out, w)
		}
	}
	return append(out, pinyinTokens(name)...)
}

func longestRun(s string) int {
	best, run := 0, 0
	var prev rune = -1
	for _, r := range s {
		if r == prev {
			run++
		} else {
			run, prev = 1, r
		}
		best = max(best, run)
	}
	return best
}

func reverse(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

var numberWords = map[int]string{1: "one", 2: "two", 3: "three", 4: "four"}

// Requirements is the human-readable password_requirements text, built from
// the live settings. Its first sentence follows the vendor's example.
func (p Policy) Requirements() string {
	var b strings.Builder
	n, ok := numberWords[p.CharCombination]
	if !ok {
		n = strconv.Itoa(p.CharCombination)
	}
	if p.CharCombination >= 4 {
		b.WriteString("A password must contain all of the following: uppercase letters, lowercase letters, digits, and special characters.")
	} else {
		fmt.Fprintf(&b, "A password must contain at least %s of the following: uppercase letters, lowercase letters, digits, and special characters.", n)
	}
	fmt.Fprintf(&b, " It must be %d to %d characters long.", p.MinLength, p.maxLen())
	if p.NotUsernameOrInvert {
		b.WriteString(" It must not be the username or the username spelled backwards.")
	}
	if p.MaxConsecutiveIdentical > 0 {
		fmt.Fprintf(&b, " No character may appear more than %d times in a row.", p.MaxConsecutiveIdentical)
	}
	if p.RecentDisallowed > 0 {
		fmt.Fprintf(&b, " It must differ from the last %s.", plural(p.RecentDisallowed, "password"))
	}
	return b.String()
}

// ExpiresAt is when a password set at changedAt expires, nil when
// ValidityPeriod is 0 (never).
func (p Policy) ExpiresAt(changedAt time.Time) *time.Time {
	if p.ValidityPeriod <= 0 {
		return nil
	}
	t := changedAt.Add(p.ValidityPeriod).UTC()
	return &t
}

// Validate checks the ranges of apis.md §3.3. The error is a
// fault.PropertyInvalid naming the wire key and the value.
func (p Policy) Validate() error {
	intRange := func(key string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fault.New(fault.PropertyInvalid, "Invalid value %d for %s: it must be between %d and %d.", v, key, lo, hi)
		}
		return nil
	}
	durRange := func(key string, d, unit time.Duration, unitName string, hi int) error {
		if d%unit != 0 {
			return fault.New(fault.PropertyInvalid, "Invalid value %s for %s: it must be a whole number of %s.", d, key, unitName)
		}
		return intRange(key, int(d/unit), 0, hi)
	}
	if p.MaxLength != 0 && p.MaxLength != MaxPasswordLength { // 0 reads as 32
		return fault.New(fault.PropertyInvalid, "Invalid value %d for maximum_password_length: it is fixed at %d.", p.MaxLength, MaxPasswordLength)
	}
	for _, err := range []error{
		intRange("minimum_password_length", p.MinLength, 8, 32),
		intRange("password_char_combination", p.CharCombination, 2, 4),
		intRange("number_of_recent_passwords_disallowed", p.RecentDisallowed, 0, 24),
		intRange("maximum_consecutive_identical_chars", p.MaxConsecutiveIdentical, 0, 32),
		durRange("minimum_password_age", p.MinAge, time.Minute, "minutes", 1440),
		durRange("password_validity_period", p.ValidityPeriod, 24*time.Hour, "days", 180),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
