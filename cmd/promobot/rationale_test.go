package main

import (
	"strings"
	"testing"
)

// TestPromobotRollbackWritesTheRationale rolls prod back with --rationale
// and no --ticket: each restored manifest keeps the ticket it was pinned
// with and gains the rationale, the only other change.
func TestPromobotRollbackWritesTheRationale(t *testing.T) {
	f := newPromoteFixture(t)
	const why = "The November retrain misprices gaps: back to October."
	older := map[string]string{prodForecaster: f.remoteFile(f.seedA, prodForecaster), prodCalibrator: f.remoteFile(f.seedA, prodCalibrator)}
	code, _, stderr := f.run("rollback", "--model", "elasticnet-ndx", "--env", "prod", "--to-version", "2026.10.30-1",
		"--rationale", why, "--github-repo", "example-org/gitops")
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s", code, stderr)
	}
	pr, err := f.fx.Emulator.PullRequest("example-org", "gitops", 1)
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range older {
		got := f.remoteFile(pr.HeadSHA, p)
		want := strings.Replace(content, "\nnotes:", "\n  rationale: \""+why+"\"\nnotes:", 1)
		if got != want {
			t.Errorf("%s on the rollback branch:\n%s\nwant:\n%s", p, got, want)
		}
	}
}
