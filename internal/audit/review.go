package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// CheckName is the name of the check run promobot reports on pull requests.
const CheckName = "promobot"

// Reviewer answers, for a commit on the default branch, whether it came
// through a merged pull request whose promobot check had succeeded when it
// was merged. Implementations fetch data (internal/audit/githubreview reads
// GitHub); the decision itself is Assess.
type Reviewer interface {
	// Review returns the verdict for commit. An error means the answer is
	// unknown, and callers must fail closed.
	Review(ctx context.Context, commit string) (Verdict, error)
}

// Verdict is a Reviewer's answer about one commit.
type Verdict struct {
	// Commit is the commit the verdict is about.
	Commit string `json:"commit"`
	// PullRequest is the pull request that merged the commit, nil when none
	// was found.
	PullRequest *PullRequest `json:"pullRequest,omitempty"`
	// Reviewed is true when the commit came through a merged pull request
	// with a successful promobot check at merge.
	Reviewed bool `json:"reviewed"`
	// Reason explains a false Reviewed.
	Reason string `json:"reason,omitempty"`
}

// Evidence is the GitHub data about one commit that Assess decides on.
type Evidence struct {
	// Commit is the commit on the default branch.
	Commit string `json:"commit"`
	// DefaultBranch is the branch name, for example "main".
	DefaultBranch string `json:"defaultBranch"`
	// PullRequests are the pull requests GitHub associates with the commit.
	PullRequests []EvidencePullRequest `json:"pullRequests"`
}

// EvidencePullRequest is one pull request associated with a commit.
type EvidencePullRequest struct {
	Number   int       `json:"number"`
	Title    string    `json:"title"`
	Author   string    `json:"author"`
	URL      string    `json:"url"`
	State    string    `json:"state"`
	Merged   bool      `json:"merged"`
	MergedAt time.Time `json:"mergedAt,omitzero"`
	MergedBy string    `json:"mergedBy,omitempty"`
	// BaseRef is the branch the pull request targets.
	BaseRef string `json:"baseRef"`
	// HeadSHA is the last commit of the pull request's branch.
	HeadSHA string `json:"headSha"`
	// MergeCommitSHA is the commit the merge created on the base branch.
	MergeCommitSHA string `json:"mergeCommitSha,omitempty"`
	// Labels are the pull request's labels.
	Labels []string `json:"labels,omitempty"`
	// Reviews are the submitted reviews, in any order.
	Reviews []EvidenceReview `json:"reviews"`
	// CheckRuns are the promobot check runs on the head and merge commits.
	CheckRuns []EvidenceCheckRun `json:"checkRuns"`
}

// EvidenceReview is one submitted review.
type EvidenceReview struct {
	ID          int64     `json:"id"`
	Reviewer    string    `json:"reviewer"`
	State       string    `json:"state"` // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
	SubmittedAt time.Time `json:"submittedAt"`
	CommitID    string    `json:"commitId,omitempty"`
}

