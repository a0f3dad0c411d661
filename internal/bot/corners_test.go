package bot

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// event delivers a payload and waits for the bot.
func (h *harness) event(event string, p githubtest.Payload) {
	h.T.Helper()
	if got := h.deliver(event, p, testSecret); got != http.StatusAccepted {
		h.T.Fatalf("%s: status %d, want 202", event, got)
	}
	h.idle()
}

// releaseBranch creates branch release from main's tip, with a policy that
// asks for one prod approval instead of two, and returns its tip.
func (h *harness) releaseBranch() string {
	h.T.Helper()
	lenient := evaltest.Replace(evaltest.Policy, "approvals: 2\n    requireValidation: true\n    requireTicket: true",
		"approvals: 1\n    requireValidation: true\n    requireTicket: true")
	return gittest.MustCommit(h.T, h.RepoPath, gittest.Commit{
		Branch: "release", Parents: []string{h.Tip("main")}, Files: map[string]string{".github/promobot.yaml": lenient},
		Message: "Release branch: one prod approval", Author: gittest.Signature{Name: "pat", Email: "pat@users.noreply.github.com", When: world.MustTime(h.T, evaltest.DefaultBaseDate)},
	})
}

// apiAs returns a go-github client of the emulator acting as login.
func (h *harness) apiAs(login string) *github.Client {
	return h.Fixture.Client(h.T, h.Em.UserToken(login))
}

func TestEndToEndSharedHeadIsAsStrictAsItsStrictestPullRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.releaseBranch()
	n1, head := h.promotion(nil)
	// The same branch proposed into release as well: one commit, two pull
	// requests, one check run.
	n2, err := h.Em.OpenPR(testOwner, testRepo, githubtest.NewPullRequest{Title: "Promote to prod (release)", Head: "promote-prod", Base: "release", User: "alex"})
	if err != nil {
		t.Fatal(err)
	}
	h.approve(n1, "mara", "rita")
	// #1 passes on its own; #2 has no approval.
	h.pullRequestEvent(n1, "opened")
	h.want("#2 unapproved", head, "failure", []string{"#2: needs 1 more approval"}, []string{"# Pull request #1", "# Pull request #2", "2/2 approvals"})
	if strings.Contains(h.Latest(head).Title, "#1") {
		t.Errorf("the title names the passing pull request: %q", h.Latest(head).Title)
	}

	// Approving #2 (the release branch asks for one approval) turns the
	// commit green, from either pull request's event.
	h.review(n2, "mike", "APPROVED")
	h.want("both approved", head, "success", []string{"all 2 pull requests with this head pass (#1, #2)"}, nil)

	// Closing #2 leaves #1 alone on the commit.
	if err := h.Em.SetPRState(testOwner, testRepo, n2, "closed"); err != nil {
		t.Fatal(err)
	}
	h.Em.ResetCounts()
	closed, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n2, "closed", "")
	if err != nil {
		t.Fatal(err)
	}
	h.event("pull_request", closed)
	if counts := h.Em.Counts(); len(counts) != 0 {
		t.Errorf("a closed pull request caused requests: %v", counts)
	}
	h.pullRequestEvent(n1, "reopened")
	h.want("#2 closed", head, "success", []string{"all rules pass, 2/2 approvals"}, nil)
}

func TestEndToEndBaseChangeIsEvaluatedAgainstTheNewBase(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.releaseBranch()
	n, head := h.promotion(nil)
	if _, err := h.Em.Review(testOwner, testRepo, n, "mara", "APPROVED", ""); err != nil {
		t.Fatal(err)
	}
	h.pullRequestEvent(n, "opened")
	h.want("into main", head, "failure", []string{"needs 1 more approval"}, nil)

	base := "release"
	if _, _, err := h.apiAs("alex").PullRequests.Edit(t.Context(), testOwner, testRepo, n, &github.PullRequest{Base: &github.PullRequestBranch{Ref: &base}}); err != nil {
		t.Fatal(err)
	}
	p, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "edited", "")
	if err != nil {
		t.Fatal(err)
	}
	p["changes"] = map[string]any{"base": map[string]any{"ref": map[string]any{"from": "main"}, "sha": map[string]any{"from": h.Tip("main")}}}
	h.event("pull_request", p)
	h.want("into release", head, "success", []string{"all rules pass, 1/1 approval"}, nil)
}

// mergeGroupCommit builds what GitHub's merge queue builds for pull request
// n: a merge of head into main's tip, on a gh-readonly-queue branch, with
// extra files on top when given. It returns the commit and its branch.
func (h *harness) mergeGroupCommit(n int, head string, files map[string]string) (string, string) {
	h.T.Helper()
	tip := h.Tip("main")
	branch := "gh-readonly-queue/main/pr-" + strconv.Itoa(n) + "-" + tip
	sha := gittest.MustCommit(h.T, h.RepoPath, gittest.Commit{
		Branch: branch, Parents: []string{tip, head}, Files: files,
		Message:   "Merge pull request #" + strconv.Itoa(n) + " from example-org/promote-prod",
		Author:    gittest.Signature{Name: "alex", Email: "alex@users.noreply.github.com", When: world.MustTime(h.T, evaltest.DefaultNow)},
		Committer: gittest.Signature{Name: "GitHub", Email: "noreply@github.com", When: world.MustTime(h.T, evaltest.DefaultNow)},
	})
	return sha, branch
}

