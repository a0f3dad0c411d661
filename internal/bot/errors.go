package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/gitrepo"
)

// userMessage says in one line, for the check run title, why an evaluation
// could not complete. It names the failing step, never tokens or internal
// details, which stay in the logs.
func userMessage(err error) string {
	var (
		gh *githubapi.Error
		mi *mirror.Error
		gr *gitrepo.Error
		mg *mergeGroupError
	)
	switch {
	case errors.As(err, &mg):
		return mg.reason
	case errors.Is(err, context.DeadlineExceeded):
		return "the evaluation took too long"
	case errors.Is(err, context.Canceled):
		return "the evaluation was interrupted"
	case errors.As(err, &gh) && gh.Status == 0 && gh.RetryAfter > 0:
		// The budget chain held the request: the installation is rate
		// limited.
		return fmt.Sprintf("GitHub's rate limit for this installation was reached (%s), retry after %s", gh.Op, gh.RetryAfter.Round(time.Second))
	case errors.As(err, &gh) && gh.Status != 0:
		return fmt.Sprintf("GitHub answered %d to %s", gh.Status, gh.Op)
	case errors.As(err, &gh):
		return "GitHub could not be reached to " + gh.Op
	case errors.As(err, &mi):
		return "could not fetch the repository (" + mi.Op + ")"
	case errors.As(err, &gr):
		return "could not read the repository (" + gr.Op + ")"
	case errors.As(err, new(*artifactError)):
		return "could not verify the artifacts"
	}
	return "internal error"
}

// artifactError is a failure of artifact verification as a whole, such as a
// trusted key that cannot be loaded or storage credentials that are missing.
type artifactError struct{ err error }

func (e *artifactError) Error() string { return "verify artifacts: " + e.err.Error() }

func (e *artifactError) Unwrap() error { return e.err }

// FailureKind leaves open whether a retry can help: a key or credentials
// may be fixed at any time.
func (e *artifactError) FailureKind() failure.Kind { return failure.Unknown }
