package evaluate_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// sampleInput builds the input of a sample scenario that promotes the
// unbundled model to prod with two approvals, for edits an adapter could
// produce but a scenario cannot express.
func sampleInput(t *testing.T) *evaluate.Input {
	t.Helper()
	s := evaltest.Sample(t.Name())
	s.Head = evaltest.Promote("prod", evaltest.V2, evaltest.Unbundled)
	s.Reviews = evaltest.Approve("mara", "rita")
	in, err := evaltest.Input(s)
	if err != nil {
		t.Fatal(err)
	}
	if res := evaluate.Evaluate(in); res.Verdict != evaluate.VerdictPass {
		t.Fatalf("the sample input does not pass: %s", res.Title)
	}
	return in
}

func ruleMessages(res *evaluate.Result, status evaluate.Status) []string {
	var out []string
	for _, r := range res.Rules {
		if r.Status == status {
			out = append(out, r.ID+": "+r.Message)
		}
	}
	return out
}

func TestInputEdges(t *testing.T) {
	prod := evaltest.ManifestPath("prod", evaltest.Unbundled)
	tests := []struct {
		name        string
		edit        func(in *evaluate.Input)
		wantVerdict evaluate.Verdict
		wantTitle   string
	}{
		{
			name:        "a changed manifest whose head was not loaded fails closed",
			edit:        func(in *evaluate.Input) { delete(in.Head, prod) },
			wantVerdict: evaluate.VerdictFail,
			wantTitle:   "the head version of environments/prod/lasso-spx.yaml was not loaded, so it cannot be checked",
		},
		{
			name:        "no policy and no problems still fails closed",
			edit:        func(in *evaluate.Input) { in.Policy = nil },
			wantVerdict: evaluate.VerdictFail,
			wantTitle:   "the base branch has no valid policy .github/promobot.yaml; every promotion change fails closed",
		},
		{
			name: "several policy problems are counted in the title",
			edit: func(in *evaluate.Input) {
				in.Policy = nil
				in.PolicyProblems = []diag.Problem{
					{File: ".github/promobot.yaml", Line: 3, Column: 1, Message: "first"},
					{File: ".github/promobot.yaml", Line: 9, Column: 1, Message: "second"},
				}
			},
			wantVerdict: evaluate.VerdictFail,
			wantTitle:   "the base policy .github/promobot.yaml has 2 problems (first: .github/promobot.yaml:3:1: first); every promotion change fails closed",
		},
		{
			name:        "without a head commit no approval is current",
			edit:        func(in *evaluate.Input) { in.PullRequest.HeadSHA = "" },
			wantVerdict: evaluate.VerdictFail,
			wantTitle:   "needs 2 more approvals from @example-org/model-risk or @example-org/release-managers for environments/prod/lasso-spx.yaml",
		},
		{
			name:        "commit ids compare case-insensitively",
			edit:        func(in *evaluate.Input) { in.PullRequest.HeadSHA = strings.ToUpper(in.PullRequest.HeadSHA) },
			wantVerdict: evaluate.VerdictPass,
			wantTitle:   "all rules pass, 2/2 approvals",
		},
		{
			name:        "a login missing from the permission data has no write access",
			edit:        func(in *evaluate.Input) { in.WritePermission = map[string]bool{"mara": true} },
			wantVerdict: evaluate.VerdictFail,
			wantTitle:   "needs 1 more approval from @example-org/model-risk or @example-org/release-managers for environments/prod/lasso-spx.yaml",
		},
		{
			name: "a duplicated change is evaluated once",
			edit: func(in *evaluate.Input) {
				in.Changes = append(in.Changes, in.Changes...)
			},
			wantVerdict: evaluate.VerdictPass,
			wantTitle:   "all rules pass, 2/2 approvals",
		},
		{
			name: "reviews without a user are ignored",
			edit: func(in *evaluate.Input) {
				in.Reviews = append(in.Reviews, evaluate.Review{State: evaluate.ChangesRequested, CommitID: evaltest.HeadSHA})
			},
			wantVerdict: evaluate.VerdictPass,
			wantTitle:   "all rules pass, 2/2 approvals",
		},
		{
			name: "a team listed with upper-case members resolves",
			edit: func(in *evaluate.Input) {
				in.Teams["example-org/release-managers"] = []string{"RITA"}
			},
			wantVerdict: evaluate.VerdictPass,
			wantTitle:   "all rules pass, 2/2 approvals",
		},
		{
			name: "a removed file with a stale head document is a removal",
			edit: func(in *evaluate.Input) {
				in.Changes = []evaluate.Change{{Path: prod, Status: evaluate.Removed}}
			},
			wantVerdict: evaluate.VerdictPass,
			wantTitle:   "all rules pass, 2/2 approvals",
		},
		{
			name: "an author writing GitHub's own address is reported as unattributed",
			edit: func(in *evaluate.Input) {
				in.Commits[0].Author = evaluate.Identity{Name: "Mallory", Email: "noreply@github.com"}
			},
			wantVerdict: evaluate.VerdictPass,
			wantTitle:   "all rules pass (1 warning), 2/2 approvals",
		},
		{
			name: "GitHub's own address stays unattributed whatever login it was mapped to",
			edit: func(in *evaluate.Input) {
				in.Commits[0].CoAuthors = []evaluate.Identity{{Name: "GitHub", Email: "NoReply@GitHub.com", Login: "web-flow"}}
			},
			wantVerdict: evaluate.VerdictPass,
			wantTitle:   "all rules pass (1 warning), 2/2 approvals",
		},
		{
			name: "GitHub's web committer is not reported as unmapped",
			edit: func(in *evaluate.Input) {
				in.Commits[0].Committer = evaluate.Identity{Name: "GitHub", Email: "noreply@github.com"}
			},
			wantVerdict: evaluate.VerdictPass,
			wantTitle:   "all rules pass, 2/2 approvals",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sampleInput(t)
			tt.edit(in)
			res := evaluate.Evaluate(in)
			if res.Verdict != tt.wantVerdict || res.Title != tt.wantTitle {
				t.Errorf("got %s %q\nwant %s %q\nfailures: %q", res.Verdict, res.Title, tt.wantVerdict, tt.wantTitle, ruleMessages(res, evaluate.StatusFail))
			}
		})
	}
}

