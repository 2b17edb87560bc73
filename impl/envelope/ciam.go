package envelope

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/impl/fault"
)

// CIAM texts (apis.md §5, §6.4).
const (
	ciamParam      = "IDAAS.TENANT.PARAM.0001"
	ciamAuth       = "IDAAS.TENANT.AUTH.0001"
	ciamSys        = "IDAAS.TENANT.SYS.0001"
	ciamInvalid    = "Invalid request."
	ciamAuthMsg    = "The access token is missing, invalid or expired."
	ciamDenied     = "The access token does not allow this operation."
	ciamUserGone   = "User not found"
	ciamWrongPwd   = "Invalid account name or password."
	ciamTokenCode  = "IDAAS.TENANT.TOKEN.0001"
	ciamNoClient   = "Application ID required."
	ciamBadClient  = "Client authentication failed."
	ciamAppMissing = "APP.0002"
	ciamAppBad     = "APP.0001"
)

// ciamTable maps reasons for CIAM ({"error_code","error_msg"}). Every
// documented OneAccess error is a 400; 401, 404, 405, 413, 415, 429 and 5xx
// keep their statuses. Password policy rows are chosen by rule (ciamPassword).
var ciamTable = map[fault.Reason]entry{
	// Request shape.
	fault.BodyInvalid:          {400, ciamParam, ciamInvalid, false},
	fault.PropertyMissing:      {400, ciamParam, ciamInvalid, false},
	fault.PropertyInvalid:      {400, ciamParam, ciamInvalid, false},
	fault.ParameterInvalid:     {400, ciamParam, ciamInvalid, false},
	fault.PathNotFound:         {404, ciamParam, "Unknown path.", false},
	fault.MethodNotAllowed:     {405, ciamParam, "Method not allowed.", false},
	fault.BodyTooLarge:         {413, ciamParam, "Request body too large.", false},
	fault.UnsupportedMediaType: {415, ciamParam, "Unsupported content type.", false},
	fault.NotImplemented:       {501, ciamSys, "This operation is not implemented yet.", false},

	// Authentication and authorization.
	fault.Unauthenticated:     {401, ciamAuth, ciamAuthMsg, true},
	fault.TokenExpired:        {401, ciamAuth, ciamAuthMsg, true},
	fault.TokenInvalid:        {401, ciamAuth, ciamAuthMsg, true},
	fault.UnsupportedMethod:   {401, ciamAuth, ciamAuthMsg, true},
	fault.ScopeDenied:         {401, ciamAuth, ciamAuthMsg, true},
	fault.SubjectTokenInvalid: {401, ciamAuth, ciamAuthMsg, true},
	fault.Forbidden:           {403, ciamAuth, ciamDenied, false},
	fault.Restricted:          {403, ciamAuth, "The password must be changed first.", false},
	fault.Disabled:            {400, ciamParam, "The user is disabled.", false},
	fault.ConsoleOnly:         {400, ciamParam, "This user only supports console access.", false},
	fault.TOTPInvalid:         {400, ciamParam, "Invalid TOTP passcode.", false},
	fault.WrongPassword:       {400, "LOGIN.0002", ciamWrongPwd, true}, // text built in ciamResolve
	fault.Locked:              {400, "LOGIN.0001", "User has been locked due to multiple login failures.", true},

	// Objects.
	fault.NotFound:         {400, "IDAAS.TENANT.USER.0001", ciamUserGone, true},
	fault.UserNotFound:     {400, "IDAAS.TENANT.USER.0001", ciamUserGone, true},
	fault.NameTaken:        {400, "IDAAS.TENANT.USER.0002", "The user name already exists.", false},
	fault.PhoneTaken:       {400, "IDAAS.TENANT.USER.0003", "The mobile number already exists.", false},
	fault.EmailTaken:       {400, "IDAAS.TENANT.USER.0004", "The email address already exists.", false},
	fault.PhoneInvalid:     {400, "USER.0038", "Invalid mobile number.", true},
	fault.Conflict:         {400, ciamParam, ciamInvalid, false},
	fault.FactorMissing:    {400, ciamParam, ciamInvalid, false},
	fault.MFABound:         {400, ciamParam, ciamInvalid, false},
	fault.NameInvalid:      {400, ciamParam, "Invalid user name.", false},
	fault.EmailInvalid:     {400, ciamParam, "Invalid email address.", false},
	fault.PhonePairing:     {400, ciamParam, ciamInvalid, false},
	fault.XUserPairing:     {400, ciamParam, ciamInvalid, false},
	fault.XUserTaken:       {400, ciamParam, ciamInvalid, false},
	fault.DescriptionBad:   {400, ciamParam, ciamInvalid, false},
	fault.OwnerUndeletable: {400, ciamParam, ciamInvalid, false},
	fault.QuotaExceeded:    {400, ciamParam, ciamInvalid, false},

	// Passwords: PasswordPolicy goes by rule; these two have fixed rows.
	fault.PasswordPolicy: {400, ciamParam, ciamInvalid, false}, // rule unknown to the seed table
	fault.PasswordWeak:   ciamPwdWeak,
	fault.PasswordSame:   ciamPwdHistory,

	// Service.
	fault.RateLimited: {429, "APIG.0308", "The throttling threshold has been reached.", false},
	fault.Overloaded:  {503, ciamSys, "The service is temporarily unavailable.", false},
	fault.Internal:    {500, ciamSys, "Internal error.", true},
}

