package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/example-org/promobot/internal/attest/issue"
	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/accessreviewissue"
	"github.com/example-org/promobot/internal/bot/attestissue"
	"github.com/example-org/promobot/internal/bot/branchaudit"
	"github.com/example-org/promobot/internal/bot/chatops"
	"github.com/example-org/promobot/internal/bot/driftmonitor"
	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/bot/rollbackcmd"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/testing/bottest"
	"github.com/example-org/promobot/internal/testing/openapitest"
)

// allFeatures returns every optional feature, on, with a GitHub that fails
// every call and delays that run on timers.
func allFeatures(t *testing.T, timers *bottest.FakeTimers) []bot.Feature {
	t.Helper()
	login := func(context.Context) (string, error) { return bottest.BotLogin, nil }
	workspaces := workspace.NewSet(t.TempDir())
	audit, err := branchaudit.New(branchaudit.Options{
		Client:     func(int64) (branchaudit.API, error) { return nil, bot.ErrFake },
		BotLogin:   login,
		Workspaces: workspaces, BypassIssues: true,
		Sink:      func(string, string) (chain.Sink, error) { return nil, bot.ErrFake },
		AfterFunc: timers.AfterFunc, Clock: timers.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ops, err := chatops.New(chatops.Options{
		Client:     func(int64) (chatops.API, error) { return nil, bot.ErrFake },
		BotLogin:   login,
		Workspaces: workspaces,
	})
	if err != nil {
		t.Fatal(err)
	}
	rollback, err := rollbackcmd.New(rollbackcmd.Options{
		Client:     func(int64) (rollbackcmd.API, error) { return nil, bot.ErrFake },
		BotLogin:   login,
		Workspaces: workspaces,
	})
	if err != nil {
		t.Fatal(err)
	}
	review, err := accessreviewissue.New(accessreviewissue.Options{
		Client:     func(int64) (accessreviewissue.API, error) { return nil, bot.ErrFake },
		BotLogin:   login,
		Workspaces: workspaces, Clock: timers.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	monitor, err := driftmonitor.New(driftmonitor.Options{
		Client:     func(int64) (driftmonitor.API, error) { return nil, bot.ErrFake },
		BotLogin:   login,
		Workspaces: workspaces, Store: &drift.FileStore{Dir: t.TempDir()},
		Metrics: driftmonitor.NewMetrics(prometheus.NewRegistry()), Issue: true, Clock: timers.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	attestations, err := attestissue.New(attestissue.Options{
		Issuer: &issue.Issuer{},
		Client: func(int64) (attestissue.API, error) { return nil, bot.ErrFake },
	})
	if err != nil {
		t.Fatal(err)
	}
	return []bot.Feature{audit, ops, rollback, review, monitor, attestations}
}

// idle waits until b has no queued or running job.
func idle(t *testing.T, b *bot.Bot) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.Busy() {
		if time.Now().After(deadline) {
			t.Fatal("not idle after 10s")
		}
		time.Sleep(time.Millisecond)
	}
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
	off := bot.PipelineEvents()
	var added []string
	for _, f := range allFeatures(t, bottest.NewFakeTimers()) {
		for _, event := range f.Events() {
			if !slices.Contains(off, event) && !strings.HasPrefix(event, "promobot:") && !slices.Contains(added, event) {
				added = append(added, event)
			}
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
	timers := bottest.NewFakeTimers()
	cfg := bot.Config{
		AppID: bot.TestAppID, WebhookSecrets: [][]byte{[]byte(bot.TestSecret)}, Logger: bottest.Logger(t), Workers: 4, QueueSize: 10000, Metrics: m,
		Features: allFeatures(t, timers),
	}
	b := bot.NewOffline(t, cfg)
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
			if got := bot.Post(t, h, event, string(body)); got != http.StatusAccepted {
				t.Errorf("%s example %d (action %v): status %d, want 202", event, i, ex["action"], got)
			}
		}
	}
	// The audits the examples armed run against a GitHub that fails.
	timers.Fire(time.Minute)
	idle(t, b)
	text := bot.MetricsText(t, m)
	if strings.Contains(text, `outcome="panicked"`) || strings.Contains(bot.GrepLines(text, "promobot_webhook_deliveries_total"), `outcome="error"`) {
		t.Errorf("a job panicked or a delivery failed:\n%s", bot.GrepLines(text, "outcome="))
	}
}
