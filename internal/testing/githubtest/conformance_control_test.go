package githubtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/testing/openapitest"
)

// TestConformanceCatchesDrift proves the conformance checks are not
// vacuous: a pull request the emulator served passes, and each kind of
// drift, applied to it, is reported against GitHub's real schema.
func TestConformanceCatchesDrift(t *testing.T) {
	d := openapitest.Require(t)
	e := newEnv(t)
	n := e.openPR(t)
	rec := &recorder{}
	if _, _, err := rec.client(t, e.Fixture, e.instToken).PullRequests.Get(t.Context(), org, repoName, n); err != nil {
		t.Fatal(err)
	}
	op, ok := d.Operation("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
	if !ok {
		t.Fatal("GitHub no longer documents GET /repos/{owner}/{repo}/pulls/{pull_number}")
	}
	pointer, _, err := d.ResponsePointer(op, 200)
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := d.Compile(pointer)
	if err != nil {
		t.Fatal(err)
	}
	served := rec.exchanges[0].body

	tests := []struct {
		name           string
		mutate         func(pr map[string]any)
		wantInvalid    string // a line Explain must contain; empty when valid
		wantUndeclared []string
	}{
		{name: "as served", mutate: func(map[string]any) {}},
		{name: "required member dropped", mutate: func(pr map[string]any) { delete(pr, "head") },
			wantInvalid: `at "" (schema #/components/schemas/pull-request/required): missing properties: 'head'`},
		{name: "wrong type", mutate: func(pr map[string]any) { pr["number"] = "1" },
			wantInvalid: `at "/number" (schema #/components/schemas/pull-request/properties/number/type): expected integer, but got string`},
		{name: "null where GitHub never sends null", mutate: func(pr map[string]any) { pr["head"].(map[string]any)["sha"] = nil },
			wantInvalid: `at "/head/sha" (schema #/components/schemas/pull-request/properties/head/properties/sha/type): expected string, but got null`},
		{name: "null where GitHub may send null", mutate: func(pr map[string]any) { pr["body"] = nil }},
		{name: "timestamp format", mutate: func(pr map[string]any) { pr["created_at"] = "2024-06-01 09:00" },
			wantInvalid: `at "/created_at" (schema #/components/schemas/pull-request/properties/created_at/format): '2024-06-01 09:00' is not valid 'date-time'`},
		{name: "value outside an enum", mutate: func(pr map[string]any) { pr["state"] = "merged" },
			wantInvalid: `at "/state" (schema #/components/schemas/pull-request/properties/state/enum): value must be one of "open", "closed"`},
		{name: "invented member", mutate: func(pr map[string]any) { pr["flavour"] = "vanilla" },
			wantUndeclared: []string{"/flavour"}},
		{name: "member of a fuller object nested where GitHub sends a lesser one", mutate: func(pr map[string]any) {
			pr["head"].(map[string]any)["repo"].(map[string]any)["network_count"] = 0
		}, wantUndeclared: []string{"/head/repo/network_count"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pr map[string]any
			if err := json.Unmarshal(served, &pr); err != nil {
				t.Fatal(err)
			}
			tt.mutate(pr)
			body, err := json.Marshal(pr)
			if err != nil {
				t.Fatal(err)
			}
			err = schemas.Validate(pointer, body)
			switch {
			case tt.wantInvalid == "" && err != nil:
				t.Fatalf("valid body rejected:\n%s", openapitest.Explain(err))
			case tt.wantInvalid != "" && err == nil:
				t.Fatalf("drift not caught, want %q", tt.wantInvalid)
			case tt.wantInvalid != "" && !strings.Contains(openapitest.Explain(err), tt.wantInvalid):
				t.Fatalf("explanation lacks %q:\n%s", tt.wantInvalid, openapitest.Explain(err))
			}
			got, err := schemas.Undeclared(pointer, body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantUndeclared, got); diff != "" {
				t.Errorf("Undeclared (-want +got):\n%s", diff)
			}
		})
	}
}
