package passwords

import "unicode/utf8"

// Strength rates a password as IAM shows it (pwd_strength): Low, Medium or
// Strong. It is computed when the password is set, since only its hash is
// kept afterwards.
func Strength(password string) string {
	n := utf8.RuneCountInString(password)
	types, _ := charTypes(password)
	switch {
	case n >= 12 && types >= 3 && !isWeak(password):
		return "Strong"
	case n >= 8 && types >= 2 && !isWeak(password):
		return "Medium"
	default:
		return "Low"
	}
}
