package envelope

import "github.com/latchkey/latchkey/impl/fault"

// iamTable maps reasons for the IAM v3.0 family: the Keystone codes, except
// that a bad TOTP code on MFA bind/unbind is a 400 (apis.md §3.5).
var iamTable = derive(keystoneTable, map[fault.Reason]entry{
	fault.TOTPInvalid: {400, "IAM.1061", "Invalid TOTP passcode.", false},
})

// derive returns a copy of base with the rows of over replaced.
func derive(base, over map[fault.Reason]entry) map[fault.Reason]entry {
	t := make(map[fault.Reason]entry, len(base))
	for k, v := range base {
		t[k] = v
	}
	for k, v := range over {
		t[k] = v
	}
	return t
}
