package attest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/schemas"
)

// TestIssuedPredicatesMatchSchema validates the predicates of issued
// bundles, decoded from their payload, against the published schema.
func TestIssuedPredicatesMatchSchema(t *testing.T) {
	bot, _, _ := newPEMSigner(t)
	s := schema.MustCompile(schemas.PromotionAttestationPath, schemas.PromotionAttestation)
	minimal := samplePredicate()
	minimal.PreviousVersion, minimal.Ticket, minimal.Rationale, minimal.Policy = "", "", "", PolicyRef{}
	minimal.ChangeKind = ChangeRegistration
	unreviewed := sampleBaseline()
	unreviewed.AcceptUnreviewed, unreviewed.Approvers = true, []Approver{}
	for name, p := range map[string]Predicate{"merge": samplePredicate(), "minimal": minimal, "baseline": sampleBaseline(), "unreviewed baseline": unreviewed} {
		t.Run(name, func(t *testing.T) {
			b := issue(t, bot, sampleSubject(), p)
			st := editStatementView(t, b)
			if v := s.Validate(st["predicate"]); v != nil {
				t.Errorf("the issued predicate does not match the schema: %v", v)
			}
		})
	}
}

// editStatementView returns the decoded statement of a bundle.
func editStatementView(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var st map[string]any
	editStatement(t, b, func(m map[string]any) { st = m })
	// Round-trip through JSON so numbers are float64 like any decoder's.
	raw, _ := json.Marshal(st)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPredicateValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *Predicate)
		want string
	}{
		{"no repository", func(p *Predicate) { p.Repository = "" }, "repository"},
		{"bad change kind", func(p *Predicate) { p.ChangeKind = "hotfix" }, "changeKind"},
		{"short merge sha", func(p *Predicate) { p.Commits.Merge = "abc" }, "commits.merge"},
		{"merge without pull request", func(p *Predicate) { p.PullRequest = nil }, `missing required field "pullRequest"`},
		{"merge accepting unreviewed", func(p *Predicate) { p.AcceptUnreviewed = true }, "acceptUnreviewed"},
		{"baseline with merge kind", func(p *Predicate) { p.Baseline = true }, "changeKind"},
		{"id beyond JSON integers", func(p *Predicate) { p.CheckRunID = 1 << 60 }, "checkRunId"},
		{"bad status", func(p *Predicate) { p.Rules[0].Status = "ok" }, "rules[0].status"},
		{"no signing time", func(p *Predicate) { p.SignedAt = time.Time{} }, "the predicate has no signing time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := samplePredicate()
			tc.edit(&p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
