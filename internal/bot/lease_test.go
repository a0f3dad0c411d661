package bot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/bottest/world"
)

// testLeases are leases a test controls: which names it is asked for,
// whether they are lost, whether this replica leads.
type testLeases struct {
	mu      sync.Mutex
	names   []string
	lost    bool
	leading bool
	period  time.Duration
	// recheck is the recorded last recheck, recheckErr the failure to
	// read it.
	recheck    time.Time
	recheckErr error
}

func (l *testLeases) Hold(_ context.Context, name string) (Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, name)
	return testLease{l}, nil
}

func (l *testLeases) Leading() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading
}

func (l *testLeases) Period() time.Duration { return l.period }

func (l *testLeases) LastRecheck(context.Context) (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recheck, l.recheckErr
}

func (l *testLeases) RecordRecheck(_ context.Context, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leading {
		return errors.New("not leading")
	}
	l.recheck = at
	return nil
}

func (l *testLeases) held() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.names)
}

type testLease struct{ l *testLeases }

func (t testLease) Err() error {
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	if t.l.lost {
		return errors.New("lease lost")
	}
	return nil
}

func (testLease) Release() {}

func TestEvaluationHoldsThePullRequestsLease(t *testing.T) {
	tests := []struct {
		name      string
		lost      bool
		wantRuns  int
		wantNames []string
	}{
		{name: "held", wantRuns: 1, wantNames: []string{"pulls/example-org/models/5"}},
		// A replica whose lease ran out writes nothing: the replica
		// that took the pull request over does.
		{name: "lost", lost: true, wantRuns: 0, wantNames: []string{"pulls/example-org/models/5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := &fakeGitHub{}
			leases := &testLeases{lost: tt.lost, leading: true}
			u := newUnitBot(t, gh, &fakeMirrors{scenario: prodScenario()}, func(c *Config) { c.Leases = leases })
			if got := post(t, u.Handler(), "pull_request", openedPayload()); got != 202 {
				t.Fatalf("status %d", got)
			}
			u.idle(t)
			if got := len(gh.checkRuns()); got != tt.wantRuns {
				t.Errorf("%d check run writes, want %d", got, tt.wantRuns)
			}
			if got := leases.held(); !slices.Equal(got, tt.wantNames) {
				t.Errorf("leases held %q, want %q", got, tt.wantNames)
			}
		})
	}
}

func TestPullLeaseNameIsTheLowestSharingTheHead(t *testing.T) {
	tgt := target{owner: "Example-Org", name: "Models", number: 9}
	group := []*githubapi.PullRequest{{Number: 9}, {Number: 4}, {Number: 12}}
	if got, want := pullLeaseName(tgt, group), "pulls/example-org/models/4"; got != want {
		t.Errorf("pullLeaseName = %q, want %q", got, want)
	}
}

// TestDueRecheck: a pass rechecks when no leader started a recheck within
// the interval, as the leases record it, and records the one it starts; a
// record it cannot read, or one from the future, does not put it off.
func TestDueRecheck(t *testing.T) {
	const interval = time.Hour
	now := time.Now()
	tests := []struct {
		name      string
		interval  time.Duration
		last      time.Time
		readErr   error
		want      bool
		wantMoved bool
	}{
		{name: "rechecks off", interval: 0, want: false},
		{name: "never rechecked", interval: interval, want: true, wantMoved: true},
		{name: "another leader rechecked lately", interval: interval, last: now.Add(-10 * time.Minute), want: false},
		{name: "the last recheck is an interval old", interval: interval, last: now.Add(-interval), want: true, wantMoved: true},
		{name: "a record from the future", interval: interval, last: now.Add(2 * time.Hour), want: true, wantMoved: true},
		{name: "the record cannot be read", interval: interval, last: now.Add(-time.Minute), readErr: errors.New("storage down"), want: true, wantMoved: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leases := &testLeases{leading: true, recheck: tt.last, recheckErr: tt.readErr}
			b := &Bot{cfg: Config{RecheckInterval: tt.interval, Leases: leases}}
			if got := b.dueRecheck(t.Context(), world.Logger(t)); got != tt.want {
				t.Errorf("dueRecheck = %v, want %v", got, tt.want)
			}
			moved := !leases.recheck.Equal(tt.last)
			if moved != tt.wantMoved || (moved && leases.recheck.Before(now)) {
				t.Errorf("recorded %v (was %v), want moved %v to now", leases.recheck, tt.last, tt.wantMoved)
			}
		})
	}
}

