package passwords

import (
	"slices"
	"strings"
	"testing"
)

func TestPinyinTokens(t *testing.T) {
	tests := []struct {
		name      string
		display   string
		want      []string // must be among the tokens
		wantNot   []string // must not be
		wantEmpty bool
	}{
		{name: "two characters", display: "张伟",
			want:    []string{"zhangwei", "zhang wei", "zhang-wei", "zhang_wei", "zhang.wei", "weizhang", "wei zhang", "zhang"},
			wantNot: []string{"wei", "zhang1wei1", "zhāngwěi"}},
		{name: "three characters, compound surname", display: "欧阳娜",
			want:    []string{"ouyangna", "ou yang na", "yangnaou", "naouyang", "ouyang"},
			wantNot: []string{"ou", "na"}},
		{name: "heteronym surname", display: "单田芳",
			want: []string{"dantianfang", "shantianfang", "chantianfang", "tianfangshan", "tianfang"}},
		{name: "ü spellings", display: "吕布",
			want: []string{"lvbu", "lubu", "lyubu", "bulv", "bu lyu"}},
		{name: "mixed with Latin letters", display: "Wei 张伟",
			want: []string{"zhangwei"}},
		{name: "Latin only", display: "Zhang Wei", wantEmpty: true},
		{name: "empty", display: "", wantEmpty: true},
		{name: "no Han", display: "Дмитрий", wantEmpty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pinyinTokens(tt.display)
			if tt.wantEmpty {
				if len(got) != 0 {
					t.Fatalf("pinyinTokens(%q) = %q, want none", tt.display, got)
				}
				return
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("pinyinTokens(%q) lacks %q; got %q", tt.display, w, got)
				}
			}
			for _, w := range tt.wantNot {
				if slices.Contains(got, w) {
					t.Errorf("pinyinTokens(%q) has %q", tt.display, w)
				}
			}
			seen := map[string]bool{}
			for _, tok := range got {
				if seen[tok] {
					t.Errorf("duplicate token %q", tok)
				}
				seen[tok] = true
				if tok != strings.ToLower(tok) {
					t.Errorf("token %q is not lower case", tok)
				}
			}
		})
	}
}

// A long or exotic display name stays cheap: bounded spellings and tokens.
func TestPinyinTokensBounded(t *testing.T) {
	name := strings.Repeat("单朴曾女", 32) // 128 characters, each with several readings
	got := pinyinTokens(name)
	// maxSpellings spellings, each with (1 + 2 orders) x separators plus 2 parts, times ü variants.
	if limit := maxSpellings * (len(pinyinSeparators)*3 + 4) * 3; len(got) > limit {
		t.Fatalf("%d tokens, want at most %d", len(got), limit)
	}
	for _, tok := range got {
		if n := len(strings.Fields(strings.NewReplacer("-", " ", "_", " ", ".", " ").Replace(tok))); n > maxHanRunes {
			t.Fatalf("token %q has %d syllables, more than %d", tok, n, maxHanRunes)
		}
	}
}

func TestContainsNamePinyin(t *testing.T) {
	p := with(bare(), func(p *Policy) { p.CheckPersonalInfo = true })
	runRuleCases(t, nil, []ruleCase{
		{name: "pinyin joined", policy: p, candidate: "Zhangwei#2026", subject: Subject{DisplayName: "张伟"}, want: []Rule{RuleContainsName}},
		{name: "pinyin upper case with space", policy: p, candidate: "x ZHANG WEI 7", subject: Subject{DisplayName: "张伟"}, want: []Rule{RuleContainsName}},
		{name: "pinyin given name first", policy: p, candidate: "weiZhang.2026", subject: Subject{DisplayName: "张伟"}, want: []Rule{RuleContainsName}},
		{name: "pinyin with dot", policy: p, candidate: "zhang.wei-2026", subject: Subject{DisplayName: "张伟"}, want: []Rule{RuleContainsName}},
		{name: "pinyin surname alone", policy: p, candidate: "Zhang#2026x", subject: Subject{DisplayName: "张伟"}, want: []Rule{RuleContainsName}},
		{name: "pinyin short given name alone is fine", policy: p, candidate: "Wei#2026xyz", subject: Subject{DisplayName: "张伟"}},
		{name: "pinyin second reading", policy: p, candidate: "Shantianfang1", subject: Subject{DisplayName: "单田芳"}, want: []Rule{RuleContainsName}},
		{name: "pinyin passport ü", policy: p, candidate: "Lyubu2026!", subject: Subject{DisplayName: "吕布"}, want: []Rule{RuleContainsName}},
		{name: "unrelated password", policy: p, candidate: "Quiet-Lantern-58", subject: Subject{DisplayName: "张伟"}},
		{name: "rule off", policy: bare(), candidate: "Zhangwei#2026", subject: Subject{DisplayName: "张伟"}},
	})
}
