package bot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// fakeGitHub is a hand-written fake of githubAPI with value fields. It
// records every call as "Method arg" and fails the methods listed in fail.
type fakeGitHub struct {
	mu        sync.Mutex
	calls     []string
	pulls     map[int]*githubapi.PullRequest
	repos     []githubapi.Repository
	branches  map[string]string                      // branch → tip
	latest    map[string]*githubapi.ExistingCheckRun // head sha → the bot's latest check run
	reviewsOf map[int][]githubapi.Review             // by pull request; missing means reviews
	commits   []githubapi.Commit
	reviews   []githubapi.Review
	teams     map[string][]string  // "org/slug"; missing means 404
	perms     map[string]string    // login → permission; missing means 404
	fail      map[string]error     // method → error
	failLeft  map[string]int       // method → how many more calls fail; 0 means all
	runs      []githubapi.CheckRun // creates and updates, in order
	// noRecord keeps neither calls nor check runs, for benchmarks.
	noRecord bool
}

func (f *fakeGitHub) record(method, arg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.noRecord {
		f.calls = append(f.calls, method+" "+arg)
	}
	err, ok := f.fail[method]
	if !ok {
		return nil
	}
	if n, limited := f.failLeft[method]; limited {
		if n == 0 {
			return nil
		}
		f.failLeft[method] = n - 1
	}
	return err
}

func (f *fakeGitHub) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeGitHub) checkRuns() []githubapi.CheckRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.runs)
}

func (f *fakeGitHub) PullRequest(_ context.Context, _, _ string, n int) (*githubapi.PullRequest, error) {
	if err := f.record("PullRequest", fmt.Sprint(n)); err != nil {
		return nil, err
	}
	pr, ok := f.pulls[n]
	if !ok {
		return nil, &githubapi.Error{Op: "get pull request", Status: 404, Terminal: true, Err: fmt.Errorf("not found")}
	}
	return pr, nil
}

func (f *fakeGitHub) PullRequestCommits(_ context.Context, _, _ string, n int) ([]githubapi.Commit, error) {
	return f.commits, f.record("PullRequestCommits", fmt.Sprint(n))
}

func (f *fakeGitHub) Reviews(_ context.Context, _, _ string, n int) ([]githubapi.Review, error) {
	if r, ok := f.reviewsOf[n]; ok {
		return r, f.record("Reviews", fmt.Sprint(n))
	}
	return f.reviews, f.record("Reviews", fmt.Sprint(n))
}

func (f *fakeGitHub) TeamMembers(_ context.Context, org, slug string) ([]string, error) {
	if err := f.record("TeamMembers", org+"/"+slug); err != nil {
		return nil, err
	}
	m, ok := f.teams[org+"/"+slug]
	if !ok {
		return nil, &githubapi.Error{Op: "list members", Status: 404, Terminal: true, Err: fmt.Errorf("not found")}
	}
	return m, nil
}

func (f *fakeGitHub) Permission(_ context.Context, _, _, login string) (string, error) {
	if err := f.record("Permission", login); err != nil {
		return "", err
	}
	p, ok := f.perms[login]
	if !ok {
		return "", &githubapi.Error{Op: "get permission", Status: 404, Terminal: true, Err: fmt.Errorf("not found")}
	}
	return p, nil
}

// sortedPulls returns the pull requests for which keep holds, by number.
func (f *fakeGitHub) sortedPulls(keep func(*githubapi.PullRequest) bool) []*githubapi.PullRequest {
	var out []*githubapi.PullRequest
	for _, pr := range f.pulls {
		if keep(pr) {
			out = append(out, pr)
		}
	}
	slices.SortFunc(out, func(a, b *githubapi.PullRequest) int { return a.Number - b.Number })
	return out
}

func (f *fakeGitHub) PullRequestsWithHead(_ context.Context, _, _, sha string) ([]*githubapi.PullRequest, error) {
	if err := f.record("PullRequestsWithHead", sha); err != nil {
		return nil, err
	}
	return f.sortedPulls(func(pr *githubapi.PullRequest) bool { return pr.HeadSHA == sha }), nil
}

func (f *fakeGitHub) OpenPullRequests(_ context.Context, _, _, base string) ([]*githubapi.PullRequest, error) {
	if err := f.record("OpenPullRequests", base); err != nil {
		return nil, err
	}
	return f.sortedPulls(func(pr *githubapi.PullRequest) bool {
		return pr.State == "open" && (base == "" || pr.BaseRef == base)
	}), nil
}

func (f *fakeGitHub) Repositories(context.Context) ([]githubapi.Repository, error) {
	return f.repos, f.record("Repositories", "")
}

func (f *fakeGitHub) LatestCheckRun(_ context.Context, _, _, sha, _ string, _ int64) (*githubapi.ExistingCheckRun, error) {
	if err := f.record("LatestCheckRun", sha); err != nil {
		return nil, err
	}
	return f.latest[sha], nil
}

func (f *fakeGitHub) BranchHead(_ context.Context, _, _, branch string) (string, error) {
	if err := f.record("BranchHead", branch); err != nil {
		return "", err
	}
	return f.branches[branch], nil
}

