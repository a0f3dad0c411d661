package branchaudit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/bottest"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/featurekittest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// withAudit is a bot with the audit on, as promobot serve --bypass-issues
// and --audit-sink file:SINK build it; its delays run on the harness's
// timers.
func withAudit(bypassIssues bool, sink string) bottest.Options {
	return bottest.Options{Features: func(env bottest.Env) []bot.Feature {
		opts := Options{
			Client:       func(id int64) (API, error) { return env.Apps.Installation(id) },
			BotLogin:     env.Apps.BotLogin,
			Workspaces:   workspace.NewSet(env.WorkDir),
			BypassIssues: bypassIssues,
			Delay:        time.Minute,
			AfterFunc:    env.Timers.AfterFunc,
			Clock:        env.Timers.Now,
		}
		if sink != "" {
			opts.Sink = func(string, string) (chain.Sink, error) { return chain.FileSink{Path: sink}, nil }
		}
		f, err := New(opts)
		if err != nil {
			panic(err)
		}
		return []bot.Feature{f}
	}}
}

// fireAudit fires the armed audit timers, a minute on, and waits for the jobs.
// It fails when none was armed.
func fireAudit(h *bottest.Harness) {
	h.T.Helper()
	if h.Timers.Fire(time.Minute) == 0 {
		h.T.Fatal("no audit was scheduled")
	}
	h.Idle()
}

// The adapter satisfies the feature's interface.
var _ API = (*githubapi.Client)(nil)

// auditStatuses returns the audit's commit statuses on sha.
func auditStatuses(h *bottest.Harness, sha string) []githubtest.Status {
	h.T.Helper()
	var out []githubtest.Status
	for _, s := range h.Em.Statuses(bottest.Owner, bottest.Repo, sha) {
		if s.Context == audit.StatusContext {
			out = append(out, s)
		}
	}
	return out
}

func TestBypassDirectPushOpensOneIssue(t *testing.T) {
	t.Parallel()
	h := bottest.New(t, withAudit(true, ""))
	lasso := evaltest.ManifestPath("prod", evaltest.Unbundled)
	sha := h.DirectPush(map[string]string{lasso: evaltest.Manifest("prod", evaltest.Unbundled, evaltest.V2)}, "Hotfix lasso in prod")

	// First look: GitHub lists no pull request, which could still be
	// GitHub being late. Nothing is reported yet.
	fireAudit(h)
	if issues := h.BotIssues(); len(issues) != 0 {
		t.Fatalf("reported at the first look: %+v", issues)
	}
	if h.Timers.Waiting() != 1 {
		t.Fatalf("%d audits armed after the first look, want 1", h.Timers.Waiting())
	}
	// Second look, a minute later: confirmed.
	fireAudit(h)
	issues := h.BotIssues()
	if len(issues) != 1 {
		t.Fatalf("%d issues, want 1: %+v", len(issues), issues)
	}
	issue := issues[0]
	if issue.Title != "Unreviewed promotion of lasso-spx to prod" || issue.State != "open" {
		t.Errorf("issue %q (%s)", issue.Title, issue.State)
	}
	featurekittest.WantContains(t, "the issue", issue.Body, sha, "pushed to main directly", "`"+lasso+"`")
	statuses := auditStatuses(h, sha)
	if len(statuses) != 1 || statuses[0].State != "failure" || !strings.Contains(statuses[0].TargetURL, fmt.Sprintf("/issues/%d", issue.Number)) {
		t.Errorf("statuses on %s: %+v", sha, statuses)
	}
	if h.Timers.Waiting() != 0 {
		t.Errorf("%d audits still armed", h.Timers.Waiting())
	}

	// A second unreviewed change of the same model adds its evidence to the
	// same issue; an unrelated push changes nothing.
	sha2 := h.DirectPush(map[string]string{lasso: evaltest.Manifest("prod", evaltest.Unbundled, evaltest.V1)}, "Undo the hotfix")
	fireAudit(h)
	fireAudit(h)
	h.DirectPush(map[string]string{"README.md": "# Models\n\nNotes.\n"}, "Notes")
	fireAudit(h)
	issues = h.BotIssues()
	if len(issues) != 1 {
		t.Fatalf("%d issues after a second change, want 1", len(issues))
	}
	featurekittest.WantContains(t, "the updated issue", issues[0].Body, sha, sha2)
	if n := strings.Count(issues[0].Body, featurekit.Marker("finding", sha+":"+lasso)); n != 1 {
		t.Errorf("the first finding is in the issue %d times", n)
	}
	if got := len(auditStatuses(h, sha2)); got != 1 {
		t.Errorf("%d statuses on the second change, want 1", got)
	}
	if got := len(auditStatuses(h, sha)); got != 1 {
		t.Errorf("%d statuses on the first change after more pushes, want 1", got)
	}
	if !h.Counter("promobot_bypass_findings_total 2") {
		t.Error("the findings are not counted")
	}
}

