package bot

import (
	"regexp"
	"strconv"
	"testing"
)

// metricValue returns the value of an unlabelled sample on GET /metrics,
// zero when it is absent.
func (h *harness) metricValue(name string) float64 {
	h.T.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+]+)$`).FindStringSubmatch(h.get("/metrics"))
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		h.T.Fatal(err)
	}
	return v
}

// TestEndToEndCoalescesIdenticalInputs shows the evaluations of identical
// inputs dropping: the check_suite delivery that follows every push, and a
// pull_request delivery repeated, no longer evaluate the head again, while
// a change of reviews, labels or base still does and a re-run asked for
// always does.
func TestEndToEndCoalescesIdenticalInputs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, head := h.promotion(nil)
	evaluations := func() float64 {
		return h.metricValue(`promobot_evaluation_duration_seconds_count{conclusion="failure"}`) +
			h.metricValue(`promobot_evaluation_duration_seconds_count{conclusion="success"}`)
	}
	suite := func(action string) {
		t.Helper()
		p, err := h.Em.CheckSuiteEvent(t.Context(), testOwner, testRepo, head, action, "alex")
		if err != nil {
			t.Fatal(err)
		}
		h.event("check_suite", p)
	}

	// A push: pull_request synchronize, then check_suite requested. Before
	// coalescing both evaluated the same head; now the second is dropped.
	h.pullRequestEvent(n, "synchronize")
	suite("requested")
	h.want("pushed", head, "failure", []string{"needs 2 more approvals"}, nil)
	if got, want := h.runs(head), 1; got != want {
		t.Errorf("%d check runs after synchronize + check_suite, want %d", got, want)
	}
	if got := evaluations(); got != 1 {
		t.Errorf("%v evaluations of identical inputs, want 1", got)
	}
	if got := h.metricValue("promobot_evaluations_coalesced_total"); got != 1 {
		t.Errorf("promobot_evaluations_coalesced_total = %v, want 1", got)
	}

	// The same delivery again (a redelivery, another replica's copy).
	h.pullRequestEvent(n, "synchronize")
	if got := h.runs(head); got != 1 {
		t.Errorf("%d check runs after a repeated delivery, want 1", got)
	}

	// New inputs are evaluated: reviews change the fingerprint.
	h.approve(n, "mara")
	h.review(n, "rita", "APPROVED")
	h.want("approved", head, "success", []string{"2/2 approvals"}, nil)
	if got := h.runs(head); got != 2 {
		t.Errorf("%d check runs after new reviews, want 2", got)
	}

	// A re-run asked for evaluates even identical inputs.
	suite("rerequested")
	if got := h.runs(head); got != 3 {
		t.Errorf("%d check runs after a re-run, want 3", got)
	}
	if got := h.metricValue("promobot_evaluations_coalesced_total"); got != 2 {
		t.Errorf("promobot_evaluations_coalesced_total = %v, want 2", got)
	}

	// A fresh process (a restart, or another replica) still drops the
	// check_suite of an evaluated head: it reads the check run's
	// fingerprint.
	h.start(harnessOptions{})
	suite("requested")
	if got := h.runs(head); got != 3 {
		t.Errorf("%d check runs after check_suite on a fresh replica, want 3", got)
	}
	if got := h.metricValue("promobot_evaluations_coalesced_total"); got != 1 {
		t.Errorf("promobot_evaluations_coalesced_total on the fresh replica = %v, want 1", got)
	}
}
