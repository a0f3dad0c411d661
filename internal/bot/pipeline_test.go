package bot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// recordingEngine is the policy engine remembering its last input.
type recordingEngine struct {
	PolicyEngine
	mu         sync.Mutex
	last       *evaluate.Input
	summaryErr error
	anns       int
}

func (r *recordingEngine) Evaluate(in *evaluate.Input) *evaluate.Result {
	r.mu.Lock()
	r.last = in
	r.mu.Unlock()
	return r.PolicyEngine.Evaluate(in)
}

func (r *recordingEngine) Summary(res *evaluate.Result) (string, error) {
	if r.summaryErr != nil {
		return "", r.summaryErr
	}
	return r.PolicyEngine.Summary(res)
}

func (r *recordingEngine) Annotations(res *evaluate.Result) []evaluate.Annotation {
	out := r.PolicyEngine.Annotations(res)
	for i := range r.anns {
		out = append(out, evaluate.Annotation{Path: "x.yaml", Line: i + 1, Level: evaluate.AnnotationWarning, Message: "m"})
	}
	return out
}

func prodScenario() evaltest.Scenario {
	s := evaltest.Sample("prod promotion")
	s.Head = evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator)
	return s
}

// pullRequestTarget delivers an opened event for PR 5 at head shaA.
func openedPayload() m {
	pr := prJSON(5, shaA)
	pr["labels"] = []any{m{"name": "freeze-override"}}
	return envelope("opened", m{"number": 5, "pull_request": pr})
}

func at(t *testing.T, s string) time.Time { return world.MustTime(t, s) }

