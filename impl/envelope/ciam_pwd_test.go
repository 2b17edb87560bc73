package envelope

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/impl/fault"
	"github.com/latchkey/latchkey/impl/passwords"
)

// Every rule of the real policy engine maps to its seed 003 code, with the
// {0}/{1} placeholders filled from the violation the engine produced (so a
// renamed rule id or changed Params breaks here, not on the wire).
func TestCIAMPasswordRulesFromEngine(t *testing.T) {
	ctx := context.Background()
	h := passwords.NewHasher(passwords.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2, 0)
	hash := func(pw string) string {
		phc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		return phc
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	justNow := now.Add(-time.Minute)
	pol := passwords.DefaultPolicy()
	pol.MinLength = 10
	pol.CharCombination = 3
	pol.MaxConsecutiveIdentical = 2
	pol.RecentDisallowed = 3
	pol.MinAge = time.Hour
	subj := passwords.Subject{
		UserName: "jo.smith", DisplayName: "张伟", Email: "wei.zhang@example.com",
		AreaCode: "+86", Phone: "13812345678",
		CurrentHash: hash("Current-Pass-1"), History: []string{hash("Older-Pass-22")},
	}
	const (
		contains = "Password cannot contain :username, mobile number, email prefix, name in PinYing"
		reverse  = "Password cannot username in reverse order"
		used     = "The password is used before, cannot be used again"
	)
	tests := []struct {
		rule      passwords.Rule
		candidate string
		code, msg string
		subj      *passwords.Subject
	}{
		{passwords.RuleLength, "Ab1-xyzqw", "IDAAS.TENANT.PWD.0007", "The password must contain 10 to 32 characters", nil},
		{passwords.RuleCharCombination, "abcdefghij1", "IDAAS.TENANT.PWD.0004", "Your password complexity is low, use at least 3 of: uppercase letters, lowercase letters, digits, special characters", nil},
		{passwords.RuleUsername, "jo.smith12", "IDAAS.TENANT.PWD.0002", reverse, &passwords.Subject{UserName: "Jo.Smith12"}},
		{passwords.RuleUsernameReversed, "21htimS.oJ", "IDAAS.TENANT.PWD.0002", reverse, &passwords.Subject{UserName: "Jo.Smith12"}},
		{passwords.RuleContainsUsername, "X-jo.smith-9", "IDAAS.TENANT.PWD.0003", contains, nil},
		{passwords.RuleContainsPhone, "Pw-13812345678", "IDAAS.TENANT.PWD.0003", contains, nil},
		{passwords.RuleContainsEmail, "Wei.Zhang-2026", "IDAAS.TENANT.PWD.0003", contains, nil},
		{passwords.RuleContainsName, "Zhangwei#2026", "IDAAS.TENANT.PWD.0003", contains, nil},
		{passwords.RuleConsecutiveIdentical, "Abc-111-xyz", "IDAAS.TENANT.PWD.0006", "Number of character repeat in password should not exceed 2", nil},
		{passwords.RuleMinimumAge, "Brand-New-2026", "IDAAS.TENANT.PWD.0004", "Your password complexity is low, the password can be changed again in 59 minutes", nil},
		{passwords.RuleWeak, "Password123!", "IDAAS.TENANT.PWD.0005", "The password is weak", nil},
		{passwords.RuleSameAsCurrent, "Current-Pass-1", "IDAAS.TENANT.PWD.0001", used, nil},
		{passwords.RuleHistory, "Older-Pass-22", "IDAAS.TENANT.PWD.0001", used, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.rule), func(t *testing.T) {
			s := subj
			if tt.subj != nil {
				s = *tt.subj
			}
			s.PasswordChangedAt = &justNow
			vs, err := pol.Evaluate(ctx, h, tt.candidate, s, passwords.CheckOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			var v *passwords.Violation
			for i := range vs {
				if vs[i].Rule == tt.rule {
					v = &vs[i]
				}
			}
			if v == nil {
				t.Fatalf("the engine did not report %s for %q (got %v)", tt.rule, tt.candidate, vs)
			}
			status, code, msg := Map(CIAM, v.Err())
			if status != 400 || code != tt.code || msg != tt.msg {
				t.Errorf("CIAM %d %s %q, want 400 %s %q", status, code, msg, tt.code, tt.msg)
			}
			if strings.Contains(msg, "{") {
				t.Errorf("unfilled placeholder in %q", msg)
			}
		})
	}
	// The engine's Err() wraps weak and same-as-current in their own reasons.
	if _, code, _ := Map(CIAM, fault.New(fault.PasswordWeak, "")); code != "IDAAS.TENANT.PWD.0005" {
		t.Errorf("PasswordWeak -> %s", code)
	}
}
