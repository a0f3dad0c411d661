package featurekit

import (
	"log/slog"
	"strings"

	"github.com/example-org/promobot/internal/bot"
)

// Target is what a job is about: a repository, reached through an
// installation, and, for a job about a pull request, its number and the
// commit the job looks at.
type Target struct {
	Repo
	Installation int64
	// Number is the pull request's number; zero until the event names it,
	// and for a job about the whole repository.
	Number int
	// SHA is the commit the job is about, empty when there is none.
	SHA string
}

// NewTarget returns the Target of a repository, before any pull request
// is known.
func NewTarget(r bot.Repo) Target {
	return Target{Repo: Repo{Owner: r.Owner, Name: r.Name, CloneURL: r.CloneURL}, Installation: r.Installation}
}

// FullName returns "owner/name".
func (t Target) FullName() string { return t.Owner + "/" + t.Name }

// JobKey is the key of the job of kind about t's pull request; ref tells
// jobs of one kind apart (a comment id, say).
func (t Target) JobKey(kind, ref string) bot.JobKey {
	return bot.JobKey{Installation: t.Installation, Repo: strings.ToLower(t.FullName()), Number: t.Number, Kind: kind, Ref: ref}
}

// Logger enriches logger with the target: the repository, the pull
// request, the installation and, when set, the commit.
func (t Target) Logger(logger *slog.Logger) *slog.Logger {
	logger = logger.With(bot.KeyRepo, t.FullName(), bot.KeyPR, t.Number, bot.KeyInstallationID, t.Installation)
	if t.SHA != "" {
		logger = logger.With(bot.KeySHA, t.SHA)
	}
	return logger
}