// EvidenceCheckRun is one check run.
type EvidenceCheckRun struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	App         string    `json:"app,omitempty"` // the slug of the App that created it
	HeadSHA     string    `json:"headSha"`
	Status      string    `json:"status"`
	Conclusion  string    `json:"conclusion,omitempty"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
}

// AssessOptions tunes Assess.
type AssessOptions struct {
	// CheckName is the check run to require; empty means CheckName.
	CheckName string
	// App, when set, is the slug of the GitHub App whose check runs count:
	// a check run of the same name created by another App is ignored.
	App string
}

// Assess decides from evidence whether a commit came through a merged pull
// request into the default branch whose promobot check had concluded
// success when it was merged. It is pure.
//
// The pull request is the merged one, targeting the default branch, whose
// merge commit is the commit; failing that (a rebase merge puts several
// commits on the branch), any merged pull request into the default branch
// that GitHub associates with the commit. The check that counts is the
// latest promobot check run on the pull request's head or merge commit that
// completed at or before the merge.
func Assess(ev Evidence, opts AssessOptions) Verdict {
	if opts.CheckName == "" {
		opts.CheckName = CheckName
	}
	v := Verdict{Commit: ev.Commit}
	var merged []EvidencePullRequest
	for _, pr := range ev.PullRequests {
		if pr.Merged && pr.BaseRef == ev.DefaultBranch {
			merged = append(merged, pr)
		}
	}
	if len(merged) == 0 {
		if len(ev.PullRequests) == 0 {
			v.Reason = fmt.Sprintf("no pull request: commit %s was pushed to %s directly", short(ev.Commit), ev.DefaultBranch)
			return v
		}
		var names []string
		for _, pr := range ev.PullRequests {
			names = append(names, fmt.Sprintf("#%d (%s into %s)", pr.Number, prState(pr), pr.BaseRef))
		}
		v.Reason = fmt.Sprintf("not merged through a pull request: commit %s is on %s but its pull requests %s were not merged into it", short(ev.Commit), ev.DefaultBranch, strings.Join(names, ", "))
		return v
	}
	slices.SortStableFunc(merged, func(a, b EvidencePullRequest) int {
		ma, mb := a.MergeCommitSHA == ev.Commit, b.MergeCommitSHA == ev.Commit
		switch {
		case ma && !mb:
			return -1
		case mb && !ma:
			return 1
		}
		return a.Number - b.Number
	})
	pr := merged[0]
	v.PullRequest = &PullRequest{
		Number:    pr.Number,
		Title:     pr.Title,
		Author:    pr.Author,
		URL:       pr.URL,
		MergedAt:  pr.MergedAt,
		MergedBy:  pr.MergedBy,
		Approvers: approvers(pr),
		Labels:    pr.Labels,
	}
	run, ran := checkAtMerge(pr, opts)
	if run != nil {
		v.PullRequest.Check = run.Conclusion
	}
	switch {
	case run == nil && ran:
		v.Reason = fmt.Sprintf("the %s check on pull request #%d had not completed when it was merged", opts.CheckName, pr.Number)
	case run == nil:
		v.Reason = fmt.Sprintf("the %s check never ran on pull request #%d", opts.CheckName, pr.Number)
	case run.Conclusion != "success":
		v.Reason = fmt.Sprintf("the %s check on pull request #%d had concluded %q when %s merged it (an administrator bypass?)", opts.CheckName, pr.Number, run.Conclusion, orSomeone(pr.MergedBy))
	default:
		v.Reviewed = true
	}
	return v
}

// checkAtMerge returns the latest check run that completed at or before the
// merge; ran reports whether any run existed at all.
func checkAtMerge(pr EvidencePullRequest, opts AssessOptions) (latest *EvidenceCheckRun, ran bool) {
	for i := range pr.CheckRuns {
		cr := &pr.CheckRuns[i]
		if cr.Name != opts.CheckName || (opts.App != "" && cr.App != opts.App) {
			continue
		}
		if cr.HeadSHA != pr.HeadSHA && cr.HeadSHA != pr.MergeCommitSHA {
			continue
		}
		ran = true
		if cr.Status != "completed" || cr.CompletedAt.IsZero() || cr.CompletedAt.After(pr.MergedAt) {
			continue
		}
		if latest == nil || cr.CompletedAt.After(latest.CompletedAt) || (cr.CompletedAt.Equal(latest.CompletedAt) && cr.ID > latest.ID) {
			latest = cr
		}
	}
	return latest, ran
}

// approvers lists the reviewers other than the author whose latest
// deciding review submitted before the merge approved, sorted. Comments do
// not undo an approval; a dismissal or a request for changes does.
func approvers(pr EvidencePullRequest) []string {
	reviews := slices.Clone(pr.Reviews)
	slices.SortStableFunc(reviews, func(a, b EvidenceReview) int {
		if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	state := map[string]string{}
	for _, r := range reviews {
		if r.Reviewer == "" || strings.EqualFold(r.Reviewer, pr.Author) || (!pr.MergedAt.IsZero() && r.SubmittedAt.After(pr.MergedAt)) {
			continue
		}
		switch r.State {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
			state[r.Reviewer] = r.State
		}
	}
	out := []string{}
	for who, s := range state {
		if s == "APPROVED" {
			out = append(out, who)
		}
	}
	slices.Sort(out)
	return out
}

func prState(pr EvidencePullRequest) string {
	if pr.Merged {
		return "merged"
	}
	return pr.State
}

func orSomeone(login string) string {
	if login == "" {
		return "someone"
	}
	return login
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// Enrich asks the reviewer about every commit of the records and fills
// their pull request and bypass fields. It stops at the first error: a
// partial answer must not pass for a complete one.
func Enrich(ctx context.Context, records []Record, r Reviewer) error {
	verdicts := map[string]Verdict{}
	for i := range records {
		rec := &records[i]
		v, ok := verdicts[rec.Commit]
		if !ok {
			var err error
			if v, err = r.Review(ctx, rec.Commit); err != nil {
				return fmt.Errorf("review of commit %s: %w", short(rec.Commit), err)
			}
			verdicts[rec.Commit] = v
		}
		applyVerdict(rec, v)
	}
	return nil
}

func applyVerdict(rec *Record, v Verdict) {
	rec.Verified = true
	rec.PullRequest = v.PullRequest
	rec.Bypass = !v.Reviewed
	rec.BypassReason = v.Reason
	rec.MetricException = nil
	if pr := v.PullRequest; pr != nil && rec.ExceptionLabel != "" &&
		slices.ContainsFunc(pr.Labels, func(l string) bool { return strings.EqualFold(l, rec.ExceptionLabel) }) {
		rec.MetricException = &MetricException{Label: rec.ExceptionLabel, Gates: slices.Clone(rec.FailedGates), Approvers: slices.Clone(pr.Approvers)}
	}
	if rec.BeforeJudging {
		rec.Bypass, rec.BypassReason = false, ""
	}
	if f := rec.Freeze; f != nil {
		f.Overridden, f.Approvers = false, nil
		if pr := v.PullRequest; pr != nil && f.OverrideLabel != "" &&
			slices.ContainsFunc(pr.Labels, func(l string) bool { return strings.EqualFold(l, f.OverrideLabel) }) {
			f.Overridden, f.Approvers = true, slices.Clone(pr.Approvers)
		}
	}
}

// Finding is a manifest change that bypassed review, with what the bot
// needs to report it.
type Finding struct {
	// Record is the change.
	Record Record
	// Verdict is the reviewer's answer about its commit.
	Verdict Verdict
}

// findingOf pairs an enriched record with the verdict Enrich applied to it.
func findingOf(rec Record) Finding {
	return Finding{Record: rec, Verdict: Verdict{Commit: rec.Commit, PullRequest: rec.PullRequest, Reviewed: !rec.Bypass, Reason: rec.BypassReason}}
}

// StatusContext is the context of the commit status the bot sets on a
// commit that bypassed review.
const StatusContext = "promobot/audit"

// IssueTitle is the title of the issue the bot opens (or updates) for an
// unreviewed change of model in env.
func IssueTitle(model, env string) string {
	return fmt.Sprintf("Unreviewed promotion of %s to %s", model, env)
}

// Title returns IssueTitle for the finding.
func (f Finding) Title() string { return IssueTitle(f.Record.Model, f.Record.Environment) }

// StatusDescription is the description of the failing commit status, within
// GitHub's 140 characters.
func (f Finding) StatusDescription() string {
	d := fmt.Sprintf("Unreviewed change of %s in %s: %s", f.Record.Model, f.Record.Environment, f.Verdict.Reason)
	if len(d) > 140 {
		cut := 137
		for cut > 0 && !utf8.RuneStart(d[cut]) {
			cut-- // never split a character: GitHub refuses invalid UTF-8
		}
		d = d[:cut] + "..."
	}
	return d
}

// DetectBypass asks the reviewer about the commits of records (typically
// those a push added to the default branch) and returns the changes that did
// not come through a reviewed pull request, with the records enriched. An
// error means some commit could not be checked: callers must treat the push
// as unverified, not as clean.
func DetectBypass(ctx context.Context, r Reviewer, records []Record) ([]Finding, error) {
	enriched := slices.Clone(records)
	if err := Enrich(ctx, enriched, r); err != nil {
		return nil, err
	}
	var out []Finding
	for _, rec := range enriched {
		if rec.Bypass {
			out = append(out, findingOf(rec))
		}
	}
	return out, nil
}

// UnreviewedError is returned by RequireReviewed when a manifest's current
// content did not come through reviewed pull requests. It is terminal:
// retrying does not help until the change is re-made through a pull request.
type UnreviewedError struct {
	// Environment and Model name the manifest.
	Environment, Model string
	// Findings are the unreviewed changes, oldest first.
	Findings []Finding
}

// Error implements error.
func (e *UnreviewedError) Error() string {
	var reasons []string
	for _, f := range e.Findings {
		reasons = append(reasons, fmt.Sprintf("%s %s (commit %s): %s", f.Record.Kind, f.Record.ToVersion, short(f.Record.Commit), f.Verdict.Reason))
	}
	return fmt.Sprintf("the manifest of %s in %s was changed without review: %s", e.Model, e.Environment, strings.Join(reasons, "; "))
}

// ErrNotPinned is returned by RequireReviewed when the history has no
// manifest for the model in the environment.
var ErrNotPinned = errors.New("no manifest is pinned")

// ReviewedCheck is the answer of RequireReviewed.
type ReviewedCheck struct {
	// Pinned is the change that pinned the current version.
	Pinned Record
	// Changes are Pinned and the later edits that kept the version, each
	// with the reviewer's verdict.
	Changes []Finding
}

// RequireReviewed checks that the current manifest of model in env, at the
// tip of history, came through reviewed pull requests: the change that
// pinned its version and every later edit. It returns the changes it
// checked, and a *UnreviewedError listing those that were not reviewed.
// Any other error means the answer is unknown; `promobot resolve
// --require-reviewed` refuses the manifest in both cases.
func RequireReviewed(ctx context.Context, history *History, r Reviewer, env, model string) (*ReviewedCheck, error) {
	pins := Timeline(history.Records, Filter{Environments: []string{env}, Models: []string{model}})
	if len(pins) == 0 || !pins[len(pins)-1].Until.IsZero() {
		return nil, fmt.Errorf("%s in %s: %w", model, env, ErrNotPinned)
	}
	pin := pins[len(pins)-1]
	changes := PinRecords([]Pin{pin})
	if err := Enrich(ctx, changes, r); err != nil {
		return nil, err
	}
	check := &ReviewedCheck{Pinned: changes[0]}
	var bad []Finding
	for _, c := range changes {
		f := findingOf(c)
		check.Changes = append(check.Changes, f)
		if c.Bypass {
			bad = append(bad, f)
		}
	}
	if len(bad) > 0 {
		return check, &UnreviewedError{Environment: env, Model: model, Findings: bad}
	}
	return check, nil
}
