package api

import (
	"errors"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/wire"
)

// AWSError is an error that already knows its AWS code and status (for
// example an authentication failure).
type AWSError interface {
	error
	AWSCode() string
	HTTPStatus() int
}

// exception is what goes on the wire for an error.
type exception struct {
	Code    string
	Status  int
	Message string
}

// toException is the one table from internal errors to IVS exceptions.
func toException(err error) exception {
	var (
		aws   AWSError
		val   *wire.ValidationError
		nf    *model.NotFoundError
		cf    *model.ConflictError
		quota *model.QuotaError
		nb    *model.NotBroadcastingError
		thr   *model.ThrottledError
		un    *model.UnavailableError
		ad    *model.AccessDeniedError
	)
	switch {
	case errors.As(err, &aws):
		return exception{aws.AWSCode(), aws.HTTPStatus(), aws.Error()}
	case errors.As(err, &val):
		return exception{"ValidationException", 400, val.Error()}
	case errors.As(err, &nf):
		return exception{"ResourceNotFoundException", 404, nf.Error()}
	case errors.As(err, &cf):
		return exception{"ConflictException", 409, cf.Error()}
	case errors.As(err, &quota):
		return exception{"ServiceQuotaExceededException", 402, quota.Error()}
	case errors.As(err, &nb):
		return exception{"ChannelNotBroadcasting", 404, nb.Error()}
	case errors.As(err, &thr):
		return exception{"ThrottlingException", 429, thr.Error()}
	case errors.As(err, &un):
		return exception{un.Code, 503, un.Error()}
	case errors.As(err, &ad):
		return exception{"AccessDeniedException", 403, ad.Error()}
	}
	return exception{"InternalServerException", 500, "An internal error occurred. Retry your request."}
}
