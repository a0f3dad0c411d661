package audit

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/testing/audittest"
)

// TestMetricExceptionNamesTheFailedGates reconstructs a history whose last
// promotion to prod fails prod's r2 minimum under an exception label: the
// record says which gate was overridden, with the candidate's and the
// bound's values, and whose approval; a change whose pull request did not
// carry the label records no exception.
func TestMetricExceptionNamesTheFailedGates(t *testing.T) {
	hist := audittest.BuildGatedHistory(t)
	h := reconstruct(t, open(t, hist.Path, RepositoryOptions{}), Options{NoCache: true})
	exception := hist.Commits["exception-1.2.0-prod"]
	verdicts := map[string]Verdict{}
	for _, r := range h.Records {
		v := Verdict{Commit: r.Commit, Reviewed: true, PullRequest: &PullRequest{Number: 1, Approvers: []string{"bob"}}}
		if r.Commit == exception {
			v.PullRequest = &PullRequest{Number: 2, Approvers: []string{"bob", "dave"}, Labels: []string{"Metric-Exception"}}
		}
		verdicts[r.Commit] = v
	}
	if err := Enrich(t.Context(), h.Records, &fakeReviewer{verdicts: verdicts}); err != nil {
		t.Fatal(err)
	}
	f := func(x float64) *float64 { return &x }
	seen := false
	for _, r := range h.Records {
		var want *MetricException
		if r.Commit == exception {
			seen = true
			want = &MetricException{Label: audittest.ExceptionLabel, Approvers: []string{"bob", "dave"},
				Gates: []evaluate.GateFailure{{Metric: "r2", Gate: evaluate.GateMin, Candidate: f(0.63), Bound: f(0.65)}}}
		}
		if diff := cmp.Diff(want, r.MetricException); diff != "" {
			t.Errorf("%s %s/%s at %.12s: metric exception (-want +got):\n%s", r.Kind, r.Environment, r.Model, r.Commit, diff)
		}
	}
	if !seen {
		t.Errorf("no record of the exception's commit %s", exception)
	}
}
