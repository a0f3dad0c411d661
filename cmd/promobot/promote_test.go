package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/githubapi/retry"
	"github.com/example-org/promobot/internal/promote"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
	"github.com/example-org/promobot/internal/testing/sample"
)

// promoteNow is the fixed clock of the CLI promotion tests.
const promoteNow = "2026-11-20T10:00:00Z"

// promoteFixture is the sample repository on a loopback git server behind
// the GitHub emulator, with a local clone.
type promoteFixture struct {
	t      *testing.T
	fx     *githubtest.Fixture
	bare   string
	local  string
	token  string
	seedA  string
	getenv map[string]string
	// githubRetry, when set, replaces the GitHub client's retry settings.
	githubRetry *retry.Options
}

var olderProdManifest = strings.NewReplacer(
	"2026.11.06-1", "2026.10.30-1", "CHG-4790", "CHG-4700",
	"sha256: 4916", "sha256: 0000", "sha256: e621", "sha256: 0000",
	"2026-11-09T15:05:44Z", "2026-11-02T10:00:00Z",
)

func newPromoteFixture(t *testing.T) *promoteFixture {
	t.Helper()
	now := mustTime(t, promoteNow)
	fx := githubtest.NewFixture(t, githubtest.Config{Now: func() time.Time { return now }})
	bare := fx.AddRepo(t, "example-org", "gitops", "main")
	files := map[string]string{}
	root := filepath.Join("..", "..", "internal", "promote", "testdata", "base")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	older, current := map[string]string{}, map[string]string{}
	for p, c := range files {
		older[p] = c
		if strings.HasPrefix(p, "environments/prod/") {
			older[p], current[p] = olderProdManifest.Replace(c), c
		}
	}
	alice := func(when string) gittest.Signature {
		return gittest.Signature{Name: "Alice", Email: "alice@example.com", When: mustTime(t, when)}
	}
	f := &promoteFixture{t: t, fx: fx, bare: bare}
	f.seedA = gittest.MustCommit(t, bare, gittest.Commit{Branch: "main", Files: older, Message: "Seed\n", Author: alice("2026-10-31T12:00:00Z")})
	gittest.MustCommit(t, bare, gittest.Commit{Branch: "main", Files: current, Message: "Promote to prod\n", Author: alice("2026-11-09T15:00:00Z")})
	for _, m := range [][2]string{{"model-risk", "rita"}, {"model-risk", "raj"}, {"release-managers", "rosa"}, {"model-validators", "victor"}, {"ml-engineers", "dana"}} {
		fx.Emulator.AddTeamMember("example-org", m[0], m[1], "active")
	}
	f.token = fx.Emulator.UserToken("release-bot")
	f.local = t.TempDir()
	url := fx.Git.RepoURL("example-org/gitops.git")
	if _, err := git.PlainCloneContext(t.Context(), f.local, false, &git.CloneOptions{URL: url, Auth: promote.TokenAuth(f.token)}); err != nil {
		t.Fatal(err)
	}
	f.getenv = map[string]string{
		"GITHUB_TOKEN": f.token, "GITHUB_API_URL": fx.URL(),
		"GIT_AUTHOR_NAME": "Release Bot", "GIT_AUTHOR_EMAIL": "release-bot@example.com",
	}
	return f
}

// run runs promobot in the local clone and returns the exit code, stdout
// and stderr.
func (f *promoteFixture) run(args ...string) (int, string, string) {
	f.t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv:      func(k string) string { return f.getenv[k] },
		getwd:       func() (string, error) { return f.local, nil },
		githubRetry: f.githubRetry,
	}
	args = append(args, "--now", promoteNow)
	code := run(f.t.Context(), args, e)
	return code, stdout.String(), stderr.String()
}

