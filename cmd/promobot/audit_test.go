package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/githubapi/retry"
	"github.com/example-org/promobot/internal/testing/audittest"
	"github.com/example-org/promobot/internal/testing/azuritetest"
)

// auditGolden compares got with testdata/audit/name, or rewrites it.
func auditGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "audit", name)
	if updateGoldens() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/promobot -run TestAudit -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// auditFixture is the shared history with the flags that reach its GitHub.
type auditFixture struct {
	h      *audittest.History
	github []string
	// githubRetry, when set, replaces the GitHub client's retry settings.
	githubRetry *retry.Options
}

func newAuditFixture(t *testing.T) *auditFixture {
	t.Helper()
	h := audittest.BuildHistory(t)
	return &auditFixture{h: h, github: []string{"--github-repo", audittest.Owner + "/" + audittest.Name, "--github-url", h.Fixture.URL(), "--github-token", h.Token(t)}}
}

// withSource puts the fixture's repository and cache flags after the
// command path (audit, audit export), where they are defined; audit verify
// reads only a log and takes neither.
func (f *auditFixture) withSource(cache string, args []string) []string {
	i := slices.IndexFunc(args, func(a string) bool { return strings.HasPrefix(a, "-") })
	if i < 0 {
		i = len(args)
	}
	if args[i-1] == "verify" {
		return args
	}
	full := append([]string{}, args[:i]...)
	full = append(full, "--repo", f.h.Path, "--cache-dir", cache)
	return append(full, args[i:]...)
}

// run runs promobot with the fixture's repository and a private cache, and
// replaces the emulator's random address in the output. The fixture's
// githubRetry, when set, tunes the GitHub client's retries.
func (f *auditFixture) run(t *testing.T, cache string, args ...string) cliResult {
	t.Helper()
	res := f.runWithEnv(t, nil, cache, args...)
	res.stdout = strings.ReplaceAll(res.stdout, f.h.Fixture.Server.URL, "https://github.example")
	return res
}

// TestAuditFormats checks every format, with and without GitHub, against
// golden files.
func TestAuditFormats(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	cache := t.TempDir()
	cases := []struct {
		name   string
		args   []string
		github bool
	}{
		{name: "offline.table", args: []string{"audit"}},
		{name: "offline.json", args: []string{"audit", "--format", "json"}},
		{name: "offline.csv", args: []string{"audit", "--format", "csv"}},
		{name: "offline.md", args: []string{"audit", "--format", "markdown"}},
		{name: "offline.html", args: []string{"audit", "--format", "html"}},
		{name: "github.table", args: []string{"audit"}, github: true},
		{name: "github.json", args: []string{"audit", "--format", "json"}, github: true},
		{name: "github.csv", args: []string{"audit", "--format", "csv"}, github: true},
		{name: "github.md", args: []string{"audit", "--format", "markdown"}, github: true},
		{name: "github.html", args: []string{"audit", "--format", "html"}, github: true},
		{name: "filtered.table", args: []string{"audit", "--env", "dev,test", "--model", "forecaster", "--since", "2026-05-04", "--until", "2026-06-10T12:00:00Z"}, github: true},
		{name: "at-day.table", args: []string{"audit", "--env", "prod", "--at", "2026-06-01"}, github: true},
		{name: "at-day.json", args: []string{"audit", "--env", "prod", "--at", "2026-06-05"}, github: true},
		{name: "at-day.md", args: []string{"audit", "--env", "prod", "--at", "2026-06-05"}, github: true},
		{name: "at-day.csv", args: []string{"audit", "--env", "prod", "--at", "2026-06-05"}, github: true},
		{name: "at-day.html", args: []string{"audit", "--at", "2026-06-05"}, github: true},
		{name: "at-instant.table", args: []string{"audit", "--at", "2026-05-10T00:00:00Z"}, github: true},
		{name: "at-before.table", args: []string{"audit", "--at", "2026-04-01"}},
		{name: "newest-first.md", args: []string{"audit", "--newest-first"}, github: true},
		{name: "judged-from-date.table", args: []string{"audit", "--judge-from", "2026-06-02"}, github: true},
		{name: "judged-from-date.html", args: []string{"audit", "--judge-from", "2026-06-02"}, github: true},
		{name: "judged-from-date.json", args: []string{"audit", "--judge-from", "2026-06-02"}, github: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.github {
				args = append(append([]string{}, args...), f.github...)
			}
			if ext := filepath.Ext(tc.name); ext != ".table" && !slices.Contains(args, "--format") {
				args = append(args, "--format", map[string]string{".json": "json", ".csv": "csv", ".md": "markdown", ".html": "html"}[ext])
			}
			res := f.run(t, cache, args...)
			if res.code != exitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if res.stderr != "" {
				t.Errorf("stderr = %q, want nothing", res.stderr)
			}
			if filepath.Ext(tc.name) == ".json" {
				assertSchema(t, "audit-output.schema.json", res.stdout)
			}
			auditGolden(t, tc.name, res.stdout)
		})
	}
	// "table" is the deprecated name of the text format: same output, one
	// line of notice on stderr.
	res := f.run(t, cache, "audit", "--format", "table")
	want, _ := os.ReadFile(filepath.Join("testdata", "audit", "offline.table"))
	if res.code != exitOK || res.stdout != string(want) || res.stderr != "promobot: --format table is deprecated and will be removed; use --format text\n" {
		t.Errorf("--format table: exit %d, stderr %q, stdout:\n%s", res.code, res.stderr, res.stdout)
	}
}

