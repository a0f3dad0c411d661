package promote

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The versions of the bundle timelines below, oldest first; vNow is what
// the sample base pins in prod.
const (
	vOld  = "2026.10.23-1"
	vPrev = "2026.10.30-1"
	vMid  = "2026.11.02-1"
	vNow  = "2026.11.06-1"
)

// prodManifest returns the sample base's prod manifest of model rewritten
// to pin version with ticket, plus an optional note that makes an edit.
func prodManifest(t *testing.T, model, version, ticket, note string) []byte {
	t.Helper()
	p := prodNDX
	if model == "elasticnet-ndx-threshold" {
		p = prodThreshold
	}
	s := strings.NewReplacer(vNow, version, "CHG-4790", ticket).Replace(baseFiles(t)[p])
	if note != "" {
		s = strings.Replace(s, "\nnotes: ", "\nnotes: "+note+" ", 1)
	}
	return []byte(s)
}

// snap is one state of prod's bundle manifests; a nil manifest is absent.
type snap struct {
	commit              byte
	day                 int
	forecaster, calibr8 []byte
}

// timelineOf builds a Timeline of prod's bundle manifests, ending with the
// sample base's state.
func timelineOf(t *testing.T, snaps ...snap) []Snapshot {
	t.Helper()
	files := baseFiles(t)
	snaps = append(snaps, snap{'f', 40, []byte(files[prodNDX]), []byte(files[prodThreshold])})
	out := make([]Snapshot, len(snaps))
	for i, s := range snaps {
		out[i] = Snapshot{Commit: strings.Repeat(string(s.commit), 40), Since: time.Date(2026, 10, s.day, 12, 0, 0, 0, time.UTC), Files: map[string][]byte{}}
		if s.forecaster != nil {
			out[i].Files[prodNDX] = s.forecaster
		}
		if s.calibr8 != nil {
			out[i].Files[prodThreshold] = s.calibr8
		}
	}
	return out
}