func TestEndToEndMergeGroups(t *testing.T) {
	t.Parallel()
	promotion := evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator)
	tests := []struct {
		name      string
		approvals []string
		// extra files the merge group holds beyond the pull request.
		extra map[string]string
		// headRef, when set, replaces the queue branch in the event.
		headRef    string
		conclusion string
		titleHas   []string
	}{
		{name: "approved", approvals: []string{"mara", "rita"}, conclusion: "success",
			titleHas: []string{"merge group: all rules pass, 2/2 approvals"}},
		{name: "not approved", approvals: []string{"mara"}, conclusion: "failure",
			titleHas: []string{"merge group: needs 1 more approval"}},
		{name: "the group holds more than the pull request", approvals: []string{"mara", "rita"},
			extra: map[string]string{"environments/dev/lasso-spx.yaml": evaltest.Manifest("dev", evaltest.Unbundled, evaltest.V4)}, conclusion: "failure",
			titleHas: []string{"could not evaluate merge group: the merge group changes environments/dev/lasso-spx.yaml, which none of its pull requests changes"}},
		{name: "the group differs from the approved head", approvals: []string{"mara", "rita"},
			extra: map[string]string{evaltest.ManifestPath("prod", evaltest.Forecaster): promotion[evaltest.ManifestPath("prod", evaltest.Forecaster)] + "# edited in the queue\n"}, conclusion: "failure",
			titleHas: []string{"could not evaluate merge group: environments/prod/elasticnet-ndx.yaml in the merge group differs from the approved head of #1"}},
		{name: "a queue branch naming no pull request", approvals: []string{"mara", "rita"}, headRef: "refs/heads/gh-readonly-queue/main/something-else",
			conclusion: "failure", titleHas: []string{"could not evaluate merge group: the merge queue branch"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			n, head := h.promotion(nil)
			h.approve(n, tc.approvals...)
			files := evaltest.Merge(promotion, tc.extra)
			group, branch := h.mergeGroupCommit(n, head, files)
			p, err := h.Em.MergeGroupEvent(t.Context(), testOwner, testRepo, group, "refs/heads/"+branch, "refs/heads/main", "github-merge-queue[bot]")
			if err != nil {
				t.Fatal(err)
			}
			if tc.headRef != "" {
				p["merge_group"].(map[string]any)["head_ref"] = tc.headRef
			}
			h.event("merge_group", p)
			runs := h.Em.CheckRuns(testOwner, testRepo, group)
			if len(runs) != 1 {
				t.Fatalf("%d check runs on the merge group commit, want 1", len(runs))
			}
			h.want("merge group", group, tc.conclusion, tc.titleHas, []string{"Merge queue commit"})
			if runs := h.Em.CheckRuns(testOwner, testRepo, head); len(runs) != 0 {
				t.Errorf("the merge group wrote %d check runs on the pull request's head", len(runs))
			}
		})
	}
}

func TestEndToEndPushToTheDefaultBranchReevaluatesItsPullRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, head := h.promotion(nil)
	h.approve(n, "mara", "rita")
	h.pullRequestEvent(n, "opened")
	h.want("before", head, "success", nil, nil)

	// main gains a CODEOWNERS line that makes platform admins co-own prod:
	// the approvals no longer suffice.
	before := h.Tip("main")
	owners := evaltest.CodeOwners + "/environments/prod/          @example-org/platform-admins\n"
	after := h.Commit("main", map[string]string{".github/CODEOWNERS": owners}, "Platform admins own prod", "pat", world.MustTime(t, evaltest.DefaultNow).Add(-30*time.Minute))
	p, err := h.Em.PushEvent(t.Context(), testOwner, testRepo, "refs/heads/main", before, after, "pat")
	if err != nil {
		t.Fatal(err)
	}
	h.event("push", p)
	h.want("after the base moved", head, "failure", []string{"platform-admins"}, nil)

	// Pushes elsewhere are ignored.
	h.Em.ResetCounts()
	other := h.Commit("unrelated", map[string]string{"README.md": "# x\n"}, "x", "pat", world.MustTime(t, evaltest.DefaultNow))
	p, err = h.Em.PushEvent(t.Context(), testOwner, testRepo, "refs/heads/unrelated", strings.Repeat("0", 40), other, "pat")
	if err != nil {
		t.Fatal(err)
	}
	h.event("push", p)
	if counts := h.Em.Counts(); len(counts) != 0 {
		t.Errorf("a push to another branch caused requests: %v", counts)
	}
}

func TestEndToEndMergedPullRequestsGetNoWrites(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, head := h.promotion(nil)
	id, err := h.Em.Review(testOwner, testRepo, n, "mara", "APPROVED", "")
	if err != nil {
		t.Fatal(err)
	}
	h.pullRequestEvent(n, "opened")
	if _, err := h.Em.Merge(testOwner, testRepo, n, githubtest.MergeOptions{User: "rita"}); err != nil {
		t.Fatal(err)
	}
	runs := len(h.Em.CheckRuns(testOwner, testRepo, head))
	h.Em.ResetCounts()
	// A review dismissed after the merge, and a resynchronization.
	if err := h.Em.Dismiss(testOwner, testRepo, n, id); err != nil {
		t.Fatal(err)
	}
	p, err := h.Em.PullRequestReviewEvent(t.Context(), testOwner, testRepo, n, id, "dismissed", "rita")
	if err != nil {
		t.Fatal(err)
	}
	h.event("pull_request_review", p)
	if err := h.bot.Resync(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if got := len(h.Em.CheckRuns(testOwner, testRepo, head)); got != runs {
		t.Errorf("%d check runs after the merge, want %d", got, runs)
	}
	for endpoint := range h.Em.Counts() {
		if !strings.HasPrefix(endpoint, "GET ") {
			t.Errorf("a merged pull request caused %s", endpoint)
		}
	}
}
