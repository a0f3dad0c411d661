package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/example-org/promobot/internal/bot/queue"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/githubapi"
)

// pipelineHandlers registers one thin handler per event of the pipeline:
// this table, with the events the features list (feature.go), is the only
// place that says which events the bot reacts to. Each handler parses the
// payload, decides whether the action matters, and schedules a job (or, for
// installation events, a resynchronization); none calls GitHub. Events
// missing here are answered 202 and ignored. New reactions to an event the
// pipeline handles belong in its handler or, for an optional one, in a
// feature listening to the pipeline's event meaning it (EventMerged,
// EventDefaultBranchPush).
//
// The table lists the events of the least-privilege install, exactly those
// .github/promobot-app.yml subscribes to by default. Optional features add
// their events, only when they are on, as the manifest's extended set
// lists them.
func (b *Bot) pipelineHandlers() map[string]webhook.Handler {
	return map[string]webhook.Handler{
		"ping":                      webhook.HandlerFunc(b.onPing),
		"pull_request":              webhook.HandlerFunc(b.onPullRequest),
		"pull_request_review":       webhook.HandlerFunc(b.onPullRequestReview),
		"check_run":                 webhook.HandlerFunc(b.onCheckRun),
		"check_suite":               webhook.HandlerFunc(b.onCheckSuite),
		"merge_group":               webhook.HandlerFunc(b.onMergeGroup),
		"push":                      webhook.HandlerFunc(b.onPush),
		"installation":              webhook.HandlerFunc(b.onInstallation),
		"installation_repositories": webhook.HandlerFunc(b.onInstallationRepositories),
	}
}

// handlers is the whole event table: the pipeline's events and the
// features'.
func (b *Bot) handlers() map[string]webhook.Handler {
	h := b.pipelineHandlers()
	for event, handler := range b.featureHandlers() {
		h[event] = handler
	}
	return h
}

// jobKind says what a job does.
type jobKind uint8

// The job kinds.
const (
	// jobPullRequest evaluates one pull request (and those sharing its
	// head).
	jobPullRequest jobKind = iota
	// jobCommit looks up the open pull requests whose head is a commit and
	// schedules each.
	jobCommit
	// jobMergeGroup checks a merge queue's merge group commit.
	jobMergeGroup
	// jobBaseMoved schedules the open pull requests into a branch that
	// moved.
	jobBaseMoved
	// jobFeature is a feature's job (Host.Submit).
	jobFeature
	// jobSuperseded concludes a check run left in progress on a pull
	// request's former head (superseded.go).
	jobSuperseded
)

// jobKey identifies a job. Jobs with the same key coalesce and never run at
// once.
type jobKey struct {
	kind         jobKind
	installation int64
	repo         string // lower-case "owner/name"
	number       int    // jobPullRequest, jobFeature
	ref          string // the commit (jobCommit, jobMergeGroup), the branch (jobBaseMoved) or the feature's JobKey.Ref
	// feature and featureKind are a jobFeature's feature and JobKey.Kind.
	feature, featureKind string
}

// target is what a job evaluates.
type target struct {
	installation int64
	owner, name  string
	// number is the pull request; zero means "the open pull requests whose
	// head is sha".
	number int
	sha    string
	// pr is the pull request as GitHub listed it (never as a delivery
	// described it); an evaluation reads it afresh all the same.
	pr *githubapi.PullRequest
	// cloneURL is the repository's clone URL from the delivery.
	cloneURL string
	// recheck, when set, makes the job a quiet re-evaluation of a pull
	// request whose check run is this one: nothing is written unless the
	// verdict or its title changed.
	recheck *githubapi.ExistingCheckRun
	// force evaluates even inputs already evaluated: someone asked for a
	// re-run.
	force bool
	// suspect says the job may repeat an evaluation of another replica
	// (the check_suite delivery that follows a push): it reads the head's
	// check run before evaluating.
	suspect bool
	// event and delivery name the delivery that caused the job, for the
	// durable queue's messages.
	event, delivery string
	// former is, on the durable queue, the pull request's head before the
	// synchronize that caused the job: once the job is done it concludes
	// a check run left in progress there (superseded.go). The in-memory
	// queue, which coalesces a pull request's jobs, queues that as a job
	// of its own.
	former string
}

