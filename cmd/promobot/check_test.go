package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// The -update flag regenerates golden files. Another test file of this
// package may define it too; whichever package variable exists first wins
// and this file reads it by name.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// scenarioRepo is a scenario replayed into a bare git repository: main is
// the base commit after the base branch's history, pr the pull request.
type scenarioRepo struct {
	path string
	base string
	head string
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func signature(id evaluate.Identity, when time.Time) gittest.Signature {
	return gittest.Signature{Name: id.Name, Email: id.Email, When: when}
}

// buildScenarioRepo writes the base branch (History, then the complete Base
// tree) and the pull request's commits, the last carrying Head and Deleted.
func buildScenarioRepo(t *testing.T, s evaltest.Scenario) scenarioRepo {
	t.Helper()
	path := gittest.MustInitBare(t, t.TempDir(), "repo.git", "main")
	historian := evaltest.Identity(evaltest.Historian)
	tree := map[string]string{}
	for _, h := range s.History {
		gittest.MustCommit(t, path, gittest.Commit{
			Branch: "main", Files: h.Files, Delete: h.Deleted, Message: "history\n",
			Author: signature(evaltest.HistoryIdentity(h), mustTime(t, h.Date)),
		})
		for _, p := range h.Deleted {
			delete(tree, p)
		}
		maps.Copy(tree, h.Files)
	}
	var gone []string
	for p := range tree {
		if _, ok := s.Base[p]; !ok {
			gone = append(gone, p)
		}
	}
	baseDate := mustTime(t, cmpOr(s.BaseDate, evaltest.DefaultBaseDate))
	base := gittest.MustCommit(t, path, gittest.Commit{
		Branch: "main", Files: s.Base, Delete: gone, Message: "base\n", Author: signature(historian, baseDate),
	})

	commits := s.Commits
	if len(commits) == 0 {
		// The change still needs a commit; GitHub's own identity is
		// neither a login nor a warning.
		commits = []evaltest.Commit{{Author: "GitHub <noreply@github.com>"}}
	}
	parent := base
	for i, c := range commits {
		when := baseDate.Add(time.Duration(i+1) * time.Minute)
		author := evaltest.Identity(c.Author)
		committer := author
		if c.Committer != "" {
			committer = evaltest.Identity(c.Committer)
		}
		var msg strings.Builder
		fmt.Fprintf(&msg, "commit %d of %s\n", i+1, s.Name)
		if len(c.CoAuthors) > 0 {
			msg.WriteString("\n")
		}
		for _, co := range c.CoAuthors {
			id := evaltest.Identity(co)
			fmt.Fprintf(&msg, "Co-authored-by: %s <%s>\n", id.Name, id.Email)
		}
		commit := gittest.Commit{
			Branch: "pr", Parents: []string{parent}, Message: msg.String(),
			Author: signature(author, when), Committer: signature(committer, when),
		}
		if i == len(commits)-1 {
			commit.Files, commit.Delete = s.Head, s.Deleted
		}
		parent = gittest.MustCommit(t, path, commit)
	}
	return scenarioRepo{path: path, base: base, head: parent}
}

// checkArgs turns what git cannot hold of a scenario into check flags.
func checkArgs(s evaltest.Scenario, repo scenarioRepo, format string) []string {
	args := []string{"check", "--repo", repo.path, "--base", "main", "--head", "pr", "--format", format,
		"--now", cmpOr(s.Now, evaltest.DefaultNow)}
	if s.Author != "" {
		args = append(args, "--author", s.Author)
	}
	for _, r := range s.Reviews {
		v := r.Login + "=" + strings.ToLower(string(r.State))
		if r.On == "stale" {
			v += "@" + evaltest.StaleSHA
		}
		args = append(args, "--review", v)
	}
	for _, team := range slices.Sorted(maps.Keys(s.Teams)) {
		args = append(args, "--team", team+"="+strings.Join(s.Teams[team], ","))
	}
	for _, l := range s.NoWrite {
		args = append(args, "--no-write", l)
	}
	for _, l := range s.Labels {
		args = append(args, "--label", l)
	}
	for _, p := range slices.Sorted(maps.Keys(s.Artifacts)) {
		a := s.Artifacts[p]
		outcome := "failed"
		switch {
		case a.Unavailable:
			outcome = "unavailable"
		case a.Verified:
			outcome = "verified"
		}
		if a.Detail != "" {
			outcome += ":" + a.Detail
		}
		args = append(args, "--artifact", p+"="+outcome)
	}
	return args
}

type cliResult struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, cwd string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv: func(string) string { return "" },
		getwd:  func() (string, error) { return cwd, nil },
	}
	code := run(t.Context(), args, e)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// TestCheckReplaysEveryScenario runs the engine's whole scenario table
