package passwords

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"
)

// Limits that keep pinyinTokens cheap for any display name (it runs on every
// password check): at most maxReadings readings per character and
// maxSpellings spellings of the whole name (first readings first, which are
// the common ones), over the first maxHanRunes Han characters.
const (
	maxReadings  = 3
	maxSpellings = 16
	maxHanRunes  = 8
)

// pinyinSeparators join syllables the way people write names in passwords:
// "zhangwei", "zhang wei", "zhang-wei", "zhang_wei", "zhang.wei".
var pinyinSeparators = []string{"", " ", "-", "_", "."}

// pinyinTokens returns the spellings, in toneless pinyin, of the Chinese
// (Han) characters of a display name, nil when it has none. The contains_name
// rule (CIAM IDAAS.TENANT.PWD.0003, "name in PinYing") searches for them:
//   - the whole name in its order ("zhangwei") and given name first
//     ("weizhang"; the surname taken as one and, for 3+ characters, as two
//     characters, for compound surnames such as 欧阳), each joined with every
//     separator of pinyinSeparators;
//   - the surname and the given name on their own when at least
//     minNamePartRunes letters long, like the words of a Latin name;
//   - every reading of a character with several (单: dan, chan, shan), so a
//     surname read differently from the common word is covered;
//   - ü written "v" (the library's form, and common on keyboards), "u" and
//     "yu" (the passport spelling: 吕 -> lv, lu, lyu).
//
// Non-Han characters are ignored here: nameTokens covers Latin names.
func pinyinTokens(name string) []string {
	var readings [][]string
	for _, r := range name {
		if !unicode.Is(unicode.Han, r) {
			continue
		}
		if len(readings) == maxHanRunes {
			break
		}
		ps := pinyin.SinglePinyin(r, pinyinArgs)
		if len(ps) == 0 {
			continue // a Han character the dictionary does not know
		}
		readings = append(readings, ps[:min(len(ps), maxReadings)])
	}
	if len(readings) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		for _, v := range uVariants(s) {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	for _, syl := range spellings(readings) {
		for _, sep := range pinyinSeparators {
			add(strings.Join(syl, sep))
		}
		if len(syl) < 2 {
			continue
		}
		for _, cut := range []int{1, 2} {
			if cut >= len(syl) || (cut == 2 && len(syl) < 3) {
				continue
			}
			surname, given := syl[:cut], syl[cut:]
			for _, sep := range pinyinSeparators {
				add(strings.Join(given, sep) + sep + strings.Join(surname, sep))
			}
			for _, part := range []string{strings.Join(surname, ""), strings.Join(given, "")} {
				if utf8.RuneCountInString(part) >= minNamePartRunes {
					add(part)
				}
			}
		}
	}
	return out
}

// pinyinArgs: toneless syllables, every reading of a character.
var pinyinArgs = pinyin.Args{Style: pinyin.Normal, Heteronym: true}

// spellings returns the combinations of one reading per character, at most
// maxSpellings, in order of the readings (the first is the common one).
func spellings(readings [][]string) [][]string {
	out := [][]string{{}}
	for _, rs := range readings {
		var next [][]string
		for _, prefix := range out {
			for _, r := range rs {
				if len(next) == maxSpellings {
					break
				}
				s := make([]string, len(prefix), len(prefix)+1)
				copy(s, prefix)
				next = append(next, append(s, r))
			}
		}
		out = next
	}
	return out
}

// uVariants returns s and, when it contains the "v" that stands for ü, its
// "u" and "yu" spellings. (No toneless syllable has a real v.)
func uVariants(s string) []string {
	if !strings.Contains(s, "v") {
		return []string{s}
	}
	return []string{s, strings.ReplaceAll(s, "v", "u"), strings.ReplaceAll(s, "v", "yu")}
}
