package server

import (
	"errors"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/latchkey/latchkey/impl/envelope"
	"github.com/latchkey/latchkey/impl/fault"
)

// StrictHandlers has the fields of gen.StrictGinServerOptions, in the same
// order, so that the caller converts it without this package importing the
// generated code: gen.StrictGinServerOptions(server.StrictOptions()).
type StrictHandlers struct {
	RequestErrorHandlerFunc  func(ctx *gin.Context, err error)
	HandlerErrorFunc         func(ctx *gin.Context, err error)
	ResponseErrorHandlerFunc func(ctx *gin.Context, err error)
}

// StrictOptions returns the error hooks of the generated strict server:
// every one answers in the family envelope (the generated defaults answer
// {"msg": ...}, which is in nobody's envelope).
func StrictOptions() StrictHandlers {
	return StrictHandlers{
		RequestErrorHandlerFunc:  RequestErrorHandler,
		HandlerErrorFunc:         HandlerErrorHandler,
		ResponseErrorHandlerFunc: ResponseErrorHandler,
	}
}

// RequestErrorHandler answers a body the strict server could not decode
// (after validation passed, so rare): 400 BodyInvalid, or 413 when the body
// overflowed the limit.
func RequestErrorHandler(c *gin.Context, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		envelope.Write(c, fault.Wrap(fault.BodyTooLarge, err, "The request body size is invalid: the limit is %d bytes.", mbe.Limit))
		return
	}
	envelope.Write(c, fault.Wrap(fault.BodyInvalid, err, "Request body is invalid."))
}

// HandlerErrorHandler answers an error returned by a handler: a *fault.Error
// in the family envelope, anything else as a logged 500.
func HandlerErrorHandler(c *gin.Context, err error) {
	envelope.Write(c, err)
}

// ResponseErrorHandler answers a response the strict server could not
// write (encoding failure, unexpected type): a logged 500.
func ResponseErrorHandler(c *gin.Context, err error) {
	envelope.Write(c, err)
}

// paramName finds the parameter name in oapi-codegen's binding errors
// ("Invalid format for parameter user_id: ...", "Header parameter X is
// required, but not found", "Query argument x is required, ..."). The rest
// of the message may quote the value, so only the name is used.
var paramName = regexp.MustCompile(`(?:parameter|argument|value for) ([A-Za-z0-9_.\-\[\]]+)`)

// ParamErrorHandler is the generated wrapper's ErrorHandler (parameter
// binding failures): 400 ParameterInvalid naming the parameter, never its
// value. Pass it as GinServerOptions.ErrorHandler (Options.Register gets it).
func ParamErrorHandler(c *gin.Context, err error, _ int) {
	if m := paramName.FindStringSubmatch(err.Error()); m != nil {
		envelope.Write(c, fault.Wrap(fault.ParameterInvalid, err, "Request parameter %s is invalid.", clip(m[1], 64)))
		return
	}
	envelope.Write(c, fault.Wrap(fault.ParameterInvalid, err, "Request parameter is invalid."))
}
