package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi"
)

// mergeGroup is a merge queue's request to check the commit it would merge.
type mergeGroup struct {
	target
	// headSHA is the merge group commit, checked and reported on; baseSHA
	// its base, the commit it would be merged onto.
	headSHA, baseSHA string
	// headRef is the full name of the queue's temporary branch, such as
	// "refs/heads/gh-readonly-queue/main/pr-12-<sha>"; baseRef the full name
	// of the branch the group merges into.
	headRef, baseRef string
}

// queueEntry matches the last segment of a merge queue branch: the pull
// request and the commit it was queued on.
var queueEntry = regexp.MustCompile(`^pr-([1-9][0-9]*)-[0-9a-f]{40}$`)

// queuedPullRequests returns the pull request numbers a merge queue
// branch names.
func queuedPullRequests(headRef string) ([]int, bool) {
	rest, ok := strings.CutPrefix(headRef, "refs/heads/gh-readonly-queue/")
	if !ok {
		return nil, false
	}
	m := queueEntry.FindStringSubmatch(rest[strings.LastIndexByte(rest, '/')+1:])
	if m == nil {
		return nil, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return nil, false
	}
	return []int{n}, true
}

var commitHash = regexp.MustCompile(`^[0-9a-f]{40}$`)

func (b *Bot) onMergeGroup(_ context.Context, d webhook.Delivery) error {
	var ev mergeGroupPayload
	if err := parse(d, &ev); err != nil {
		return err
	}
	if action := ev.Action; action != "checks_requested" {
		return webhook.Ignore("action %q", action)
	}
	t, err := newTarget(ev.payloadEnvelope)
	if err != nil {
		return err
	}
	mg := ev.MergeGroup
	g := mergeGroup{target: t, headSHA: mg.HeadSHA, baseSHA: mg.BaseSHA, headRef: mg.HeadRef, baseRef: mg.BaseRef}
	if !commitHash.MatchString(g.headSHA) {
		return webhook.BadRequest(errors.New("no merge group head commit"))
	}
	logger := d.Logger.With(KeyRepo, t.fullName(), KeySHA, g.headSHA, KeyInstallationID, t.installation, "merge_group", g.headRef)
	key := jobKey{kind: jobMergeGroup, installation: t.installation, repo: strings.ToLower(t.fullName()), ref: g.headSHA}
	if b.durable != nil {
		return b.enqueue(logger, hint{V: hintVersion, Kind: hintMergeGroup, Event: d.Event, Delivery: d.ID,
			Installation: t.installation, Owner: t.owner, Repo: t.name, CloneURL: t.cloneURL,
			SHA: g.headSHA, Ref: g.headRef, BaseSHA: g.baseSHA, BaseRef: g.baseRef})
	}
	return b.submit(key, logger, func(ctx context.Context, logger *slog.Logger) error { return b.checkMergeGroup(ctx, logger, g) })
}

// checkMergeGroup posts the check run of a merge group commit: in progress
// first, then the verdict, never a success without one.
func (b *Bot) checkMergeGroup(ctx context.Context, logger *slog.Logger, g mergeGroup) error {
	gh, err := b.deps.client(g.installation)
	if err != nil {
		return err
	}
	gh, release, err := b.hold(ctx, gh, mergeGroupLeaseName(g))
	if err != nil {
		return err
	}
	defer release()
	start := time.Now()
	id, err := gh.CreateCheckRun(ctx, g.owner, g.name, githubapi.CheckRun{
		Name: b.cfg.CheckName, HeadSHA: g.headSHA, Status: githubapi.StatusInProgress, StartedAt: b.cfg.Now(),
		Output: &githubapi.Output{
			Title:   "Evaluating the merge group",
			Summary: "promobot is checking the pull requests of this merge group against the group's base, and that the group holds exactly their approved changes.",
		},
	})
	if err != nil {
		return err
	}
	return b.conclude(ctx, logger, gh, g.target, id, b.judgeMergeGroup(ctx, logger, gh, g), start)
}

