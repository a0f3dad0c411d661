package featurekit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/workspace"
)

var sampleRepo = bot.Repo{Installation: 7, Owner: "Org", Name: "GitOps", CloneURL: "https://git.example/Org/GitOps.git", DefaultBranch: "trunk"}

func TestNewTarget(t *testing.T) {
	got := featurekit.NewTarget(sampleRepo)
	want := featurekit.Target{
		Repo:         featurekit.Repo{Owner: "Org", Name: "GitOps", CloneURL: "https://git.example/Org/GitOps.git"},
		Installation: 7,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewTarget (-want +got):\n%s", diff)
	}
	if got.FullName() != "Org/GitOps" {
		t.Errorf("FullName() = %q", got.FullName())
	}
}

func TestTargetJobKey(t *testing.T) {
	pr := featurekit.NewTarget(sampleRepo)
	pr.Number = 12
	tests := []struct {
		name      string
		target    featurekit.Target
		kind, ref string
		want      bot.JobKey
	}{
		{
			name:   "a pull request's job, the repository in lower case",
			target: pr, kind: "command", ref: "991",
			want: bot.JobKey{Installation: 7, Repo: "org/gitops", Number: 12, Kind: "command", Ref: "991"},
		},
		{
			name:   "a repository's job has no number",
			target: featurekit.NewTarget(sampleRepo), kind: "audit",
			want: bot.JobKey{Installation: 7, Repo: "org/gitops", Kind: "audit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.target.JobKey(tt.kind, tt.ref)); diff != "" {
				t.Errorf("JobKey (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTargetLogger(t *testing.T) {
	withSHA := featurekit.NewTarget(sampleRepo)
	withSHA.Number, withSHA.SHA = 12, "0123abcd"
	withoutSHA := withSHA
	withoutSHA.SHA = ""
	tests := []struct {
		name   string
		target featurekit.Target
		want   map[string]any
	}{
		{
			name:   "with a commit",
			target: withSHA,
			want:   map[string]any{bot.KeyRepo: "Org/GitOps", bot.KeyPR: 12.0, bot.KeyInstallationID: 7.0, bot.KeySHA: "0123abcd"},
		},
		{
			name:   "without a commit, no sha key",
			target: withoutSHA,
			want:   map[string]any{bot.KeyRepo: "Org/GitOps", bot.KeyPR: 12.0, bot.KeyInstallationID: 7.0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
				ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey {
						return slog.Attr{}
					}
					return a
				},
			}))
			tt.target.Logger(logger).Info("x")
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("%v: %s", err, buf.Bytes())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("logged attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppOptionsCheck(t *testing.T) {
	client := func(int64) (fakeAPI, error) { return fakeAPI{}, nil }
	login := func(context.Context) (string, error) { return "promobot[bot]", nil }
	set := workspace.NewSet(t.TempDir())
	const missing = "feat: a GitHub client, the bot login and the workspaces are required"
	tests := []struct {
		name string
		opts featurekit.AppOptions[fakeAPI]
		want string
	}{
		{name: "complete", opts: featurekit.AppOptions[fakeAPI]{Client: client, BotLogin: login, Workspaces: set}},
		{name: "no client", opts: featurekit.AppOptions[fakeAPI]{BotLogin: login, Workspaces: set}, want: missing},
		{name: "no bot login", opts: featurekit.AppOptions[fakeAPI]{Client: client, Workspaces: set}, want: missing},
		{name: "no workspaces", opts: featurekit.AppOptions[fakeAPI]{Client: client, BotLogin: login}, want: missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := tt.opts.Check("feat"); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Check = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJobAssess(t *testing.T) {
	tests := []struct {
		name, bot string
		want      audit.AssessOptions
	}{
		{name: "an App's bot login", bot: "promobot[bot]", want: audit.AssessOptions{CheckName: "promobot", App: "promobot"}},
		{name: "a login without the suffix is the slug", bot: "gitops-bot", want: audit.AssessOptions{CheckName: "promobot", App: "gitops-bot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &featurekit.Job[fakeAPI]{Bot: tt.bot}
			if diff := cmp.Diff(tt.want, j.Assess("promobot")); diff != "" {
				t.Errorf("Assess (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultBranch(t *testing.T) {
	tests := []struct {
		name string
		repo bot.Repo
		want string
	}{
		{name: "named by the payload", repo: bot.Repo{DefaultBranch: "trunk"}, want: "trunk"},
		{name: "not named: main", repo: bot.Repo{}, want: "main"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := featurekit.DefaultBranch(tt.repo); got != tt.want {
				t.Errorf("DefaultBranch = %q, want %q", got, tt.want)
			}
		})
	}
}
