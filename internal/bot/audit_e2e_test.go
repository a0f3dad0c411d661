package bot

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// botIssues returns the issues, not pull requests, the App opened.
func (h *harness) botIssues() []githubtest.Issue {
	h.t.Helper()
	var out []githubtest.Issue
	for _, is := range h.em.Issues(testOwner, testRepo) {
		if !is.IsPullRequest && is.User == botLogin {
			out = append(out, is)
		}
	}
	return out
}

// auditStatuses returns the audit's commit statuses on sha.
func (h *harness) auditStatuses(sha string) []githubtest.Status {
	h.t.Helper()
	var out []githubtest.Status
	for _, s := range h.em.Statuses(testOwner, testRepo, sha) {
		if s.Context == audit.StatusContext {
			out = append(out, s)
		}
	}
	return out
}

// directPush commits files straight to main as pat and delivers the push.
func (h *harness) directPush(files map[string]string, message string) string {
	h.t.Helper()
	before := h.tip("main")
	sha := h.commit("main", files, message, "pat", mustTime(h.t, evaltest.DefaultNow))
	h.push(before, sha, "pat")
	return sha
}

// approvedMerge opens alex's prod promotion of the bundle, or with files
// set, of those files on branch, has it approved by both prod owner teams
// until the check passes, and merges it as mara.
func (h *harness) approvedMerge(branch string, files map[string]string) (int, string) {
	h.t.Helper()
	var n int
	var head string
	if files == nil {
		n, head = h.promotion(nil)
	} else {
		n, head = h.openPR(branch, "Promote to prod", "alex", files)
	}
	h.pullRequestEvent(n, "opened")
	h.review(n, "mara", "APPROVED")
	h.review(n, "rita", "APPROVED")
	h.want("approved", head, "success", nil, nil)
	return n, h.merge(n, "mara")
}

func TestBypassDirectPushOpensOneIssue(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{bypassIssues: true})
	lasso := evaltest.ManifestPath("prod", evaltest.Unbundled)
	sha := h.directPush(map[string]string{lasso: evaltest.Manifest("prod", evaltest.Unbundled, evaltest.V2)}, "Hotfix lasso in prod")

	// First look: GitHub lists no pull request, which could still be
	// GitHub being late. Nothing is reported yet.
	h.audit()
	if issues := h.botIssues(); len(issues) != 0 {
		t.Fatalf("reported at the first look: %+v", issues)
	}
	if h.timers.waiting() != 1 {
		t.Fatalf("%d audits armed after the first look, want 1", h.timers.waiting())
	}
	// Second look, a minute later: confirmed.
	h.audit()
	issues := h.botIssues()
	if len(issues) != 1 {
		t.Fatalf("%d issues, want 1: %+v", len(issues), issues)
	}
	issue := issues[0]
	if issue.Title != "Unreviewed promotion of lasso-spx to prod" || issue.State != "open" {
		t.Errorf("issue %q (%s)", issue.Title, issue.State)
	}
	wantContains(t, "the issue", issue.Body, sha, "pushed to main directly", "`"+lasso+"`")
	statuses := h.auditStatuses(sha)
	if len(statuses) != 1 || statuses[0].State != "failure" || !strings.Contains(statuses[0].TargetURL, fmt.Sprintf("/issues/%d", issue.Number)) {
		t.Errorf("statuses on %s: %+v", sha, statuses)
	}
	if h.timers.waiting() != 0 {
		t.Errorf("%d audits still armed", h.timers.waiting())
	}

	// A second unreviewed change of the same model adds its evidence to the
	// same issue; an unrelated push changes nothing.
	sha2 := h.directPush(map[string]string{lasso: evaltest.Manifest("prod", evaltest.Unbundled, evaltest.V1)}, "Undo the hotfix")
	h.audit()
	h.audit()
	h.directPush(map[string]string{"README.md": "# Models\n\nNotes.\n"}, "Notes")
	h.audit()
	issues = h.botIssues()
	if len(issues) != 1 {
		t.Fatalf("%d issues after a second change, want 1", len(issues))
	}
	wantContains(t, "the updated issue", issues[0].Body, sha, sha2)
	if n := strings.Count(issues[0].Body, marker("finding", sha+":"+lasso)); n != 1 {
		t.Errorf("the first finding is in the issue %d times", n)
	}
	if got := len(h.auditStatuses(sha2)); got != 1 {
		t.Errorf("%d statuses on the second change, want 1", got)
	}
	if got := len(h.auditStatuses(sha)); got != 1 {
		t.Errorf("%d statuses on the first change after more pushes, want 1", got)
	}
	if !testutilCounter(t, h, "promobot_bypass_findings_total 2") {
		t.Error("the findings are not counted")
	}
}

