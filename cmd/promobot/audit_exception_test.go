package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/testing/audittest"
)

// TestAuditMetricException checks that every audit format, and the
// hash-chained export, says which metric gate an exception overrode (the
// environment, the model, the metric, the gate, the candidate's and the
// bound's values) and with whose approval.
func TestAuditMetricException(t *testing.T) {
	t.Parallel()
	h := audittest.BuildGatedHistory(t)
	f := &auditFixture{h: h, github: []string{"--github-repo", audittest.Owner + "/" + audittest.Name, "--github-url", h.Fixture.URL(), "--github-token", h.Token(t)}}
	cache := t.TempDir()
	for _, tc := range []struct{ name, format string }{
		{"exception.table", "text"},
		{"exception.json", "json"},
		{"exception.csv", "csv"},
		{"exception.md", "markdown"},
		{"exception.html", "html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"audit", "--env", "prod", "--since", "2026-06-11", "--format", tc.format}, f.github...)
			res := f.run(t, cache, args...)
			if res.code != exitOK || res.stderr != "" {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if tc.format == "json" {
				assertSchema(t, "audit-output.schema.json", res.stdout)
			}
			if !strings.Contains(res.stdout, "r2 (min): candidate 0.63, bound 0.65") && tc.format != "json" {
				t.Errorf("the output does not name the overridden gate:\n%s", res.stdout)
			}
			auditGolden(t, tc.name, res.stdout)
		})
	}
	log := filepath.Join(t.TempDir(), "audit.jsonl")
	if res := f.run(t, cache, append([]string{"audit", "export", "--to", "file:" + log}, f.github...)...); res.code != exitOK {
		t.Fatalf("export: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := `"metricException":{"label":"metric-exception","gates":[{"metric":"r2","gate":"min","candidate":0.63,"bound":0.65}],"approvers":["bob","dave"]}`
	if strings.Count(string(data), `"metricException"`) != 1 || !strings.Contains(string(data), want) {
		t.Errorf("the exported log lacks the one metric exception %s:\n%s", want, data)
	}
}

// TestAuditStatsCountsMetricExceptions checks that audit --stats counts the
// change let through by a metric gate exception.
func TestAuditStatsCountsMetricExceptions(t *testing.T) {
	t.Parallel()
	h := audittest.BuildGatedHistory(t)
	f := &auditFixture{h: h, github: []string{"--github-repo", audittest.Owner + "/" + audittest.Name, "--github-url", h.Fixture.URL(), "--github-token", h.Token(t)}}
	res := f.run(t, t.TempDir(), append([]string{"audit", "--stats", "--env", "prod", "--format", "json"}, f.github...)...)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	assertSchema(t, "audit-stats-output.schema.json", res.stdout)
	if !strings.Contains(res.stdout, `"metric-gate": 1`) {
		t.Errorf("the stats do not count the metric exception:\n%s", res.stdout)
	}
}
