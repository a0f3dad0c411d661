package main

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/testing/gittest"
)

const (
	prodForecaster = "environments/prod/elasticnet-ndx.yaml"
	prodCalibrator = "environments/prod/elasticnet-ndx-threshold.yaml"
)

// remoteFile reads path at commit (a hash, or a branch of the remote).
func (f *promoteFixture) remoteFile(commit, path string) string {
	f.t.Helper()
	r, err := git.PlainOpen(f.bare)
	if err != nil {
		f.t.Fatal(err)
	}
	h := plumbing.NewHash(commit)
	if ref, err := r.Reference(plumbing.NewBranchReferenceName(commit), true); err == nil {
		h = ref.Hash()
	}
	c, err := r.CommitObject(h)
	if err != nil {
		f.t.Fatal(err)
	}
	file, err := c.File(path)
	if err != nil {
		f.t.Fatalf("%s at %s: %v", path, commit, err)
	}
	s, err := file.Contents()
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// TestPromobotRollbackBundleToVersionWithTicket rolls a bundle back to a
// version by naming one of its models, with a change ticket, then rolls
// that rollback back by its pull request, with another ticket.
func TestPromobotRollbackBundleToVersionWithTicket(t *testing.T) {
	f := newPromoteFixture(t)
	older := map[string]string{prodForecaster: f.remoteFile(f.seedA, prodForecaster), prodCalibrator: f.remoteFile(f.seedA, prodCalibrator)}
	current := map[string]string{prodForecaster: f.remoteFile("main", prodForecaster), prodCalibrator: f.remoteFile("main", prodCalibrator)}

	// prod went back to 2026.10.30-1 once, with the calibrator's notes
	// edited, and then forward again: the rollback restores that last
	// state, not the first pin of 2026.10.30-1.
	edited := map[string]string{
		prodForecaster: older[prodForecaster],
		prodCalibrator: strings.Replace(older[prodCalibrator], "\nnotes: ", "\nnotes: Recalibrated. ", 1),
	}
	sig := func(when string) gittest.Signature {
		return gittest.Signature{Name: "Alice", Email: "alice@example.com", When: mustTime(t, when)}
	}
	back := gittest.MustCommit(t, f.bare, gittest.Commit{Branch: "main", Files: edited, Message: "Roll prod back\n", Author: sig("2026-11-12T08:30:00Z")})
	gittest.MustCommit(t, f.bare, gittest.Commit{Branch: "main", Files: current, Message: "Promote to prod again\n", Author: sig("2026-11-16T08:30:00Z")})

	code, stdout, stderr := f.run("rollback", "--model", "elasticnet-ndx", "--env", "prod", "--to-version", "2026.10.30-1", "--ticket", "CHG-5100", "--github-repo", "example-org/gitops")
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s", code, stderr)
	}
	for _, model := range []string{"elasticnet-ndx", "elasticnet-ndx-threshold"} {
		want := "  " + model + ": back to 2026.10.30-1, pinned on 2026-11-12 08:30 UTC by commit " + back[:12] + " (replacing 2026.11.06-1)\n"
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	pr, err := f.fx.Emulator.PullRequest("example-org", "gitops", 1)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Title != "Roll back elasticnet-ndx to 2026.10.30-1 and elasticnet-ndx-threshold to 2026.10.30-1 in prod" || !strings.Contains(pr.Body, "**Ticket:** `CHG-5100`") {
		t.Errorf("pull request #1: %q\n%s", pr.Title, pr.Body)
	}
	for p, content := range edited {
		want := strings.Replace(content, "ticket: CHG-4700\n", "ticket: CHG-5100\n", 1)
		if diff := cmp.Diff(want, f.remoteFile(pr.HeadSHA, p)); diff != "" {
			t.Errorf("%s on the rollback branch (-want +got):\n%s", p, diff)
		}
	}
	if msg := f.commitMessage(pr.HeadSHA); !strings.Contains(msg, "\nPromobot-Ticket: CHG-5100\n") {
		t.Errorf("commit message lacks the ticket:\n%s", msg)
	}

	// Undo the rollback by its pull request, with a ticket of its own.
	f.merge(1)
	code, stdout, stderr = f.run("rollback", "--pr", "1", "--ticket", "CHG-5101", "--github-repo", "example-org/gitops")
	if code != 0 {
		t.Fatalf("rollback --pr 1: exit %d\n%s", code, stderr)
	}
	pr, err = f.fx.Emulator.PullRequest("example-org", "gitops", 2)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Title != "Roll back elasticnet-ndx to 2026.11.06-1 and elasticnet-ndx-threshold to 2026.11.06-1 in prod" || !strings.Contains(pr.Body, "Undoes #1.") {
		t.Errorf("pull request #2: %q\n%s\n%s", pr.Title, pr.Body, stdout)
	}
	for p, content := range current {
		want := strings.Replace(content, "ticket: CHG-4790\n", "ticket: CHG-5101\n", 1)
		if diff := cmp.Diff(want, f.remoteFile(pr.HeadSHA, p)); diff != "" {
			t.Errorf("%s on the branch undoing #1 (-want +got):\n%s", p, diff)
		}
	}
}

func TestPromobotRollbackBundleRefusals(t *testing.T) {
	f := newPromoteFixture(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		// A version never pinned is not found (exit 3), as an unknown name is.
		{"a version the bundle never had", []string{"--model", "elasticnet-ndx-threshold", "--to-version", "2020.01.01-1"}, exitNotFound,
			"promobot: prod never pinned elasticnet-ndx-threshold 2020.01.01-1 on the base branch"},
		{"the version pinned now", []string{"--model", "elasticnet-ndx", "--model", "elasticnet-ndx-threshold", "--to-version", "2026.11.06-1"}, 0,
			"Nothing to do: prod already pins elasticnet-ndx 2026.11.06-1 and elasticnet-ndx-threshold 2026.11.06-1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := f.run(append([]string{"rollback", "--env", "prod", "--no-pr"}, tt.args...)...)
			if got := stdout + stderr; code != tt.code || !strings.HasPrefix(got, tt.want) {
				t.Errorf("exit %d, output %q; want exit %d and output starting %q", code, got, tt.code, tt.want)
			}
		})
	}
	if diff := cmp.Diff([]string{"main"}, f.branches()); diff != "" {
		t.Errorf("branches (-want +got):\n%s", diff)
	}
}

// commitMessage returns the message of a commit of the remote.
func (f *promoteFixture) commitMessage(commit string) string {
	f.t.Helper()
	r, err := git.PlainOpen(f.bare)
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := r.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		f.t.Fatal(err)
	}
	return c.Message
}