func TestBypassNormalMergeIsNeverFlagged(t *testing.T) {
	t.Parallel()
	h := bottest.New(t, withAudit(true, ""))
	h.Em.ResetCounts()
	_, merge := h.ApprovedMerge("", nil)
	// GitHub has not linked the merge commit to its pull request yet.
	h.Em.HidePullsOfCommit(bottest.Owner, bottest.Repo, merge)
	fireAudit(h)
	if h.Timers.Waiting() != 1 {
		t.Fatalf("%d audits armed, want a second look", h.Timers.Waiting())
	}
	h.Em.RevealPullsOfCommit(bottest.Owner, bottest.Repo, merge)
	fireAudit(h)
	if issues := h.BotIssues(); len(issues) != 0 {
		t.Errorf("a reviewed merge was reported: %+v", issues)
	}
	if statuses := auditStatuses(h, merge); len(statuses) != 0 {
		t.Errorf("a reviewed merge got statuses: %+v", statuses)
	}
	for _, line := range []string{`promobot_audit_checks_total{outcome="pending"} 1`, `promobot_audit_checks_total{outcome="clean"} 1`} {
		if !h.Counter(line) {
			t.Errorf("metrics lack %s", line)
		}
	}
	if unexpected := h.Em.UnexpectedRequests(); len(unexpected) > 0 {
		t.Errorf("requests the emulator does not know: %v", unexpected)
	}
}

func TestBypassAdminMergeIsReportedAtOnce(t *testing.T) {
	t.Parallel()
	h := bottest.New(t, withAudit(true, ""))
	n, head := h.Promotion(nil)
	h.PullRequestEvent(n, "opened")
	h.Want("unapproved", head, "failure", nil, nil)
	merge := h.Merge(n, "pat") // an administrator merges past the red check
	fireAudit(h)
	issues := h.BotIssues()
	if len(issues) != 2 {
		t.Fatalf("%d issues, want one per model of the bundle: %+v", len(issues), issues)
	}
	for _, is := range issues {
		featurekittest.WantContains(t, is.Title, is.Body, fmt.Sprintf("#%d", n), `concluded "failure" when pat merged it`)
	}
	if got := auditStatuses(h, merge); len(got) != 2 || got[0].State != "failure" {
		t.Errorf("statuses on the merge: %+v", got)
	}
}

func TestAuditSinkExportsEachRecordOnce(t *testing.T) {
	t.Parallel()
	sink := filepath.Join(t.TempDir(), "audit.jsonl")
	h := bottest.New(t, withAudit(false, sink))
	n, merge := h.ApprovedMerge("", nil)

	// The sample history was pushed directly: its commits are exported
	// (as bypasses) only after their second look.
	fireAudit(h)
	if lines := readLog(t, sink); len(lines) != 0 {
		t.Fatalf("%d records exported at the first look, want none", len(lines))
	}
	fireAudit(h)
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
	h.Push(merge, merge, "mara")
	fireAudit(h)
	if after := mustRead(t, sink); string(after) != string(before) {
		t.Errorf("a repeated export changed the log")
	}
	_, merge2 := h.ApprovedMerge("promote-lasso", evaltest.Promote("prod", evaltest.V2, evaltest.Unbundled))
	fireAudit(h)
	again := readLog(t, sink)
	if len(again) != len(lines)+1 {
		t.Fatalf("%d records after the second merge, want %d", len(again), len(lines)+1)
	}
	for _, rec := range again[len(lines):] {
		if rec.Commit != merge2 || rec.Bypass {
			t.Errorf("the second merge's record: %+v", rec)
		}
	}
	if !h.Counter(`promobot_audit_exports_total{outcome="unchanged"} 1`) {
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
	h := bottest.New(t, withAudit(true, ""))
	h.Em.FailNext("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", 502, nil, 1)
	sha := h.DirectPush(map[string]string{"environments/dev/lasso-spx.yaml": evaltest.Manifest("dev", evaltest.Unbundled, evaltest.V4)}, "Register lasso by hand")
	fireAudit(h) // GitHub fails
	if !h.Counter(`promobot_audit_checks_total{outcome="error"} 1`) {
		t.Error("the failed check is not counted")
	}
	fireAudit(h) // no pull request: first sighting
	fireAudit(h) // confirmed
	issues := h.BotIssues()
	if len(issues) != 1 || issues[0].Title != "Unreviewed promotion of lasso-spx to dev" {
		t.Fatalf("issues %+v", issues)
	}
	if got := auditStatuses(h, sha); len(got) != 1 {
		t.Errorf("statuses %+v", got)
	}
}