func TestPlanRollbackBundle(t *testing.T) {
	const forecaster, calibrator = "elasticnet-ndx", "elasticnet-ndx-threshold"
	m := func(model, version string) []byte { return prodManifest(t, model, version, "CHG-4700", "") }
	edited := prodManifest(t, calibrator, vPrev, "CHG-4700", "Recalibrated.")
	split := prodManifest(t, calibrator, vMid, "CHG-4701", "")
	// The usual history: the bundle moves together, and the calibrator's
	// manifest of vPrev was edited (same version) two days after its pin.
	usual := timelineOf(t,
		snap{'1', 1, nil, nil},
		snap{'2', 24, m(forecaster, vOld), m(calibrator, vOld)},
		snap{'3', 31, m(forecaster, vPrev), m(calibrator, vPrev)},
		snap{'4', 33, m(forecaster, vPrev), edited},
	)
	type restored struct {
		Model, Version, Replaces, Commit string
		After                            string
	}
	want := func(model, version string, commit byte, after []byte) restored {
		return restored{model, version, vNow, strings.Repeat(string(commit), 40), string(after)}
	}
	tests := []struct {
		name     string
		models   []RollbackModel
		timeline []Snapshot
		ticket   string
		want     []restored
	}{
		{
			name:     "one model named brings its bundle along",
			models:   []RollbackModel{{Model: forecaster, ToVersion: vPrev}},
			timeline: usual,
			want:     []restored{want(forecaster, vPrev, '3', m(forecaster, vPrev)), want(calibrator, vPrev, '4', edited)},
		},
		{
			name:     "both models named",
			models:   []RollbackModel{{Model: calibrator, ToVersion: vPrev}, {Model: forecaster, ToVersion: vPrev}},
			timeline: usual,
			want:     []restored{want(forecaster, vPrev, '3', m(forecaster, vPrev)), want(calibrator, vPrev, '4', edited)},
		},
		{
			name:     "an older version",
			models:   []RollbackModel{{Model: calibrator, ToVersion: vOld}},
			timeline: usual,
			want:     []restored{want(forecaster, vOld, '2', m(forecaster, vOld)), want(calibrator, vOld, '2', m(calibrator, vOld))},
		},
		{
			name:   "the last commit where the bundle was pinned together",
			models: []RollbackModel{{Model: forecaster, ToVersion: vPrev}},
			timeline: timelineOf(t,
				snap{'1', 20, m(forecaster, vPrev), nil},
				snap{'2', 24, m(forecaster, vPrev), m(calibrator, vPrev)},
				snap{'3', 31, m(forecaster, vPrev), split},
				snap{'4', 33, m(forecaster, vOld), m(calibrator, vOld)},
			),
			want: []restored{want(forecaster, vPrev, '1', m(forecaster, vPrev)), want(calibrator, vMid, '3', split)},
		},
		{
			name:     "the ticket replaces the approval",
			models:   []RollbackModel{{Model: forecaster, ToVersion: vPrev}},
			timeline: usual,
			ticket:   "CHG-5100",
			want: []restored{
				want(forecaster, vPrev, '3', prodManifest(t, forecaster, vPrev, "CHG-5100", "")),
				want(calibrator, vPrev, '4', prodManifest(t, calibrator, vPrev, "CHG-5100", "Recalibrated.")),
			},
		},
		{
			name:   "a member already in place stays out of the change",
			models: []RollbackModel{{Model: forecaster, ToVersion: vPrev}},
			timeline: timelineOf(t,
				snap{'1', 24, m(forecaster, vPrev), []byte(baseFiles(t)[prodThreshold])},
			),
			want: []restored{want(forecaster, vPrev, '1', m(forecaster, vPrev))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := PlanRollback(baseFS(t, nil), RollbackRequest{Environment: "prod", Models: tt.models, Timeline: tt.timeline, Ticket: tt.ticket})
			if err != nil {
				t.Fatal(err)
			}
			var got []restored
			for _, mv := range plan.Moves {
				got = append(got, restored{mv.Model, mv.Version, mv.Replaces, mv.Restored.Commit, string(mv.After)})
				if mv.RollbackTarget == nil || mv.RollbackTarget.Commit != strings.Repeat("f", 40) || mv.RollbackTarget.Version != vNow {
					t.Errorf("%s: rollback target %+v, want the current pin by fff…", mv.Model, mv.RollbackTarget)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("moves (-want +got):\n%s", diff)
			}
			if plan.Ticket != tt.ticket || strings.Contains(plan.CommitMessage, "Promobot-Ticket:") != (tt.ticket != "") {
				t.Errorf("ticket %q, commit message:\n%s", plan.Ticket, plan.CommitMessage)
			}
		})
	}

	errs := []struct {
		name     string
		models   []RollbackModel
		timeline []Snapshot
		kind     any
		want     string
	}{
		{"never pinned", []RollbackModel{{Model: forecaster, ToVersion: "2020.01.01-1"}}, usual, &RefusedError{},
			"refused: prod never pinned elasticnet-ndx 2020.01.01-1 on the base branch, so there is nothing to roll back to"},
		{"never pinned together", []RollbackModel{{Model: forecaster, ToVersion: vOld}},
			timelineOf(t, snap{'1', 24, m(forecaster, vOld), nil}), &RefusedError{},
			"refused: prod never pinned elasticnet-ndx 2026.10.23-1 together with elasticnet-ndx-threshold (bundle ndx-forecast) on the base branch"},
		{"both named, never at those versions together", []RollbackModel{{Model: forecaster, ToVersion: vPrev}, {Model: calibrator, ToVersion: vOld}}, usual, &RefusedError{},
			"refused: prod never pinned elasticnet-ndx 2026.10.30-1 and elasticnet-ndx-threshold 2026.10.23-1 on the base branch"},
		{"the current version", []RollbackModel{{Model: forecaster, ToVersion: vNow}}, usual, &NothingToDoError{},
			"prod already pins elasticnet-ndx 2026.11.06-1"},
		{"a version for one model of the bundle only", []RollbackModel{{Model: forecaster, ToVersion: vPrev}, {Model: calibrator}}, usual, &UsageError{},
			"bundle ndx-forecast rolls back as a whole: name the version to restore for every model of it asked for, or for none (elasticnet-ndx-threshold has none)"},
		{"a model named twice", []RollbackModel{{Model: forecaster, ToVersion: vPrev}, {Model: forecaster, ToVersion: vOld}}, usual, &UsageError{},
			"model elasticnet-ndx is named twice"},
		{"a malformed version", []RollbackModel{{Model: forecaster, ToVersion: "../x"}}, usual, &UsageError{}, `version "../x"`},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PlanRollback(baseFS(t, nil), RollbackRequest{Environment: "prod", Models: tt.models, Timeline: tt.timeline})
			checkError(t, err, tt.kind, tt.want)
		})
	}

	t.Run("a timeline that does not end at the base", func(t *testing.T) {
		_, err := PlanRollback(baseFS(t, nil), RollbackRequest{Environment: "prod", Models: []RollbackModel{{Model: forecaster, ToVersion: vPrev}}, Timeline: usual[:len(usual)-1]})
		if err == nil || err.Error() != "the history of bundle ndx-forecast in prod does not end at the base commit" {
			t.Errorf("error = %v", err)
		}
	})
}