// judgeMergeGroup evaluates a merge group: each pull request it names,
// read afresh, judged against the group's base (so rules and CODEOWNERS
// are those the merge would land on) with its own reviews on its own head;
// and the group's content, which must be the base plus exactly those
// heads' changes, so that the approvals carry over. Anything that cannot
// be established fails closed.
func (b *Bot) judgeMergeGroup(ctx context.Context, logger *slog.Logger, gh githubAPI, g mergeGroup) report {
	numbers, ok := queuedPullRequests(g.headRef)
	if !ok {
		return mergeGroupReport(g, failureReport(&mergeGroupError{fmt.Sprintf("the merge queue branch %q names no pull request", g.headRef)}))
	}
	if !commitHash.MatchString(g.baseSHA) || !strings.HasPrefix(g.baseRef, "refs/heads/") {
		return mergeGroupReport(g, failureReport(&mergeGroupError{"the merge group has no base commit or branch"}))
	}
	var prs []*githubapi.PullRequest
	for _, n := range numbers {
		pr, err := gh.PullRequest(ctx, g.owner, g.name, n)
		if err != nil {
			return mergeGroupReport(g, failureReport(err))
		}
		switch {
		case pr.State != "open":
			return mergeGroupReport(g, failureReport(&mergeGroupError{fmt.Sprintf("pull request #%d is %s", n, pr.State)}))
		case "refs/heads/"+pr.BaseRef != g.baseRef:
			return mergeGroupReport(g, failureReport(&mergeGroupError{fmt.Sprintf("pull request #%d merges into %s, not %s", n, pr.BaseRef, g.baseRef)}))
		}
		prs = append(prs, pr)
	}
	set, err := b.syncMergeGroup(ctx, gh, g, prs)
	if err != nil {
		return mergeGroupReport(g, failureReport(err))
	}
	if err := sameContent(ctx, set, g, prs); err != nil {
		return mergeGroupReport(g, failureReport(err))
	}
	outcomes := make([]prOutcome, 0, len(prs))
	for _, pr := range prs {
		t := g.target.withPullRequest(pr)
		snap := func(context.Context) (snapshot, error) { return set.Snapshot(g.baseSHA, pr.HeadSHA) }
		o := b.judge(ctx, logger.With("evaluated_pr", pr.Number), gh, t, pr, snap)
		if o.err != nil {
			logger.Error("merge group evaluation failed", "evaluated_pr", pr.Number, "error", o.err, "terminal", failure.IsTerminal(o.err))
		}
		outcomes = append(outcomes, o)
	}
	return mergeGroupReport(g, combine(outcomes))
}

// syncMergeGroup fetches the group, its base and the pull requests' heads.
func (b *Bot) syncMergeGroup(ctx context.Context, gh githubAPI, g mergeGroup, prs []*githubapi.PullRequest) (commitSet, error) {
	token, err := gh.Token(ctx)
	if err != nil {
		return nil, err
	}
	refs := []string{g.headRef, g.baseRef}
	commits := []string{g.baseSHA, g.headSHA}
	for _, pr := range prs {
		refs = append(refs, fmt.Sprintf("refs/pull/%d/head", pr.Number))
		if pr.HeadRef != "" && strings.EqualFold(pr.HeadRepo, g.fullName()) {
			refs = append(refs, "refs/heads/"+pr.HeadRef)
		}
		commits = append(commits, pr.HeadSHA)
	}
	cloneURL := g.cloneURL
	if cloneURL == "" && len(prs) > 0 {
		cloneURL = prs[0].CloneURL
	}
	return b.deps.mirrors.SyncCommits(ctx, mirror.CommitsRequest{
		Repository: g.fullName(), CloneURL: cloneURL, Token: token, Refs: refs, Commits: commits,
	})
}

// sameContent checks that the merge group commit is its base plus exactly
// the changes of its pull requests' heads: every file a pull request
// changes (from where it branched off the base) is, in the group, as in
// that pull request's head, and the group changes no other file. A file
// also changed on the base since, and merged, differs from what was
// approved, and fails.
func sameContent(ctx context.Context, set commitSet, g mergeGroup, prs []*githubapi.PullRequest) error {
	covered := map[string]bool{}
	for _, pr := range prs {
		forkPoint, err := set.MergeBase(pr.HeadSHA, g.baseSHA)
		if err != nil {
			return err
		}
		changed, err := set.ChangedFiles(ctx, forkPoint, pr.HeadSHA)
		if err != nil {
			return err
		}
		differs, err := set.ChangedFiles(ctx, pr.HeadSHA, g.headSHA)
		if err != nil {
			return err
		}
		for _, p := range sortedKeys(changed) {
			if _, ok := differs[p]; ok {
				return &mergeGroupError{fmt.Sprintf("%s in the merge group differs from the approved head of #%d", p, pr.Number)}
			}
			covered[p] = true
		}
	}
	group, err := set.ChangedFiles(ctx, g.baseSHA, g.headSHA)
	if err != nil {
		return err
	}
	for _, p := range sortedKeys(group) {
		if !covered[p] {
			return &mergeGroupError{fmt.Sprintf("the merge group changes %s, which none of its pull requests changes", p)}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// mergeGroupReport presents a report as the merge group's: its title says
// so, and its summary says what was checked.
func mergeGroupReport(g mergeGroup, r report) report {
	if rest, ok := strings.CutPrefix(r.title, couldNotEvaluate); ok {
		r.title = couldNotEvaluate + " merge group" + rest
	} else {
		r.title = "merge group: " + r.title
	}
	r.summary = fmt.Sprintf("Merge queue commit `%s` on `%s`, merging into `%s` at `%s`. "+
		"Each pull request of the group is judged afresh against the group's base, with the reviews of its own head, "+
		"and the group must hold exactly the changes of those heads.\n\n", short7(g.headSHA), strings.TrimPrefix(g.headRef, "refs/heads/"),
		strings.TrimPrefix(g.baseRef, "refs/heads/"), short7(g.baseSHA)) + r.summary
	r.externalID = ""
	return r
}

func short7(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// mergeGroupError says why a merge group cannot be judged. Retrying the
// same group cannot help: the queue must build another.
type mergeGroupError struct{ reason string }

func (e *mergeGroupError) Error() string { return "merge group: " + e.reason }

// FailureKind returns failure.Refused: the merge group must change before
// a retry can pass.
func (e *mergeGroupError) FailureKind() failure.Kind { return failure.Refused }
