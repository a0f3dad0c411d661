package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sequenceHandler returns the next error of errs on each call.
type sequenceHandler struct {
	errs  []error
	calls []string
}

func (s *sequenceHandler) Handle(_ context.Context, d Delivery) error {
	s.calls = append(s.calls, d.ID)
	if len(s.errs) == 0 {
		return nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	return err
}

func TestDuplicateDeliveriesAreProcessedOnce(t *testing.T) {
	type delivery struct {
		id         string
		wantStatus int
	}
	tests := []struct {
		name string
		// errs are the handler's answers, in order of the calls it gets.
		errs       []error
		deliveries []delivery
		wantCalls  []string
	}{
		{name: "the same id twice", deliveries: []delivery{{"a", 202}, {"a", 202}, {"b", 202}},
			wantCalls: []string{"a", "b"}},
		{name: "an ignored delivery is remembered", errs: []error{Ignore("not interesting")},
			deliveries: []delivery{{"a", 202}, {"a", 202}}, wantCalls: []string{"a"}},
		{name: "a malformed delivery is remembered", errs: []error{BadRequest(errors.New("bad"))},
			deliveries: []delivery{{"a", 400}, {"a", 202}}, wantCalls: []string{"a"}},
		{name: "a refused delivery is processed when redelivered", errs: []error{Unavailable(errors.New("full"))},
			deliveries: []delivery{{"a", 503}, {"a", 202}, {"a", 202}}, wantCalls: []string{"a", "a"}},
		{name: "a failed delivery is processed when redelivered", errs: []error{errors.New("boom")},
			deliveries: []delivery{{"a", 500}, {"a", 202}}, wantCalls: []string{"a", "a"}},
		{name: "no id: never deduplicated", deliveries: []delivery{{"", 202}, {"", 202}}, wantCalls: []string{"", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &sequenceHandler{errs: tc.errs}
			var outcomes []string
			d, err := NewDispatcher([][]byte{[]byte(secret)}, map[string]Handler{"push": h}, Options{
				Deliveries: NewDeliverySet(10, time.Hour, nil),
				Observe:    func(_, o string) { outcomes = append(outcomes, o) },
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, dl := range tc.deliveries {
				const body = `{"ref":"refs/heads/main"}`
				req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-GitHub-Event", "push")
				req.Header.Set("X-GitHub-Delivery", dl.id)
				req.Header.Set("X-Hub-Signature-256", sign(secret, body))
				rec := httptest.NewRecorder()
				d.ServeHTTP(rec, req)
				if rec.Code != dl.wantStatus {
					t.Errorf("delivery %d (%q): status %d, want %d (outcomes %v)", i, dl.id, rec.Code, dl.wantStatus, outcomes)
				}
			}
			if diff := cmp.Diff(tc.wantCalls, h.calls); diff != "" {
				t.Errorf("handler calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestForgedDeliveryIdsAreNotRemembered(t *testing.T) {
	h := &sequenceHandler{}
	set := NewDeliverySet(10, time.Hour, nil)
	d, err := NewDispatcher([][]byte{[]byte(secret)}, map[string]Handler{"push": h}, Options{Deliveries: set})
	if err != nil {
		t.Fatal(err)
	}
	const body = `{}`
	for _, sig := range []string{sign("wrong", body), sign(secret, body)} {
		req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", "victim")
		req.Header.Set("X-Hub-Signature-256", sig)
		d.ServeHTTP(httptest.NewRecorder(), req)
	}
	if diff := cmp.Diff([]string{"victim"}, h.calls); diff != "" {
		t.Errorf("a forged delivery blocked the real one (-want +got):\n%s", diff)
	}
}

func TestDeliverySetForgetsOldestAndExpired(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewDeliverySet(3, time.Minute, func() time.Time { return now })
	seen := func(id string) bool {
		if !s.begin(id) {
			return true
		}
		s.finish(id, true)
		return false
	}
	steps := []struct {
		id      string
		advance time.Duration
		want    bool
	}{
		{id: "a"}, {id: "b"}, {id: "c"},
		{id: "a", want: true},
		{id: "d"},             // forgets a, the oldest
		{id: "a"},             // so a is new again, and forgets b
		{id: "c", want: true}, // c is still remembered
		{id: "c", advance: 2 * time.Minute},
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		if got := seen(st.id); got != st.want {
			t.Errorf("step %d: %q seen = %v, want %v", i, st.id, got, st.want)
		}
	}
	if got := s.Len(); got > 3 {
		t.Errorf("the set holds %d ids, more than its limit of 3", got)
	}
	// An id being processed is a duplicate until it finishes.
	if !s.begin("x") || s.begin("x") {
		t.Error("an id in flight was not reserved")
	}
}
