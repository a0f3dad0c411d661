package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/testing/evaltest"
)

// TestCheckVerifiesWhatThePolicyRequires: without --verify-artifacts,
// check reads the artifacts of environments whose policy sets
// verifyArtifacts, and fails their artifacts rule with "could not verify"
// when storage cannot be opened. It used to skip the rule, which passed.
func TestCheckVerifiesWhatThePolicyRequires(t *testing.T) {
	s := evaltest.Sample("prod requires verification")
	s.Base[".github/promobot.yaml"] = evaltest.Replace(evaltest.Policy, "    requireSignature: true\n", "    requireSignature: true\n    verifyArtifacts: true\n")
	s.Head = evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator)
	s.Reviews = evaltest.Approve("mara", "rita")
	repo := buildScenarioRepo(t, s)
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		// Credentials storage cannot be opened with.
		getenv: func(k string) string {
			if k == "AZURE_STORAGE_CONNECTION_STRING" {
				return "not a connection string"
			}
			return ""
		},
		getwd: func() (string, error) { return t.TempDir(), nil },
	}
	code := run(t.Context(), checkArgs(s, repo, "text"), e)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFailed, stdout.String(), stderr.String())
	}
	want := "could not verify artifact: no storage credentials: "
	got := 0
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.Contains(line, "fail  artifacts/artifact") && strings.Contains(line, want) {
			got++
		}
	}
	if got != 2 {
		t.Errorf("%d artifact rules fail with %q, want both prod manifests':\n%s", got, want, stdout.String())
	}
}