func (f *fakeGitHub) CreateCheckRun(_ context.Context, _, _ string, run githubapi.CheckRun) (int64, error) {
	if err := f.record("CreateCheckRun", run.HeadSHA); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noRecord {
		return 1, nil
	}
	f.runs = append(f.runs, run)
	return int64(len(f.runs)), nil
}

func (f *fakeGitHub) StartCheckRun(ctx context.Context, owner, repo string, run githubapi.CheckRun) (int64, []int, error) {
	id, err := f.CreateCheckRun(ctx, owner, repo, run)
	if err != nil {
		return 0, nil, err
	}
	var listed []int
	for _, pr := range f.sortedPulls(func(pr *githubapi.PullRequest) bool { return pr.State == "open" && pr.HeadSHA == run.HeadSHA }) {
		listed = append(listed, pr.Number)
	}
	return id, listed, nil
}

func (f *fakeGitHub) UpdateCheckRun(_ context.Context, _, _ string, id int64, run githubapi.CheckRun) error {
	if err := f.record("UpdateCheckRun", fmt.Sprint(id)); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.noRecord {
		f.runs = append(f.runs, run)
	}
	return nil
}

func (f *fakeGitHub) Token(context.Context) (string, error) { return "ghs_fake", f.record("Token", "") }

// fakeMirrors answers every sync with a snapshot of a scenario, or err.
type fakeMirrors struct {
	mu       sync.Mutex
	scenario evaltest.Scenario
	err      error
	block    bool // wait for the context to end
	requests []mirror.Request
	options  []gitrepo.InputOptions
	// input, when set, is what every snapshot builds (a shallow copy).
	input *evaluate.Input
}

func (m *fakeMirrors) Sync(ctx context.Context, req mirror.Request) (snapshot, error) {
	m.mu.Lock()
	m.requests = append(m.requests, req)
	m.mu.Unlock()
	if m.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if m.err != nil {
		return nil, m.err
	}
	return fakeSnapshot{m}, nil
}

func (m *fakeMirrors) SyncCommits(context.Context, mirror.CommitsRequest) (commitSet, error) {
	return nil, errors.New("fakeMirrors: SyncCommits is not faked")
}

type fakeSnapshot struct{ m *fakeMirrors }

func (s fakeSnapshot) BaseCommit() string { return evaltest.BaseSHA }

func (s fakeSnapshot) BaseFS() (fs.FS, error) {
	out := fstest.MapFS{}
	for p, data := range s.m.scenario.Base {
		out[p] = &fstest.MapFile{Data: []byte(data)}
	}
	return out, nil
}

func (s fakeSnapshot) BuildInput(_ context.Context, opts gitrepo.InputOptions) (*evaluate.Input, error) {
	s.m.mu.Lock()
	s.m.options = append(s.m.options, opts)
	s.m.mu.Unlock()
	if s.m.input != nil {
		in := *s.m.input
		return &in, nil
	}
	in, err := evaltest.Input(s.m.scenario)
	if err != nil {
		return nil, err
	}
	// What the bot must fill in itself starts empty, as from gitrepo.
	in.Reviews, in.Teams, in.WritePermission, in.PullRequest.Author, in.PullRequest.Labels = nil, nil, nil, "", nil
	return in, nil
}

// unitBot is a bot with fakes for GitHub and git.
type unitBot struct {
	*Bot
	gh      *fakeGitHub
	mirrors *fakeMirrors
}

func newUnitBot(t *testing.T, gh *fakeGitHub, m *fakeMirrors, mutate func(*Config)) *unitBot {
	t.Helper()
	if gh.pulls == nil {
		gh.pulls = map[int]*githubapi.PullRequest{5: openedPull()}
	}
	now, _ := time.Parse(time.RFC3339, evaltest.DefaultNow)
	cfg := Config{AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, Logger: world.Logger(t), Workers: 2, Now: func() time.Time { return now }}
	if mutate != nil {
		mutate(&cfg)
	}
	b, err := newBot(cfg, deps{
		client:        func(int64) (githubAPI, error) { return gh, nil },
		installations: func(context.Context) ([]int64, error) { return []int64{testInstallationID}, nil },
		mirrors:       m,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	return &unitBot{Bot: b, gh: gh, mirrors: m}
}

// openedPull is pull request 5 as GitHub has it when openedPayload is
// delivered.
func openedPull() *githubapi.PullRequest {
	return &githubapi.PullRequest{
		Number: 5, State: "open", Title: "t", Author: "alex",
		BaseRef: "main", BaseSHA: shaB, HeadRef: "feature", HeadSHA: shaA,
		BaseRepo: "example-org/models", HeadRepo: "example-org/models", CloneURL: "https://example.invalid/example-org/models.git",
		Labels: []string{"freeze-override"},
	}
}

func (u *unitBot) idle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for u.queue.Depth() > 0 || u.queue.Running() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("not idle after 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

var errFake = fmt.Errorf("fake failure")
