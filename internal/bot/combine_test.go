package bot

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/githubapi"
)

func TestCombine(t *testing.T) {
	ann := githubapi.Annotation{Path: "environments/prod/x.yaml", StartLine: 3, EndLine: 3, Level: githubapi.LevelFailure, Message: "m"}
	pass := func(n int) prOutcome {
		return prOutcome{number: n, report: report{conclusion: githubapi.ConclusionSuccess, title: "all rules pass", summary: "ok"}, state: prState{number: n}}
	}
	fail := func(n int, title string) prOutcome {
		return prOutcome{number: n, report: report{conclusion: githubapi.ConclusionFailure, title: title, summary: "no", annotations: []githubapi.Annotation{ann}}, state: prState{number: n}}
	}
	broken := prOutcome{number: 7, err: &githubapi.Error{Op: "list reviews of x#7", Status: 502, Err: errFake}}
	tests := []struct {
		name           string
		outcomes       []prOutcome
		wantConclusion string
		wantTitle      string
		wantAnns       int
		wantFP         bool
	}{
		{name: "one passing", outcomes: []prOutcome{pass(5)}, wantConclusion: "success", wantTitle: "all rules pass", wantFP: true},
		{name: "one that could not be evaluated", outcomes: []prOutcome{broken}, wantConclusion: "failure",
			wantTitle: "could not evaluate: GitHub answered 502 to list reviews of x#7"},
		{name: "all pass", outcomes: []prOutcome{pass(5), pass(6)}, wantConclusion: "success",
			wantTitle: "all 2 pull requests with this head pass (#5, #6)", wantFP: true},
		{name: "the strictest wins", outcomes: []prOutcome{pass(5), fail(6, "needs 1 more approval")}, wantConclusion: "failure",
			wantTitle: "#6: needs 1 more approval", wantAnns: 1, wantFP: true},
		{name: "the same annotation once", outcomes: []prOutcome{fail(5, "a"), fail(6, "b")}, wantConclusion: "failure",
			wantTitle: "#5: a; #6: b", wantAnns: 1, wantFP: true},
		{name: "an error marks the whole", outcomes: []prOutcome{pass(5), broken}, wantConclusion: "failure",
			wantTitle: "could not evaluate #7: could not evaluate: GitHub answered 502 to list reviews of x#7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := combine(tc.outcomes)
			if got.conclusion != tc.wantConclusion || got.title != tc.wantTitle || len(got.annotations) != tc.wantAnns {
				t.Errorf("combine = %s %q with %d annotations; want %s %q with %d", got.conclusion, got.title, len(got.annotations), tc.wantConclusion, tc.wantTitle, tc.wantAnns)
			}
			if (got.externalID != "") != tc.wantFP || (got.cause == nil) != tc.wantFP {
				t.Errorf("fingerprint %q, cause %v; want a fingerprint %v and no cause", got.externalID, got.cause, tc.wantFP)
			}
			if len(tc.outcomes) > 1 {
				for _, o := range tc.outcomes {
					if want := fmt.Sprintf("# Pull request #%d", o.number); !strings.Contains(got.summary, want) {
						t.Errorf("summary lacks %q:\n%s", want, got.summary)
					}
				}
			}
		})
	}
}

func TestMergeGroupReportTitles(t *testing.T) {
	g := mergeGroup{headSHA: shaA, baseSHA: shaB, headRef: "refs/heads/gh-readonly-queue/main/pr-1-" + shaB, baseRef: "refs/heads/main"}
	tests := []struct{ in, want string }{
		{in: "all rules pass, 2/2 approvals", want: "merge group: all rules pass, 2/2 approvals"},
		{in: "could not evaluate: GitHub answered 502 to get pull request", want: "could not evaluate merge group: GitHub answered 502 to get pull request"},
		{in: "could not evaluate #2: x", want: "could not evaluate merge group #2: x"},
	}
	var got []string
	var want []string
	for _, tc := range tests {
		r := mergeGroupReport(g, report{title: tc.in, externalID: "fp"})
		got = append(got, r.title)
		want = append(want, tc.want)
		if r.externalID != "" || !strings.HasPrefix(r.summary, "Merge queue commit `aaaaaaa` on `gh-readonly-queue/main/pr-1-") {
			t.Errorf("report %+v", r)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("titles (-want +got):\n%s", diff)
	}
}
