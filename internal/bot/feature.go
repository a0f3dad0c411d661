package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/bot/queue"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/gitrepo"
)

// The events the pipeline hands on to features, by the names a feature
// lists in Events.
const (
	// EventDefaultBranchPush is a push to a repository's default branch
	// (not a deletion). Event.Repo and Event.Push are set.
	EventDefaultBranchPush = "promobot:default_branch_push"
	// EventMerged is a pull request merged into the default branch.
	// Event.Repo and Event.Merge are set. A feature listing it is what
	// makes the pipeline take merges at all.
	EventMerged = "promobot:merged"
)

// Feature is an optional part of the bot. Each lives in its own package
// under internal/bot (chatops, rollbackcmd, branchaudit), is built in
// cmd/promobot from the parsed configuration and listed in
// Config.Features. New adds every event a feature lists to the event table
// (events.go), so an event nobody handles stays answered 202 and ignored,
// and a feature that is off adds nothing, not even its events.
//
// A feature reacts in three ways:
//
//   - to a webhook event the pipeline does not handle (issue_comment, say),
//     listed by its name: Handle gets the delivery as it came;
//   - to what the pipeline's own events mean, listed by the names
//     EventDefaultBranchPush (a push to a repository's default branch) and
//     EventMerged (a pull request merged into the default branch). The
//     pipeline has parsed and checked those deliveries; Handle gets the
//     repository and the push or merge, after the pipeline's own checks
//     and before it queues its own job;
//   - at every resynchronization pass, for every repository of every
//     installation, when it implements Resyncer.
//
// Handle runs while the delivery is answered: like the pipeline's
// handlers it parses, decides and queues a job, and never calls GitHub
// itself. Features that list one event get it in the order of
// Config.Features.
//
// A job a delivery asked for is queued with Host.SubmitJob, described by a
// FeatureJob: plain data naming what the job is about (a comment's id, a
// pull request's number, a commit), never what to conclude. With the
// in-memory queue the job runs on this replica with what the delivery
// said. With the durable queue (Config.Durable, serve --queue azqueue://)
// the FeatureJob is enqueued before the delivery is acknowledged, so a
// replica killed after answering loses nothing; the replica that takes the
// message calls the feature's RunJob (JobRunner), which reads the job's
// subject from GitHub again (the comment by its id, the pull request by
// its number) and does the same work. A message may be delivered more than
// once and may be forged by whoever can write to the queue, so RunJob
// trusts nothing in it but names, and every side effect is idempotent (a
// reply carries a marker naming the comment it answers, a proposal looks
// for its pull request before opening one). Host.Submit, which takes a
// function, stays for work that needs no durability: jobs of a
// resynchronization pass and of a feature's own timers, which the leader's
// next pass queues again when a replica dies.
type Feature interface {
	// Name names the feature in logs, errors and job keys; unique among
	// the features of a bot.
	Name() string
	// Events lists the webhook events (such as "issue_comment") and the
	// pipeline's events (EventDefaultBranchPush, EventMerged) the feature
	// reacts to. A webhook event the pipeline handles itself cannot be
	// listed: the feature lists the pipeline's event meaning it instead.
	Events() []string
	// Start is called once by New, before any delivery, with the bot's
	// services. An error fails New.
	Start(h Host) error
	// Handle reacts to one event the feature listed. It returns
	// webhook.Ignore to say the event asks nothing of it,
	// webhook.BadRequest for a payload it cannot use, and the error of
	// Host.Submit as it is.
	Handle(ctx context.Context, ev Event) error
}

// Resyncer is implemented by a feature that also works at every
// resynchronization pass (Config.ResyncInterval, and when an installation
// is created or given repositories): Resync is called for every repository
// of the installation, archived ones aside, before its pull requests are
// checked. It runs on the resynchronization loop: it queues work with
// Host.Submit rather than doing it. An error is logged with the pass.
type Resyncer interface {
	Resync(ctx context.Context, repo Repo, logger *slog.Logger) error
}

// Stopper is implemented by a feature that must stop scheduling work of
// its own (timers, say) when the bot shuts down. Shutdown calls Stop
// before it drains the queue.
type Stopper interface {
	Stop()
}

