package passwords

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

// commonPasswords is a frequency-ranked list (most common first) of 49,233
// real leaked passwords, one per line, lower case, ASCII. It is the
// "passwords" list of the npm package @zxcvbn-ts/language-common 4.1.3
// (src/passwords.json), MIT licence: see common_passwords_LICENSE.txt.
//
//go:embed common_passwords.txt
var commonPasswords string

var (
	weakOnce sync.Once
	weakSet  map[string]struct{} // canonical forms of commonPasswords
)

// weakDictionary builds the set on first use, so processes that never set a
// password (and tests that do not need it) do not pay for it at start-up.
func weakDictionary() map[string]struct{} {
	weakOnce.Do(func() {
		weakSet = make(map[string]struct{}, 50000)
		for line := range strings.Lines(commonPasswords) {
			if w := strings.TrimSpace(line); w != "" {
				weakSet[canonical(w)] = struct{}{}
			}
		}
	})
	return weakSet
}

// canonical lower-cases s and undoes common character substitutions, so that
// "P@ssw0rd" and "password" compare equal. It is applied to both the
// dictionary and the candidate. "1", "!", "|", "i" and "l" all map to "i"
// because "1" stands for either letter; the extra collisions only make the
// check a little stricter.
func canonical(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case '@', '4':
			return 'a'
		case '8':
			return 'b'
		case '3':
			return 'e'
		case '6', '9':
			return 'g'
		case '1', '!', '|', 'l':
			return 'i'
		case '0':
			return 'o'
		case '$', '5':
			return 's'
		case '7', '+':
			return 't'
		}
		return r
	}, s)
}

// minCoreRunes is the shortest core (candidate with leading/trailing digits
// and symbols removed) that is looked up: shorter cores ("abc" in
// "abc!8302917") are too likely to collide with short dictionary entries.
const minCoreRunes = 4

// isWeak reports whether candidate is a common password, possibly with
// substitutions ("P@ssw0rd"), decorated with leading and/or trailing digits
// or symbols ("password123!", "2024Summer!"), a repetition of a short unit
// ("abcabcabc") or a straight sequence ("abcdefgh", "98765432").
func isWeak(candidate string) bool {
	rs := []rune(strings.ToLower(candidate))
	if len(rs) == 0 {
		return true
	}
	if isRepetition(rs) || isSequence(rs) {
		return true
	}
	dict := weakDictionary()
	// lead = end of the leading run of non-letters, trail = start of the
	// trailing run. Every cut inside those runs gives a candidate core.
	lead := 0
	for lead < len(rs) && !unicode.IsLetter(rs[lead]) {
		lead++
	}
	trail := len(rs)
	for trail > 0 && !unicode.IsLetter(rs[trail-1]) {
		trail--
	}
	for i := 0; i <= lead; i++ {
		for j := len(rs); j >= trail && j > i; j-- {
			if j-i < minCoreRunes && !(i == 0 && j == len(rs)) {
				continue
			}
			core := rs[i:j]
			if _, ok := dict[canonical(string(core))]; ok {
				return true
			}
			if isRepetition(core) && j-i >= minCoreRunes*2 {
				return true
			}
		}
	}
	return false
}

// isRepetition reports whether rs is one unit of at most 4 runes repeated
// ("aaaaaaaa", "abababab", "Ab1!Ab1!" lower-cased).
func isRepetition(rs []rune) bool {
	n := len(rs)
	for unit := 1; unit <= 4 && unit*2 <= n; unit++ {
		if n%unit != 0 {
			continue
		}
		same := true
		for k := unit; k < n && same; k++ {
			same = rs[k] == rs[k-unit]
		}
		if same {
			return true
		}
	}
	return false
}

// isSequence reports whether every rune is the previous one plus 1, or every
// rune the previous one minus 1 ("abcdefgh", "87654321").
func isSequence(rs []rune) bool {
	if len(rs) < 3 {
		return false
	}
	d := rs[1] - rs[0]
	if d != 1 && d != -1 {
		return false
	}
	for k := 2; k < len(rs); k++ {
		if rs[k]-rs[k-1] != d {
			return false
		}
	}
	return true
}
