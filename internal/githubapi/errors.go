package githubapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi/retry"
)

// Error is a failed API call. Terminal says whether retrying the same call
// can help; Status is the HTTP status, zero when no response arrived.
type Error struct {
	// Op says what was being done, such as "list reviews of acme/models#12".
	Op string
	// Status is the HTTP status code of the answer, zero if none came.
	Status int
	// RetryAfter is how long GitHub asked to wait, when it said.
	RetryAfter time.Duration
	// Terminal is true when retrying cannot help (not found, forbidden,
	// invalid), false for server errors, rate limits and network failures.
	Terminal bool
	// Err is the cause.
	Err error
}

// Error returns "githubapi: op: cause".
func (e *Error) Error() string { return "githubapi: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// FailureKind classifies e for failure.IsTerminal and the command line's
// exit codes: a terminal 404 is NotFound, any other terminal answer Usage
// (the request or the credentials must change), the rest Unavailable.
func (e *Error) FailureKind() failure.Kind {
	switch {
	case !e.Terminal:
		return failure.Unavailable
	case e.Status == http.StatusNotFound:
		return failure.NotFound
	}
	return failure.Usage
}

// IsNotFound reports whether err is, or wraps, an *Error for a 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// classify wraps an error from go-github or ghinstallation in an *Error.
func classify(op string, err error) error {
	e := &Error{Op: op, Err: err}
	var (
		rate   *github.RateLimitError
		abuse  *github.AbuseRateLimitError
		resp   *github.ErrorResponse
		token  *ghinstallation.HTTPError
		paused *retry.PausedError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	case errors.As(err, &paused):
		e.RetryAfter = paused.Wait
	case errors.As(err, &rate):
		e.Status = statusOf(rate.Response)
		e.RetryAfter = time.Until(rate.Rate.Reset.Time)
	case errors.As(err, &abuse):
		e.Status = statusOf(abuse.Response)
		e.RetryAfter = abuse.GetRetryAfter()
	case errors.As(err, &resp):
		e.Status = statusOf(resp.Response)
		e.Terminal = terminalStatus(e.Status)
	case errors.As(err, &token):
		e.Status = statusOf(token.Response)
		e.Terminal = terminalStatus(e.Status)
	}
	if e.RetryAfter < 0 {
		e.RetryAfter = 0
	}
	return e
}

func statusOf(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// terminalStatus says whether an answer with status will be the same next
// time: client errors are, except 408 and 429; server errors are not.
func terminalStatus(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return false
	case status >= 400 && status < 500:
		return true
	}
	return false
}