func TestBypassNormalMergeIsNeverFlagged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{bypassIssues: true})
	h.em.ResetCounts()
	_, merge := h.approvedMerge("", nil)
	// GitHub has not linked the merge commit to its pull request yet.
	h.em.HidePullsOfCommit(testOwner, testRepo, merge)
	h.audit()
	if h.timers.waiting() != 1 {
		t.Fatalf("%d audits armed, want a second look", h.timers.waiting())
	}
	h.em.RevealPullsOfCommit(testOwner, testRepo, merge)
	h.audit()
	if issues := h.botIssues(); len(issues) != 0 {
		t.Errorf("a reviewed merge was reported: %+v", issues)
	}
	if statuses := h.auditStatuses(merge); len(statuses) != 0 {
		t.Errorf("a reviewed merge got statuses: %+v", statuses)
	}
	for _, line := range []string{`promobot_audit_checks_total{outcome="pending"} 1`, `promobot_audit_checks_total{outcome="clean"} 1`} {
		if !testutilCounter(t, h, line) {
			t.Errorf("metrics lack %s", line)
		}
	}
	if unexpected := h.em.UnexpectedRequests(); len(unexpected) > 0 {
		t.Errorf("requests the emulator does not know: %v", unexpected)
	}
}

func TestBypassAdminMergeIsReportedAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{bypassIssues: true})
	n, head := h.promotion(nil)
	h.pullRequestEvent(n, "opened")
	h.want("unapproved", head, "failure", nil, nil)
	merge := h.merge(n, "pat") // an administrator merges past the red check
	h.audit()
	issues := h.botIssues()
	if len(issues) != 2 {
		t.Fatalf("%d issues, want one per model of the bundle: %+v", len(issues), issues)
	}
	for _, is := range issues {
		wantContains(t, is.Title, is.Body, fmt.Sprintf("#%d", n), `concluded "failure" when pat merged it`)
	}
	if got := h.auditStatuses(merge); len(got) != 2 || got[0].State != "failure" {
		t.Errorf("statuses on the merge: %+v", got)
	}
}

func TestAuditSinkExportsEachRecordOnce(t *testing.T) {
	t.Parallel()
	sink := filepath.Join(t.TempDir(), "audit.jsonl")
	h := newHarness(t, harnessOptions{auditSink: sink})
	n, merge := h.approvedMerge("", nil)

	// The sample history was pushed directly: its commits are exported
	// (as bypasses) only after their second look.
	h.audit()
	if lines := readLog(t, sink); len(lines) != 0 {
		t.Fatalf("%d records exported at the first look, want none", len(lines))
	}
	h.audit()
	lines := readLog(t, sink)
	if len(lines) < 3 {
		t.Fatalf("%d records exported", len(lines))
	}
	for _, rec := range lines[len(lines)-2:] {
		if rec.Commit != merge || !rec.Verified || rec.Bypass || rec.PullRequest == nil || rec.PullRequest.Number != n {
			t.Errorf("the merge's record: %+v", rec)
		}
	}
	for _, rec := range lines[:len(lines)-2] {
		if !rec.Verified || !rec.Bypass {
			t.Errorf("a directly pushed record: %+v", rec)
		}
	}
	before, err := os.ReadFile(sink)
	if err != nil {
		t.Fatal(err)
	}

	// The same push again appends nothing; a second merge appends its own
	// records, at once, since GitHub links them to their pull request.
	h.push(merge, merge, "mara")
	h.audit()
	if after := mustRead(t, sink); string(after) != string(before) {
		t.Errorf("a repeated export changed the log")
	}
	_, merge2 := h.approvedMerge("promote-lasso", evaltest.Promote("prod", evaltest.V2, evaltest.Unbundled))
	h.audit()
	again := readLog(t, sink)
	if len(again) != len(lines)+1 {
		t.Fatalf("%d records after the second merge, want %d", len(again), len(lines)+1)
	}
	for _, rec := range again[len(lines):] {
		if rec.Commit != merge2 || rec.Bypass {
			t.Errorf("the second merge's record: %+v", rec)
		}
	}
	if !testutilCounter(t, h, `promobot_audit_exports_total{outcome="unchanged"} 1`) {
		t.Error("the unchanged export is not counted")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// readLog returns the records of an exported log, none when it does not
// exist.
func readLog(t *testing.T, path string) []audit.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	res := chain.Verify(data)
	if res.Broken != nil {
		t.Fatalf("the log does not verify: %v", res.Broken)
	}
	var out []audit.Record
	for _, e := range res.Entries {
		var rec audit.Record
		if err := json.Unmarshal(e.Record, &rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	return out
}

// TestBypassUnknownIsNeverClean makes GitHub fail the first look: the push
// is neither passed nor reported, and is looked at again.
func TestBypassUnknownIsNeverClean(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{bypassIssues: true})
	h.em.FailNext("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", 502, nil, 1)
	sha := h.directPush(map[string]string{"environments/dev/lasso-spx.yaml": evaltest.Manifest("dev", evaltest.Unbundled, evaltest.V4)}, "Register lasso by hand")
	h.audit() // GitHub fails
	if !testutilCounter(t, h, `promobot_audit_checks_total{outcome="error"} 1`) {
		t.Error("the failed check is not counted")
	}
	h.audit() // no pull request: first sighting
	h.audit() // confirmed
	issues := h.botIssues()
	if len(issues) != 1 || issues[0].Title != "Unreviewed promotion of lasso-spx to dev" {
		t.Fatalf("issues %+v", issues)
	}
	if got := h.auditStatuses(sha); len(got) != 1 {
		t.Errorf("statuses %+v", got)
	}
}
