package bot

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// hintVersion is the version of the message format; messages of another
// version are dropped.
const hintVersion = 1

// The kinds of hint, one per kind of pipeline job.
const (
	hintPullRequest = "pull_request"
	hintCommit      = "commit"
	hintMergeGroup  = "merge_group"
	hintBaseMoved   = "base_moved"
	// hintFeature is a feature's job (Host.SubmitJob).
	hintFeature = "feature"
)

// hint is a queued message: what a job is about, and nothing it could
// trust. A worker rebuilds the job's state from GitHub.
type hint struct {
	V    int    `json:"v"`
	Kind string `json:"kind"`
	// Event and Delivery are the delivery that caused the job, for logs.
	Event    string `json:"event,omitempty"`
	Delivery string `json:"delivery,omitempty"`

	Installation int64  `json:"installation"`
	Owner        string `json:"owner"`
	Repo         string `json:"repo"`
	CloneURL     string `json:"clone_url,omitempty"`
	// Number is the pull request; SHA the head commit (a pull request's,
	// the commit's, or the merge group's); Ref the moved branch or the
	// merge group's head ref; BaseSHA and BaseRef a merge group's base.
	Number  int    `json:"number,omitempty"`
	SHA     string `json:"sha,omitempty"`
	Ref     string `json:"ref,omitempty"`
	BaseSHA string `json:"base_sha,omitempty"`
	BaseRef string `json:"base_ref,omitempty"`
	// Feature names the feature of a feature's job, FeatureKind and
	// FeatureRef its FeatureJob.Kind and Ref; Before is a push's before
	// (or, for a pull request, its head before a synchronize: see
	// target.former) and DefaultBranch the repository's default branch as
	// the delivery said.
	Feature       string `json:"feature,omitempty"`
	FeatureKind   string `json:"feature_kind,omitempty"`
	FeatureRef    string `json:"feature_ref,omitempty"`
	Before        string `json:"before,omitempty"`
	DefaultBranch string `json:"default_branch,omitempty"`
	// Force evaluates even inputs already evaluated (a re-run asked for).
	Force bool `json:"force,omitempty"`
	// LastError is why the last attempt failed, as shown to users; it
	// becomes the reason of a poisoned message's check run.
	LastError string `json:"last_error,omitempty"`
}

// hintOf describes the job of t.
func hintOf(t target) hint {
	h := hint{
		V: hintVersion, Kind: hintPullRequest, Event: t.event, Delivery: t.delivery,
		Installation: t.installation, Owner: t.owner, Repo: t.name, CloneURL: t.cloneURL,
		Number: t.number, SHA: t.sha, Force: t.force, Before: t.former,
	}
	if t.number == 0 {
		h.Kind = hintCommit
	}
	return h
}

// target rebuilds the target of a pull request or commit hint.
func (h hint) target() target {
	return target{
		installation: h.Installation, owner: h.Owner, name: h.Repo, cloneURL: h.CloneURL,
		number: h.Number, sha: h.SHA, force: h.Force, event: h.Event, delivery: h.Delivery, former: h.Before,
	}
}

// check rejects a hint no job can come of.
func (h hint) check() error {
	switch {
	case h.V != hintVersion:
		return fmt.Errorf("message version %d, want %d", h.V, hintVersion)
	case h.Installation <= 0 || h.Owner == "" || h.Repo == "":
		return errors.New("no installation or repository")
	}
	switch h.Kind {
	case hintPullRequest:
		if h.Number <= 0 {
			return errors.New("no pull request number")
		}
		if h.Before != "" && !commitHash.MatchString(h.Before) {
			return errors.New("a former head that is no commit")
		}
	case hintCommit, hintMergeGroup:
		if !commitHash.MatchString(h.SHA) {
			return errors.New("no commit")
		}
	case hintBaseMoved:
		if h.Ref == "" {
			return errors.New("no branch")
		}
	case hintFeature:
		if h.Feature == "" || h.FeatureKind == "" {
			return errors.New("no feature or kind of job")
		}
	default:
		return fmt.Errorf("unknown kind %q", h.Kind)
	}
	return nil
}

// lockKey names the job a hint describes, so that a replica's workers never
// run two jobs of one pull request (or commit, or branch) at once.
func (h hint) lockKey() string {
	if h.Kind == hintFeature {
		return fmt.Sprintf("%s/%s/%d/%s/%d/%s/%s", h.Kind, h.Feature, h.Installation, strings.ToLower(h.Owner+"/"+h.Repo), h.Number, h.FeatureKind, h.FeatureRef)
	}
	return fmt.Sprintf("%s/%d/%s/%d/%s", h.Kind, h.Installation, strings.ToLower(h.Owner+"/"+h.Repo), h.Number, h.Ref+"@"+h.SHA)
}

// logger enriches logger with the hint.
func (h hint) logger(logger *slog.Logger) *slog.Logger {
	logger = logger.With(KeyRepo, h.Owner+"/"+h.Repo, KeyInstallationID, h.Installation, "job", h.Kind)
	if h.Feature != "" {
		logger = logger.With("feature", h.Feature, "feature_job", h.FeatureKind)
	}
	if h.Number != 0 {
		logger = logger.With(KeyPR, h.Number)
	}
	if h.SHA != "" {
		logger = logger.With(KeySHA, h.SHA)
	}
	if h.Delivery != "" {
		logger = logger.With(KeyDeliveryID, h.Delivery, KeyEvent, h.Event)
	}
	return logger
}