// TestAuditGitHubAnswersAreCached proves a second run asks GitHub nothing.
func TestAuditGitHubAnswersAreCached(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	cache := t.TempDir()
	args := append([]string{"audit", "--format", "json"}, f.github...)
	first := f.run(t, cache, args...)
	if first.code != exitOK {
		t.Fatalf("exit %d: %s", first.code, first.stderr)
	}
	em := f.h.Fixture.Emulator
	if em.Counts()["GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls"] == 0 {
		t.Fatal("the first run asked GitHub nothing")
	}
	em.ResetCounts()
	second := f.run(t, cache, args...)
	if diff := cmp.Diff(first.stdout, second.stdout); diff != "" {
		t.Errorf("the cached run differs (-first +second):\n%s", diff)
	}
	if got := em.Counts(); len(got) != 0 {
		t.Errorf("the second run made GitHub requests: %v", got)
	}
	if u := em.UnexpectedRequests(); len(u) != 0 {
		t.Errorf("unexpected requests: %v", u)
	}
}

func TestAuditFailOnBypass(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	cache := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{name: "reviewed environment", args: []string{"audit", "--env", "test", "--fail-on-bypass"}, code: exitOK},
		{name: "bypass in prod", args: []string{"audit", "--env", "prod", "--fail-on-bypass"}, code: exitFailed},
		{name: "bypass without the flag", args: []string{"audit", "--env", "prod"}, code: exitOK},
		{name: "bypass pinned at a date", args: []string{"audit", "--env", "prod", "--at", "2026-06-04", "--fail-on-bypass"}, code: exitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.run(t, cache, append(tc.args, f.github...)...)
			if res.code != tc.code {
				t.Errorf("exit %d, want %d: %s", res.code, tc.code, res.stderr)
			}
		})
	}
}

func TestAuditUsageErrors(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{name: "format", args: []string{"audit", "--format", "xml"}, want: `unknown format "xml"`},
		{name: "date", args: []string{"audit", "--since", "yesterday"}, want: "--since"},
		{name: "at with since", args: []string{"audit", "--at", "2026-06-01", "--since", "2026-05-01"}, want: "cannot be combined"},
		{name: "github repository", args: []string{"audit", "--github", "acme"}, want: "OWNER/REPO"},
		{name: "export without sink", args: []string{"audit", "export"}, want: "--to"},
		{name: "unknown sink", args: []string{"audit", "export", "--to", "s3://bucket/log"}, want: "unknown sink"},
		{name: "judge from a word", args: []string{"audit", "--judge-from", "yesterday"}, want: `judge from "yesterday"`},
		{name: "judge from an unknown commit", args: []string{"audit", "--judge-from", "deadbeef01"}, want: "no such commit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.run(t, t.TempDir(), tc.args...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", res.code, res.stderr, tc.want)
			}
		})
	}
}

