package promote

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// signedCandidate is a candidate good enough for every environment.
var signedCandidate = strings.Replace(candidate, "  uri:",
	"  signature: MEUCIQDx0rH3hZc6cD0r3v1mJrU6n6mS9sV8f9bq2m4o5vYqZAIgV3aQJ8rP0cXn1mZ8lS2q7k1eW0u6c5y9b3t4r2o1n0A=\n  uri:", 1)

func registerRequest() RegisterRequest {
	size := int64(65536)
	return RegisterRequest{Candidate: []byte(signedCandidate), Artifact: ArtifactFields{SHA256: strings.Repeat("ab", 32), Size: &size}}
}

const (
	devVIX  = "environments/dev/gbm-vix.yaml"
	testVIX = "environments/test/gbm-vix.yaml"
	prodVIX = "environments/prod/gbm-vix.yaml"
)

func TestRegisterThenPromoteToTestThenProd(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	x := h.executor()
	ctx := t.Context()

	out, err := x.Register(ctx, []RegisterRequest{registerRequest()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.PullRequest == nil || out.PullRequest.Number != 1 || !out.PullRequest.Created {
		t.Fatalf("register pull request = %+v, want #1 created", out.PullRequest)
	}
	pr := h.pr(1)
	if diff := cmp.Diff([]string{"promotion", "env:dev"}, pr.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if pr.Title != "Register gbm-vix 2026.11.27-1 in dev" || pr.HeadRef != "promobot/dev/gbm-vix-2026.11.27-1" || pr.HeadSHA != out.Commit {
		t.Errorf("pull request #1: title %q head %s at %s, outcome commit %s", pr.Title, pr.HeadRef, pr.HeadSHA, out.Commit)
	}
	h.merge(1)

	// Validation is still pending: the promotion to test can never pass, so
	// it is refused and leaves nothing behind.
	before := h.localState()
	out, err = x.Promote(ctx, PromoteRequest{Models: []string{"gbm-vix"}, To: "test"}, Options{})
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("promote with validation pending: err = %v, want a refusal", err)
	}
	want := []string{`environments/test/gbm-vix.yaml: validation.status is "pending"; test requires passed`}
	if diff := cmp.Diff(want, refused.Reasons); diff != "" {
		t.Errorf("refusal reasons (-want +got):\n%s", diff)
	}
	if out == nil || out.Evaluation == nil || out.Commit != "" {
		t.Errorf("a refusal returns the evaluation and no commit, got %+v", out)
	}
	if diff := cmp.Diff([]string{"main", "promobot/dev/gbm-vix-2026.11.27-1"}, h.remoteBranches()); diff != "" {
		t.Errorf("remote branches after the refusal (-want +got):\n%s", diff)
	}
	h.checkLocalUnchanged(before)

	// The validation job records its result on main.
	dev := h.remoteFile("main", devVIX)
	h.commitOnMain("Record the validation of gbm-vix 2026.11.27-1\n", map[string]string{devVIX: strings.Replace(dev,
		"validation:\n  status: pending\n",
		"validation:\n  status: passed\n  report: https://mlartifacts.blob.core.windows.net/reports/gbm-vix/2026.11.27-1/validation.html\n  validatedAt: \"2026-11-19T08:00:00Z\"\n", 1)})

	out, err = x.Promote(ctx, PromoteRequest{Models: []string{"gbm-vix"}, To: "test"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.PullRequest.Number != 2 {
		t.Fatalf("promotion to test opened #%d, want #2", out.PullRequest.Number)
	}
	h.merge(2)

	out, err = x.Promote(ctx, PromoteRequest{Models: []string{"gbm-vix"}, To: "prod", Ticket: "CHG-5001"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pr = h.pr(3)
	if pr.Title != "Promote gbm-vix 2026.11.27-1 to prod" || pr.HeadRef != "promobot/prod/gbm-vix-2026.11.27-1" {
		t.Errorf("pull request #3: title %q, head %q", pr.Title, pr.HeadRef)
	}
	if diff := cmp.Diff([]string{"promotion", "env:prod"}, pr.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	golden(t, "promote-prod.body.md", pr.Body)
	c := h.remoteCommit(out.Commit)
	golden(t, "promote-prod.commit.txt", c.Message)
	if c.Author.Name != "Release Bot" || len(c.ParentHashes) != 1 || c.ParentHashes[0].String() != out.BaseCommit {
		t.Errorf("commit by %s with parents %v, want Release Bot on %s", c.Author.Name, c.ParentHashes, out.BaseCommit)
	}
	prod := h.remoteFile(out.Commit, prodVIX)
	test := h.remoteFile("main", testVIX)
	for _, key := range []string{"artifact", "lineage", "metrics", "validation"} {
		if diff := cmp.Diff(block(t, test, key), block(t, prod, key)); diff != "" {
			t.Errorf("%s changed between test and prod (-test +prod):\n%s", key, diff)
		}
		if diff := cmp.Diff(block(t, h.remoteFile("main", devVIX), key), block(t, prod, key)); diff != "" && key != "validation" {
			t.Errorf("%s changed between dev and prod (-dev +prod):\n%s", key, diff)
		}
	}
	if !strings.Contains(prod, "approval:\n  ticket: CHG-5001\n") || !strings.Contains(prod, "environment: prod\n") {
		t.Errorf("prod manifest lacks the environment or the ticket:\n%s", prod)
	}
	if u := h.fx.Emulator.UnexpectedRequests(); len(u) > 0 {
		t.Errorf("unexpected GitHub requests: %v", u)
	}
}

func TestPromoteBundleRerunUpdatesTheOpenPullRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	x := h.executor()
	ctx := t.Context()
	req := PromoteRequest{Models: []string{"elasticnet-ndx", "elasticnet-ndx-threshold"}, To: "prod", Ticket: "CHG-5001"}

	first, err := x.Promote(ctx, req, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !first.PullRequest.Created || !first.Pushed {
		t.Fatalf("first run: %+v", first)
	}
	counts := h.fx.Emulator.Counts()

	// The same request again: nothing to push, the same pull request.
	again, err := x.Promote(ctx, req, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.PullRequest.Number != first.PullRequest.Number || again.PullRequest.Created || again.Pushed || again.Commit != first.Commit {
		t.Errorf("identical rerun: %+v, want the same PR and commit, nothing pushed", again)
	}
	if n := h.fx.Emulator.Counts()["POST /repos/{owner}/{repo}/pulls"]; n != counts["POST /repos/{owner}/{repo}/pulls"] {
		t.Errorf("identical rerun opened a pull request")
	}

	// A new ticket and a base that moved on: the branch is rebuilt on the new
	// base and the open pull request is updated, not duplicated.
	newBase := h.commitOnMain("Document the runbook\n", map[string]string{"docs/runbook.md": "# Runbook\n"})
	req.Ticket = "CHG-5002"
	rerun, err := x.Promote(ctx, req, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rerun.PullRequest.Number != first.PullRequest.Number || rerun.PullRequest.Created || !rerun.Pushed {
		t.Errorf("rerun: %+v, want the same pull request updated and a push", rerun.PullRequest)
	}
	if rerun.BaseCommit != newBase || h.remoteCommit(rerun.Commit).ParentHashes[0].String() != newBase {
		t.Errorf("rerun built on %s, want the new base %s", rerun.BaseCommit, newBase)
	}
	if _, err := h.fx.Emulator.SyncPR(owner, repoName, first.PullRequest.Number); err != nil {
		t.Fatal(err)
	}
	pr := h.pr(first.PullRequest.Number)
	if pr.HeadSHA != rerun.Commit || !strings.Contains(pr.Body, "`CHG-5002`") || strings.Contains(pr.Body, "CHG-5001") {
		t.Errorf("pull request after the rerun: head %s (want %s), body mentions the new ticket: %v", pr.HeadSHA, rerun.Commit, strings.Contains(pr.Body, "CHG-5002"))
	}
	open := 0
	for _, is := range h.fx.Emulator.Issues(owner, repoName) {
		if is.State == "open" {
			open++
		}
	}
	if open != 1 {
		t.Errorf("%d open pull requests, want 1", open)
	}
	if !strings.Contains(h.remoteFile(rerun.Commit, prodNDX), "ticket: CHG-5002\n") {
		t.Errorf("the rebuilt branch does not carry the new ticket")
	}
}

func TestRollbackRestoresTheExactEarlierBytes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	x := h.executor()
	out, err := x.Rollback(t.Context(), RollbackRequest{Environment: "prod", Models: []RollbackModel{{Model: "elasticnet-ndx"}, {Model: "elasticnet-ndx-threshold"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{prodNDX, "environments/prod/elasticnet-ndx-threshold.yaml"} {
		if diff := cmp.Diff(h.remoteFile(h.seedA, p), h.remoteFile(out.Commit, p)); diff != "" {
			t.Errorf("%s is not the manifest pinned by the seed (-want +got):\n%s", p, diff)
		}
	}
	for _, m := range out.Moves {
		if m.Version != "2026.10.30-1" || m.Replaces != "2026.11.06-1" || m.RestoredFrom != h.seedA || !m.RestoredAt.Equal(seedOctober) {
			t.Errorf("move %+v, want 2026.10.30-1 replacing 2026.11.06-1, pinned by %s at %s", m, h.seedA, seedOctober)
		}
	}
	pr := h.pr(out.PullRequest.Number)
	if pr.Title != "Roll back elasticnet-ndx to 2026.10.30-1 and elasticnet-ndx-threshold to 2026.10.30-1 in prod" {
		t.Errorf("title %q", pr.Title)
	}
	if diff := cmp.Diff([]string{"promotion", "env:prod", "rollback"}, pr.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	golden(t, "rollback.commit.txt", h.remoteCommit(out.Commit).Message)
}

func TestRollbackPullRequestWithAnInstallationToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	promoted, err := h.executor().Promote(t.Context(), PromoteRequest{Models: []string{"elasticnet-ndx", "elasticnet-ndx-threshold"}, To: "prod", Ticket: "CHG-5001"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.merge(promoted.PullRequest.Number)

	h.fx.Emulator.AddInstallation(7, owner, owner+"/"+repoName)
	token, err := h.fx.Emulator.InstallationToken(7)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := githubapi.New(githubapi.Config{BaseURL: h.fx.URL(), Token: token})
	if err != nil {
		t.Fatal(err)
	}
	client, err := apps.Client()
	if err != nil {
		t.Fatal(err)
	}
	bot := &Executor{
		Git: Git{Path: h.local, URL: h.cloneURL(), Remote: "promobot", Auth: TokenAuth(token),
			Author: Signature{Name: "promobot[bot]", Email: "promobot[bot]@users.noreply.github.com", Login: "promobot[bot]"}},
		GitHub: NewGitHub(client, owner, repoName),
		Now:    func() time.Time { return testNow },
	}
	out, err := bot.RollbackPullRequest(t.Context(), promoted.PullRequest.Number, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{prodNDX, "environments/prod/elasticnet-ndx-threshold.yaml"} {
		if diff := cmp.Diff(h.remoteFile(h.seedB, p), h.remoteFile(out.Commit, p)); diff != "" {
			t.Errorf("%s is not the manifest pinned before #%d (-want +got):\n%s", p, promoted.PullRequest.Number, diff)
		}
	}
	pr := h.pr(out.PullRequest.Number)
	if pr.User != "promobot[bot]" || pr.Title != "Roll back elasticnet-ndx to 2026.11.06-1 and elasticnet-ndx-threshold to 2026.11.06-1 in prod" ||
		!strings.Contains(pr.Body, fmt.Sprintf("Undoes #%d.", promoted.PullRequest.Number)) {
		t.Errorf("rollback pull request by %s: %q\n%s", pr.User, pr.Title, pr.Body)
	}

	// The environment has moved on since: rolling back the old PR is refused.
	_, err = bot.RollbackPullRequest(t.Context(), promoted.PullRequest.Number+5, Options{})
	var ge *GitHubError
	if !errors.As(err, &ge) || ge.Status != 404 || ge.Retryable {
		t.Errorf("rollback of a missing pull request: %v", err)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	before := h.localState()
	out, err := h.executor().Promote(t.Context(), PromoteRequest{Models: []string{"elasticnet-ndx", "elasticnet-ndx-threshold"}, To: "prod", Ticket: "CHG-5001"}, Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !out.DryRun || out.Commit != "" || out.PullRequest != nil || out.Title != "Promote elasticnet-ndx 2026.11.13-2 and elasticnet-ndx-threshold 2026.11.13-2 to prod" {
		t.Errorf("dry run outcome %+v", out)
	}
	for _, line := range []string{" environment: prod", "-version: \"2026.11.06-1\"", "+version: \"2026.11.13-2\"", "-  ticket: CHG-4790", "+  ticket: CHG-5001"} {
		if !strings.Contains(out.Diff, "\n"+line+"\n") {
			t.Errorf("diff lacks %q:\n%s", line, out.Diff)
		}
	}
	if diff := cmp.Diff([]string{"main"}, h.remoteBranches()); diff != "" {
		t.Errorf("remote branches (-want +got):\n%s", diff)
	}
	for k, n := range h.fx.Emulator.Counts() {
		if !strings.HasPrefix(k, "GET ") && n > 0 {
			t.Errorf("dry run called %s", k)
		}
	}
	h.checkLocalUnchanged(before)
}

func TestNoPullRequestPushesOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	out, err := h.executor().Promote(t.Context(), PromoteRequest{Models: []string{"elasticnet-ndx", "elasticnet-ndx-threshold"}, To: "prod", Ticket: "CHG-5001"}, Options{NoPR: true})
	if err != nil {
		t.Fatal(err)
	}
	if out.PullRequest != nil || !out.Pushed || h.remoteCommit(out.Branch).Hash.String() != out.Commit {
		t.Errorf("outcome %+v, want a pushed branch and no pull request", out)
	}
	for k, n := range h.fx.Emulator.Counts() {
		if !strings.HasPrefix(k, "GET ") && n > 0 {
			t.Errorf("--no-pr called %s", k)
		}
	}
}

func TestPushRejectedIsReportedAndLeavesTheCloneClean(t *testing.T) {
	t.Parallel()
	req := PromoteRequest{Models: []string{"elasticnet-ndx", "elasticnet-ndx-threshold"}, To: "prod", Ticket: "CHG-5001"}
	branch := "promobot/prod/elasticnet-ndx-2026.11.13-2-6a931077"
	tests := []struct {
		name    string
		prepare func(h *harness)
	}{
		{"someone else committed to the branch", func(h *harness) {
			h.commitOnMain("unrelated\n", nil)
			h.fx.Emulator.ResetCounts()
			_ = gittestCommitOnBranch(h, branch, "A manual fix on the promotion branch\n")
		}},
		{"the remote denies non-fast-forward updates", func(h *harness) {
			if _, err := h.executor().Promote(h.t.Context(), req, Options{NoPR: true}); err != nil {
				h.t.Fatal(err)
			}
			denyNonFastForwards(h)
			h.commitOnMain("Move main on\n", map[string]string{"docs/runbook.md": "# Runbook\n"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			tt.prepare(h)
			tipBefore := h.remoteCommit(branch).Hash
			before := h.localState()
			_, err := h.executor().Promote(t.Context(), req, Options{})
			var rejected *PushRejectedError
			if !errors.As(err, &rejected) || rejected.Reason != "non-fast-forward" || failure.IsTerminal(err) {
				t.Fatalf("err = %v, want a non-fast-forward rejection", err)
			}
			if !strings.Contains(err.Error(), "push to origin") || !strings.Contains(err.Error(), branch) || !strings.Contains(err.Error(), "nothing was changed locally") {
				t.Errorf("message %q does not name the remote, the branch and the local state", err)
			}
			if h.remoteCommit(branch).Hash != tipBefore {
				t.Errorf("the remote branch moved")
			}
			if n := h.fx.Emulator.Counts()["POST /repos/{owner}/{repo}/pulls"]; n != 0 {
				t.Errorf("a pull request was opened after the failed push")
			}
			h.checkLocalUnchanged(before)
		})
	}
}

// gittestCommitOnBranch adds a commit that promobot did not make on top of
// the branch's tip (or main) directly in the remote.
func gittestCommitOnBranch(h *harness, branch, message string) string {
	h.t.Helper()
	parent := h.remoteCommit("main").Hash.String()
	return gittest.MustCommit(h.t, h.bare, gittest.Commit{Branch: branch, Parents: []string{parent}, Message: message,
		Files:  map[string]string{"environments/prod/elasticnet-ndx.yaml": "# hand-edited\n" + h.remoteFile("main", prodNDX)},
		Author: gittest.Signature{Name: "Mallory", Email: "mallory@example.com", When: testNow}})
}

// denyNonFastForwards makes the remote refuse forced updates, as branch
// protection does.
func denyNonFastForwards(h *harness) {
	h.t.Helper()
	r, err := git.PlainOpen(h.bare)
	if err != nil {
		h.t.Fatal(err)
	}
	cfg, err := r.Config()
	if err != nil {
		h.t.Fatal(err)
	}
	cfg.Raw.Section("receive").SetOption("denyNonFastForwards", "true")
	if err := r.SetConfig(cfg); err != nil {
		h.t.Fatal(err)
	}
}

func TestRevokedTokenIsATerminalTransportError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	x := h.executor()
	h.fx.Emulator.RevokeToken(h.token)
	_, err := x.Promote(t.Context(), PromoteRequest{Models: []string{"elasticnet-ndx"}, To: "prod"}, Options{})
	var te *TransportError
	if !errors.As(err, &te) || !failure.IsTerminal(err) || !strings.Contains(err.Error(), "set GITHUB_TOKEN") {
		t.Fatalf("err = %v, want a terminal transport error that names GITHUB_TOKEN", err)
	}
}