// through real repositories and the command, so that the git adapter and
// the flags reproduce what the in-memory inputs say.
func TestCheckReplaysEveryScenario(t *testing.T) {
	scenarios := evaltest.Scenarios()
	if len(scenarios) == 0 {
		t.Fatal("the scenario table is empty")
	}
	for _, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			repo := buildScenarioRepo(t, s)
			res := runCLI(t, t.TempDir(), checkArgs(s, repo, "text")...)
			verdict := evaluate.VerdictFail
			switch res.code {
			case exitOK:
				verdict = evaluate.VerdictPass
			case exitFailed:
			case exitUnavailable:
				// Blocked only because storage could not answer.
			default:
				t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
			}
			if res.stderr != "" {
				t.Errorf("stderr = %q, want nothing", res.stderr)
			}
			if problems := evaltest.Check(s, &evaluate.Result{Verdict: verdict}, res.stdout); len(problems) > 0 {
				t.Errorf("%s\noutput:\n%s", strings.Join(problems, "\n"), res.stdout)
			}
			compareWithMemory(t, s, repo)
			// The JSON of every scenario, a broken base policy included,
			// follows the published schema.
			assertSchema(t, "check-output.schema.json", runCLI(t, t.TempDir(), checkArgs(s, repo, "json")...).stdout)
		})
	}
}

// inputSummary is the part of an input that git determines, without
// commit ids (real in git, made up in memory).
type inputSummary struct {
	Changes        []evaluate.Change
	Base, Head     map[string]string // path -> version, "" when undecodable
	History        map[string][]string
	Policy         bool
	PolicyProblems int
	OwnersPath     string
	OwnersWarnings int
	Logins         [][]string // per commit: author, committer, co-authors
	Registrations  []string   // model, version, author and committer logins
}

func summarizeInput(in *evaluate.Input) inputSummary {
	docs := func(m map[string]*manifest.Document) map[string]string {
		out := map[string]string{}
		for p, d := range m {
			if d.Manifest != nil {
				out[p] = d.Manifest.Version
			} else {
				out[p] = ""
			}
		}
		return out
	}
	s := inputSummary{
		Changes: in.Changes, Base: docs(in.Base), Head: docs(in.Head), History: map[string][]string{},
		Policy: in.Policy != nil, PolicyProblems: len(in.PolicyProblems), OwnersPath: in.OwnersPath, OwnersWarnings: len(in.OwnersWarnings),
	}
	for p, pins := range in.History {
		for _, pin := range pins {
			s.History[p] = append(s.History[p], fmt.Sprintf("%s %s..%s", pin.Version, pin.Since.Format(time.RFC3339), pin.Until.Format(time.RFC3339)))
		}
	}
	for _, c := range in.Commits {
		logins := []string{c.Author.Login, c.Committer.Login}
		for _, co := range c.CoAuthors {
			logins = append(logins, co.Login)
		}
		s.Logins = append(s.Logins, logins)
	}
	for _, r := range in.Registrations {
		s.Registrations = append(s.Registrations, strings.Join([]string{r.Model, r.Version, r.Author.Email, r.Committer.Email}, " "))
	}
	return s
}

