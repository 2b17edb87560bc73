package accounts

import (
	"encoding/json"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/latchkey/latchkey/impl/fault"
)

// Field limits (IAM §3.1).
const (
	MaxNameLen        = 64
	MaxEmailLen       = 255
	MaxPhoneLen       = 32
	MaxDescriptionLen = 255
	MaxXUserTypeLen   = 64
	MaxXUserIDLen     = 128
	MaxDisplayNameLen = 128
)

// ValidateName checks a user name: 1-64 characters of ASCII letters, digits,
// space, '-', '_' and '.', not starting with a digit or a space. Non-ASCII
// letters are refused on purpose: look-alike letters from other scripts
// would let "аdmin" (Cyrillic a) sit next to "admin" in one domain.
func ValidateName(name string) error {
	n := len(name) // ASCII only, so bytes == characters
	if n == 0 || n > MaxNameLen {
		return fault.New(fault.NameInvalid, "Invalid username: the name must be 1 to %d characters long.", MaxNameLen)
	}
	for i := 0; i < n; i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_', c == '.':
		case c >= '0' && c <= '9', c == ' ':
			if i == 0 {
				return fault.New(fault.NameInvalid, "Invalid username: the name must not start with a digit or a space.")
			}
		default:
			return fault.New(fault.NameInvalid, "Invalid username: only letters, digits, spaces and the characters - _ . are allowed.")
		}
	}
	return nil
}

// ValidateEmail checks a bare e-mail address (no display name, no angle
// brackets), at most 255 characters.
func ValidateEmail(email string) error {
	if len(email) > MaxEmailLen {
		return fault.New(fault.EmailInvalid, "Invalid email address: at most %d characters are allowed.", MaxEmailLen)
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email {
		return fault.New(fault.EmailInvalid, "Invalid email address.")
	}
	return nil
}

// ValidatePhone checks a mobile number: 1-32 digits.
func ValidatePhone(phone string) error {
	if phone == "" || len(phone) > MaxPhoneLen || !allDigits(phone) {
		return fault.New(fault.PhoneInvalid, "Invalid mobile number: use 1 to %d digits.", MaxPhoneLen)
	}
	return nil
}

// ValidateAreaCode checks a country calling code: "0086", "+86" or "86"
// (an optional "+" or "00" prefix, then 1-4 digits not starting with 0).
func ValidateAreaCode(ac string) error {
	if countryCode(ac) == "" {
		return fault.New(fault.PhoneInvalid, "Invalid country code: use a form such as 0086 or +86.")
	}
	return nil
}

// countryCode returns the bare calling code of ac ("0086", "+86", "86" ->
// "86"), or "" when ac is not a valid code. It keys phone uniqueness, so the
// three spellings of one country cannot hold the same number twice.
func countryCode(ac string) string {
	d := ac
	switch {
	case strings.HasPrefix(d, "+"):
		d = d[1:]
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	}
	if len(d) < 1 || len(d) > 4 || !allDigits(d) || d[0] == '0' {
		return ""
	}
	return d
}

// ParseMobile splits the "<areacode>-<number>" form of /info and CIAM
// ("0086-123456789") into its two validated parts.
func ParseMobile(mobile string) (areaCode, phone string, err error) {
	ac, ph, ok := strings.Cut(mobile, "-")
	if !ok {
		return "", "", fault.New(fault.PhoneInvalid, "Invalid mobile number: use the form <country code>-<number>, e.g. 0086-123456789.")
	}
	if err := ValidateAreaCode(ac); err != nil {
		return "", "", err
	}
	if err := ValidatePhone(ph); err != nil {
		return "", "", err
	}
	return ac, ph, nil
}

// ValidateDescription checks a description: at most 255 characters, none of
// @ # % & < > \ $ ^ * (the vendor's rule).
func ValidateDescription(d string) error {
	if !utf8.ValidString(d) || utf8.RuneCountInString(d) > MaxDescriptionLen {
		return fault.New(fault.DescriptionBad, "Invalid user description: at most %d characters are allowed.", MaxDescriptionLen)
	}
	if strings.ContainsAny(d, `@#%&<>\$^*`) {
		return fault.New(fault.DescriptionBad, `Invalid user description: the characters @ # %% & < > \ $ ^ * are not allowed.`)
	}
	if hasControl(d) {
		return fault.New(fault.DescriptionBad, "Invalid user description: control characters are not allowed.")
	}
	return nil
}

// hasControl reports a control character other than tab. Stored free text
// must not carry them: NUL is refused by PostgreSQL, and the others corrupt
// what consoles and logs show.
func hasControl(s string) bool {
	for _, r := range s {
		if r != '\t' && unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// ValidateAccessMode checks access_mode.
func ValidateAccessMode(m string) error {
	switch m {
	case AccessDefault, AccessProgrammatic, AccessConsole:
		return nil
	}
	return fault.New(fault.PropertyInvalid, "Invalid input for field 'access_mode'. The value is '%s'.", clip(m))
}

func validateXUser(typ, id string) error {
	if (typ == "") != (id == "") {
		return fault.New(fault.XUserPairing, "Mandatory parameters are not specified: xuser_type and xuser_id must be set together.")
	}
	if len(typ) > MaxXUserTypeLen || !utf8.ValidString(typ) {
		return fault.New(fault.PropertyInvalid, "Invalid input for field 'xuser_type': at most %d characters are allowed.", MaxXUserTypeLen)
	}
	if len(id) > MaxXUserIDLen || !utf8.ValidString(id) {
		return fault.New(fault.PropertyInvalid, "Invalid input for field 'xuser_id': at most %d characters are allowed.", MaxXUserIDLen)
	}
	if hasControl(typ) || hasControl(id) {
		return fault.New(fault.PropertyInvalid, "Invalid input for fields 'xuser_type'/'xuser_id': control characters are not allowed.")
	}
	if strings.Contains(typ, "/") {
		// "/" separates the parts of XUserKey; allowing it would let two
		// different pairs share one key.
		return fault.New(fault.PropertyInvalid, "Invalid input for field 'xuser_type': '/' is not allowed.")
	}
	return nil
}

func validateDisplayName(n string) error {
	if !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxDisplayNameLen {
		return fault.New(fault.PropertyInvalid, "Invalid input for field 'name': at most %d characters are allowed.", MaxDisplayNameLen)
	}
	if hasControl(n) {
		return fault.New(fault.PropertyInvalid, "Invalid input for field 'name': control characters are not allowed.")
	}
	return nil
}

func validateExtension(ext string) error {
	if ext == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(ext), &m); err != nil || m == nil {
		return fault.New(fault.PropertyInvalid, "Invalid input for field 'extension': a JSON object is required.")
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens an echoed value so an error message stays small.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= 64 {
		return s
	}
	return string(r[:64]) + "..."
}
