package bot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/githubapi/retry"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/openapitest"
)

// fakeTimers holds the audit's delayed callbacks until a test fires them,
// on a clock that moves only when fired.
type fakeTimers struct {
	mu      sync.Mutex
	at      time.Time
	pending []func()
}

func newFakeTimers() *fakeTimers {
	return &fakeTimers{at: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeTimers) afterFunc(_ time.Duration, fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, fn)
}

func (f *fakeTimers) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at
}

// fire moves the clock on by d and runs the callbacks armed so far; it
// returns how many ran.
func (f *fakeTimers) fire(d time.Duration) int {
	f.mu.Lock()
	f.at = f.at.Add(d)
	fns := f.pending
	f.pending = nil
	f.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return len(fns)
}

func (f *fakeTimers) waiting() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending)
}

// audit fires the armed audit timers, a minute on, and waits for the jobs.
// It fails when none was armed.
func (h *harness) audit() {
	h.t.Helper()
	if h.timers.fire(time.Minute) == 0 {
		h.t.Fatal("no audit was scheduled")
	}
	h.idle()
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name, body string
		want       string
		ok         bool
	}{
		{name: "alone", body: "/promobot rollback", want: "rollback", ok: true},
		{name: "after text, with spaces", body: "Broke the forecasts.\n  /promobot   ROLLBACK please\n", want: "rollback", ok: true},
		{name: "no word", body: "/promobot", want: "", ok: true},
		{name: "another word", body: "/promobot merge", want: "merge", ok: true},
		{name: "in a sentence", body: "run /promobot rollback to undo", ok: false},
		{name: "quoted", body: "> /promobot rollback\nno", ok: false},
		{name: "fenced", body: "```\n/promobot rollback\n```", ok: false},
		{name: "after a fence", body: "```\nx\n```\n/promobot rollback", want: "rollback", ok: true},
		{name: "a prefix only", body: "/promobotx rollback", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseCommand(tc.body)
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseCommand = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestProposalOf(t *testing.T) {
	rec := func(env, model string, kind audit.Kind, version string) audit.Record {
		return audit.Record{Environment: env, Model: model, Path: "environments/" + env + "/" + model + ".yaml", Kind: kind, ToVersion: version}
	}
	tests := []struct {
		name    string
		records []audit.Record
		want    proposal
		why     string
	}{
		{name: "a bundle promoted", records: []audit.Record{rec("test", "b", audit.KindPromote, "2"), rec("test", "a", audit.KindPromote, "2")},
			want: proposal{env: "test", models: []string{"a", "b"}, version: "2"}},
		{name: "a registration", records: []audit.Record{rec("dev", "a", audit.KindRegister, "3")},
			want: proposal{env: "dev", models: []string{"a"}, version: "3"}},
		{name: "different versions", records: []audit.Record{rec("test", "a", audit.KindPromote, "2"), rec("test", "b", audit.KindPromote, "3")},
			want: proposal{env: "test", models: []string{"a", "b"}}},
		{name: "nothing", why: "the merge changed no manifest"},
		{name: "a rollback", records: []audit.Record{rec("test", "a", audit.KindRollback, "1")},
			why: "the merge's change of environments/test/a.yaml is a rollback, not a promotion"},
		{name: "two environments", records: []audit.Record{rec("test", "a", audit.KindPromote, "2"), rec("prod", "a", audit.KindPromote, "2")},
			why: "the merge changed manifests in test and prod"},
		{name: "unreadable", records: []audit.Record{{Environment: "test", Model: "a", Path: "p", Kind: audit.KindPromote, Problem: "bad YAML"}},
			why: "p cannot be read: bad YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := proposalOf(tc.records)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(proposal{})); diff != "" || why != tc.why {
				t.Errorf("proposalOf: why %q (want %q), proposal (-want +got):\n%s", why, tc.why, diff)
			}
		})
	}
}

func TestRecentIDs(t *testing.T) {
	var r recentIDs
	if !r.add(7) || r.add(7) {
		t.Fatal("an id is new once")
	}
	r.forget(7)
	if !r.add(7) {
		t.Error("a forgotten id is new again")
	}
	for id := int64(100); id < 100+maxRecentIDs; id++ {
		r.add(id)
	}
	if !r.add(7) {
		t.Error("the oldest id was not dropped once the memory was full")
	}
}

func TestIsBotAccount(t *testing.T) {
	for login, want := range map[string]bool{"dependabot[bot]": true, "promobot[BOT]": true, "mara": false, "bot": false} {
		if got := isBotAccount(login, "User"); got != want {
			t.Errorf("isBotAccount(%q, User) = %v", login, got)
		}
	}
	if !isBotAccount("renovate", "Bot") {
		t.Error("an account of type Bot is a bot")
	}
}

func TestUserMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "answered", err: &githubapi.Error{Op: "list reviews", Status: 502}, want: "GitHub answered 502 to list reviews"},
		{name: "unreachable", err: &githubapi.Error{Op: "list reviews"}, want: "GitHub could not be reached to list reviews"},
		{name: "held by the rate limit gate", err: &githubapi.Error{Op: "list reviews", RetryAfter: 42 * time.Second, Err: &retry.PausedError{Wait: 42 * time.Second}},
			want: "GitHub's rate limit for this installation was reached (list reviews), retry after 42s"},
		{name: "other", err: errors.New("boom"), want: "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := userMessage(tc.err); got != tc.want {
				t.Errorf("userMessage = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestOptionalEventsNeedTheirFeature keeps issue_comment out of the
// least-privilege install: it is handled only with chat-ops on.
func TestOptionalEventsNeedTheirFeature(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, _ := h.promotion(nil)
	id, err := h.em.Comment(testOwner, testRepo, n, "mara", "/promobot rollback")
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.em.IssueCommentEvent(t.Context(), testOwner, testRepo, n, id, "created", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.deliver("issue_comment", p, testSecret); got != http.StatusAccepted {
		t.Fatalf("status %d", got)
	}
	h.idle()
	if comments := h.comments(n); len(comments) != 1 {
		t.Errorf("chat-ops is off, yet the bot wrote: %+v", comments)
	}
	if _, ok := h.bot.handlers()["issue_comment"]; ok {
		t.Error("issue_comment is handled with chat-ops off")
	}
}

// comments returns the comments of issue or pull request n.
func (h *harness) comments(n int) []githubtest.Comment {
	h.t.Helper()
	for _, is := range h.em.Issues(testOwner, testRepo) {
		if is.Number == n {
			return is.Comments
		}
	}
	h.t.Fatalf("no issue #%d", n)
	return nil
}

// TestAppManifestListsTheOptionalFeatures keeps the extended set of the App
// manifest in step with the optional features: every event a feature adds
// to the handler table, and every permission the features write with, is
// listed there (commented out, for those who switch the feature on).
func TestAppManifestListsTheOptionalFeatures(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", ".github", "promobot-app.yml"))
	if err != nil {
		t.Fatal(err)
	}
	_, extended, ok := strings.Cut(string(data), "# Extended set")
	if !ok {
		t.Fatal("the App manifest has no extended set")
	}
	off := (&Bot{cfg: Config{}}).handlers()
	on := (&Bot{cfg: Config{ChatOps: true, BypassIssues: true}}).handlers()
	var added []string
	for event := range on {
		if _, ok := off[event]; !ok {
			added = append(added, event)
		}
	}
	if len(added) == 0 {
		t.Fatal("the optional features add no event")
	}
	for _, event := range added {
		if !regexp.MustCompile(`(?m)^#\s+-\s+` + event + `\b`).MatchString(extended) {
			t.Errorf("the manifest's extended set does not list the event %s", event)
		}
	}
	// ChatOps pushes and opens pull requests and comments; bypass
	// detection opens issues and sets commit statuses.
	for _, perm := range []string{"contents: write", "pull_requests: write", "issues: write", "statuses: write"} {
		if !regexp.MustCompile(`(?m)^#\s+` + regexp.QuoteMeta(perm) + `\s*$`).MatchString(extended) {
			t.Errorf("the manifest's extended set does not list %q", perm)
		}
	}
}

// TestWebhookExamplesWithTheOptionalFeatures replays the examples of the
// events the optional features react to, with every feature on: each is
// accepted or deliberately ignored, none panics.
func TestWebhookExamplesWithTheOptionalFeatures(t *testing.T) {
	examples := openapitest.RequireExamples(t)
	m := metrics.New()
	timers := newFakeTimers()
	cfg := Config{
		AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, Logger: testLogger(t), Workers: 4, QueueSize: 10000, Metrics: m,
		ChatOps: true, BypassIssues: true, WorkDir: t.TempDir(),
		AuditSink: func(string, string) (chain.Sink, error) { return nil, errFake },
	}
	b, err := newBot(cfg, deps{
		client:    func(int64) (githubAPI, error) { return nil, errFake },
		features:  func(int64) (featureAPI, error) { return nil, errFake },
		botLogin:  func(context.Context) (string, error) { return botLogin, nil },
		mirrors:   &fakeMirrors{err: errFake},
		afterFunc: timers.afterFunc, clock: timers.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	h := b.Handler()
	for _, event := range []string{"issue_comment", "pull_request", "push"} {
		list := examples[event]
		if len(list) == 0 {
			t.Fatalf("no examples of %s", event)
		}
		for i, ex := range list {
			body, err := json.Marshal(ex)
			if err != nil {
				t.Fatal(err)
			}
			if got := post(t, h, event, string(body)); got != http.StatusAccepted {
				t.Errorf("%s example %d (action %v): status %d, want 202", event, i, ex["action"], got)
			}
		}
	}
	// The audits the examples armed run against a GitHub that fails.
	timers.fire(time.Minute)
	(&unitBot{Bot: b}).idle(t)
	text := metricsText(t, m)
	if strings.Contains(text, `outcome="panicked"`) || strings.Contains(grepLines(text, "promobot_webhook_deliveries_total"), `outcome="error"`) {
		t.Errorf("a job panicked or a delivery failed:\n%s", grepLines(text, "outcome="))
	}
}
