package bot

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/bottest/world"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	states := []prState{{number: 5, baseRef: "main", baseSHA: shaB, labels: []string{"b", "a"},
		reviews: []githubapi.Review{{ID: 2, User: "Rita", State: "APPROVED", CommitID: shaA}, {ID: 1, User: "mara", State: "APPROVED", CommitID: shaA}}}}
	fp := fingerprint(states)
	meta := metaHash(states)
	completed := func(title, externalID string) *githubapi.ExistingCheckRun {
		return &githubapi.ExistingCheckRun{ID: 1, Status: githubapi.StatusCompleted, Conclusion: githubapi.ConclusionFailure, Title: title, ExternalID: externalID, StartedAt: now}
	}
	inProgress := func(age time.Duration) *githubapi.ExistingCheckRun {
		return &githubapi.ExistingCheckRun{ID: 1, Status: githubapi.StatusInProgress, StartedAt: now.Add(-age)}
	}
	otherReviews := reviewsHash([]prState{{number: 5}})
	tests := []struct {
		name        string
		run         *githubapi.ExistingCheckRun
		meta        string
		reviews     string
		reviewsErr  error
		want        resyncAction
		wantReviews bool // whether the reviews are read
		wantErr     bool
	}{
		{name: "no check run", want: resyncEvaluate},
		{name: "in progress, recent", run: inProgress(time.Minute), want: resyncSkip},
		{name: "in progress, longer than a job may take", run: inProgress(10 * time.Minute), want: resyncEvaluate},
		{name: "in progress without a start", run: &githubapi.ExistingCheckRun{Status: "queued"}, want: resyncEvaluate},
		{name: "could not evaluate", run: completed("could not evaluate: GitHub answered 502 to list reviews", fp), want: resyncEvaluate},
		{name: "could not evaluate one of several", run: completed("could not evaluate #6: could not evaluate: x", fp), want: resyncEvaluate},
		{name: "no fingerprint", run: completed("needs 1 more approval", ""), want: resyncEvaluate},
		{name: "another version's fingerprint", run: completed("needs 1 more approval", "promobot/0:a:b"), want: resyncEvaluate},
		{name: "base, labels or pull requests changed", run: completed("needs 1 more approval", fp), meta: "other", want: resyncEvaluate},
		{name: "no gated file: reviews not read", run: completed(evaluate.NoPromotionChanges, fp), want: resyncSkip},
		{name: "reviews changed", run: completed("needs 1 more approval", fp), reviews: otherReviews, want: resyncEvaluate, wantReviews: true},
		{name: "up to date", run: completed("needs 1 more approval", fp), want: resyncRecheck, wantReviews: true},
		{name: "reviews unreadable", run: completed("needs 1 more approval", fp), reviewsErr: errFake, want: resyncSkip, wantReviews: true, wantErr: true},
	}
	b := &Bot{cfg: Config{JobTimeout: 2 * time.Minute, Now: func() time.Time { return now }}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.meta == "" {
				tc.meta = meta
			}
			if tc.reviews == "" {
				tc.reviews = reviewsHash(states)
			}
			read := false
			got, reason, err := b.decide(tc.run, tc.meta, func() (string, error) {
				read = true
				return tc.reviews, tc.reviewsErr
			})
			if got != tc.want || read != tc.wantReviews || (err != nil) != tc.wantErr {
				t.Errorf("decide = %v (%q), %v; reviews read %v; want %v, read %v, error %v", got, reason, err, read, tc.want, tc.wantReviews, tc.wantErr)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	base := prState{number: 5, baseRef: "main", baseSHA: shaB, labels: []string{"a", "b"},
		reviews: []githubapi.Review{{ID: 1, User: "mara", State: "APPROVED", CommitID: shaA}}}
	fp := fingerprint([]prState{base})
	meta, reviews, ok := parseFingerprint(fp)
	if !ok || meta != metaHash([]prState{base}) || reviews != reviewsHash([]prState{base}) || len(fp) > 100 {
		t.Fatalf("fingerprint %q does not parse back (%q, %q, %v)", fp, meta, reviews, ok)
	}
	same := func(change func(*prState)) bool {
		s := base
		s.labels = append([]string(nil), base.labels...)
		s.reviews = append([]githubapi.Review(nil), base.reviews...)
		change(&s)
		return fingerprint([]prState{s}) == fp
	}
	tests := []struct {
		name   string
		change func(*prState)
		same   bool
	}{
		{name: "labels in another order", change: func(s *prState) { s.labels = []string{"b", "a"} }, same: true},
		{name: "a pending review", change: func(s *prState) {
			s.reviews = append(s.reviews, githubapi.Review{ID: 9, User: "rob", State: "PENDING"})
		}, same: true},
		{name: "a label", change: func(s *prState) { s.labels = append(s.labels, "freeze-override") }},
		{name: "the base branch", change: func(s *prState) { s.baseRef = "release" }},
		{name: "the base tip", change: func(s *prState) { s.baseSHA = shaA }},
		{name: "a review", change: func(s *prState) {
			s.reviews = append(s.reviews, githubapi.Review{ID: 2, User: "rita", State: "APPROVED", CommitID: shaA})
		}},
		{name: "a dismissal", change: func(s *prState) { s.reviews[0].State = "DISMISSED" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := same(tc.change); got != tc.same {
				t.Errorf("fingerprint unchanged = %v, want %v", got, tc.same)
			}
		})
	}
	if fingerprint([]prState{base, {number: 6}}) != fingerprint([]prState{{number: 6}, base}) {
		t.Error("the order of the pull requests changes the fingerprint")
	}
}

// TestResyncWithFakes runs a pass over a repository whose pull requests are
// in every state the pass distinguishes, and checks which are evaluated.
func TestResyncWithFakes(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	const (
		shaC = "cccccccccccccccccccccccccccccccccccccccc"
		shaD = "dddddddddddddddddddddddddddddddddddddddd"
		shaE = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	)
	pr := func(n int, sha string) *githubapi.PullRequest {
		return &githubapi.PullRequest{Number: n, State: "open", HeadSHA: sha, BaseRef: "main", BaseRepo: "example-org/models", CloneURL: "https://example.invalid/example-org/models.git"}
	}
	upToDate := fingerprint([]prState{{number: 4, baseRef: "main", baseSHA: shaB}})
	gh := &fakeGitHub{
		repos:    []githubapi.Repository{{Owner: "example-org", Name: "models"}, {Owner: "example-org", Name: "attic", Archived: true}},
		branches: map[string]string{"main": shaB},
		pulls: map[int]*githubapi.PullRequest{
			1: pr(1, shaA), // no check run
			2: pr(2, shaC), // abandoned in progress
			3: pr(3, shaD), // in progress, recently started
			4: pr(4, shaE), // up to date
			9: {Number: 9, State: "closed", HeadSHA: shaB, BaseRef: "main"},
		},
		latest: map[string]*githubapi.ExistingCheckRun{
			shaC: {ID: 2, Status: githubapi.StatusInProgress, StartedAt: now.Add(-time.Hour)},
			shaD: {ID: 3, Status: githubapi.StatusInProgress, StartedAt: now.Add(-time.Second)},
			shaE: {ID: 4, Status: githubapi.StatusCompleted, Conclusion: "failure", Title: "needs 1 more approval", ExternalID: upToDate},
		},
	}
	u := newUnitBot(t, gh, &fakeMirrors{err: errFake}, func(c *Config) {
		c.Now = func() time.Time { return now }
		c.Workers = 1
	})
	if err := u.Resync(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	u.idle(t)
	var created []string
	for _, c := range gh.callList() {
		if len(c) > 15 && c[:15] == "CreateCheckRun " {
			created = append(created, c[15:])
		}
	}
	if diff := cmp.Diff([]string{shaA, shaC}, created); diff != "" {
		t.Errorf("heads evaluated (-want +got):\n%s", diff)
	}
	if got := countCalls(gh, "OpenPullRequests "); got != 1 {
		t.Errorf("%d repositories listed, want 1: the archived one is skipped", got)
	}

	t.Run("listing installations fails", func(t *testing.T) {
		b, err := newBot(Config{AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}}, deps{
			client:        func(int64) (githubAPI, error) { return gh, nil },
			installations: func(context.Context) ([]int64, error) { return nil, errFake },
			mirrors:       &fakeMirrors{},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
		if err := b.Resync(t.Context(), false); !errors.Is(err, errFake) {
			t.Errorf("Resync = %v, want the listing's error", err)
		}
	})
}

func countCalls(gh *fakeGitHub, prefix string) int {
	n := 0
	for _, c := range gh.callList() {
		if len(c) >= len(prefix) && c[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

func TestResyncLoopRunsAtStartAndStopsOnShutdown(t *testing.T) {
	gh := &fakeGitHub{repos: []githubapi.Repository{{Owner: "example-org", Name: "models"}}}
	listed := make(chan struct{}, 10)
	b, err := newBot(Config{AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, ResyncInterval: time.Hour, Logger: world.Logger(t)}, deps{
		client: func(int64) (githubAPI, error) { return gh, nil },
		installations: func(context.Context) ([]int64, error) {
			listed <- struct{}{}
			return []int64{testInstallationID}, nil
		},
		mirrors: &fakeMirrors{},
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-listed:
	case <-time.After(10 * time.Second):
		t.Fatal("no resynchronization at start")
	}
	if err := b.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	// An installation event after shutdown must not block or panic.
	if got := post(t, b.Handler(), "installation", envelope("created", nil)); got != 202 && got != 503 {
		t.Errorf("installation event after shutdown: status %d", got)
	}
}

func TestQueuedPullRequests(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		ref  string
		want []int
		ok   bool
	}{
		{ref: "refs/heads/gh-readonly-queue/main/pr-123-" + sha, want: []int{123}, ok: true},
		{ref: "refs/heads/gh-readonly-queue/release/2026/pr-7-" + sha, want: []int{7}, ok: true},
		{ref: "refs/heads/gh-readonly-queue/main/pr-0-" + sha},
		{ref: "refs/heads/gh-readonly-queue/main/pr-12"},
		{ref: "refs/heads/main"},
		{ref: "gh-readonly-queue/main/pr-1-" + sha},
		{ref: ""},
	}
	for _, tc := range tests {
		got, ok := queuedPullRequests(tc.ref)
		if ok != tc.ok || !cmp.Equal(got, tc.want) {
			t.Errorf("queuedPullRequests(%q) = %v, %v; want %v, %v", tc.ref, got, ok, tc.want, tc.ok)
		}
	}
}

// TestResyncTriggerChecksOnlyTheInstallation checks that an installation
// event resynchronizes that installation alone: the full pass, which lists
// every installation, waits for the ticker.
func TestResyncTriggerChecksOnlyTheInstallation(t *testing.T) {
	gh := &fakeGitHub{repos: []githubapi.Repository{{Owner: "example-org", Name: "models"}}}
	listed := make(chan struct{}, 10)
	b, err := newBot(Config{AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, ResyncInterval: time.Hour, Logger: world.Logger(t)}, deps{
		client: func(int64) (githubAPI, error) { return gh, nil },
		installations: func(context.Context) ([]int64, error) {
			listed <- struct{}{}
			return []int64{testInstallationID}, nil
		},
		mirrors: &fakeMirrors{},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	<-listed // the pass at start
	waitFor := func(repositoryLists int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for countCalls(gh, "Repositories") < repositoryLists {
			if time.Now().After(deadline) {
				t.Fatalf("%d Repositories calls, want %d", countCalls(gh, "Repositories"), repositoryLists)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(1)
	if got := post(t, b.Handler(), "installation", envelope("created", nil)); got != 202 {
		t.Fatalf("installation event: status %d", got)
	}
	waitFor(2)
	if err := b.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(listed); n != 0 {
		t.Errorf("the installation event started %d full passes, want none", n)
	}
}