// TestAuditJudgeFromCommit judges from the commit of the direct rollback:
// the changes before it are before judging and never bypasses, the rollback
// and what follows are judged.
func TestAuditJudgeFromCommit(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	commit := f.h.Commits["direct-rollback"]
	args := append([]string{"audit", "--format", "json", "--judge-from", commit[:12]}, f.github...)
	res := f.run(t, t.TempDir(), args...)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	assertSchema(t, "audit-output.schema.json", res.stdout)
	var out struct {
		JudgeFrom struct{ Commit string } `json:"judgeFrom"`
		Records   []struct {
			Commit        string `json:"commit"`
			Bypass        bool   `json:"bypass"`
			BeforeJudging bool   `json:"beforeJudging"`
		} `json:"records"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.JudgeFrom.Commit != commit {
		t.Errorf("judgeFrom.commit = %q, want %q", out.JudgeFrom.Commit, commit)
	}
	judged := false
	for _, r := range out.Records {
		judged = judged || r.Commit == commit
		if r.BeforeJudging == judged || r.BeforeJudging && r.Bypass {
			t.Errorf("record of %s: beforeJudging %v, bypass %v (judged from %s)", r.Commit, r.BeforeJudging, r.Bypass, commit)
		}
		if r.Commit == commit && !r.Bypass {
			t.Errorf("the direct rollback %s is judged and still a bypass", commit)
		}
	}
}

// runWithEnv runs promobot with environment variables.
func (f *auditFixture) runWithEnv(t *testing.T, vars map[string]string, cache string, args ...string) cliResult {
	t.Helper()
	full := f.withSource(cache, args)
	var stdout, stderr strings.Builder
	e := &env{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv:      func(k string) string { return vars[k] },
		getwd:       func() (string, error) { return t.TempDir(), nil },
		githubRetry: f.githubRetry,
	}
	code := run(t.Context(), full, e)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// TestAuditExportVerify exports the history to a file, re-exports (nothing
// new), verifies, then flips a byte inside the third record and checks that
// verify reports that record.
func TestAuditExportVerify(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	cache := t.TempDir()
	log := filepath.Join(t.TempDir(), "audit.jsonl")
	export := append([]string{"audit", "export", "--to", "file:" + log}, f.github...)
	first := f.run(t, cache, export...)
	if first.code != exitOK || !strings.Contains(first.stdout, "appended 11 records after 0") {
		t.Fatalf("first export: exit %d\n%s%s", first.code, first.stdout, first.stderr)
	}
	head := strings.TrimSpace(first.stdout[strings.LastIndex(first.stdout, "head ")+5:])
	second := f.run(t, cache, export...)
	if second.code != exitOK || !strings.Contains(second.stdout, "appended 0 records after 11; head "+head) {
		t.Fatalf("second export: exit %d\n%s%s", second.code, second.stdout, second.stderr)
	}
	verify := f.run(t, cache, "audit", "verify", "--from", log, "--anchor", head)
	if verify.code != exitOK || !strings.Contains(verify.stdout, "intact, 11 records, head "+head) || !strings.Contains(verify.stdout, "found") {
		t.Fatalf("verify: exit %d\n%s%s", verify.code, verify.stdout, verify.stderr)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	third := strings.Index(string(data), lines[2]) + strings.Index(lines[2], `"toVersion":"1.1.0"`) + len(`"toVersion":"1.`)
	data[third] ^= 0x01 // 1.1.0 becomes 1.0.0
	if err := os.WriteFile(log, data, 0o644); err != nil {
		t.Fatal(err)
	}
	broken := f.run(t, cache, "audit", "verify", "--from", "file:"+log, "--format", "json")
	if broken.code != exitFailed {
		t.Fatalf("verify of a changed log: exit %d\n%s", broken.code, broken.stdout)
	}
	assertSchema(t, "audit-verify-output.schema.json", broken.stdout)
	if strings.Contains(broken.stdout, "anchorFound") {
		t.Errorf("anchorFound reported without --anchor:\n%s", broken.stdout)
	}
	var got struct {
		Records int `json:"records"`
		Broken  struct {
			Index, Line int
			Reason      string
		} `json:"broken"`
	}
	if err := json.Unmarshal([]byte(broken.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.Records != 2 || got.Broken.Index != 2 || got.Broken.Line != 3 || !strings.Contains(got.Broken.Reason, "the record was changed") {
		t.Errorf("verify reported %+v, want record 2 (line 3) changed after 2 good records", got)
	}
	refused := f.run(t, cache, export...)
	if refused.code != exitFailed || !strings.Contains(refused.stderr, "does not verify") {
		t.Fatalf("export onto a changed log: exit %d\n%s", refused.code, refused.stderr)
	}
}

func TestAuditVerifyAnchorMissing(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	log := filepath.Join(t.TempDir(), "audit.jsonl")
	if res := f.run(t, t.TempDir(), "audit", "export", "--to", log); res.code != exitOK {
		t.Fatalf("export: %d %s", res.code, res.stderr)
	}
	res := f.run(t, t.TempDir(), "audit", "verify", "--from", log, "--anchor", strings.Repeat("ab", 32))
	if res.code != exitFailed || !strings.Contains(res.stdout, "NOT found") {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
}

// TestAuditExportAzurite exports to an append blob in Azurite twice and
// verifies it.
func TestAuditExportAzurite(t *testing.T) {
	a := azuritetest.Shared(t)
	cred, err := blob.NewSharedKeyCredential(a.Account, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(a.Endpoint+"/audit", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	f := newAuditFixture(t)
	vars := map[string]string{"AZURE_STORAGE_CONNECTION_STRING": a.ConnectionString}
	url := a.BlobURL("audit", "acme/models.jsonl")
	for i, want := range []string{"appended 11 records after 0", "appended 0 records after 11"} {
		res := f.runWithEnv(t, vars, t.TempDir(), "audit", "export", "--to", url)
		if res.code != exitOK || !strings.Contains(res.stdout, want) || !strings.Contains(res.stdout, "container immutability:") {
			t.Fatalf("export %d: exit %d\n%s%s", i, res.code, res.stdout, res.stderr)
		}
	}
	res := f.runWithEnv(t, vars, t.TempDir(), "audit", "verify", "--from", url)
	if res.code != exitOK || !strings.Contains(res.stdout, "intact, 11 records") {
		t.Fatalf("verify: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// A blob or a container that does not exist is not an intact, empty
	// log: an auditor must not get a false green.
	for _, missing := range []string{a.BlobURL("audit", "acme/other.jsonl"), a.BlobURL("nosuch", "acme/models.jsonl")} {
		res := f.runWithEnv(t, vars, t.TempDir(), "audit", "verify", "--from", missing)
		if res.code != exitNotFound || res.stdout != "" || !strings.Contains(res.stderr, "does not exist") {
			t.Errorf("verify %s: exit %d, stdout %q, stderr %q; want exit 3 saying it does not exist", missing, res.code, res.stdout, res.stderr)
		}
	}
}
