package repoconfig

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/policy"

	"github.com/example-org/promobot/internal/yamldoc"
)

func samplePolicy(t *testing.T) string {
	t.Helper()
	data, err := readSample()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readSample() (string, error) {
	data, err := os.ReadFile("../../.github/promobot.yaml")
	return string(data), err
}

func mustParse(t *testing.T, data string) *yamldoc.Doc {
	t.Helper()
	doc, err := yamldoc.Parse([]byte(data), yamldoc.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestPolicyLoadSample(t *testing.T) {
	p, problems := LoadPolicy(policy.Path, []byte(samplePolicy(t)), nil)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	prod, ok := p.Environment("prod")
	if !ok {
		t.Fatal("no prod")
	}
	if prod.From != "test" || prod.Approvals != 2 || !prod.RequireTicket || !prod.TicketMatches("CHG-4790") || prod.TicketMatches("CHG-1") || prod.TicketMatches("xCHG-4790") {
		t.Errorf("prod = %+v", prod)
	}
	if w, ok := prod.ActiveFreeze(time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)); !ok || w.OverrideLabel != "freeze-override" {
		t.Errorf("freeze on 2026-12-24 = %v, %v", w, ok)
	}
	if _, ok := prod.ActiveFreeze(time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)); ok {
		t.Error("freeze window end must be exclusive")
	}
	if b, ok := p.BundleOf("elasticnet-ndx-threshold"); !ok || b.Name != "ndx-forecast" {
		t.Errorf("BundleOf = %v, %v", b, ok)
	}
	if got := p.Next("test"); len(got) != 1 || got[0].Name != "prod" {
		t.Errorf("Next(test) = %v", got)
	}
	if p.Governance.Approvals != 2 || p.Mode(policy.FamilyApprovals) != policy.Enforce {
		t.Errorf("governance %d, approvals mode %s", p.Governance.Approvals, p.Mode(policy.FamilyApprovals))
	}
}

func TestPolicyLoadDefaults(t *testing.T) {
	p, problems := LoadPolicy(policy.Path, []byte("apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - {name: dev, approvals: 0}\n  - {name: prod, from: dev, approvals: 3}\nrules: {bundles: warn}\n"), nil)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	if p.Governance.Approvals != 3 {
		t.Errorf("default governance approvals = %d, want the largest environment count 3", p.Governance.Approvals)
	}
	if p.Mode(policy.FamilyBundles) != policy.Warn || p.Mode(policy.FamilyOrder) != policy.Enforce {
		t.Errorf("modes: bundles %s order %s", p.Mode(policy.FamilyBundles), p.Mode(policy.FamilyOrder))
	}
}

func TestPolicyLoadRejections(t *testing.T) {
	head := "apiVersion: promobot/v1\nkind: PromotionPolicy\n"
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"first environment with from", head + "environments:\n  - {name: dev, from: prod, approvals: 0}\n",
			[]string{policy.Path + ":4:23: the first environment \"dev\" is where versions are registered and cannot have from"}},
		{"later environment without from", head + "environments:\n  - {name: dev, approvals: 0}\n  - {name: prod, approvals: 2}\n",
			[]string{policy.Path + ":5:12: environment \"prod\" needs from: the environment its versions are promoted from"}},
		{"from names a later environment", head + "environments:\n  - {name: dev, approvals: 0}\n  - {name: test, from: prod, approvals: 1}\n  - {name: prod, from: test, approvals: 2}\n",
			[]string{policy.Path + ":5:24: from \"prod\" must name an environment declared before \"test\""}},
		{"duplicate environment", head + "environments:\n  - {name: dev, approvals: 0}\n  - {name: dev, from: dev, approvals: 1}\n", []string{
			policy.Path + ":5:12: environment \"dev\" is declared twice (first as environments[0])",
			policy.Path + ":5:23: from \"dev\" must name an environment declared before \"dev\"",
		}},
		{"approvals missing", head + "environments:\n  - {name: dev}\n",
			[]string{policy.Path + ":4:5: environments[0]: missing required field \"approvals\""}},
		{"bad ticket pattern", head + "environments:\n  - {name: dev, approvals: 0, requireTicket: true, ticketPattern: 'CHG-(['}\n",
			[]string{policy.Path + ":4:67: environments[0].ticketPattern \"CHG-([\" is not a valid regex"}},
		{"bad mode", head + "environments:\n  - {name: dev, approvals: 0}\nrules: {order: shadow}\n",
			[]string{policy.Path + ":5:16: rules.order: value must be one of \"enforce\", \"warn\", \"off\""}},
		{"unknown rule family", head + "environments:\n  - {name: dev, approvals: 0}\nrules: {orders: warn}\n",
			[]string{policy.Path + ":5:9: rules: unknown field \"orders\""}},
		{"freeze ends before start", head + "environments:\n  - name: dev\n    approvals: 0\n    freeze:\n      - {name: q4, start: '2026-12-31T00:00:00Z', end: '2026-12-01T00:00:00Z'}\n",
			[]string{policy.Path + ":7:56: freeze window \"q4\" ends before it starts"}},
		{"model in two bundles", head + "environments:\n  - {name: dev, approvals: 0}\nbundles:\n  - {name: a, models: [x, y]}\n  - {name: b, models: [y, z]}\n",
			[]string{policy.Path + ":7:23: model \"y\" is already in bundle \"a\""}},
		{"http location without allowLocal", head + "environments:\n  - {name: dev, approvals: 0}\nartifacts:\n  allowedLocations: ['http://127.0.0.1:10000/devstoreaccount1/models/']\n",
			[]string{policy.Path + ":6:22: allowed location \"http://127.0.0.1:10000/devstoreaccount1/models/\" is invalid: it uses http, which needs artifacts.allowLocal: true (development only)"}},
		{"http location on a remote host", head + "environments:\n  - {name: dev, approvals: 0}\nartifacts:\n  allowLocal: true\n  allowedLocations: ['http://example.com/models/']\n",
			[]string{policy.Path + ":7:22: allowed location \"http://example.com/models/\" is invalid: plain http is only allowed to a loopback host (an address in 127.0.0.0/8, ::1 or localhost)"}},
		{"http location on a non-canonical loopback address", head + "environments:\n  - {name: dev, approvals: 0}\nartifacts:\n  allowLocal: true\n  allowedLocations: ['http://127.1:10000/devstoreaccount1/']\n",
			[]string{policy.Path + ":7:22: allowed location \"http://127.1:10000/devstoreaccount1/\" is invalid: the host looks like an IP address in a non-canonical form"}},
		{"location with user-info", head + "environments:\n  - {name: dev, approvals: 0}\nartifacts:\n  allowedLocations: ['https://user@acct.blob.core.windows.net/models/']\n",
			[]string{policy.Path + ":6:22: allowed location \"https://REDACTED@acct.blob.core.windows.net/models/\" is invalid: it contains user information (user@ or user:password@), which is not allowed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, problems := LoadPolicy(policy.Path, []byte(tt.data), nil)
			if p != nil {
				t.Error("a policy with problems must not be returned")
			}
			var got []string
			for _, pr := range problems {
				got = append(got, pr.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicyLoadSampleModesAllKnown(t *testing.T) {
	for _, f := range evaluate.Families() {
		if !strings.Contains(samplePolicy(t), string(f)) {
			t.Errorf("sample policy does not mention family %s", f)
		}
	}
}

// TestPolicyRulesAcceptEveryFamily requires the typed decoder, and both
// schemas, to accept a mode for each family of the rule table, so that a
// family added to the table without the schema fails here too.
func TestPolicyRulesAcceptEveryFamily(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - name: dev\n    approvals: 1\nrules:\n")
	for _, f := range evaluate.Families() {
		b.WriteString("  " + string(f) + ": warn\n")
	}
	pol, problems := LoadPolicy(policy.Path, []byte(b.String()), BuiltinPolicySchema)
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	for _, f := range evaluate.Families() {
		if got := pol.Mode(f); got != policy.Warn {
			t.Errorf("Mode(%s) = %s, want warn", f, got)
		}
	}
}
