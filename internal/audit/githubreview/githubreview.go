// Package githubreview answers audit.Reviewer questions from GitHub: for a
// commit on the default branch it lists the pull requests GitHub associates
// with the commit, and for those merged into the default branch their
// reviews and promobot check runs, then lets audit.Assess decide. Answers
// are cached on disk so a re-run of the audit asks GitHub nothing new.
package githubreview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/failure"
)

// API is the part of the GitHub REST API the reviewer uses, declared here
// so that it stays this narrow. *githubapi.Client implements it.
type API interface {
	ListPullRequestsWithCommit(ctx context.Context, owner, repo, sha string, opts *github.ListOptions) ([]*github.PullRequest, *github.Response, error)
	GetPullRequest(ctx context.Context, owner, repo string, number int) (*github.PullRequest, *github.Response, error)
	ListReviews(ctx context.Context, owner, repo string, number int, opts *github.ListOptions) ([]*github.PullRequestReview, *github.Response, error)
	ListCheckRunsForRef(ctx context.Context, owner, repo, ref string, opts *github.ListCheckRunsOptions) (*github.ListCheckRunsResults, *github.Response, error)
}

// Options configures a Reviewer.
type Options struct {
	// Owner and Repo name the repository.
	Owner, Repo string
	// DefaultBranch is the audited branch, for example "main".
	DefaultBranch string
	// Assess tunes the decision (check name, App slug).
	Assess audit.AssessOptions
	// CacheDir, when set, keeps answers on disk.
	CacheDir string
	// RecheckAfter is how long an answer that found no merged pull request
	// stays cached: GitHub may not have associated a just-pushed commit
	// yet. Zero means one hour. Answers with a merged pull request are
	// final and cached for good.
	RecheckAfter time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives cache notes; nil discards them.
	Logger *slog.Logger
}

// Reviewer implements audit.Reviewer over the GitHub REST API.
type Reviewer struct {
	api   API
	opts  Options
	cache *cache
}