// Seed 003 rows: the vendor templates, {0}/{1} filled from fault.Error.Params.
var (
	ciamPwdHistory  = entry{400, "IDAAS.TENANT.PWD.0001", "The password is used before, cannot be used again", true}
	ciamPwdUsername = entry{400, "IDAAS.TENANT.PWD.0002", "Password cannot username in reverse order", true}
	ciamPwdContains = entry{400, "IDAAS.TENANT.PWD.0003", "Password cannot contain :username, mobile number, email prefix, name in PinYing", true}
	ciamPwdComplex  = entry{400, "IDAAS.TENANT.PWD.0004", "Your password complexity is low, {0}", true}
	ciamPwdWeak     = entry{400, "IDAAS.TENANT.PWD.0005", "The password is weak", true}
	ciamPwdRepeat   = entry{400, "IDAAS.TENANT.PWD.0006", "Number of character repeat in password should not exceed {0}", true}
	ciamPwdLength   = entry{400, "IDAAS.TENANT.PWD.0007", "The password must contain {0} to {1} characters", true}
)

// ciamPasswordRules maps the passwords package's stable rule ids.
var ciamPasswordRules = map[string]entry{
	"history":               ciamPwdHistory,
	"same_as_current":       ciamPwdHistory,
	"username":              ciamPwdUsername,
	"username_reversed":     ciamPwdUsername,
	"char_combination":      ciamPwdComplex,
	"minimum_age":           ciamPwdComplex, // no seed code: {0} states the wait (apis.md §6.4)
	"weak":                  ciamPwdWeak,
	"consecutive_identical": ciamPwdRepeat,
	"length":                ciamPwdLength,
}

func ciamResolve(e *fault.Error) (resolved, bool) {
	ent, known := ciamTable[e.Reason]
	if !known {
		ent = ciamTable[fault.Internal]
	}
	if e.Reason == fault.PasswordPolicy {
		if r, ok := ciamPasswordRules[e.Rule]; ok {
			ent = r
		} else if strings.HasPrefix(e.Rule, "contains_") {
			ent = ciamPwdContains
		}
	}
	r := resolved{status: ent.status, code: ent.code, msg: pick(ent, e, known)}
	switch {
	case e.Reason == fault.WrongPassword:
		if e.Remaining >= 0 {
			r.msg = ciamWrongPwd + " Remaining attempts: " + strconv.Itoa(e.Remaining) + "."
		}
	case ent.fixed && strings.Contains(ent.msg, "{0}"):
		r.msg = fill(ent.msg, e)
	}
	return r, known
}

// fill replaces {0}, {1}, ... with e.Params. When a placeholder stays unfilled
// it falls back to the domain's message, else drops the placeholders.
func fill(tmpl string, e *fault.Error) string {
	s := tmpl
	for i, p := range e.Params {
		s = strings.ReplaceAll(s, "{"+strconv.Itoa(i)+"}", p)
	}
	if !strings.Contains(s, "{") {
		return s
	}
	if e.Message != "" {
		return e.Message
	}
	for i := 0; i < 10; i++ {
		s = strings.ReplaceAll(s, "{"+strconv.Itoa(i)+"}", "")
	}
	return strings.TrimRight(strings.Join(strings.Fields(s), " "), ",")
}

// ciamToken maps an error of the token endpoint (RFC 6749 §5.2 plus the
// OneAccess codes of apis.md §5.1). ok is false for errors that carry no RFC
// error (429, 5xx, 404): those take the ordinary CIAM row.
func ciamToken(e *fault.Error, basic bool) (resolved, bool) {
	oauth := e.OAuthError
	if oauth == "" {
		switch e.Reason {
		case fault.Unauthenticated, fault.TokenInvalid, fault.TokenExpired, fault.WrongPassword, fault.Forbidden:
			oauth = "invalid_client"
		case fault.BodyInvalid, fault.PropertyMissing, fault.PropertyInvalid, fault.ParameterInvalid,
			fault.UnsupportedMediaType, fault.BodyTooLarge, fault.MethodNotAllowed:
			oauth = "invalid_request"
		default:
			return resolved{}, false
		}
	}
	msgOr := func(def string) string {
		if e.Message != "" {
			return e.Message
		}
		return def
	}
	if oauth == "invalid_client" {
		if e.Reason == fault.Unauthenticated {
			return resolved{status: http.StatusBadRequest, code: ciamAppMissing, msg: msgOr(ciamNoClient), oauth: oauth}, true
		}
		r := resolved{status: http.StatusBadRequest, code: ciamAppBad, msg: msgOr(ciamBadClient), oauth: oauth}
		if basic {
			// RFC 6749 §5.2: rejected Basic credentials answer 401 + WWW-Authenticate.
			r.status, r.basic = http.StatusUnauthorized, true
		}
		return r, true
	}
	// invalid_request, unsupported_grant_type and the other RFC errors.
	r, _ := ciamResolve(e)
	r.oauth = oauth
	switch r.status {
	case http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		// keep status and PARAM code
	default:
		r.status, r.code = http.StatusBadRequest, ciamTokenCode
	}
	return r, true
}