// compareWithMemory checks that the git adapter reads the scenario's
// repository into the same input the scenario builds in memory.
func compareWithMemory(t *testing.T, s evaltest.Scenario, repo scenarioRepo) {
	t.Helper()
	want, err := evaltest.Input(s)
	if err != nil {
		t.Fatalf("evaltest.Input: %v", err)
	}
	r, err := gitrepo.Open(repo.path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.BuildInput(t.Context(), plumbing.NewHash(repo.base), plumbing.NewHash(repo.head), gitrepo.InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Commits) == 0 {
		got.Commits = nil // the stand-in commit buildScenarioRepo adds
	}
	if diff := cmp.Diff(summarizeInput(want), summarizeInput(got), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("git input differs from the in-memory input (-memory +git):\n%s", diff)
	}
}

// goldenScenarios are rendered in every format and compared with
// testdata/check.
var goldenScenarios = map[string]string{
	"promote-to-prod": "promote the bundle from test to prod with two owner approvals",
	"rollback":        "rollback to a version pinned in prod before, with its dates",
	"order-fails":     "order: a version must be in the source environment first",
}

func TestCheckGolden(t *testing.T) {
	t.Parallel()
	byName := map[string]evaltest.Scenario{}
	for _, s := range evaltest.Scenarios() {
		byName[s.Name] = s
	}
	formats := map[string]string{"text": ".txt", "json": ".json", "markdown": ".md", "github": ".annotations"}
	for file, name := range goldenScenarios {
		s, ok := byName[name]
		if !ok {
			t.Errorf("scenario %q is gone from the table; pick another for %s", name, file)
			continue
		}
		repo := buildScenarioRepo(t, s)
		for format, ext := range formats {
			t.Run(file+ext, func(t *testing.T) {
				res := runCLI(t, t.TempDir(), checkArgs(s, repo, format)...)
				wantCode := exitOK
				if s.WantVerdict == evaluate.VerdictFail {
					wantCode = exitFailed
				}
				if res.code != wantCode {
					t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, wantCode, res.stderr)
				}
				if format == "json" {
					var r evaluate.Result
					if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
						t.Fatalf("output is not a Result: %v", err)
					}
					if r.Verdict != s.WantVerdict {
						t.Errorf("json verdict = %s, want %s", r.Verdict, s.WantVerdict)
					}
					assertSchema(t, "check-output.schema.json", res.stdout)
				}
				golden := filepath.Join("testdata", "check", file+ext)
				if updateGoldens() {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(res.stdout), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if diff := cmp.Diff(string(want), res.stdout); diff != "" {
					t.Errorf("%s (-want +got):\n%s", golden, diff)
				}
			})
		}
	}
}

func TestCheckFindsTheRepositoryFromTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{}); err != nil {
		t.Fatal(err)
	}
	s := evaltest.Sample("promote in a working tree")
	s.Head = evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator)
	base := gittest.MustCommit(t, dir, gittest.Commit{Branch: "main", Files: s.Base, Message: "base"})
	head := gittest.MustCommit(t, dir, gittest.Commit{Branch: "feature", Parents: []string{base}, Files: s.Head, Message: "promote",
		Author: gittest.Signature{Name: "alex", Email: "alex@users.noreply.github.com"}})
	sub := filepath.Join(dir, "environments", "prod")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"check", "--base", "main", "--head", head[:10], "--now", evaltest.DefaultNow, "--author", "alex"}
	for team, members := range evaltest.Teams() {
		args = append(args, "--team", team+"="+strings.Join(members, ","))
	}

	res := runCLI(t, sub, args...)
	if res.code != exitFailed || !strings.Contains(res.stdout, "needs 2 more approvals") {
		t.Errorf("without reviews: exit %d, output:\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, sub, append(args, "--review", "mara=approved", "--review", "rita=approved@"+head[:12])...)
	if res.code != exitOK {
		t.Errorf("with two owners' approvals: exit %d, output:\n%s%s", res.code, res.stdout, res.stderr)
	}
	// rita is named as a committer: her approval no longer counts.
	res = runCLI(t, sub, append(args, "--review", "mara=approved", "--review", "rita=approved", "--committer", "rita")...)
	if res.code != exitFailed || !strings.Contains(res.stdout, "@rita (committer)") {
		t.Errorf("with rita as committer: exit %d, output:\n%s%s", res.code, res.stdout, res.stderr)
	}
	// rita cannot write: her approval does not count either.
	res = runCLI(t, sub, append(args, "--review", "mara=approved", "--review", "rita=approved", "--no-write", "rita")...)
	if res.code != exitFailed || !strings.Contains(res.stdout, "@rita (no write access)") {
		t.Errorf("with rita without write access: exit %d, output:\n%s%s", res.code, res.stdout, res.stderr)
	}
	// A commit email mapped to mara makes her the commit's author.
	res = runCLI(t, sub, append(args, "--review", "mara=approved", "--review", "rita=approved",
		"--identity", "alex@users.noreply.github.com=mara")...)
	if res.code != exitFailed || !strings.Contains(res.stdout, "@mara (author)") {
		t.Errorf("with alex's email mapped to mara: exit %d, output:\n%s%s", res.code, res.stdout, res.stderr)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	s := evaltest.Sample("usage")
	repo := buildScenarioRepo(t, s)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no base", []string{}, "--base is required"},
		{"format", []string{"--base", "main", "--format", "yaml"}, `--format "yaml": want text, json, markdown or github`},
		{"now", []string{"--base", "main", "--now", "tomorrow"}, `--now "tomorrow" is not an RFC 3339 time`},
		{"review without state", []string{"--base", "main", "--review", "ann"}, `--review "ann": want LOGIN=STATE[@SHA]`},
		{"review state", []string{"--base", "main", "--review", "ann=lgtm"}, `state "lgtm" is not approved, changes_requested, commented or dismissed`},
		{"review login", []string{"--base", "main", "--review", "a b=approved"}, `--review "a b=approved": want LOGIN=STATE[@SHA]`},
		{"team", []string{"--base", "main", "--team", "ml-engineers=alex"}, `--team "ml-engineers=alex": want ORG/SLUG=LOGIN,LOGIN`},
		{"team member", []string{"--base", "main", "--team", "org/t=al ex"}, `--team "org/t=al ex": "al ex" is not a GitHub login`},
		{"identity", []string{"--base", "main", "--identity", "ann"}, `--identity "ann": want EMAIL=LOGIN`},
		{"identity login", []string{"--base", "main", "--identity", "a@example.com=-x"}, `"-x" is not a GitHub login`},
		{"author", []string{"--base", "main", "--author", "@ann"}, `--author "@ann" is not a GitHub login`},
		{"committer", []string{"--base", "main", "--committer", "a--b"}, `"a--b" is not a GitHub login`},
		{"artifact path", []string{"--base", "main", "--artifact", "README.md=verified"}, `PATH a manifest under environments/`},
		{"artifact outcome", []string{"--base", "main", "--artifact", "environments/dev/x.yaml=ok"}, `outcome "ok" is not verified, failed or unavailable`},
		{"arguments", []string{"--base", "main", "extra"}, `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "--repo", repo.path}, tt.args...)
			res := runCLI(t, t.TempDir(), args...)
			if res.code != exitUsage {
				t.Errorf("exit %d, want %d", res.code, exitUsage)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.want)
			}
		})
	}
	// An unknown revision is not found (exit 3), named without the
	// internal package that read it.
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown base", []string{"--base", "nope"}, `promobot: check: --base: resolve revision "nope": no branch, tag or other reference is named "nope"` + "\n"},
		{"unknown head", []string{"--base", "main", "--head", "nope"}, `promobot: check: --head: resolve revision "nope": no branch, tag or other reference is named "nope"` + "\n"},
		{"review sha", []string{"--base", "main", "--review", "ann=approved@nope"}, `promobot: check: --review "ann=approved@nope": resolve revision "nope": no branch, tag or other reference is named "nope"` + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, t.TempDir(), append([]string{"check", "--repo", repo.path}, tt.args...)...)
			if res.code != exitNotFound || res.stderr != tt.want {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", res.code, res.stderr, exitNotFound, tt.want)
			}
		})
	}
	res := runCLI(t, t.TempDir(), "check", "--base", "main")
	if res.code != exitUsage || !strings.Contains(res.stderr, "not inside a git repository (use --repo)") {
		t.Errorf("outside a repository: exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestParseReviews(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	head := strings.Repeat("a", 40)
	other := strings.Repeat("B", 40)
	got, err := parseReviews([]string{"ann=approved", "bob=CHANGES_REQUESTED@" + other, "renovate[bot]=commented", "ann=dismissed"}, head, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []evaluate.Review{
		{ID: 1, User: "ann", State: evaluate.Approved, CommitID: head, SubmittedAt: now.Add(-3 * time.Second)},
		{ID: 2, User: "bob", State: evaluate.ChangesRequested, CommitID: strings.ToLower(other), SubmittedAt: now.Add(-2 * time.Second)},
		{ID: 3, User: "renovate[bot]", State: evaluate.Commented, CommitID: head, SubmittedAt: now.Add(-time.Second)},
		{ID: 4, User: "ann", State: evaluate.Dismissed, CommitID: head, SubmittedAt: now},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseReviews (-want +got):\n%s", diff)
	}
}

func TestParseTeams(t *testing.T) {
	got, err := parseTeams([]string{"Example-Org/ML-Engineers=alex, erin", "example-org/ml-engineers=zoe", "example-org/empty="})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"example-org/ml-engineers": {"alex", "erin", "zoe"}, "example-org/empty": {}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseTeams (-want +got):\n%s", diff)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