func TestInputIsFilledFromTheAPI(t *testing.T) {
	gh := &fakeGitHub{
		commits: []githubapi.Commit{{SHA: shaA, AuthorEmail: "Alex@Example.com", AuthorLogin: "alex", CommitterEmail: "noreply@github.com", CommitterLogin: "web-flow"}},
		reviews: []githubapi.Review{
			{ID: 7, User: "rita", State: "APPROVED", CommitID: shaA, SubmittedAt: at(t, "2026-11-21T10:00:00Z")},
			{ID: 1, User: "alex", State: "APPROVED", CommitID: shaA, SubmittedAt: at(t, "2026-11-21T09:00:00Z")},
			{ID: 2, User: "mara", State: "APPROVED", CommitID: shaA, SubmittedAt: at(t, "2026-11-21T09:01:00Z")},
			{ID: 3, User: "rob", State: "COMMENTED", CommitID: shaA, SubmittedAt: at(t, "2026-11-21T09:02:00Z")},
			{ID: 4, User: "dependabot[bot]", State: "APPROVED", CommitID: shaA, SubmittedAt: at(t, "2026-11-21T09:03:00Z")},
			{ID: 5, User: "vic", State: "CHANGES_REQUESTED", CommitID: shaA, SubmittedAt: at(t, "2026-11-21T09:04:00Z")},
			{ID: 6, User: "pat", State: "PENDING"},
			{ID: 8, User: "rita", State: "DISMISSED", CommitID: shaA, SubmittedAt: at(t, "2026-11-21T11:00:00Z")},
		},
		teams: map[string][]string{"example-org/model-risk": {"mara", "mike"}}, // release-managers: 404
		perms: map[string]string{"mara": "maintain", "vic": "read"},
	}
	engine := &recordingEngine{}
	u := newUnitBot(t, gh, &fakeMirrors{scenario: prodScenario()}, func(c *Config) { c.Engine = engine })
	if got := post(t, u.Handler(), "pull_request", openedPayload()); got != 202 {
		t.Fatalf("status %d", got)
	}
	u.idle(t)

	var lookups []string
	for _, c := range gh.callList() {
		if strings.HasPrefix(c, "Permission ") || strings.HasPrefix(c, "TeamMembers ") {
			lookups = append(lookups, c)
		}
	}
	// The override label may call for governance approvals from the
	// policy file's owners, so their team is looked up too.
	wantLookups := []string{
		"TeamMembers example-org/model-risk", "TeamMembers example-org/platform-admins", "TeamMembers example-org/release-managers",
		"Permission mara", "Permission vic",
	}
	if diff := cmp.Diff(wantLookups, lookups); diff != "" {
		t.Errorf("lookups (-want +got):\n%s", diff)
	}

	wantRequest := mirror.Request{
		Repository: "example-org/models", CloneURL: "https://example.invalid/example-org/models.git", Token: "ghs_fake",
		BaseBranch: "main", PullNumber: 5, HeadBranch: "feature", SameRepository: true, HeadSHA: shaA,
	}
	if diff := cmp.Diff([]mirror.Request{wantRequest}, u.mirrors.requests); diff != "" {
		t.Errorf("mirror request (-want +got):\n%s", diff)
	}
	wantIDs := map[string]string{"alex@example.com": "alex", "noreply@github.com": "web-flow"}
	if diff := cmp.Diff(wantIDs, u.mirrors.options[0].Identities); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}

	in := engine.last
	var order []int64
	for _, r := range in.Reviews {
		order = append(order, r.ID)
	}
	if diff := cmp.Diff([]int64{1, 2, 3, 4, 5, 7, 8}, order); diff != "" {
		t.Errorf("reviews, pending left out, in submission order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{"example-org/model-risk": {"mara", "mike"}}, in.Teams); diff != "" {
		t.Errorf("teams (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{"mara": true, "vic": false}, in.WritePermission); diff != "" {
		t.Errorf("write permission (-want +got):\n%s", diff)
	}
	if in.PullRequest.Author != "alex" || !cmp.Equal(in.PullRequest.Labels, []string{"freeze-override"}) || in.PullRequest.Number != 5 || !in.Now.Equal(at(t, evaltest.DefaultNow)) {
		t.Errorf("pull request %+v at %v", in.PullRequest, in.Now)
	}

	// One write: the check run is created once the verdict is known.
	runs := gh.checkRuns()
	if len(runs) != 1 || runs[0].HeadSHA != shaA {
		t.Fatalf("check runs %+v", runs)
	}
	if final := runs[0]; final.Status != githubapi.StatusCompleted || final.Conclusion != githubapi.ConclusionFailure {
		t.Errorf("final check run %s/%s %q", final.Status, final.Conclusion, final.Output.Title)
	}
}

func TestFailuresConcludeClosed(t *testing.T) {
	ghErr := &githubapi.Error{Op: "list reviews of example-org/models#5", Status: 502, Err: errFake}
	tests := []struct {
		name       string
		gh         func(*fakeGitHub)
		mirrors    func(*fakeMirrors)
		engine     func(*recordingEngine)
		timeout    time.Duration
		wantTitle  string
		wantHint   string
		wantUpdate int // update requests expected: none when the conclusion fits in the request creating the run
	}{
		{name: "GitHub error", gh: func(f *fakeGitHub) { f.fail = map[string]error{"Reviews": ghErr} },
			wantTitle: "could not evaluate: GitHub answered 502 to list reviews of example-org/models#5", wantHint: "re-run this check", wantUpdate: 0},
		{name: "terminal fetch error", mirrors: func(f *fakeMirrors) {
			f.err = &mirror.Error{Op: "fetch example-org/models", Err: errFake, Terminal: true}
		},
			wantTitle: "could not evaluate: could not fetch the repository (fetch example-org/models)", wantHint: "Re-running will not help", wantUpdate: 0},
		{name: "token", gh: func(f *fakeGitHub) {
			f.fail = map[string]error{"Token": &githubapi.Error{Op: "get an installation token", Err: errFake}}
		},
			wantTitle: "could not evaluate: GitHub could not be reached to get an installation token", wantUpdate: 0},
		{name: "renderer", engine: func(e *recordingEngine) { e.summaryErr = errFake },
			wantTitle: "could not evaluate: internal error", wantUpdate: 0},
		{name: "timeout", mirrors: func(f *fakeMirrors) { f.block = true }, timeout: 50 * time.Millisecond,
			wantTitle: "could not evaluate: the evaluation took too long", wantUpdate: 0},
		{name: "annotations cannot be posted",
			gh: func(f *fakeGitHub) {
				f.fail = map[string]error{"UpdateCheckRun": &githubapi.Error{Op: "update check run 1", Status: 502, Err: errFake}}
				f.failLeft = map[string]int{"UpdateCheckRun": 1}
			},
			engine:    func(e *recordingEngine) { e.anns = 60 },
			wantTitle: "could not evaluate: GitHub answered 502 to update check run 1", wantUpdate: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gh := &fakeGitHub{teams: map[string][]string{}, perms: map[string]string{}}
			if tc.gh != nil {
				tc.gh(gh)
			}
			mir := &fakeMirrors{scenario: prodScenario()}
			if tc.mirrors != nil {
				tc.mirrors(mir)
			}
			engine := &recordingEngine{}
			if tc.engine != nil {
				tc.engine(engine)
			}
			u := newUnitBot(t, gh, mir, func(c *Config) { c.Engine, c.JobTimeout = engine, tc.timeout })
			post(t, u.Handler(), "pull_request", openedPayload())
			u.idle(t)
			runs := gh.checkRuns()
			updates := 0
			for _, c := range gh.callList() {
				if strings.HasPrefix(c, "UpdateCheckRun ") {
					updates++
				}
			}
			if updates != tc.wantUpdate {
				t.Errorf("%d update requests, want %d", updates, tc.wantUpdate)
			}
			for _, r := range runs {
				if r.Conclusion == githubapi.ConclusionSuccess {
					t.Fatalf("success posted: %+v", r)
				}
			}
			final := runs[len(runs)-1]
			if final.Status != githubapi.StatusCompleted || final.Conclusion != githubapi.ConclusionFailure || final.Output.Title != tc.wantTitle {
				t.Errorf("final check run %s/%s %q, want completed/failure %q", final.Status, final.Conclusion, final.Output.Title, tc.wantTitle)
			}
			if !strings.Contains(final.Output.Summary, tc.wantHint) || strings.Contains(final.Output.Summary, "ghs_fake") {
				t.Errorf("summary lacks %q or shows the token:\n%s", tc.wantHint, final.Output.Summary)
			}
		})
	}
}