func TestOwnersWarningsAreCapped(t *testing.T) {
	in := sampleInput(t)
	for i := range 25 {
		in.OwnersWarnings = append(in.OwnersWarnings, codeowners.Warning{Line: i + 1, Column: 1, Message: "bad line"})
	}
	res := evaluate.Evaluate(in)
	var got []string
	for _, r := range res.Rules {
		if r.ID == "codeowners" {
			got = append(got, r.Message)
		}
	}
	if len(got) != 11 || got[10] != "15 more problems in .github/CODEOWNERS" {
		t.Errorf("got %d codeowners rules, last %q; want 10 and a count of 15 more", len(got), got[len(got)-1])
	}
	if res.Verdict != evaluate.VerdictPass {
		t.Errorf("CODEOWNERS warnings must not block: %s", res.Title)
	}
}

func TestRollbackToTheCurrentPinSaysNow(t *testing.T) {
	in := sampleInput(t)
	prod := evaltest.ManifestPath("prod", evaltest.Unbundled)
	pins := in.History[prod]
	pins[len(pins)-1].Version = evaltest.V2 // history claims V2 is still pinned
	res := evaluate.Evaluate(in)
	want := "rollback to 2026.11.13-2, pinned in prod from 2026-11-10 to now"
	for _, r := range res.Rules {
		if r.ID == "rollback" && r.Message == want {
			return
		}
	}
	t.Errorf("no rollback rule %q in %q", want, ruleMessages(res, evaluate.StatusPass))
}

func TestPromotionMetricsSideBySide(t *testing.T) {
	in := sampleInput(t)
	res := evaluate.Evaluate(in)
	if len(res.Promotions) != 1 {
		t.Fatalf("got %d promotions", len(res.Promotions))
	}
	p := res.Promotions[0]
	p.Metrics = nil
	p.ArtifactSHA256, p.Ticket = "", ""
	want := evaluate.Promotion{
		Model: "lasso-spx", Environment: "prod", File: "environments/prod/lasso-spx.yaml", Kind: evaluate.KindPromote,
		FromVersion: evaltest.V1, ToVersion: evaltest.V2, SourceEnvironment: "test", Validation: "passed",
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("promotion (-want +got):\n%s", diff)
	}
	var names []string
	for _, m := range res.Promotions[0].Metrics {
		if m.New == nil || m.Current == nil {
			t.Errorf("metric %s lacks a side", m.Name)
		}
		names = append(names, m.Name)
	}
	if diff := cmp.Diff([]string{"mae", "r2", "rmse"}, names); diff != "" {
		t.Errorf("metric names (-want +got):\n%s", diff)
	}
}