// Event is one event handed to a feature.
type Event struct {
	// Name is the event: a webhook event's name or EventDefaultBranchPush
	// or EventMerged.
	Name string
	// Delivery is the webhook delivery the event came with: its payload,
	// id and logger.
	Delivery webhook.Delivery
	// Logger is the delivery's logger, enriched with the repository for
	// the pipeline's events.
	Logger *slog.Logger
	// Repo is the repository, for the pipeline's events; a feature reads
	// it from the payload of a webhook event with RepoOf.
	Repo Repo
	// Push is set for EventDefaultBranchPush.
	Push *Push
	// Merge is set for EventMerged.
	Merge *Merge
}

// Repo is a repository of an installation.
type Repo struct {
	Installation int64
	Owner, Name  string
	// CloneURL is the repository's clone URL.
	CloneURL string
	// DefaultBranch is the repository's default branch, "" when the
	// payload did not say.
	DefaultBranch string
}

// FullName returns "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// Push is a push to the default branch.
type Push struct {
	// Before and After are the branch's tips before and after the push, as
	// the delivery says (Before is all zeros for a new branch).
	Before, After string
}

// Merge is a pull request merged into the default branch.
type Merge struct {
	// Number is the pull request; MergeCommit the commit its merge made on
	// the default branch (a full hash).
	Number      int
	MergeCommit string
}

// JobKey identifies a feature's job: jobs with the same key (of the same
// feature) coalesce and never run at once. Keys of different features, and
// the pipeline's, never meet.
type JobKey struct {
	Installation int64
	// Repo is the lower-case "owner/name".
	Repo string
	// Number is a pull request or issue, when the job is about one.
	Number int
	// Kind tells the feature's kinds of job apart; Ref is what else makes
	// the job one of its own (a comment id, say).
	Kind, Ref string
}

// Host is what the bot offers its features.
type Host interface {
	// Submit queues a feature's job. It returns an error that answers the
	// delivery 503 (webhook.Unavailable, wrapping queue.ErrFull or
	// queue.ErrClosed) when the queue is full or closing.
	Submit(key JobKey, logger *slog.Logger, run queue.Func) error
	// SubmitJob queues a feature's job a delivery asked for, durably when
	// the bot runs on the durable queue: see featurejob.go. The feature
	// must implement JobRunner. Errors are as Submit's, and a durable
	// queue that cannot be reached answers 503.
	SubmitJob(job FeatureJob, logger *slog.Logger, run queue.Func) error
	// Logger is the bot's base logger.
	Logger() *slog.Logger
	// Metrics records metrics; nil records none (its methods are nil-safe).
	Metrics() *metrics.Metrics
	// CheckName is the name of the bot's check run.
	CheckName() string
	// Now is the bot's clock (Config.Now).
	Now() time.Time
	// EvaluateMerge judges merge, a commit of repo's default branch, from
	// fresh GitHub state (host_merge.go): it finds the pull request into
	// the default branch merged as merge, checks that merge holds exactly
	// that pull request's changes on top of firstParent, and evaluates the
	// pull request with firstParent as base and the reviews of its head.
	// A merge no pull request made, or that holds other changes, is not
	// green and says why. It posts nothing; an error means the verdict is
	// unknown (retry later). Call it from a job, not from Handle.
	EvaluateMerge(ctx context.Context, logger *slog.Logger, repo Repo, firstParent, merge string) (MergeVerdict, error)
	// DefaultBranch syncs the bot's mirror of repo's default branch up to
	// commit (its tip on GitHub when commit is "") and returns the mirror's
	// repository, to read the repository at a commit, and the commit.
	// Call it from a job, not from Handle.
	DefaultBranch(ctx context.Context, repo Repo, commit string) (*gitrepo.Repo, string, error)
}

// host is the Host of one feature.
type host struct {
	b       *Bot
	feature string
}

func (h host) Submit(key JobKey, logger *slog.Logger, run queue.Func) error {
	return h.b.submit(jobKey{
		kind: jobFeature, feature: h.feature, featureKind: key.Kind,
		installation: key.Installation, repo: key.Repo, number: key.Number, ref: key.Ref,
	}, logger, run)
}