func TestNothingIsPostedForClosedPullRequestsOrWhenTheRunCannotBeCreated(t *testing.T) {
	// The delivery still says open; GitHub says what is true when the job
	// runs.
	t.Run("closed", func(t *testing.T) {
		closed := openedPull()
		closed.State, closed.Merged = "closed", true
		gh := &fakeGitHub{pulls: map[int]*githubapi.PullRequest{5: closed}}
		u := newUnitBot(t, gh, &fakeMirrors{scenario: prodScenario()}, nil)
		post(t, u.Handler(), "pull_request", openedPayload())
		u.idle(t)
		if diff := cmp.Diff([]string{"PullRequestsWithHead " + shaA}, gh.callList()); diff != "" {
			t.Errorf("calls for a closed pull request (-want +got):\n%s", diff)
		}
	})
	t.Run("the delivered commit is no longer the head", func(t *testing.T) {
		moved := openedPull()
		moved.HeadSHA = shaB
		gh := &fakeGitHub{pulls: map[int]*githubapi.PullRequest{5: moved}}
		u := newUnitBot(t, gh, &fakeMirrors{scenario: prodScenario()}, nil)
		post(t, u.Handler(), "pull_request", openedPayload())
		u.idle(t)
		for _, r := range gh.checkRuns() {
			if r.HeadSHA != shaB {
				t.Errorf("check run on %s, want only on the current head %s", r.HeadSHA, shaB)
			}
		}
		if len(gh.checkRuns()) != 1 {
			t.Errorf("%d check runs, want 1 on the current head", len(gh.checkRuns()))
		}
	})
	t.Run("create fails", func(t *testing.T) {
		gh := &fakeGitHub{fail: map[string]error{"CreateCheckRun": &githubapi.Error{Op: "create", Status: 502, Err: errFake}}}
		u := newUnitBot(t, gh, &fakeMirrors{scenario: prodScenario()}, nil)
		post(t, u.Handler(), "pull_request", openedPayload())
		u.idle(t)
		calls := gh.callList()
		if len(calls) == 0 || calls[len(calls)-1] != "CreateCheckRun "+shaA || len(gh.checkRuns()) != 0 {
			t.Errorf("calls %v, check runs %+v; want the creation last and no check run", calls, gh.checkRuns())
		}
	})
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		note  string
		want  string
	}{
		{name: "fits", in: "abc", limit: 3, note: "…", want: "abc"},
		{name: "cut with note", in: "abcdef", limit: 5, note: "..", want: "abc.."},
		{name: "never splits a rune", in: "ééé", limit: 4, note: "", want: "éé"},
		{name: "rune before the note", in: "ééé", limit: 5, note: "!", want: "éé!"},
		{name: "note longer than the limit", in: "abcdef", limit: 2, note: "....", want: "...."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.in, tc.limit, tc.note)
			if got != tc.want || !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d, %q) = %q, want %q", tc.in, tc.limit, tc.note, got, tc.want)
			}
		})
	}
}