func (t target) fullName() string { return t.owner + "/" + t.name }

func (t target) key() jobKey {
	k := jobKey{kind: jobPullRequest, installation: t.installation, repo: strings.ToLower(t.fullName()), number: t.number}
	if t.number == 0 {
		k.kind, k.ref = jobCommit, t.sha
	}
	return k
}

// withPullRequest returns t aimed at pr, another open pull request of the
// same repository.
func (t target) withPullRequest(pr *githubapi.PullRequest) target {
	t.number, t.sha, t.pr = pr.Number, pr.HeadSHA, pr
	return t
}

// parse unmarshals a payload, turning a syntax error into a 400.
func parse(d webhook.Delivery, v any) error {
	if err := json.Unmarshal(d.Payload, v); err != nil {
		return webhook.BadRequest(err)
	}
	return nil
}

// newTarget checks the fields every delivery about a repository must
// carry. A delivery without an installation is ignored.
func newTarget(env payloadEnvelope) (target, error) {
	t := target{
		installation: env.Installation.ID,
		owner:        env.Repository.Owner.Login,
		name:         env.Repository.Name,
		cloneURL:     env.Repository.CloneURL,
	}
	if t.owner == "" {
		t.owner = env.Repository.Owner.Name // push payloads
	}
	switch {
	case t.installation <= 0:
		// Only a repository or organization webhook sends these; the App
		// cannot act without an installation. Ignored (nothing is lost:
		// the App's own delivery carries one); the reason is in the
		// answer, which GitHub shows with the delivery.
		return t, webhook.Ignore("no installation id: a repository webhook? Configure the webhook on the GitHub App instead")
	case t.owner == "" || t.name == "":
		return t, webhook.BadRequest(errors.New("no repository owner or name"))
	}
	return t, nil
}

func (b *Bot) onPing(_ context.Context, d webhook.Delivery) error {
	var ev pingPayload
	if err := parse(d, &ev); err != nil {
		return err
	}
	d.Logger.Info("ping", "zen", ev.Zen, "hook_id", ev.HookID)
	return nil
}

func (b *Bot) onPullRequest(ctx context.Context, d webhook.Delivery) error {
	var ev pullRequestPayload
	if err := parse(d, &ev); err != nil {
		return err
	}
	switch action := ev.Action; action {
	case "opened", "reopened", "synchronize", "ready_for_review":
	case "edited":
		// The pull request is evaluated against its base as GitHub has it
		// when the job runs.
		if ev.Changes.Base == nil {
			return webhook.Ignore("edited without a change of base")
		}
	case "labeled", "unlabeled":
		// A label can change the verdict (a freeze window's override
		// label).
	case "closed":
		return b.onClosed(ctx, d, ev)
	default:
		return webhook.Ignore("action %q", action)
	}
	err := b.schedulePullRequest(d, ev)
	if err == nil && b.durable == nil {
		err = b.scheduleSuperseded(d, ev)
	}
	return err
}

func (b *Bot) onPullRequestReview(_ context.Context, d webhook.Delivery) error {
	var ev pullRequestPayload
	if err := parse(d, &ev); err != nil {
		return err
	}
	switch action := ev.Action; action {
	case "submitted", "edited", "dismissed":
	default:
		return webhook.Ignore("action %q", action)
	}
	return b.schedulePullRequest(d, ev)
}

func (b *Bot) onCheckRun(_ context.Context, d webhook.Delivery) error {
	var ev checkPayload
	if err := parse(d, &ev); err != nil {
		return err
	}
	if action := ev.Action; action != "rerequested" {
		return webhook.Ignore("action %q", action)
	}
	run := ev.CheckRun
	if id := run.App.ID; id != 0 && id != b.cfg.AppID {
		return webhook.Ignore("check run of App %d", id)
	}
	if run.Name != b.cfg.CheckName {
		return webhook.Ignore("check run %q is not ours", run.Name)
	}
	return b.scheduleCommit(d, ev.payloadEnvelope, run.HeadSHA, run.PullRequests, true)
}

