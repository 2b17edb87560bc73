package envelope

import "github.com/latchkey/latchkey/impl/fault"

// keystoneTable maps reasons for the Keystone v3 family (apis.md §1.2, §2,
// §6.1, §6.2). The IAM v3.0 family shares the IAM.* and 1xxx codes (iam.go).
var keystoneTable = map[fault.Reason]entry{
	// Request shape.
	fault.BodyInvalid:          {400, "IAM.0011", "Request body is invalid.", false},
	fault.PropertyMissing:      {400, "IAM.0072", "A required property is missing.", false},
	fault.PropertyInvalid:      {400, "IAM.0073", "Invalid input for a field.", false},
	fault.ParameterInvalid:     {400, "IAM.0007", "Request parameter is invalid.", false},
	fault.PathNotFound:         {404, "IAM.0004", "Could not find the requested path.", false},
	fault.MethodNotAllowed:     {405, "IAM.0007", "Request method is not allowed.", false},
	fault.BodyTooLarge:         {413, "IAM.1101", "The request body size is invalid.", false},
	fault.UnsupportedMediaType: {415, "IAM.0011", "Request body is invalid: unsupported content type.", false},
	fault.NotImplemented:       {501, "IAM.0006", "This operation is not implemented yet.", false},

	// Authentication and authorization.
	fault.Unauthenticated:     {401, "IAM.0001", "The request you have made requires authentication.", false},
	fault.TokenExpired:        {401, "IAM.0066", "The token has expired.", false},
	fault.TokenInvalid:        {401, "IAM.0067", "Invalid token.", false},
	fault.SubjectTokenInvalid: {404, "IAM.0009", "X-Subject-Token is invalid in the request.", false},
	fault.Forbidden:           {403, "IAM.0002", "You are not authorized to perform the requested action.", false},
	fault.Restricted:          {403, "IAM.0002", "The password must be changed first.", false},
	fault.UnsupportedMethod:   {401, "IAM.0001", "Unsupported authentication method.", false},
	fault.ScopeDenied:         {401, "IAM.0001", "The user has no access to the requested scope.", false},
	fault.WrongPassword:       {401, "IAM.0062", "The username or password is wrong.", false},
	fault.Locked:              {401, "IAM.0061", "Account locked.", false},
	fault.Disabled:            {403, "IAM.0082", "The user is disabled.", false},
	fault.ConsoleOnly:         {403, "IAM.0081", "This user only supports console access, not programmatic access.", false},
	fault.TOTPInvalid:         {401, "IAM.1061", "Invalid TOTP passcode.", false},

	// Objects.
	fault.NotFound:         {404, "IAM.0004", "Could not find the requested object.", false},
	fault.UserNotFound:     {404, "IAM.0004", "Could not find the user.", false},
	fault.Conflict:         {409, "IAM.0005", "Conflict occurred when attempting to store the object.", false},
	fault.FactorMissing:    {400, "IAM.0007", "Request parameter verification_method is invalid: the verification factor is not bound.", false},
	fault.MFABound:         {400, "IAM.1062", "Login protection has been bound to mfa, the unbinding operation cannot be performed.", false},
	fault.NameInvalid:      {400, "1101", "Invalid username.", false},
	fault.NameTaken:        {400, "1109", "Username already exists.", false},
	fault.EmailInvalid:     {400, "1102", "Invalid email address.", false},
	fault.EmailTaken:       {400, "1110", "Email address already exists.", false},
	fault.PhoneInvalid:     {400, "1104", "Invalid mobile number.", false},
	fault.PhonePairing:     {400, "1106", "The country code and mobile number must be set at the same time.", false},
	fault.PhoneTaken:       {400, "1111", "Mobile number already exists.", false},
	fault.XUserPairing:     {400, "1100", "Mandatory parameters are not specified.", false},
	fault.XUserTaken:       {400, "1113", "xuser_id and xuser_type already exist.", false},
	fault.DescriptionBad:   {400, "1117", "Invalid user description.", false},
	fault.OwnerUndeletable: {400, "1107", "The account administrator cannot be deleted.", false},
	fault.QuotaExceeded:    {400, "1115", "The number of IAM users has reached the maximum.", false},

	// Passwords.
	fault.PasswordPolicy: {400, "1103", "Incorrect password.", false},
	fault.PasswordWeak:   {400, "1118", "The password is a weak password.", false},
	fault.PasswordSame:   {400, "1108", "The new password must be different from the old password.", false},

	// Service.
	fault.RateLimited: {429, "IAM.0012", "The throttling threshold has been reached.", false},
	fault.Overloaded:  {503, "IAM.0006", "The service is temporarily unavailable.", false},
	fault.Internal:    {500, "IAM.0006", genericInternal, true},
}