func TestEnums(t *testing.T) {
	for _, v := range []evaluate.Verdict{evaluate.VerdictPass, evaluate.VerdictFail} {
		text, _ := v.MarshalText()
		var back evaluate.Verdict
		if err := back.UnmarshalText(text); err != nil || back != v {
			t.Errorf("verdict %s did not round-trip: %v %v", v, back, err)
		}
	}
	for _, s := range []evaluate.Status{evaluate.StatusPass, evaluate.StatusFail, evaluate.StatusWarn, evaluate.StatusSkip} {
		text, _ := s.MarshalText()
		var back evaluate.Status
		if err := back.UnmarshalText(text); err != nil || back != s {
			t.Errorf("status %s did not round-trip: %v %v", s, back, err)
		}
	}
	var zero evaluate.Result
	if zero.Verdict != evaluate.VerdictFail || (evaluate.RuleResult{}).Status != evaluate.StatusFail {
		t.Error("zero values must fail closed")
	}
	if got := evaluate.Status(42).String(); got != "Status(42)" {
		t.Errorf("Status(42).String() = %q", got)
	}
	var v evaluate.Verdict
	if err := json.Unmarshal([]byte(`"maybe"`), &v); err == nil {
		t.Error("an unknown verdict must not parse")
	}
}

func TestAnnotations(t *testing.T) {
	res := &evaluate.Result{Rules: []evaluate.RuleResult{
		{ID: "order", Family: "order", Status: evaluate.StatusFail, File: "b.yaml", Line: 5, Column: 10, Message: "not in test"},
		{ID: "ticket", Family: "ticket", Status: evaluate.StatusWarn, File: "a.yaml", Message: "no ticket"},
		{ID: "rollback", Family: "order", Status: evaluate.StatusPass, File: "a.yaml", Line: 5, Message: "rollback to v1"},
		{ID: "schema", Family: "schema", Status: evaluate.StatusPass, File: "a.yaml", Message: "valid"},
		{ID: "artifact", Family: "artifacts", Status: evaluate.StatusSkip, File: "a.yaml", Message: "not verified"},
		{ID: "unmapped-identity", Family: "approvals", Status: evaluate.StatusWarn, Message: "no file"},
	}}
	want := []evaluate.Annotation{
		{Path: "a.yaml", Line: 1, Level: evaluate.AnnotationWarning, Title: "promobot: ticket", Message: "no ticket"},
		{Path: "a.yaml", Line: 5, Level: evaluate.AnnotationNotice, Title: "promobot: order/rollback", Message: "rollback to v1"},
		{Path: "b.yaml", Line: 5, Column: 10, Level: evaluate.AnnotationFailure, Title: "promobot: order", Message: "not in test"},
	}
	if diff := cmp.Diff(want, evaluate.Annotations(res)); diff != "" {
		t.Errorf("Annotations (-want +got):\n%s", diff)
	}
}

