package passwords

import (
	"strings"
	"testing"
)

func TestDictionary(t *testing.T) {
	lines := strings.Count(commonPasswords, "\n")
	if lines < 10000 {
		t.Fatalf("dictionary has %d entries, want >= 10000", lines)
	}
	if !strings.HasPrefix(commonPasswords, "123456\npassword\n") {
		t.Fatal("dictionary is not the ranked list (most common first)")
	}
	if n := len(weakDictionary()); n < 10000 {
		t.Fatalf("canonical set has %d entries", n)
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"P@ssw0rd":  "password",
		"PA$$WORD":  "password",
		"pa55w0rd":  "password",
		"h3ll0":     "heiio",
		"hello":     "heiio",
		"s7r0ng":    "strong",
		"L!nux|":    "iinuxi",
		"l33t":      "ieet",
		"Ümlaut":    "ümiaut",
		"密码":        "密码",
		"b4n4n4":    "banana",
		"9ood8ye":   "goodbye",
		"+rust":     "trust",
		"lowercase": "iowercase",
	} {
		if got := canonical(in); got != want {
			t.Errorf("canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsWeak(t *testing.T) {
	weak := []string{
		"password", "PASSWORD", "Password", "P@ssw0rd", "p@$$w0rd", "Pa55word", "passw0rd",
		"password1", "password123", "password123!", "Password123!", "password!!!", "!password", "123password",
		"2024Summer!", "Summer2024", "iloveyou", "1L0v3Y0u!", "qwerty123", "Qwertyuiop", "trustno1", "Trustno1!",
		"letmein", "L3tM3!n", "monkey", "dragon", "football1", "baseball!", "welcome1", "Welcome@123", "admin123",
		"changeme", "Ch@ngeme1", "12345678", "123456789", "87654321", "11111111", "abcdefgh", "zyxwvuts",
		"aaaaaaaa", "abababab", "abcabcabc", "Ab1!Ab1!", "1q2w3e4r", "1qaz2wsx", "zxcvbnm", "",
	}
	for _, pw := range weak {
		if !isWeak(pw) {
			t.Errorf("isWeak(%q) = false, want true", pw)
		}
	}
	strong := []string{
		"Xq7#mLp2vR", "correct-Horse-battery-Staple-9", "Tz9!kW2@pQ", "gR8$vN3&xL", "Blue42Giraffe!Moon",
		"ab!8302917x", "Kx9mPq2w7", "Zebra-Quartz-1984", "Mh7%Lq3*Zv9", "9fT!q2Lz",
	}
	for _, pw := range strong {
		if isWeak(pw) {
			t.Errorf("isWeak(%q) = true, want false", pw)
		}
	}
}

func BenchmarkIsWeak(b *testing.B) {
	weakDictionary()
	for b.Loop() {
		isWeak("Xq7#mLp2vR!2024")
	}
}

func TestStrength(t *testing.T) {
	for _, tc := range []struct{ pw, want string }{
		{"abc", "Low"},
		{"password1", "Low"},       // dictionary
		{"kT9mQ2xLv", "Medium"},    // 9 runes, 3 types
		{"kt9mq2xlvwpz", "Medium"}, // 12 runes, 2 types
		{"kT9mQ2xLv#wP", "Strong"}, // 12 runes, 4 types
		{"aaaaaaaaaaaa", "Low"},    // one type, repetition
	} {
		if got := Strength(tc.pw); got != tc.want {
			t.Errorf("Strength(%q) = %s, want %s", tc.pw, got, tc.want)
		}
	}
}