func TestPlanRollbackTicket(t *testing.T) {
	files := baseFiles(t)
	old := prodManifest(t, "elasticnet-ndx", vPrev, "CHG-4700", "")
	history := []PinRecord{
		{Version: vPrev, Commit: strings.Repeat("2", 40), Content: old},
		{Version: vNow, Commit: strings.Repeat("3", 40), Content: []byte(files[prodNDX])},
	}
	plan, err := PlanRollback(baseFS(t, map[string]string{prodThreshold: ""}), RollbackRequest{
		Environment: "prod", Ticket: "CHG-5100", PullRequest: 42,
		Models: []RollbackModel{{Model: "elasticnet-ndx", History: history}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(string(old), "ticket: CHG-4700\n", "ticket: CHG-5100\n", 1)
	if diff := cmp.Diff(want, string(plan.Moves[0].After)); diff != "" {
		t.Errorf("restored manifest (-want +got):\n%s", diff)
	}
	if plan.Moves[0].Next.Approval.Ticket != "CHG-5100" || plan.Ticket != "CHG-5100" || plan.Reverts != 42 {
		t.Errorf("next approval %+v, plan ticket %q, reverts %d", plan.Moves[0].Next.Approval, plan.Ticket, plan.Reverts)
	}
	for _, line := range []string{"Rolls back pull request #42.\n", "\nPromobot-Ticket: CHG-5100\n"} {
		if !strings.Contains(plan.CommitMessage, line) {
			t.Errorf("commit message lacks %q:\n%s", line, plan.CommitMessage)
		}
	}
	body, err := renderBody(plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "**Ticket:** `CHG-5100`") || !strings.Contains(body, "except `approval`") {
		t.Errorf("body does not show the ticket:\n%s", body)
	}

	// Without a ticket the pinned approval is kept, byte for byte.
	plan, err = PlanRollback(baseFS(t, map[string]string{prodThreshold: ""}), RollbackRequest{
		Environment: "prod", Models: []RollbackModel{{Model: "elasticnet-ndx", History: history}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(plan.Moves[0].After) != string(old) || plan.Ticket != "" {
		t.Errorf("without a ticket: ticket %q, restored:\n%s", plan.Ticket, plan.Moves[0].After)
	}
}

func TestTimelineKeepsOnlyCommitsThatChangedTheManifests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.commitOnMain("Document the runbook\n", map[string]string{"docs/runbook.md": "# Runbook\n"})
	edited := strings.Replace(h.remoteFile(h.seedB, prodThreshold), "\nnotes: ", "\nnotes: Recalibrated. ", 1)
	edit := h.commitOnMain("Note the recalibration\n", map[string]string{prodThreshold: edited})
	h.commitOnMain("Pin dev's threshold\n", map[string]string{"environments/dev/elasticnet-ndx-threshold.yaml": h.remoteFile(h.seedA, "environments/dev/elasticnet-ndx-threshold.yaml") + "# unchanged\n"})
	h.commitOnMain("Document more\n", map[string]string{"docs/more.md": "# More\n"})

	s, err := openSession(t.Context(), h.executor().Git)
	if err != nil {
		t.Fatal(err)
	}
	defer s.reader.Close()
	got, err := s.timeline(t.Context(), []string{prodNDX, prodThreshold})
	if err != nil {
		t.Fatal(err)
	}
	type state struct{ Commit, Forecaster, Calibrator string }
	want := []state{
		{h.seedA, h.remoteFile(h.seedA, prodNDX), h.remoteFile(h.seedA, prodThreshold)},
		{h.seedB, h.remoteFile(h.seedB, prodNDX), h.remoteFile(h.seedB, prodThreshold)},
		{edit, h.remoteFile(h.seedB, prodNDX), edited},
	}
	var states []state
	for _, snap := range got {
		states = append(states, state{snap.Commit, string(snap.Files[prodNDX]), string(snap.Files[prodThreshold])})
	}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
	if !got[0].Since.Equal(seedOctober) {
		t.Errorf("first snapshot since %s, want %s", got[0].Since, seedOctober)
	}
}

func TestRollbackBundleToVersion(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	out, err := h.executor().Rollback(t.Context(), RollbackRequest{Environment: "prod", Ticket: "CHG-5100",
		Models: []RollbackModel{{Model: "elasticnet-ndx-threshold", ToVersion: "2026.10.30-1"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{prodNDX, prodThreshold} {
		want := strings.Replace(h.remoteFile(h.seedA, p), "ticket: CHG-4700\n", "ticket: CHG-5100\n", 1)
		if diff := cmp.Diff(want, h.remoteFile(out.Commit, p)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", p, diff)
		}
	}
	if len(out.Moves) != 2 || out.Ticket != "CHG-5100" {
		t.Fatalf("outcome: %d moves, ticket %q", len(out.Moves), out.Ticket)
	}
	for _, m := range out.Moves {
		if m.Version != "2026.10.30-1" || m.Replaces != "2026.11.06-1" || m.RestoredFrom != h.seedA || !m.RestoredAt.Equal(seedOctober) {
			t.Errorf("move %+v, want 2026.10.30-1 replacing 2026.11.06-1, pinned by %s at %s", m, h.seedA, seedOctober)
		}
	}
	if pr := h.pr(out.PullRequest.Number); pr.Title != "Roll back elasticnet-ndx to 2026.10.30-1 and elasticnet-ndx-threshold to 2026.10.30-1 in prod" {
		t.Errorf("title %q", pr.Title)
	}
}