func TestResyncRunsOnlyOnTheLeader(t *testing.T) {
	for _, leading := range []bool{true, false} {
		gh := &fakeGitHub{repos: []githubapi.Repository{{Owner: "example-org", Name: "models"}}}
		listed := make(chan struct{}, 10)
		leases := &testLeases{leading: leading}
		b, err := newBot(Config{AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, ResyncInterval: 10 * time.Millisecond,
			Logger: world.Logger(t), Leases: leases}, deps{
			client: func(int64) (githubAPI, error) { return gh, nil },
			installations: func(context.Context) ([]int64, error) {
				select {
				case listed <- struct{}{}:
				default:
				}
				return []int64{testInstallationID}, nil
			},
			mirrors: &fakeMirrors{},
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if err := b.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if passes := len(listed); (passes > 0) != leading {
			t.Errorf("leading %v: %d passes", leading, passes)
		}
	}
}

// TestResyncConcludesSupersededCheckRuns checks the commits before a pull
// request's head: a check run left in progress there by a replica that
// stopped is concluded as superseded; others are left alone.
func TestResyncConcludesSupersededCheckRuns(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	const (
		old  = "cccccccccccccccccccccccccccccccccccccccc"
		head = "dddddddddddddddddddddddddddddddddddddddd"
	)
	upToDate := fingerprint([]prState{{number: 1, baseRef: "main", baseSHA: shaB}})
	tests := []struct {
		name          string
		run           *githubapi.ExistingCheckRun
		otherPROnOld  bool
		wantSupersede bool
	}{
		{name: "in progress for longer than a lease", run: &githubapi.ExistingCheckRun{ID: 7, Status: githubapi.StatusInProgress, StartedAt: now.Add(-time.Minute)}, wantSupersede: true},
		{name: "in progress, recent", run: &githubapi.ExistingCheckRun{ID: 7, Status: githubapi.StatusInProgress, StartedAt: now.Add(-10 * time.Second)}},
		{name: "completed", run: &githubapi.ExistingCheckRun{ID: 7, Status: githubapi.StatusCompleted, Conclusion: "failure", StartedAt: now.Add(-time.Hour)}},
		{name: "no check run"},
		{name: "still another pull request's head", run: &githubapi.ExistingCheckRun{ID: 7, Status: githubapi.StatusInProgress, StartedAt: now.Add(-time.Minute)}, otherPROnOld: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pulls := map[int]*githubapi.PullRequest{1: {Number: 1, State: "open", HeadSHA: head, BaseRef: "main", BaseRepo: "example-org/models"}}
			if tt.otherPROnOld {
				pulls[2] = &githubapi.PullRequest{Number: 2, State: "open", HeadSHA: old, BaseRef: "main", BaseRepo: "example-org/models"}
			}
			gh := &fakeGitHub{
				repos:    []githubapi.Repository{{Owner: "example-org", Name: "models"}},
				branches: map[string]string{"main": shaB},
				pulls:    pulls,
				commits:  []githubapi.Commit{{SHA: old}, {SHA: head}},
				latest: map[string]*githubapi.ExistingCheckRun{
					head: {ID: 1, Status: githubapi.StatusCompleted, Conclusion: "failure", Title: "needs 1 more approval", ExternalID: upToDate},
				},
			}
			if tt.run != nil {
				gh.latest[old] = tt.run
			}
			u := newUnitBot(t, gh, &fakeMirrors{err: errFake}, func(c *Config) {
				c.Now = func() time.Time { return now }
				c.Leases = &testLeases{leading: true, period: 30 * time.Second}
			})
			if err := u.Resync(t.Context(), false); err != nil {
				t.Fatal(err)
			}
			u.idle(t)
			superseded := 0
			for _, r := range gh.checkRuns() {
				if r.Conclusion == conclusionNeutral && r.Output != nil && r.Output.Title == supersededTitle {
					superseded++
				}
			}
			if want := map[bool]int{true: 1}[tt.wantSupersede]; superseded != want {
				t.Errorf("%d check runs concluded as superseded, want %d (calls %q)", superseded, want, gh.callList())
			}
		})
	}
}

func TestInProgressOlderThanALeaseIsEvaluatedAgain(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		period time.Duration
		age    time.Duration
		want   resyncAction
	}{
		{"leases that expire: older than a period", 30 * time.Second, 31 * time.Second, resyncEvaluate},
		{"leases that expire: within a period", 30 * time.Second, 29 * time.Second, resyncSkip},
		{"in-process: within a job's time", 0, 31 * time.Second, resyncSkip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Bot{cfg: Config{Now: func() time.Time { return now }, Leases: &testLeases{period: tt.period}}}
			run := &githubapi.ExistingCheckRun{Status: githubapi.StatusInProgress, StartedAt: now.Add(-tt.age)}
			if got, reason, _ := b.decide(run, "", nil); got != tt.want {
				t.Errorf("decide = %v (%s), want %v", got, reason, tt.want)
			}
		})
	}
}

func TestANewLeaderResyncsAtOnce(t *testing.T) {
	gh := &fakeGitHub{repos: []githubapi.Repository{{Owner: "example-org", Name: "models"}}}
	listed := make(chan struct{}, 10)
	leases := &testLeases{period: 30 * time.Millisecond}
	b, err := newBot(Config{AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, ResyncInterval: time.Hour,
		Logger: world.Logger(t), Leases: leases}, deps{
		client: func(int64) (githubAPI, error) { return gh, nil },
		installations: func(context.Context) ([]int64, error) {
			select {
			case listed <- struct{}{}:
			default:
			}
			return []int64{testInstallationID}, nil
		},
		mirrors: &fakeMirrors{},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	time.Sleep(50 * time.Millisecond)
	if n := len(listed); n != 0 {
		t.Fatalf("%d passes before leading, want none", n)
	}
	leases.mu.Lock()
	leases.leading = true
	leases.mu.Unlock()
	select {
	case <-listed:
	case <-time.After(5 * time.Second):
		t.Fatal("no pass after becoming the leader")
	}
}