// New returns a Reviewer that calls GitHub through client.
func New(client API, opts Options) (*Reviewer, error) {
	if opts.Owner == "" || opts.Repo == "" || opts.DefaultBranch == "" {
		return nil, errors.New("owner, repository and default branch are required")
	}
	if client == nil {
		return nil, errors.New("a GitHub client is required")
	}
	if opts.RecheckAfter == 0 {
		opts.RecheckAfter = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Reviewer{api: client, opts: opts}
	if opts.CacheDir != "" {
		r.cache = &cache{dir: opts.CacheDir, owner: opts.Owner, repo: opts.Repo}
	}
	return r, nil
}

// Review implements audit.Reviewer.
func (r *Reviewer) Review(ctx context.Context, commit string) (audit.Verdict, error) {
	ev, err := r.Evidence(ctx, commit)
	if err != nil {
		return audit.Verdict{}, err
	}
	return audit.Assess(ev, r.opts.Assess), nil
}

// Evidence returns what GitHub says about commit, from the cache when a
// usable answer is there.
func (r *Reviewer) Evidence(ctx context.Context, commit string) (audit.Evidence, error) {
	if r.cache != nil {
		if e, ok := r.cache.load(commit, r.opts.DefaultBranch); ok {
			if e.Final || r.opts.Now().Sub(e.FetchedAt) < r.opts.RecheckAfter {
				return e.Evidence, nil
			}
		}
	}
	ev, err := r.fetch(ctx, commit)
	if err != nil {
		return audit.Evidence{}, err
	}
	if r.cache != nil {
		entry := cacheEntry{Evidence: ev, FetchedAt: r.opts.Now().UTC(), Final: final(ev)}
		if err := r.cache.store(commit, entry); err != nil {
			r.opts.Logger.Warn("review cache not written", "sha", commit, "error", err)
		}
	}
	return ev, nil
}

// final reports whether evidence can no longer change in a way that
// matters: a merged pull request into the default branch was found, and
// reviews and check runs after its merge do not count.
func final(ev audit.Evidence) bool {
	for _, pr := range ev.PullRequests {
		if pr.Merged && pr.BaseRef == ev.DefaultBranch {
			return true
		}
	}
	return false
}

func (r *Reviewer) fetch(ctx context.Context, commit string) (audit.Evidence, error) {
	o := r.opts
	ev := audit.Evidence{Commit: commit, DefaultBranch: o.DefaultBranch, PullRequests: []audit.EvidencePullRequest{}}
	prs, err := paginate(func(lo *github.ListOptions) ([]*github.PullRequest, *github.Response, error) {
		return r.api.ListPullRequestsWithCommit(ctx, o.Owner, o.Repo, commit, lo)
	})
	if err != nil {
		return ev, wrap(err, "list the pull requests of commit "+commit)
	}
	for _, pr := range prs {
		e := audit.EvidencePullRequest{
			Number:         pr.GetNumber(),
			Title:          pr.GetTitle(),
			Author:         pr.GetUser().GetLogin(),
			URL:            pr.GetHTMLURL(),
			State:          pr.GetState(),
			Merged:         pr.MergedAt != nil,
			MergedAt:       timeOf(pr.MergedAt),
			BaseRef:        pr.GetBase().GetRef(),
			HeadSHA:        pr.GetHead().GetSHA(),
			MergeCommitSHA: pr.GetMergeCommitSHA(),
			Reviews:        []audit.EvidenceReview{},
			CheckRuns:      []audit.EvidenceCheckRun{},
		}
		if e.Merged && e.BaseRef == o.DefaultBranch {
			if err := r.details(ctx, &e); err != nil {
				return ev, err
			}
		}
		ev.PullRequests = append(ev.PullRequests, e)
	}
	return ev, nil
}

// details fills who merged, the reviews and the check runs of a merged
// pull request.
func (r *Reviewer) details(ctx context.Context, e *audit.EvidencePullRequest) error {
	o := r.opts
	full, _, err := r.api.GetPullRequest(ctx, o.Owner, o.Repo, e.Number)
	if err != nil {
		return wrap(err, fmt.Sprintf("read pull request #%d", e.Number))
	}
	e.MergedBy = full.GetMergedBy().GetLogin()
	for _, l := range full.Labels {
		if name := l.GetName(); name != "" {
			e.Labels = append(e.Labels, name)
		}
	}
	reviews, err := paginate(func(lo *github.ListOptions) ([]*github.PullRequestReview, *github.Response, error) {
		return r.api.ListReviews(ctx, o.Owner, o.Repo, e.Number, lo)
	})
	if err != nil {
		return wrap(err, fmt.Sprintf("list the reviews of pull request #%d", e.Number))
	}
	for _, rv := range reviews {
		e.Reviews = append(e.Reviews, audit.EvidenceReview{
			ID:          rv.GetID(),
			Reviewer:    rv.GetUser().GetLogin(),
			State:       rv.GetState(),
			SubmittedAt: timeOf(rv.SubmittedAt),
			CommitID:    rv.GetCommitID(),
		})
	}
	checkName := o.Assess.CheckName
	if checkName == "" {
		checkName = audit.CheckName
	}
	refs := []string{e.HeadSHA}
	if e.MergeCommitSHA != "" && e.MergeCommitSHA != e.HeadSHA {
		refs = append(refs, e.MergeCommitSHA)
	}
	for _, ref := range refs {
		runs, err := paginate(func(lo *github.ListOptions) ([]*github.CheckRun, *github.Response, error) {
			res, resp, err := r.api.ListCheckRunsForRef(ctx, o.Owner, o.Repo, ref, &github.ListCheckRunsOptions{
				CheckName: github.String(checkName), Filter: github.String("all"), ListOptions: *lo,
			})
			if res == nil {
				return nil, resp, err
			}
			return res.CheckRuns, resp, err
		})
		if err != nil {
			return wrap(err, fmt.Sprintf("list the %s check runs of %s", checkName, ref))
		}
		for _, cr := range runs {
			e.CheckRuns = append(e.CheckRuns, audit.EvidenceCheckRun{
				ID:          cr.GetID(),
				Name:        cr.GetName(),
				App:         cr.GetApp().GetSlug(),
				HeadSHA:     cr.GetHeadSHA(),
				Status:      cr.GetStatus(),
				Conclusion:  cr.GetConclusion(),
				CompletedAt: timeOf(cr.CompletedAt),
			})
		}
	}
	return nil
}

// paginate collects every page of a list call.
func paginate[T any](call func(*github.ListOptions) ([]T, *github.Response, error)) ([]T, error) {
	var out []T
	lo := &github.ListOptions{PerPage: 100}
	for pages := 0; ; pages++ {
		items, resp, err := call(lo)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		if pages > 100 {
			return nil, errors.New("more than 100 pages")
		}
		lo.Page = resp.NextPage
	}
}

// Error is a failed GitHub call. Retryable says whether trying again later
// can help (rate limits, server errors, network failures).
type Error struct {
	// Op says what the reviewer was doing.
	Op string
	// Retryable is true when a later retry can succeed.
	Retryable bool
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	hint := ""
	if e.Retryable {
		hint = " (retry later)"
	}
	return fmt.Sprintf("GitHub: %s: %v%s", e.Op, e.Err, hint)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// FailureKind is failure.Unavailable when a later retry can succeed, else
// failure.Usage.
func (e *Error) FailureKind() failure.Kind {
	if e.Retryable {
		return failure.Unavailable
	}
	return failure.Usage
}

func wrap(err error, op string) error {
	retry := true
	var ger *github.ErrorResponse
	if errors.As(err, &ger) && ger.Response != nil {
		code := ger.Response.StatusCode
		retry = code >= 500 || code == 429
	}
	var rle *github.RateLimitError
	var arle *github.AbuseRateLimitError
	if errors.As(err, &rle) || errors.As(err, &arle) {
		retry = true
	}
	if errors.Is(err, context.Canceled) {
		retry = false
	}
	return &Error{Op: op, Retryable: retry, Err: err}
}

// timeOf returns a GitHub timestamp in UTC, the zero time for null.
func timeOf(ts *github.Timestamp) time.Time {
	if ts == nil || ts.IsZero() {
		return time.Time{}
	}
	return ts.Time.UTC()
}