func (b *Bot) onCheckSuite(_ context.Context, d webhook.Delivery) error {
	var ev checkPayload
	if err := parse(d, &ev); err != nil {
		return err
	}
	var lookUp bool
	switch action := ev.Action; action {
	case "requested":
		// Sent on every push. Pull requests from forks are not listed, but
		// their pushes also arrive as pull_request synchronize.
	case "rerequested":
		lookUp = true
	default:
		return webhook.Ignore("action %q", action)
	}
	return b.scheduleCommit(d, ev.payloadEnvelope, ev.CheckSuite.HeadSHA, ev.CheckSuite.PullRequests, lookUp)
}

// schedulePullRequest schedules the evaluation of a pull request named by
// a delivery. Only its number and, as a hint of where to look, its head
// commit are taken from the payload: deliveries arrive late and out of
// order, so the job reads the pull request's state, labels, base and head
// from GitHub (see evaluatePullRequest).
func (b *Bot) schedulePullRequest(d webhook.Delivery, ev pullRequestPayload) error {
	t, err := newTarget(ev.payloadEnvelope)
	if err != nil {
		return err
	}
	t.event, t.delivery = d.Event, d.ID
	if t.number = ev.PullRequest.Number; t.number <= 0 {
		return webhook.BadRequest(errors.New("no pull request number"))
	}
	if sha := ev.PullRequest.Head.SHA; commitHash.MatchString(sha) {
		t.sha = sha
	}
	if b.durable != nil {
		t.former = formerHead(ev)
	}
	return b.schedule(d.Logger, t)
}

// scheduleCommit schedules the evaluation of the pull requests listed in a
// check run or check suite delivery. When none are listed (pull requests
// from forks never are), lookUp schedules a job that finds them by head
// commit; otherwise the delivery is ignored.
func (b *Bot) scheduleCommit(d webhook.Delivery, env payloadEnvelope, sha string, prs []payloadPullRequest, lookUp bool) error {
	t, err := newTarget(env)
	if err != nil {
		return err
	}
	if sha == "" {
		return webhook.BadRequest(errors.New("no head commit"))
	}
	// A re-run asked for evaluates again even unchanged inputs.
	t.event, t.delivery, t.force, t.suspect = d.Event, d.ID, lookUp, !lookUp
	var numbers []int
	for _, pr := range prs {
		// Listed pull requests may belong to another repository that
		// shares the commit (a fork's upstream); only this one's count.
		if other := pr.Base.Repo.ID; other != 0 && other != env.Repository.ID {
			continue
		}
		if n := pr.Number; n > 0 {
			numbers = append(numbers, n)
		}
	}
	if len(numbers) == 0 {
		if !lookUp {
			return webhook.Ignore("commit %s is the head of no pull request", sha)
		}
		t.sha = sha
		return b.schedule(d.Logger, t)
	}
	var errs []error
	for _, n := range numbers {
		one := t
		one.number = n
		one.sha = sha
		errs = append(errs, b.schedule(d.Logger, one))
	}
	return errors.Join(errs...)
}

// schedule enriches the logger with the target and queues its job.
func (b *Bot) schedule(logger *slog.Logger, t target) error {
	logger = t.logger(logger)
	if b.durable != nil {
		return b.enqueue(logger, hintOf(t))
	}
	return b.submit(t.key(), logger, func(ctx context.Context, logger *slog.Logger) error { return b.run(ctx, logger, t) })
}

// logger enriches logger with the target.
func (t target) logger(logger *slog.Logger) *slog.Logger {
	logger = logger.With(KeyRepo, t.fullName(), KeyPR, t.number, KeyInstallationID, t.installation)
	if t.sha != "" {
		logger = logger.With(KeySHA, t.sha)
	}
	return logger
}

// submit queues a job, answering 503 (GitHub then records the delivery as
// failed, and the resynchronization finds its pull request) when the queue
// is full or closing.
func (b *Bot) submit(key jobKey, logger *slog.Logger, run queue.Func) error {
	err := b.queue.Submit(key, queue.Job{Logger: logger, Run: run})
	switch {
	case errors.Is(err, queue.ErrFull), errors.Is(err, queue.ErrClosed):
		return webhook.Unavailable(err)
	case err != nil:
		return fmt.Errorf("schedule: %w", err)
	}
	logger.Debug("job queued")
	return nil
}
