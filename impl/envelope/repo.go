package envelope

import "github.com/latchkey/latchkey/impl/fault"

// CodeArts Repo texts (apis.md §4, §6.3).
const (
	repoParamInvalid = "Param invalid"
	repoNotFound     = "Not Found"
	repoNoPermission = "No Permission: the request requires a valid X-Auth-Token."
	repoForbidden    = "Forbidden"
	repoRestricted   = "The password must be changed first."
	repoThrottled    = "The throttling threshold has been reached."
)

// repoV2Table maps reasons for CodeArts Repo v1/v2
// ({"error":{"code","message"},"status":"failed"}).
var repoV2Table = map[fault.Reason]entry{
	// Request shape: everything is CH.010001, at its own status.
	fault.BodyInvalid:          {400, "CH.010001", repoParamInvalid, false},
	fault.PropertyMissing:      {400, "CH.010001", repoParamInvalid, false},
	fault.PropertyInvalid:      {400, "CH.010001", repoParamInvalid, false},
	fault.ParameterInvalid:     {400, "CH.010001", repoParamInvalid, false},
	fault.PathNotFound:         {404, "CH.000404", repoNotFound, false},
	fault.MethodNotAllowed:     {405, "CH.010001", repoParamInvalid, false},
	fault.BodyTooLarge:         {413, "CH.010001", repoParamInvalid, false},
	fault.UnsupportedMediaType: {415, "CH.010001", repoParamInvalid, false},
	fault.NotImplemented:       {501, "CH.000001", "This operation is not implemented yet.", false},

	// Authentication and authorization.
	fault.Unauthenticated:     {401, "CH.080401", repoNoPermission, true},
	fault.TokenExpired:        {401, "CH.080401", repoNoPermission, true},
	fault.TokenInvalid:        {401, "CH.080401", repoNoPermission, true},
	fault.UnsupportedMethod:   {401, "CH.080401", repoNoPermission, true},
	fault.ScopeDenied:         {401, "CH.080401", repoNoPermission, true},
	fault.TOTPInvalid:         {401, "CH.080401", repoNoPermission, true},
	fault.SubjectTokenInvalid: {404, "CH.000404", repoNotFound, false},
	fault.Forbidden:           {403, "CH.080403", repoForbidden, false},
	fault.Restricted:          {403, "CH.080403", repoRestricted, false},
	fault.Disabled:            {403, "CH.080403", repoForbidden, false},
	fault.ConsoleOnly:         {403, "CH.080403", repoForbidden, false},
	fault.WrongPassword:       {401, "CH.010008", "Invalid password.", false},
	// A locked user gets 429 with Retry-After (apis.md §4.2).
	fault.Locked: {429, "APIG.0308", "The throttling threshold has been reached: too many failed attempts.", false},

	// Objects.
	fault.NotFound:         {404, "CH.000404", repoNotFound, false},
	fault.UserNotFound:     {404, "CH.000404", repoNotFound, false},
	fault.Conflict:         {409, "CH.010001", repoParamInvalid, false},
	fault.FactorMissing:    {400, "CH.010001", repoParamInvalid, false},
	fault.MFABound:         {400, "CH.010001", repoParamInvalid, false},
	fault.NameInvalid:      {400, "CH.010001", repoParamInvalid, false},
	fault.NameTaken:        {400, "CH.010001", repoParamInvalid, false},
	fault.EmailInvalid:     {400, "CH.010001", repoParamInvalid, false},
	fault.EmailTaken:       {400, "CH.010001", repoParamInvalid, false},
	fault.PhoneInvalid:     {400, "CH.010001", repoParamInvalid, false},
	fault.PhonePairing:     {400, "CH.010001", repoParamInvalid, false},
	fault.PhoneTaken:       {400, "CH.010001", repoParamInvalid, false},
	fault.XUserPairing:     {400, "CH.010001", repoParamInvalid, false},
	fault.XUserTaken:       {400, "CH.010001", repoParamInvalid, false},
	fault.DescriptionBad:   {400, "CH.010001", repoParamInvalid, false},
	fault.OwnerUndeletable: {400, "CH.010001", repoParamInvalid, false},
	fault.QuotaExceeded:    {400, "CH.010001", repoParamInvalid, false},

	// Passwords (the HTTPS password format rule, seed 001).
	fault.PasswordPolicy: {400, "CH.080002", "Incorrect password format.", false},
	fault.PasswordWeak:   {400, "CH.080002", "Incorrect password format.", false},
	fault.PasswordSame:   {400, "CH.080002", "Incorrect password format.", false},

	// Service.
	fault.RateLimited: {429, "APIG.0308", repoThrottled, false},
	fault.Overloaded:  {503, "CH.000001", "The service is temporarily unavailable.", false},
	fault.Internal:    {500, "CH.000001", "Unknown error", true},
}

// repoV4Table maps reasons for CodeArts Repo v4 ({"error_code","error_msg"}):
// the v1/v2 codes with the v4 authentication (DEV.00000003) and permission
// (CH.004403) codes.
var repoV4Table = derive(repoV2Table, map[fault.Reason]entry{
	fault.Unauthenticated:   {401, "DEV.00000003", repoV4Unauth, true},
	fault.TokenExpired:      {401, "DEV.00000003", repoV4Unauth, true},
	fault.TokenInvalid:      {401, "DEV.00000003", repoV4Unauth, true},
	fault.UnsupportedMethod: {401, "DEV.00000003", repoV4Unauth, true},
	fault.ScopeDenied:       {401, "DEV.00000003", repoV4Unauth, true},
	fault.TOTPInvalid:       {401, "DEV.00000003", repoV4Unauth, true},
	fault.Forbidden:         {403, "CH.004403", repoV4Forbidden, false},
	fault.Restricted:        {403, "CH.004403", repoRestricted, false},
	fault.Disabled:          {403, "CH.004403", repoV4Forbidden, false},
	fault.ConsoleOnly:       {403, "CH.004403", repoV4Forbidden, false},
})

const (
	repoV4Unauth    = "Authentication information expired."
	repoV4Forbidden = "You have no permission; upgrade your permissions and retry."
)