func TestChunk(t *testing.T) {
	tests := []struct {
		n    int
		want []int
	}{
		{n: 0, want: []int{0}},
		{n: 50, want: []int{50}},
		{n: 51, want: []int{50, 1}},
		{n: 120, want: []int{50, 50, 20}},
	}
	for _, tc := range tests {
		var sizes []int
		for _, c := range chunk(make([]int, tc.n), 50) {
			sizes = append(sizes, len(c))
		}
		if diff := cmp.Diff(tc.want, sizes); diff != "" {
			t.Errorf("chunk(%d) (-want +got):\n%s", tc.n, diff)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "GitHub 404", err: &githubapi.Error{Status: 404, Terminal: true, Err: errFake}, want: true},
		{name: "GitHub 502", err: &githubapi.Error{Status: 502, Err: errFake}},
		{name: "fetch, wrapped", err: errors.Join(errFake, &mirror.Error{Err: errFake, Terminal: true}), want: true},
		{name: "unknown", err: errFake},
		{name: "merge group", err: fmt.Errorf("evaluate: %w", &mergeGroupError{reason: "stale"}), want: true},
		{name: "artifacts", err: &artifactError{err: errFake}},
	}
	for _, tc := range tests {
		if got := failure.IsTerminal(tc.err); got != tc.want {
			t.Errorf("%s: IsTerminal = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// fakeVerifier records its calls and marks every head manifest verified.
type fakeVerifier struct {
	mu      sync.Mutex
	calls   int
	keySeen bool
	err     error
}

func (v *fakeVerifier) VerifyArtifacts(_ context.Context, in *evaluate.Input, base fs.FS) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	_, err := fs.Stat(base, ".github/keys/model-signing.pub")
	v.keySeen = err == nil
	if v.err != nil {
		return v.err
	}
	in.Artifacts = map[string]evaluate.ArtifactCheck{}
	for p := range in.Head {
		in.Artifacts[p] = evaluate.ArtifactCheck{Verified: true, Detail: "fake"}
	}
	return nil
}

func TestArtifactVerificationHook(t *testing.T) {
	tests := []struct {
		name       string
		mode       string // the base policy's rules.artifacts; empty: enforce by default
		err        error
		wantCalls  int
		wantTitle  string
		wantChecks int
	}{
		{name: "enforced", wantCalls: 1, wantChecks: 2},
		{name: "warn", mode: "warn", wantCalls: 1, wantChecks: 2},
		{name: "off", mode: "off", wantCalls: 0},
		{name: "verification cannot run", err: errFake, wantCalls: 1, wantTitle: "could not evaluate: could not verify the artifacts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := prodScenario()
			if tc.mode != "" {
				s.Base[".github/promobot.yaml"] += "rules:\n  artifacts: " + tc.mode + "\n"
			}
			v := &fakeVerifier{err: tc.err}
			engine := &recordingEngine{}
			gh := &fakeGitHub{teams: map[string][]string{}, perms: map[string]string{}}
			u := newUnitBot(t, gh, &fakeMirrors{scenario: s}, func(c *Config) { c.Engine, c.Artifacts = engine, v })
			post(t, u.Handler(), "pull_request", openedPayload())
			u.idle(t)
			if v.calls != tc.wantCalls || (tc.wantCalls > 0 && !v.keySeen) {
				t.Errorf("verifier called %d times (base keys visible: %v), want %d", v.calls, v.keySeen, tc.wantCalls)
			}
			runs := gh.checkRuns()
			final := runs[len(runs)-1]
			if tc.wantTitle != "" {
				if final.Output.Title != tc.wantTitle {
					t.Errorf("title %q, want %q", final.Output.Title, tc.wantTitle)
				}
				return
			}
			if got := len(engine.last.Artifacts); got != tc.wantChecks {
				t.Errorf("%d artifact outcomes reached the engine, want %d", got, tc.wantChecks)
			}
		})
	}
}