func (h host) Logger() *slog.Logger              { return h.b.cfg.Logger }
func (h host) Metrics() *metrics.Metrics         { return h.b.cfg.Metrics }
func (h host) CheckName() string                 { return h.b.cfg.CheckName }
func (h host) Now() time.Time                    { return h.b.cfg.Now() }
func (b *Bot) hostOf(f Feature) host             { return host{b: b, feature: f.Name()} }
func isPipelineEvent(name string) bool           { return name == EventDefaultBranchPush || name == EventMerged }
func (b *Bot) featuresOf(event string) []Feature { return b.subscribers[event] }

// startFeatures checks the features, starts them and indexes them by
// event; pipeline is the pipeline's own event table.
func (b *Bot) startFeatures(pipeline map[string]webhook.Handler) error {
	b.subscribers = map[string][]Feature{}
	names := map[string]bool{}
	for _, f := range b.cfg.Features {
		name := f.Name()
		switch {
		case name == "" || strings.ContainsAny(name, " \t\n"):
			return fmt.Errorf("a feature's name %q is empty or has spaces", name)
		case names[name]:
			return fmt.Errorf("two features are named %s", name)
		}
		names[name] = true
		seen := map[string]bool{}
		for _, event := range f.Events() {
			if _, ours := pipeline[event]; ours {
				return fmt.Errorf("feature %s: the pipeline handles %s; list the pipeline's event meaning it instead", name, event)
			}
			if !seen[event] {
				seen[event] = true
				b.subscribers[event] = append(b.subscribers[event], f)
			}
		}
		if err := f.Start(b.hostOf(f)); err != nil {
			return fmt.Errorf("feature %s: %w", name, err)
		}
	}
	return nil
}

// featureHandlers returns the handlers of the webhook events the features
// listed.
func (b *Bot) featureHandlers() map[string]webhook.Handler {
	h := map[string]webhook.Handler{}
	for event := range b.subscribers {
		if isPipelineEvent(event) {
			continue
		}
		h[event] = webhook.HandlerFunc(func(ctx context.Context, d webhook.Delivery) error {
			return b.dispatch(ctx, Event{Name: event, Delivery: d, Logger: d.Logger})
		})
	}
	return h
}

// dispatch hands ev to every feature that listed it. The delivery is
// ignored when every feature ignores it; otherwise the errors other than
// ignores are returned.
func (b *Bot) dispatch(ctx context.Context, ev Event) error {
	var ignored, errs []error
	for _, f := range b.featuresOf(ev.Name) {
		err := f.Handle(ctx, ev)
		switch {
		case errors.Is(err, webhook.ErrIgnored):
			ignored = append(ignored, err)
		case err != nil:
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && len(ignored) > 0 && len(ignored) == len(b.featuresOf(ev.Name)) {
		return errors.Join(ignored...)
	}
	return errors.Join(errs...)
}

// Events returns the webhook events the bot handles: the pipeline's and
// its features'.
func (b *Bot) Events() []string {
	var out []string
	for event := range b.handlers() {
		out = append(out, event)
	}
	slices.Sort(out)
	return out
}

// PipelineEvents returns the webhook events the pipeline handles without
// any feature: those of the least-privilege install.
func PipelineEvents() []string {
	var out []string
	for event := range (&Bot{}).pipelineHandlers() {
		out = append(out, event)
	}
	slices.Sort(out)
	return out
}

// ParsePayload unmarshals a delivery's payload into v, answering 400 when
// it is not JSON.
func ParsePayload(d webhook.Delivery, v any) error { return parse(d, v) }

// RepoOf reads the repository of a delivery about one, with the checks
// every such delivery must pass: a delivery without an installation is
// ignored, one without a repository owner or name is a bad request.
func RepoOf(d webhook.Delivery) (Repo, error) {
	var env payloadEnvelope
	if err := json.Unmarshal(d.Payload, &env); err != nil {
		return Repo{}, webhook.BadRequest(err)
	}
	t, err := newTarget(env)
	return t.repo(env.Repository.DefaultBranch), err
}

// repo returns the repository of t.
func (t target) repo(defaultBranch string) Repo {
	return Repo{Installation: t.installation, Owner: t.owner, Name: t.name, CloneURL: t.cloneURL, DefaultBranch: defaultBranch}
}

// IsCommitHash reports whether s is a full, lower-case commit hash.
func IsCommitHash(s string) bool { return commitHash.MatchString(s) }
