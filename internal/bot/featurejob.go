package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/example-org/promobot/internal/bot/queue"
)

// FeatureJob describes a feature's job by data alone: what it is about,
// never what to conclude. It is what the durable queue carries for a
// feature (Host.SubmitJob), so it holds only what the feature needs to
// find the job's subject on GitHub again: a comment's id, a pull request's
// number, a commit. A worker on any replica hands it to the feature's
// RunJob, which reads the rest from GitHub; a forged or stale message can
// then only make the feature look again, and every side effect of a
// feature's job must be idempotent, since a message can be delivered more
// than once.
type FeatureJob struct {
	// Repo is the repository; only its installation, owner and name are
	// required. Its clone URL and default branch are hints, to be read
	// from GitHub again when they matter.
	Repo Repo
	// Number is a pull request or issue, when the job is about one.
	Number int
	// Kind tells the feature's kinds of job apart; Ref is what else makes
	// the job one of its own (a comment id, say). They make its JobKey.
	Kind, Ref string
	// SHA and Before are commits the job is about, when it is: a merge
	// commit, or a push's after and before.
	SHA, Before string
}

// Key is the job's JobKey: jobs with one key coalesce and never run at
// once on a replica.
func (j FeatureJob) Key() JobKey {
	return JobKey{Installation: j.Repo.Installation, Repo: strings.ToLower(j.Repo.FullName()), Number: j.Number, Kind: j.Kind, Ref: j.Ref}
}

// JobRunner is implemented by a feature that queues jobs with
// Host.SubmitJob: RunJob runs a job taken from the durable queue, on
// whichever replica took it, rebuilding what it needs from GitHub (the
// comment by its id, the pull request by its number). It returns nil when
// the job is done or needs nothing (a comment that is no command any
// more), and an error when it should be tried again.
type JobRunner interface {
	RunJob(ctx context.Context, logger *slog.Logger, job FeatureJob) error
}

// SubmitJob queues a feature's job described by job. With the in-memory
// queue it is Submit(job.Key(), logger, run): run does the work with what
// the delivery said. With the durable queue (Config.Durable) run is not
// used: job is enqueued as a message, and the replica that takes it calls
// the feature's RunJob. A feature that calls SubmitJob must implement
// JobRunner.
func (h host) SubmitJob(job FeatureJob, logger *slog.Logger, run queue.Func) error {
	if h.b.durable == nil {
		return h.Submit(job.Key(), logger, run)
	}
	if _, ok := h.b.runnerOf(h.feature); !ok {
		return fmt.Errorf("feature %s queues jobs with SubmitJob but does not implement JobRunner", h.feature)
	}
	r := job.Repo
	return h.b.enqueue(logger, hint{
		V: hintVersion, Kind: hintFeature, Feature: h.feature, FeatureKind: job.Kind, FeatureRef: job.Ref,
		Installation: r.Installation, Owner: r.Owner, Repo: r.Name, CloneURL: r.CloneURL, DefaultBranch: r.DefaultBranch,
		Number: job.Number, SHA: job.SHA, Before: job.Before,
	})
}

// runnerOf returns the feature named name when it implements JobRunner.
func (b *Bot) runnerOf(name string) (JobRunner, bool) {
	for _, f := range b.cfg.Features {
		if f.Name() == name {
			r, ok := f.(JobRunner)
			return r, ok
		}
	}
	return nil, false
}

// runFeatureHint runs the feature's job a message describes.
func (b *Bot) runFeatureHint(ctx context.Context, logger *slog.Logger, h hint) error {
	r, ok := b.runnerOf(h.Feature)
	if !ok {
		return errors.New("feature " + h.Feature + " is not on in this replica")
	}
	return r.RunJob(ctx, logger, h.featureJob())
}

// featureJob rebuilds the feature's job of a feature hint.
func (h hint) featureJob() FeatureJob {
	return FeatureJob{
		Repo:   Repo{Installation: h.Installation, Owner: h.Owner, Name: h.Repo, CloneURL: h.CloneURL, DefaultBranch: h.DefaultBranch},
		Number: h.Number, Kind: h.FeatureKind, Ref: h.FeatureRef, SHA: h.SHA, Before: h.Before,
	}
}
