// Package attestissue is the bot's promotion attestations, a bot.Feature:
// when a push moves the default branch, the merge it brings is judged
// again from fresh GitHub state (Host.EvaluateMerge: its first parent as
// base, the merged pull request's reviews on that pull request's head, and
// the merge commit holding exactly the approved changes) and, when green,
// every manifest pin it changes gets a signed attestation
// (internal/attest/issue). The verdict is posted as a check run named
// CheckSuffix after the bot's check name on the merge commit: a merge that
// is not green says there why it got none. The resynchronization pass
// issues whatever a green merge should have produced and did not.
//
// It needs checks write only.
package attestissue

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/attest/issue"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/githubapi"
)

// CheckSuffix is appended to the bot's check name to name the check run
// the feature posts on a merge commit of the default branch.
const CheckSuffix = " attestation"

// maxPushedMerges bounds how many first-parent commits of one push are
// judged at once; older ones are left to the resynchronization.
const maxPushedMerges = 50

// API is the part of the REST API the feature uses; *githubapi.Client
// implements it.
type API interface {
	CreateCheckRun(ctx context.Context, owner, repo string, run githubapi.CheckRun) (int64, error)
	Repository(ctx context.Context, owner, repo string) (githubapi.Repository, error)
}

// Options configures the feature; both are required.
type Options struct {
	// Issuer signs and stores the attestations.
	Issuer *issue.Issuer
	// Client returns the client of an installation.
	Client func(installation int64) (API, error)
}

// Feature issues promotion attestations at merges, a bot.Feature and a
// bot.Resyncer.
type Feature struct {
	opts Options
	host bot.Host
}

// New returns the feature.
func New(opts Options) (*Feature, error) {
	if opts.Issuer == nil || opts.Client == nil {
		return nil, errors.New("attestissue: an issuer and a GitHub client are required")
	}
	return &Feature{opts: opts}, nil
}

// Name is "attest".
func (f *Feature) Name() string { return "attest" }

// Events are pushes to the default branch.
func (f *Feature) Events() []string { return []string{bot.EventDefaultBranchPush} }

// Start keeps the bot's services.
func (f *Feature) Start(h bot.Host) error {
	f.host = h
	return nil
}

// Handle queues the issuing of the attestations of the merges a push to
// the default branch brings (one, or several when a merge queue merged a
// group): the first-parent commits after the push's before, up to its
// after.
func (f *Feature) Handle(_ context.Context, ev bot.Event) error {
	if ev.Name != bot.EventDefaultBranchPush || ev.Push == nil {
		return webhook.Ignore("the attestations do not handle %s", ev.Name)
	}
	if !bot.IsCommitHash(ev.Push.After) {
		return webhook.Ignore("push to %s is not a commit", ev.Push.After)
	}
	repo, before, after := ev.Repo, ev.Push.Before, ev.Push.After
	job := bot.FeatureJob{Repo: repo, Kind: "merge", Ref: after, SHA: after, Before: before}
	return f.host.SubmitJob(job, ev.Logger, func(ctx context.Context, logger *slog.Logger) error {
		return f.issueMerges(ctx, logger, repo, before, after)
	})
}

// Resync queues a pass that issues the attestations the pins of the
// default branch should have.
func (f *Feature) Resync(_ context.Context, repo bot.Repo, logger *slog.Logger) error {
	if repo.DefaultBranch == "" {
		return nil
	}
	key := bot.JobKey{Installation: repo.Installation, Repo: strings.ToLower(repo.FullName()), Kind: "recover"}
	return f.host.Submit(key, logger, func(ctx context.Context, logger *slog.Logger) error {
		return f.recover(ctx, logger, repo)
	})
}

// repository syncs the default branch up to commit (its tip when empty)
// and returns the repository as the issuer sees it.
func (f *Feature) repository(ctx context.Context, logger *slog.Logger, repo bot.Repo, commit string) (issue.Repository, string, error) {
	gh, err := f.opts.Client(repo.Installation)
	if err != nil {
		return issue.Repository{}, "", err
	}
	g, commit, err := f.host.DefaultBranch(ctx, repo, commit)
	if err != nil {
		return issue.Repository{}, "", err
	}
	ev := &evaluator{host: f.host, gh: gh, repo: repo, logger: logger}
	return issue.Repository{Name: repo.FullName(), Git: g, Evaluator: ev}, commit, nil
}

func (f *Feature) issueMerges(ctx context.Context, logger *slog.Logger, repo bot.Repo, before, after string) error {
	r, _, err := f.repository(ctx, logger, repo, after)
	if err != nil {
		return err
	}
	merges := []string{after}
	for c := after; len(merges) < maxPushedMerges; {
		fp, err := r.Git.FirstParent(plumbing.NewHash(c))
		if err != nil || fp.IsZero() || fp.String() == before || !bot.IsCommitHash(before) {
			break
		}
		c = fp.String()
		merges = append(merges, c)
	}
	var errs []error
	for i := len(merges) - 1; i >= 0; i-- {
		res, err := f.opts.Issuer.IssueMerge(ctx, r, merges[i])
		logResult(logger, res)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (f *Feature) recover(ctx context.Context, logger *slog.Logger, repo bot.Repo) error {
	r, tip, err := f.repository(ctx, logger, repo, "")
	if err != nil {
		return err
	}
	out, err := f.opts.Issuer.Recover(ctx, r, tip)
	for _, res := range out {
		logResult(logger.With("resync", true), res)
	}
	return err
}

func logResult(logger *slog.Logger, res issue.Result) {
	switch {
	case res.NotGreen != "":
		logger.Warn("merge not attested: it is not green", bot.KeySHA, res.Merge, "reason", res.NotGreen)
	case len(res.Pins) > 0:
		for _, p := range res.Pins {
			logger.Info("attestation", bot.KeySHA, res.Merge, "path", p.Path, "version", p.Version, "kind", p.ChangeKind, "status", p.Status)
		}
	}
}