func TestMarkdownEscapesUntrustedText(t *testing.T) {
	res := &evaluate.Result{
		Title: "a | b <img src=x> *bold* [link](http://x)\nnext",
		Rules: []evaluate.RuleResult{{ID: "x", Family: "schema", Status: evaluate.StatusFail, File: "a`b|c.yaml", Message: "cell | pipe"}},
	}
	var b bytes.Buffer
	if err := evaluate.RenderMarkdown(&b, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<img", "*bold*", "[link]", "a | b", "cell | pipe", "a`b"} {
		if strings.Contains(out, bad) {
			t.Errorf("markdown keeps %q unescaped:\n%s", bad, out)
		}
	}
	if strings.Count(out, "\n") != strings.Count(strings.TrimSpace(out), "\n")+1 || strings.Contains(out, "\nnext") {
		t.Errorf("a newline in the title broke the heading:\n%s", out)
	}
}

func TestMarkdownStaysUnderTheCheckRunLimit(t *testing.T) {
	res := evaluate.Evaluate(benchInput(t, 200, 200, 1000))
	var b bytes.Buffer
	if err := evaluate.RenderMarkdown(&b, res); err != nil {
		t.Fatal(err)
	}
	if b.Len() > evaluate.MaxMarkdownSize {
		t.Errorf("markdown is %d bytes, limit %d", b.Len(), evaluate.MaxMarkdownSize)
	}
	if !strings.Contains(b.String(), "passing or skipped rules are not shown") {
		t.Errorf("a long result should hide passing rules:\n%s", b.String()[b.Len()-3000:])
	}
}

// TestLayoutChanges adds layout changes, as an adapter reports them, to the
// sample prod promotion (approved by prod's owners only): each is named and
// needs governance approvals, whatever its path looks like.
func TestLayoutChanges(t *testing.T) {
	tests := []struct {
		name      string
		changes   []evaluate.Change
		reviews   []string
		wantTitle string
	}{
		{
			name:      "a gated folder that becomes a symbolic link",
			changes:   []evaluate.Change{{Path: "environments", Status: evaluate.Added, After: evaluate.EntrySymlink}},
			wantTitle: "environments is added as a symbolic link; promobot reads environments/, schemas/, the policy and CODEOWNERS only as regular files in folders, so what it points to is never checked (and 1 more problem)",
		},
		{
			name:      "a file where the policy's folder belongs",
			changes:   []evaluate.Change{{Path: ".github", Status: evaluate.Added}},
			wantTitle: ".github is added as a file; a folder of gated files is expected there (and 1 more problem)",
		},
		{
			name:      "a file above a CODEOWNERS location needs governance approvals",
			changes:   []evaluate.Change{{Path: "docs", Status: evaluate.Added}},
			wantTitle: "docs is added as a file: needs 2 more approvals from @example-org/platform-admins for docs",
		},
		{
			name:      "a file above a CODEOWNERS location passes with governance approvals",
			changes:   []evaluate.Change{{Path: "docs", Status: evaluate.Added}},
			reviews:   []string{"pat", "paula"},
			wantTitle: "all rules pass, 2/2 approvals",
		},
		{
			name:      "a symbolic link that becomes a file in a schema folder",
			changes:   []evaluate.Change{{Path: "schemas/extra.json", Status: evaluate.Modified, Before: evaluate.EntrySymlink}},
			wantTitle: "schemas/extra.json is replaced by a file: needs 2 more approvals from @example-org/platform-admins for schemas/extra.json",
		},
		{
			name:      "a submodule under the environments is never a manifest",
			changes:   []evaluate.Change{{Path: "environments/prod/x.yaml", Status: evaluate.Added, After: evaluate.EntrySubmodule}},
			wantTitle: "environments/prod/x.yaml is added as a submodule; promobot reads",
		},
		{
			name:      "a symbolic link elsewhere is not gated",
			changes:   []evaluate.Change{{Path: "docs/guide", Status: evaluate.Added, After: evaluate.EntrySymlink}},
			wantTitle: "all rules pass, 2/2 approvals",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sampleInput(t)
			in.Changes = append(in.Changes, tt.changes...)
			for i, login := range tt.reviews {
				in.Reviews = append(in.Reviews, evaluate.Review{ID: int64(100 + i), User: login, State: evaluate.Approved, CommitID: evaltest.HeadSHA})
			}
			res := evaluate.Evaluate(in)
			if !strings.HasPrefix(res.Title, tt.wantTitle) {
				t.Errorf("title %q\nwant prefix %q\nfailures: %q", res.Title, tt.wantTitle, ruleMessages(res, evaluate.StatusFail))
			}
		})
	}
}

// TestDeployed judges manifests of the sample base tree with the rules a
// tree can answer.
func TestDeployed(t *testing.T) {
	prod := evaltest.ManifestPath("prod", evaltest.Unbundled)
	tests := []struct {
		name      string
		path      string
		base      map[string]string
		policy    string
		want      evaluate.Verdict
		wantTitle string
	}{
		{name: "the sample prod pin", path: prod, want: evaluate.VerdictPass, wantTitle: "every rule judged from the tree passes"},
		{
			name: "a prod pin without a ticket", path: prod,
			base:      map[string]string{prod: evaltest.ManifestWith("prod", evaltest.Unbundled, evaltest.V1, "passed", "")},
			want:      evaluate.VerdictFail,
			wantTitle: "environments/prod/lasso-spx.yaml: approval.ticket is missing; prod requires a change ticket matching CHG-[0-9]{3,7}",
		},
		{
			name: "a ticket in warn mode", path: prod, policy: evaltest.Policy + "rules:\n  ticket: warn\n",
			base:      map[string]string{prod: evaltest.ManifestWith("prod", evaltest.Unbundled, evaltest.V1, "passed", "")},
			want:      evaluate.VerdictPass,
			wantTitle: "every rule judged from the tree passes",
		},
		{
			name: "the version test pins with another validation", path: prod,
			base:      map[string]string{prod: evaltest.ManifestWith("prod", evaltest.Unbundled, evaltest.V2, "failed", evaltest.Ticket(evaltest.V2))},
			want:      evaluate.VerdictFail,
			wantTitle: `environments/prod/lasso-spx.yaml: validation.status is "failed"; prod requires passed`,
		},
		{
			name: "no manifest", path: evaltest.ManifestPath("prod", "absent"),
			want: evaluate.VerdictFail, wantTitle: "no manifest at environments/prod/absent.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := evaltest.Sample(tt.name)
			maps.Copy(s.Base, tt.base)
			if tt.policy != "" {
				s.Base[".github/promobot.yaml"] = tt.policy
			}
			in, err := evaltest.Input(s)
			if err != nil {
				t.Fatal(err)
			}
			res := evaluate.Deployed(in, tt.path)
			if res.Verdict != tt.want || res.Title != tt.wantTitle {
				t.Errorf("got %s %q\nwant %s %q", res.Verdict, res.Title, tt.want, tt.wantTitle)
			}
			for _, r := range res.Rules {
				if !slices.Contains(evaluate.DeployedRules, r.ID) {
					t.Errorf("rule %s is not one a tree can judge", r.ID)
				}
			}
		})
	}
}
