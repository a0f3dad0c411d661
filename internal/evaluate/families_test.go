package evaluate_test

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/schemas"
)

// TestRuleTableMatchesThePolicySchema requires the policy schema's rules
// keys to be the rule table's families, in report order, so that a family
// added to the table without the schema, or the other way round, fails.
func TestRuleTableMatchesThePolicySchema(t *testing.T) {
	var doc struct {
		Properties struct {
			Rules struct {
				Properties json.RawMessage `json:"properties"`
			} `json:"rules"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schemas.Policy, &doc); err != nil {
		t.Fatal(err)
	}
	keys := objectKeys(t, doc.Properties.Rules.Properties)
	var names []string
	for _, f := range evaluate.Families() {
		names = append(names, string(f))
	}
	if diff := cmp.Diff(names, keys); diff != "" {
		t.Errorf("schemas/policy.schema.json rules keys differ from the rule table (-table +schema):\n%s", diff)
	}
}

// TestRuleTableMatchesTheCheckOutputSchema requires the family enum of the
// JSON output's schema to be the rule table's families, in report order.
func TestRuleTableMatchesTheCheckOutputSchema(t *testing.T) {
	data, err := os.ReadFile("../../schemas/check-output.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs struct {
			Family struct {
				Enum []string `json:"enum"`
			} `json:"family"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range evaluate.Families() {
		names = append(names, string(f))
	}
	// A broken base policy is reported under the policy pseudo-family.
	names = append(names, string(evaluate.FamilyPolicy))
	if diff := cmp.Diff(names, doc.Defs.Family.Enum); diff != "" {
		t.Errorf("schemas/check-output.schema.json's family enum differs from the rule table (-table +schema):\n%s", diff)
	}
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestRuleTableIsWellFormed checks what each row declares: a name, at
// least one rule, unique names and rule IDs, and that a rule applying to a
// pin belongs to a family that needs nothing only a change has.
func TestRuleTableIsWellFormed(t *testing.T) {
	names := map[policy.Family]bool{}
	ids := map[string]policy.Family{}
	for _, f := range evaluate.RuleFamilies() {
		if f.Name == "" || f.Name == evaluate.FamilyPolicy || names[f.Name] {
			t.Errorf("family %q: the name must be set, unique and not %q", f.Name, evaluate.FamilyPolicy)
		}
		names[f.Name] = true
		if len(f.Rules) == 0 {
			t.Errorf("family %s declares no rules", f.Name)
		}
		for _, r := range f.Rules {
			if other, dup := ids[r.ID]; dup {
				t.Errorf("rule %s is declared by %s and %s", r.ID, other, f.Name)
			}
			ids[r.ID] = f.Name
		}
		if f.AppliesToPin() && f.Needs&(evaluate.NeedApprovals|evaluate.NeedLabels|evaluate.NeedClock) != 0 {
			t.Errorf("family %s applies to a pin but needs %s, which a tree does not have", f.Name, f.Needs)
		}
	}
	var pin []string
	for _, f := range evaluate.RuleFamilies() {
		for _, r := range f.Rules {
			if r.Pin {
				pin = append(pin, r.ID)
			}
		}
	}
	if diff := cmp.Diff(pin, evaluate.DeployedRules); diff != "" {
		t.Errorf("DeployedRules differ from the table's pin rules (-table +DeployedRules):\n%s", diff)
	}
}

// TestEveryResultIsDeclared evaluates every scenario, and Deployed on every
// manifest of its head, and requires each rule outcome to name a family of
// the table and a rule that family declares; a Deployed outcome must be a
// rule that applies to a pin.
func TestEveryResultIsDeclared(t *testing.T) {
	declared := map[policy.Family]map[string]bool{evaluate.FamilyPolicy: {"policy": true}}
	pin := map[string]bool{"policy": true}
	for _, f := range evaluate.RuleFamilies() {
		declared[f.Name] = map[string]bool{}
		for _, r := range f.Rules {
			declared[f.Name][r.ID] = true
			pin[r.ID] = pin[r.ID] || r.Pin
		}
	}
	seen := map[string]bool{}
	check := func(t *testing.T, res *evaluate.Result, deployed bool) {
		for _, r := range res.Rules {
			seen[r.ID] = true
			switch {
			case declared[r.Family] == nil:
				t.Errorf("%s: family %q is not in the rule table", r.ID, r.Family)
			case !declared[r.Family][r.ID]:
				t.Errorf("rule %q is not declared by family %s", r.ID, r.Family)
			case deployed && !pin[r.ID]:
				t.Errorf("Deployed reported %s/%s, which does not apply to a pin", r.Family, r.ID)
			}
		}
	}
	for _, s := range evaltest.Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			in, err := evaltest.Input(s)
			if err != nil {
				t.Fatal(err)
			}
			check(t, evaluate.Evaluate(in), false)
			for _, p := range slices.Sorted(maps.Keys(in.Head)) {
				tree := *in
				tree.Base = in.Head
				check(t, evaluate.Deployed(&tree, p), true)
			}
		})
	}
	for _, f := range evaluate.RuleFamilies() {
		if !slices.ContainsFunc(f.Rules, func(r evaluate.Rule) bool { return seen[r.ID] }) {
			t.Errorf("no scenario exercises family %s", f.Name)
		}
	}
}

// TestDocsListEveryFamily requires the development guide's table of rule
// families to have a row for each family of the table, in report order.
func TestDocsListEveryFamily(t *testing.T) {
	data, err := os.ReadFile("../../docs/development.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "| `"); ok {
			if i := strings.Index(name, "`"); i > 0 {
				rows = append(rows, name[:i])
			}
		}
	}
	var want []string
	for _, f := range evaluate.RuleFamilies() {
		want = append(want, string(f.Name))
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("docs/development.md's rule families differ from the rule table (-table +docs):\n%s", diff)
	}
}

// TestReadmePolicyListsEveryFamily requires the rules block of the README's
// policy example to set a mode for each family of the table, in report
// order.
func TestReadmePolicyListsEveryFamily(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "rules:"):
			in = true
		case in && strings.HasPrefix(line, "  "):
			key, _, _ := strings.Cut(strings.TrimSpace(line), ":")
			keys = append(keys, key)
		default:
			in = false
		}
	}
	var want []string
	for _, f := range evaluate.Families() {
		want = append(want, string(f))
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("README.md's policy rules differ from the rule table (-table +README):\n%s", diff)
	}
}
