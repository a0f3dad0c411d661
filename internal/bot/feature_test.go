package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/githubapi"
)

// recordingFeature records what the bot hands it.
type recordingFeature struct {
	name   string
	events []string
	// ignore makes Handle ignore every event.
	ignore bool

	mu      sync.Mutex
	host    Host
	got     []string // "event repo push/merge"
	resyncs []string // "repo branch"
	stopped bool
}

func (f *recordingFeature) Name() string     { return f.name }
func (f *recordingFeature) Events() []string { return f.events }
func (f *recordingFeature) Start(h Host) error {
	f.host = h
	return nil
}

func (f *recordingFeature) Handle(_ context.Context, ev Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	line := ev.Name + " " + ev.Repo.FullName() + "@" + ev.Repo.DefaultBranch
	switch {
	case ev.Push != nil:
		line += " push " + ev.Push.Before[:4] + ".." + ev.Push.After[:4]
	case ev.Merge != nil:
		line += fmt.Sprintf(" merge #%d %s", ev.Merge.Number, ev.Merge.MergeCommit[:4])
	}
	f.got = append(f.got, line)
	if f.ignore {
		return webhook.Ignore("not interested")
	}
	return nil
}

func (f *recordingFeature) Resync(_ context.Context, repo Repo, _ *slog.Logger) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resyncs = append(f.resyncs, repo.FullName()+" "+repo.DefaultBranch)
	return nil
}

func (f *recordingFeature) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
}

func (f *recordingFeature) seen() ([]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...), append([]string(nil), f.resyncs...)
}

func TestFeatureRegistration(t *testing.T) {
	tests := []struct {
		name     string
		features []Feature
		wantErr  string
	}{
		{name: "a pipeline event", features: []Feature{&recordingFeature{name: "x", events: []string{"push"}}}, wantErr: "the pipeline handles push"},
		{name: "two of a name", features: []Feature{&recordingFeature{name: "x"}, &recordingFeature{name: "x"}}, wantErr: "two features are named x"},
		{name: "no name", features: []Feature{&recordingFeature{}}, wantErr: "empty or has spaces"},
		{name: "fine", features: []Feature{&recordingFeature{name: "x", events: []string{"issue_comment", EventMerged}}, &recordingFeature{name: "y", events: []string{"issue_comment"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, Features: tc.features}
			b, err := newBot(cfg, deps{client: func(int64) (githubAPI, error) { return nil, errFake }, mirrors: &fakeMirrors{err: errFake}})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New: %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
			want := append(PipelineEvents(), "issue_comment")
			if diff := cmp.Diff(sortedCopy(want), b.Events()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestFeaturesGetPushesMergesAndResyncs delivers what the pipeline hands on
// to features, and checks what a feature listening to it gets.
func TestFeaturesGetPushesMergesAndResyncs(t *testing.T) {
	repo := func() m {
		r := repoJSON()
		r["default_branch"] = "main"
		return r
	}
	push := func(ref string) m {
		return m{"ref": ref, "before": shaB, "after": shaA, "repository": repo(), "installation": m{"id": testInstallationID}}
	}
	closed := func(merged bool, base string) m {
		pr := prJSON(5, shaA)
		pr["merged"], pr["merge_commit_sha"] = merged, shaB
		pr["base"] = m{"ref": base, "sha": shaB, "repo": repoJSON()}
		return m{"action": "closed", "repository": repo(), "installation": m{"id": testInstallationID}, "pull_request": pr}
	}
	comment := m{"action": "created", "repository": repo(), "installation": m{"id": testInstallationID}}
	f := &recordingFeature{name: "rec", events: []string{EventDefaultBranchPush, EventMerged, "issue_comment"}}
	quiet := &recordingFeature{name: "quiet", events: []string{"issue_comment"}, ignore: true}
	gh := &fakeGitHub{repos: []githubapi.Repository{{Owner: "example-org", Name: "models", DefaultBranch: "main"}, {Owner: "example-org", Name: "old", Archived: true}}}
	u := newUnitBot(t, gh, &fakeMirrors{err: errFake}, func(c *Config) { c.Features = []Feature{f, quiet} })
	for _, d := range []struct {
		event   string
		payload m
	}{
		{"push", push("refs/heads/main")},
		{"push", push("refs/heads/feature")},
		{"pull_request", closed(true, "main")},
		{"pull_request", closed(false, "main")},
		{"pull_request", closed(true, "dev")},
		{"issue_comment", comment},
	} {
		if got := post(t, u.Handler(), d.event, d.payload); got != 202 {
			t.Errorf("%s: status %d", d.event, got)
		}
	}
	u.idle(t)
	if err := u.Resync(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	got, resyncs := f.seen()
	want := []string{
		EventDefaultBranchPush + " example-org/models@main push bbbb..aaaa",
		EventMerged + " example-org/models@main merge #5 bbbb",
		"issue_comment /@",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"example-org/models main"}, resyncs); diff != "" {
		t.Errorf("resyncs (-want +got):\n%s", diff)
	}
	if quietGot, _ := quiet.seen(); len(quietGot) != 1 {
		t.Errorf("the second feature on issue_comment got %q", quietGot)
	}
	if err := u.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !f.stopped {
		t.Error("Shutdown did not stop the feature")
	}
}

// TestDispatchIgnoresOnlyWhenEveryFeatureDoes keeps a delivery accepted when
// one feature takes it and another ignores it.
func TestDispatchIgnoresOnlyWhenEveryFeatureDoes(t *testing.T) {
	taker := &recordingFeature{name: "taker", events: []string{"issue_comment"}}
	quiet := &recordingFeature{name: "quiet", events: []string{"issue_comment"}, ignore: true}
	b := &Bot{cfg: Config{Features: []Feature{taker, quiet}}}
	if err := b.startFeatures(b.pipelineHandlers()); err != nil {
		t.Fatal(err)
	}
	ev := Event{Name: "issue_comment", Logger: slog.New(slog.DiscardHandler)}
	if err := b.dispatch(t.Context(), ev); err != nil {
		t.Errorf("one taker: %v", err)
	}
	b2 := &Bot{cfg: Config{Features: []Feature{quiet}}}
	if err := b2.startFeatures(b2.pipelineHandlers()); err != nil {
		t.Fatal(err)
	}
	if err := b2.dispatch(t.Context(), ev); err == nil {
		t.Error("every feature ignored it, yet it was not ignored")
	}
}
