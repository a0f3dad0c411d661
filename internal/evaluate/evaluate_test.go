package evaluate_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// evaluateScenario builds a scenario's input, evaluates it, and renders the
// result as text.
func evaluateScenario(t *testing.T, s evaltest.Scenario) (*evaluate.Result, string) {
	t.Helper()
	in, err := evaltest.Input(s)
	if err != nil {
		t.Fatalf("building the input: %v", err)
	}
	res := evaluate.Evaluate(in)
	var b bytes.Buffer
	if err := evaluate.RenderText(&b, res); err != nil {
		t.Fatalf("RenderText: %v", err)
	}
	return res, b.String()
}

func TestScenarios(t *testing.T) {
	scenarios := evaltest.Scenarios()
	if len(scenarios) < 40 {
		t.Errorf("only %d scenarios, want at least 40", len(scenarios))
	}
	seen := map[string]bool{}
	for _, s := range scenarios {
		if seen[s.Name] {
			t.Errorf("duplicate scenario name %q", s.Name)
		}
		seen[s.Name] = true
		t.Run(s.Name, func(t *testing.T) {
			res, text := evaluateScenario(t, s)
			if problems := evaltest.Check(s, res, text); len(problems) > 0 {
				t.Errorf("%s\n\noutput:\n%s", strings.Join(problems, "\n"), text)
			}
		})
	}
}

// TestDeterministic evaluates every scenario twice and requires identical
// JSON, since map iteration order must never leak into results.
func TestDeterministic(t *testing.T) {
	for _, s := range evaltest.Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			in, err := evaltest.Input(s)
			if err != nil {
				t.Fatal(err)
			}
			first, _ := json.Marshal(evaluate.Evaluate(in))
			for range 3 {
				again, _ := json.Marshal(evaluate.Evaluate(in))
				if !bytes.Equal(first, again) {
					t.Fatalf("results differ between runs:\n%s\n%s", first, again)
				}
			}
		})
	}
}

// goldenScenarios are rendered into testdata/<name>.{md,txt,json}.golden.
var goldenScenarios = map[string]string{
	"promote_pass":                "promote the bundle from test to prod with two owner approvals",
	"missing_approval":            "counting: one of two approvals is not enough",
	"rollback":                    "rollback to a version pinned in prod before, with its dates",
	"order_fail":                  "order: a version must be in the source environment first",
	"no_gated_files":              "no gated files",
	"freeze_override":             "freeze: an approval by an owner of the environment only does not count for governance",
	"broken_policy":               "policy: a broken base policy fails closed",
	"decommission":                "rename: a removal plus an addition, each with its own rules",
	"unresolvable_teams":          "teams: an unresolvable team warns and its members do not count",
	"field_owners_dev":            "field owners: registering a version in dev, which needs no approvals, needs a validator for its metrics",
	"field_owners_test":           "field owners: an approval by an owner of the environment who is no validator does not count for validation",
	"registrant":                  "field owners: the registrant of a version cannot be the validator who approves it",
	"tier_counts":                 "tiers: a high risk model needs three prod approvals, a standard one two",
	"tier_default":                "tiers: a model with no declared tier gets the strictest tier",
	"rollback_ready":              "rollbackReady: a promotion names its rollback target and command",
	"evidence_missing":            "evidence: prod requires a validation report",
	"metric_gates_pass":           "metrics: within the bounds and a regression within the tolerance pass",
	"metric_regression":           "metrics: a regression beyond the tolerance fails",
	"metric_bound":                "metrics: a value below the minimum fails",
	"metric_missing":              "metrics: a gated metric the candidate lacks fails",
	"metric_no_incumbent":         "metrics: a metric the incumbent lacks is skipped with a note",
	"metric_rollback":             "metrics: a rollback is exempt from the incumbent comparison",
	"metric_exception":            "metrics: an exception with governance approvals passes",
	"metric_exception_ungoverned": "metrics: an exception without governance approvals fails",
	"metric_exception_bounds":     "metrics: an exception names each failed bound of the gates it overrides",
	"rationale_tier":              "rationale: a risk tier raises the environment's minimum length",
	"rationale_copied":            "rationale: a rationale copied along with the manifest does not count",
}

func TestGolden(t *testing.T) {
	byName := map[string]evaltest.Scenario{}
	for _, s := range evaltest.Scenarios() {
		byName[s.Name] = s
	}
	for file, name := range goldenScenarios {
		t.Run(file, func(t *testing.T) {
			s, ok := byName[name]
			if !ok {
				t.Fatalf("no scenario %q", name)
			}
			res, text := evaluateScenario(t, s)
			var md bytes.Buffer
			if err := evaluate.RenderMarkdown(&md, res); err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			ann, err := json.MarshalIndent(evaluate.Annotations(res), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, file+".md.golden", md.Bytes())
			golden(t, file+".txt.golden", []byte(text))
			golden(t, file+".json.golden", append(js, '\n'))
			golden(t, file+".annotations.golden", append(ann, '\n'))
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/evaluate -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test ./internal/evaluate -update and review the diff.\ngot:\n%s", path, got)
	}
}
