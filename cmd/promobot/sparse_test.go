package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/gittest"
	"github.com/example-org/promobot/internal/testing/sample"
)

// alexGit is the environment of gitIn: alex, at a fixed time.
var alexGit = []string{
	"GIT_AUTHOR_NAME=alex", "GIT_AUTHOR_EMAIL=alex@users.noreply.github.com",
	"GIT_COMMITTER_NAME=alex", "GIT_COMMITTER_EMAIL=alex@users.noreply.github.com",
	"GIT_AUTHOR_DATE=2026-11-20T09:00:00Z", "GIT_COMMITTER_DATE=2026-11-20T09:00:00Z",
}

// gitIn runs git in dir as alex.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return gittest.MustRunGit(t, dir, alexGit, args...)
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	gittest.MustWriteFiles(t, dir, files)
}

// TestCommandsWorkInASparseCheckout runs check, validate, resolve and audit
// in a working tree where git sparse-checkout keeps only environments/dev:
// git then sets extensions.worktreeConfig, and the policy, CODEOWNERS and
// the prod manifests are not on disk.
func TestCommandsWorkInASparseCheckout(t *testing.T) {
	dir := t.TempDir()
	gitIn(t, dir, "init", "-q", "-b", "main")
	writeTree(t, dir, evaltest.Base())
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "base")
	gitIn(t, dir, "checkout", "-q", "-b", "pr")
	writeTree(t, dir, evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator))
	gitIn(t, dir, "commit", "-q", "-am", "promote to prod")
	head := gitIn(t, dir, "rev-parse", "HEAD")
	gitIn(t, dir, "checkout", "-q", "main")
	gitIn(t, dir, "sparse-checkout", "set", "environments/dev")
	if _, err := os.Stat(filepath.Join(dir, ".github", "promobot.yaml")); !os.IsNotExist(err) {
		t.Fatalf("the policy is still on disk: %v", err)
	}
	cwd := filepath.Join(dir, "environments", "dev")

	check := []string{"check", "--base", "main", "--head", "pr", "--now", evaltest.DefaultNow, "--author", "alex",
		"--review", "mara=approved@" + head, "--review", "rita=approved@" + head}
	for team, members := range evaltest.Teams() {
		check = append(check, "--team", team+"="+strings.Join(members, ","))
	}
	if res := runCLI(t, cwd, check...); res.code != exitOK {
		t.Errorf("check: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	res := runCLI(t, cwd, "validate")
	if res.code != exitOK || !strings.Contains(res.stderr, "read as HEAD has them") {
		t.Errorf("validate: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	res = runCLI(t, cwd, "resolve", "--env", "dev", "--model", evaltest.Forecaster, "--ref", "main", "--verify=false", "--format", "env")
	if res.code != exitOK || !strings.Contains(res.stdout, "MODEL_VERSION=") {
		t.Errorf("resolve: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	res = runCLI(t, cwd, "audit", "--repo", dir, "--format", "json")
	if res.code != exitOK {
		t.Errorf("audit: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	// A prod manifest outside the sparse checkout is validated as HEAD has
	// it: broken there, validate says so.
	gitIn(t, dir, "sparse-checkout", "disable")
	writeTree(t, dir, map[string]string{evaltest.ManifestPath("prod", evaltest.Forecaster): "model: [unclosed\n"})
	gitIn(t, dir, "commit", "-q", "-am", "break prod")
	gitIn(t, dir, "sparse-checkout", "set", "environments/dev")
	res = runCLI(t, cwd, "validate")
	if res.code != exitFailed || !strings.Contains(res.stdout, evaltest.ManifestPath("prod", evaltest.Forecaster)) {
		t.Errorf("validate of a broken manifest outside the sparse checkout: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// TestARevisionNamedLikeAHashIsTheReference gives resolve and check a
// branch whose name is a prefix of another commit's hash: as for git, the
// name means the branch.
func TestARevisionNamedLikeAHashIsTheReference(t *testing.T) {
	dir := t.TempDir()
	gitIn(t, dir, "init", "-q", "-b", "main")
	writeTree(t, dir, evaltest.Base())
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "base")
	old := gitIn(t, dir, "rev-parse", "HEAD")
	// The bundle moves as a whole: resolve applies the bundles rule.
	writeTree(t, dir, evaltest.Promote("dev", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator))
	gitIn(t, dir, "commit", "-q", "-am", "promote to dev")
	promoted := gitIn(t, dir, "rev-parse", "HEAD")
	name := old[:4]
	gitIn(t, dir, "branch", name, promoted)

	res := runCLI(t, dir, "resolve", "--env", "dev", "--model", evaltest.Forecaster, "--ref", name, "--verify=false", "--format", "env")
	if res.code != exitOK || !strings.Contains(res.stdout, "MODEL_COMMIT="+promoted+"\n") || !strings.Contains(res.stdout, "MODEL_VERSION="+evaltest.V2+"\n") {
		t.Errorf("resolve --ref %s: exit %d, want the branch's commit %s and version %s:\n%s%s", name, res.code, promoted, evaltest.V2, res.stdout, res.stderr)
	}
	// check --base NAME --head main: the branch is main's tip, so nothing
	// changes; read as commit old, the promotion to dev would be the change.
	res = runCLI(t, dir, "check", "--base", name, "--head", "main", "--now", evaltest.DefaultNow, "--author", "alex", "--format", "json")
	if res.code != exitOK || strings.Contains(res.stdout, evaltest.ManifestPath("dev", evaltest.Forecaster)) {
		t.Errorf("check --base %s: exit %d, want no change:\n%s%s", name, res.code, res.stdout, res.stderr)
	}
}

// TestRegisterInASparseCheckout proposes a change from a sparse checkout:
// the change is built from git objects, not from the files on disk.
func TestRegisterInASparseCheckout(t *testing.T) {
	f := newPromoteFixture(t)
	gitIn(t, f.local, "sparse-checkout", "set", "environments/dev")
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
		t.Fatalf("register: exit %d\n%s%s", code, stdout, stderr)
	}
	if cfg := gitIn(t, f.local, "config", "--get", "extensions.worktreeConfig"); cfg != "true" {
		t.Errorf("extensions.worktreeConfig = %q after register, want it kept", cfg)
	}
}