func (f *promoteFixture) merge(number int) {
	f.t.Helper()
	if _, err := f.fx.Emulator.Merge("example-org", "gitops", number, githubtest.MergeOptions{User: "alice"}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *promoteFixture) branches() []string {
	f.t.Helper()
	r, err := git.PlainOpen(f.bare)
	if err != nil {
		f.t.Fatal(err)
	}
	iter, _ := r.Branches()
	var out []string
	_ = iter.ForEach(func(ref *plumbing.Reference) error {
		out = append(out, ref.Name().Short())
		return nil
	})
	return out
}

// golden compares output with testdata/promote/name, with the emulator's
// address (a random port) replaced by http://github.test.
func (f *promoteFixture) golden(name, got string) {
	f.t.Helper()
	promoteGolden(f.t, name, strings.ReplaceAll(got, f.fx.Server.URL, "http://github.test"))
}

// promoteGolden compares output with testdata/promote/name.
func promoteGolden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "promote", name)
	if updateGoldens() {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

const vixCandidate = `# Written by the training pipeline.
model: gbm-vix
version: "2026.11.27-1"
artifact:
  uri: https://mlartifacts.blob.core.windows.net/models/gbm-vix/2026.11.27-1/model.pkl
  signature: MEUCIQDx0rH3hZc6cD0r3v1mJrU6n6mS9sV8f9bq2m4o5vYqZAIgV3aQJ8rP0cXn1mZ8lS2q7k1eW0u6c5y9b3t4r2o1n0A=
lineage:
  trainingRun: azureml-run-9a1b2c
  sourceCommit: 0123456789abcdef0123456789abcdef01234567
  dataWindow: {start: 2021-11-01, end: 2026-11-21}
  featureSet: vix-features-v3
  dataVersion: ohlcv-2026-11-21
metrics:
  rmse: 0.0201
`

func TestPromobotRegisterPromotePromote(t *testing.T) {
	t.Parallel()
	f := newPromoteFixture(t)
	dir := t.TempDir()
	cand, art := filepath.Join(dir, "candidate.yaml"), filepath.Join(dir, "model.pkl")
	if err := os.WriteFile(cand, []byte(vixCandidate), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(art, sample.ArtifactBytes("gbm-vix", "2026.11.27-1"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := f.run("register", "--env", "dev", "--from-file", cand, "--artifact", art, "--metric", "mae=0.015", "--github-repo", "example-org/gitops")
	if code != 0 {
		t.Fatalf("register: exit %d\n%s", code, stderr)
	}
	f.golden("register.txt", stdout)
	f.merge(1)

	code, stdout, stderr = f.run("promote", "--model", "gbm-vix", "--to", "test", "--github-repo", "example-org/gitops")
	if code != 1 || stdout != "" {
		t.Fatalf("promote with validation pending: exit %d, stdout %q", code, stdout)
	}
	f.golden("refused.txt", stderr)
	if diff := cmp.Diff([]string{"main", "promobot/dev/gbm-vix-2026.11.27-1"}, f.branches()); diff != "" {
		t.Errorf("branches after the refusal (-want +got):\n%s", diff)
	}

	r, _ := git.PlainOpen(f.bare)
	tip, _ := r.Reference(plumbing.NewBranchReferenceName("main"), true)
	c, _ := r.CommitObject(tip.Hash())
	file, _ := c.File("environments/dev/gbm-vix.yaml")
	dev, _ := file.Contents()
	gittest.MustCommit(t, f.bare, gittest.Commit{Branch: "main", Message: "Record validation\n", Author: gittest.Signature{Name: "CI", Email: "ci@example.com", When: mustTime(t, "2026-11-20T09:00:00Z")},
		Files: map[string]string{"environments/dev/gbm-vix.yaml": strings.Replace(dev, "status: pending", "status: passed", 1)}})

	if code, _, stderr = f.run("promote", "--model", "gbm-vix", "--to", "test", "--github-repo", "example-org/gitops"); code != 0 {
		t.Fatalf("promote to test: exit %d\n%s", code, stderr)
	}
	f.merge(2)

	code, stdout, stderr = f.run("promote", "--model", "gbm-vix", "--to", "prod", "--ticket", "CHG-5001", "--github-repo", "example-org/gitops", "--format", "json")
	if code != 0 {
		t.Fatalf("promote to prod: exit %d\n%s", code, stderr)
	}
	var out struct {
		Branch      string `json:"branch"`
		Commit      string `json:"commit"`
		PullRequest struct {
			Number int    `json:"number"`
			URL    string `json:"url"`
		} `json:"pullRequest"`
		Approvals []struct {
			File   string   `json:"file"`
			Owners []string `json:"owners"`
		} `json:"approvals"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("json output: %v\n%s", err, stdout)
	}
	if out.Branch != "promobot/prod/gbm-vix-2026.11.27-1" || len(out.Commit) != 40 || out.PullRequest.Number != 3 ||
		out.PullRequest.URL != f.fx.Server.URL+"/example-org/gitops/pull/3" || len(out.Approvals) != 1 {
		t.Errorf("json output: %+v", out)
	}
	pr, _ := f.fx.Emulator.PullRequest("example-org", "gitops", 3)
	if pr.HeadSHA != out.Commit || pr.Title != "Promote gbm-vix 2026.11.27-1 to prod" {
		t.Errorf("pull request #3: %q at %s", pr.Title, pr.HeadSHA)
	}
}

func TestPromobotDryRunAndRollbackOutput(t *testing.T) {
	t.Parallel()
	f := newPromoteFixture(t)
	code, stdout, stderr := f.run("promote", "--model", "elasticnet-ndx", "--model", "elasticnet-ndx-threshold", "--to", "prod", "--ticket", "CHG-5001", "--dry-run", "--github-repo", "example-org/gitops")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s", code, stderr)
	}
	f.golden("dry-run.txt", stdout)
	if diff := cmp.Diff([]string{"main"}, f.branches()); diff != "" {
		t.Errorf("a dry run created branches (-want +got):\n%s", diff)
	}

	code, stdout, stderr = f.run("rollback", "--model", "elasticnet-ndx", "--model", "elasticnet-ndx-threshold", "--env", "prod", "--github-repo", "example-org/gitops")
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s", code, stderr)
	}
	f.golden("rollback.txt", stdout)
	if !strings.Contains(stdout, "pinned on 2026-10-31 12:00 UTC by commit "+f.seedA[:12]) {
		t.Errorf("rollback output does not say when and by which commit the version was pinned:\n%s", stdout)
	}

	// Nothing left to do: the same rollback again is a no-op, not an error.
	code, stdout, _ = f.run("rollback", "--model", "elasticnet-ndx", "--env", "prod", "--to-version", "2026.11.06-1", "--no-pr")
	if code != 0 || !strings.HasPrefix(stdout, "Nothing to do: prod already pins elasticnet-ndx 2026.11.06-1") {
		t.Errorf("rollback to the current version: exit %d, %q", code, stdout)
	}
}

func TestPromobotChangeUsageErrors(t *testing.T) {
	f := newPromoteFixture(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"missing --to", nil, []string{"promote", "--model", "m"}, 2, "promobot: promote needs --model and --to\n"},
		{"bad format", nil, []string{"promote", "--model", "m", "--to", "prod", "--format", "yaml"}, 2, "promobot: --format must be text or json, not \"yaml\"\n"},
		{"bad deprecated output", nil, []string{"promote", "--model", "m", "--to", "prod", "--output", "yaml"}, 2,
			"promobot: --output is deprecated and will be removed; use --format\npromobot: --format must be text or json, not \"yaml\"\n"},
		{"dry run and no PR", nil, []string{"promote", "--model", "m", "--to", "prod", "--dry-run", "--no-pr"}, 2, "promobot: --dry-run and --no-pr cannot be combined\n"},
		{"remote not on GitHub", nil, []string{"promote", "--model", "m", "--to", "prod"}, 2, "promobot: cannot tell the GitHub repository from the remote URL"},
		{"no token", map[string]string{"GITHUB_TOKEN": ""}, []string{"promote", "--model", "m", "--to", "prod", "--github-repo", "example-org/gitops"}, 2,
			"promobot: GITHUB_TOKEN is needed to open the pull request (or use --no-pr or --dry-run)\n"},
		{"bad github repo", nil, []string{"promote", "--model", "m", "--to", "prod", "--github-repo", "gitops"}, 2, "promobot: --github-repo must be OWNER/NAME, not \"gitops\"\n"},
		{"unknown remote", nil, []string{"promote", "--model", "m", "--to", "prod", "--remote", "upstream"}, 2, "promobot: the repository "},
		{"unknown environment", nil, []string{"promote", "--model", "elasticnet-ndx", "--to", "staging", "--no-pr"}, 3,
			"promobot: environment \"staging\" is not declared in .github/promobot.yaml (declared: dev, test, prod)\n"},
		{"rollback --pr with --model", nil, []string{"rollback", "--pr", "3", "--model", "m"}, 2, "promobot: --pr cannot be combined with --model, --env or --to-version\n"},
		{"register flags with several files", nil, []string{"register", "--from-file", "a.yaml", "--from-file", "b.yaml", "--version", "1"}, 2,
			"promobot: with several --from-file, describe each version in its file; --version cannot be used\n"},
		{"register without a model", nil, []string{"register", "--version", "1"}, 2, "promobot: register needs --model or --from-file\n"},
		{"register in test", nil, []string{"register", "--model", "m", "--version", "1", "--env", "test", "--no-pr"}, 2,
			"promobot: new versions are registered in dev, the first environment; test is reached by promotion\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := f.getenv
			f.getenv = map[string]string{}
			for k, v := range saved {
				f.getenv[k] = v
			}
			for k, v := range tt.env {
				f.getenv[k] = v
			}
			defer func() { f.getenv = saved }()
			code, stdout, stderr := f.run(tt.args...)
			if code != tt.code || stdout != "" || !strings.HasPrefix(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and stderr starting %q", code, stdout, stderr, tt.code, tt.want)
			}
		})
	}
}

func TestPromobotPushRejected(t *testing.T) {
	f := newPromoteFixture(t)
	branch := "promobot/prod/elasticnet-ndx-2026.11.13-2-6a931077"
	gittest.MustCommit(t, f.bare, gittest.Commit{Branch: branch, Message: "Manual edit\n", Files: map[string]string{"README.md": "x\n"},
		Author: gittest.Signature{Name: "Mallory", Email: "m@example.com", When: mustTime(t, promoteNow)}})
	code, stdout, stderr := f.run("promote", "--model", "elasticnet-ndx", "--model", "elasticnet-ndx-threshold", "--to", "prod", "--ticket", "CHG-5001", "--no-pr")
	want := "promobot: push to origin (" + f.fx.Git.RepoURL("example-org/gitops.git") + ") rejected: branch " + branch + " is not a fast-forward"
	if code != 2 || stdout != "" || !strings.HasPrefix(stderr, want) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, want)
	}
}

func TestGitHubRepoFromURL(t *testing.T) {
	tests := []struct{ remote, api, want string }{
		{"https://github.com/example-org/gitops.git", defaultGitHubAPI, "example-org/gitops"},
		{"https://x-access-token:t@github.com/example-org/gitops", defaultGitHubAPI, "example-org/gitops"},
		{"git@github.com:example-org/gitops.git", defaultGitHubAPI, "example-org/gitops"},
		{"ssh://git@github.com/example-org/gitops.git", defaultGitHubAPI, "example-org/gitops"},
		{"https://ghe.example.com/ml/gitops.git", "https://ghe.example.com/api/v3/", "ml/gitops"},
		{"https://gitlab.com/example-org/gitops.git", defaultGitHubAPI, ""},
		{"https://github.com/example-org", defaultGitHubAPI, ""},
		{"/srv/git/gitops.git", defaultGitHubAPI, ""},
	}
	for _, tt := range tests {
		owner, name, ok := githubRepoFromURL(tt.remote, tt.api)
		got := ""
		if ok {
			got = owner + "/" + name
		}
		if got != tt.want {
			t.Errorf("githubRepoFromURL(%q, %q) = %q, want %q", tt.remote, tt.api, got, tt.want)
		}
	}
}
