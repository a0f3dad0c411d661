package repoconfig

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/policy"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/schemas"
)

// loosened returns the built-in policy schema with edit applied to its
// decoded JSON, compiled: what an approved change to the repository's
// schemas/policy.schema.json can make of it.
func loosened(t testing.TB, edit func(root map[string]any)) *schema.Schema {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(schemas.Policy, &root); err != nil {
		t.Fatal(err)
	}
	edit(root)
	data, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Compile("policy.schema.json", data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func environmentItem(root map[string]any) map[string]any {
	return root["properties"].(map[string]any)["environments"].(map[string]any)["items"].(map[string]any)
}

// TestLoadWithLoosenedRepositorySchema: the repository's schema can only
// add constraints. A document that the loosened copy accepts and the
// built-in schema refuses is refused with a positioned problem, never a
// panic (the policy loader used to assert the types the repository's schema
// promised).
func TestPolicyLoadWithLoosenedRepositorySchema(t *testing.T) {
	head := "apiVersion: promobot/v1\nkind: PromotionPolicy\n"
	anything, err := schema.Compile("policy.schema.json", []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema"}`))
	if err != nil {
		t.Fatal(err)
	}
	anyApprovals := loosened(t, func(root map[string]any) {
		environmentItem(root)["properties"].(map[string]any)["approvals"] = map[string]any{"description": "anything"}
	})
	openEnvironments := loosened(t, func(root map[string]any) {
		delete(environmentItem(root), "additionalProperties")
	})
	const note = " (promobot's built-in schema; schemas/policy.schema.json may add constraints but cannot remove them)"
	tests := []struct {
		name   string
		schema *schema.Schema
		data   string
		want   []string
	}{
		{"approvals as a string", anyApprovals, head + "environments:\n  - {name: dev, approvals: two}\n",
			[]string{policy.Path + ":4:28: environments[0].approvals: expected integer, but got string" + note}},
		{"approvals out of range", anyApprovals, head + "environments:\n  - {name: dev, approvals: 99}\n",
			[]string{policy.Path + ":4:28: environments[0].approvals: must be <= 10 but found 99" + note}},
		{"unknown environment field", openEnvironments, head + "environments:\n  - {name: dev, approvals: 0, approvers: [ann]}\n",
			[]string{policy.Path + ":4:31: environments[0]: unknown field \"approvers\"" + note}},
		{"empty document", anything, "{}\n", []string{
			policy.Path + ":1:1: missing required field \"apiVersion\"" + note,
			policy.Path + ":1:1: missing required field \"environments\"" + note,
			policy.Path + ":1:1: missing required field \"kind\"" + note,
		}},
		{"environments not a list", anything, head + "environments: 5\n",
			[]string{policy.Path + ":3:15: environments: expected array, but got number" + note}},
		{"a scalar document", anything, "42\n",
			[]string{policy.Path + ":1:1: document: expected object, but got number" + note}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ps := tt.schema.Problems(policy.Path, mustParse(t, tt.data)); len(ps) != 0 {
				t.Fatalf("the loosened schema should accept the document: %v", ps)
			}
			p, problems := LoadPolicy(policy.Path, []byte(tt.data), tt.schema)
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

// TestLoadWholeNumberAsDecimal: JSON Schema's integer type accepts 2.0;
// the loader used to assert int64 and panicked.
func TestPolicyLoadWholeNumberAsDecimal(t *testing.T) {
	data := "apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - {name: dev, approvals: 2.0}\ngovernance: {approvals: 3.0}\n"
	p, problems := LoadPolicy(policy.Path, []byte(data), nil)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	if p.Environments[0].Approvals != 2 || p.Governance.Approvals != 3 {
		t.Errorf("approvals %d, governance %d; want 2 and 3", p.Environments[0].Approvals, p.Governance.Approvals)
	}
}

// TestReaderRefusesWhatItCannotRepresent drives the decoder directly, as a
// schema that let anything through would: every wrong type is a
// positioned problem.
func TestPolicyReaderRefusesWhatItCannotRepresent(t *testing.T) {
	data := `apiVersion: promobot/v1
kind: PromotionPolicy
environments:
  - name: [dev]
    approvals: 1.5
    requireTicket: "yes"
    requiredLineage: [trainingRun, gitSha]
    freeze:
      - {name: q4, start: tomorrow, end: "2026-12-01T00:00:00Z"}
  - 7
governance: {approvals: -1}
rules: {order: shadow, speed: enforce}
`
	b := builder{reader: reader{file: policy.Path, doc: mustParse(t, data)}}
	b.build(b.doc.Value)
	diag.Sort(b.problems)
	var got []string
	for _, pr := range b.problems {
		got = append(got, pr.String())
	}
	want := []string{
		policy.Path + `:4:11: environments[0].name: promobot cannot represent a list here: it must be a string`,
		policy.Path + `:4:11: environments[0]: an environment needs a name`,
		policy.Path + `:5:16: environments[0].approvals: promobot cannot represent the number 1.5 here: it must be a whole number from 0 to 10`,
		policy.Path + `:6:20: environments[0].requireTicket: promobot cannot represent the string "yes" here: it must be true or false`,
		policy.Path + `:7:36: environments[0].requiredLineage[1]: promobot cannot represent the string "gitSha" here: it must be one of [trainingRun sourceCommit dataWindow featureSet dataVersion]`,
		policy.Path + `:9:27: environments[0].freeze[0].start: promobot cannot represent the string "tomorrow" here: it must be an RFC 3339 date-time such as 2026-12-23T00:00:00Z`,
		policy.Path + `:10:5: environments[1]: promobot cannot represent the number 7 here: it must be a mapping`,
		policy.Path + `:11:25: governance.approvals: promobot cannot represent the number -1 here: it must be a whole number from 0 to 10`,
		policy.Path + `:12:16: rules.order: promobot cannot represent the string "shadow" here: it must be enforce, warn or off`,
		policy.Path + `:12:24: rules: unknown field "speed": promobot does not know it`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestLoadedLocationsAreUsable: the loader and the location rule share one
// notion of loopback, so an allowed location the policy accepts is one
// artifact URIs can lie under. The loader used to accept any host starting
// with "127." while the rule accepted only 127.0.0.1.
func TestPolicyLoadedLocationsAreUsable(t *testing.T) {
	for _, loc := range []string{
		"http://127.0.0.1:10000/devstoreaccount1/models/",
		"http://127.0.0.2:10000/devstoreaccount1/models/",
		"http://127.200.3.4:10000/devstoreaccount1/models/",
		"http://[::1]:10000/devstoreaccount1/models/",
		"http://localhost:10000/devstoreaccount1/models/",
	} {
		data := "apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - {name: dev, approvals: 0}\nartifacts:\n  allowLocal: true\n  allowedLocations: ['" + loc + "']\n"
		p, problems := LoadPolicy(policy.Path, []byte(data), nil)
		if len(problems) != 0 {
			t.Errorf("%s: %v", loc, problems)
			continue
		}
		uri := loc + "m/1/model.pkl"
		if _, err := location.Check(uri, p.Artifacts.AllowedLocations, p.Artifacts.AllowLocal); err != nil {
			t.Errorf("the policy accepts %s, but the location rule refuses %s: %v", loc, uri, err)
		}
	}
}

func TestPolicyLoadVerifyArtifacts(t *testing.T) {
	p, problems := LoadPolicy(policy.Path, []byte(samplePolicy(t)), nil)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	for _, e := range p.Environments {
		if want := e.Name == "prod"; e.VerifyArtifacts != want {
			t.Errorf("%s: verifyArtifacts = %v, want %v", e.Name, e.VerifyArtifacts, want)
		}
	}
}

// FuzzLoad feeds the loader arbitrary (repository schema, document) pairs.
// It must never panic; a policy it returns must satisfy the built-in schema
// (the repository's may only add constraints) and the invariants the engine
// relies on.
func FuzzLoadPolicy(f *testing.F) {
	sample, err := readSample()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{string(schemas.Policy), `{}`, `true`, `{"type": "object"}`,
		strings.Replace(string(schemas.Policy), `"additionalProperties": false`, `"additionalProperties": true`, -1),
		strings.Replace(string(schemas.Policy), `"type": "integer"`, `"type": ["integer", "string"]`, -1)} {
		for _, d := range []string{sample, "{}", "42", "environments: 5",
			"apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - {name: dev, approvals: two}\n",
			"apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - {name: dev, approvals: 2.0}\n",
			"apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments: []\n",
		} {
			f.Add(s, d)
		}
	}
	f.Fuzz(func(t *testing.T, schemaText, doc string) {
		sch, err := schema.Compile("policy.schema.json", []byte(schemaText))
		if err != nil {
			return
		}
		p, problems := LoadPolicy(policy.Path, []byte(doc), sch)
		if (p == nil) == (len(problems) == 0) {
			t.Fatalf("Load returned policy %v with %d problems", p != nil, len(problems))
		}
		for _, pr := range problems {
			if pr.File != policy.Path || pr.Message == "" {
				t.Fatalf("problem without file or message: %+v", pr)
			}
		}
		if p == nil {
			return
		}
		if again, ps := LoadPolicy(policy.Path, []byte(doc), nil); again == nil {
			t.Fatalf("accepted with a repository schema, refused by the built-in one: %v", ps)
		}
		if len(p.Environments) == 0 || p.First() == nil {
			t.Fatal("a loaded policy has no environment")
		}
		for _, e := range p.Environments {
			if e.Name == "" || e.Approvals < 0 || e.Approvals > maxApprovals {
				t.Fatalf("environment %+v", e)
			}
			if e.TicketPattern != "" && e.TicketRegexp == nil {
				t.Fatalf("environment %s has a pattern without a regexp", e.Name)
			}
		}
		for _, loc := range p.Artifacts.AllowedLocations {
			if err := location.CheckAllowed(loc, p.Artifacts.AllowLocal); err != nil {
				t.Fatalf("loaded an allowed location the rule cannot use: %v", err)
			}
		}
		for fam, m := range p.Rules {
			if m != policy.Enforce && m != policy.Warn && m != policy.Off {
				t.Fatalf("rule %s has mode %q", fam, m)
			}
		}
	})
}
