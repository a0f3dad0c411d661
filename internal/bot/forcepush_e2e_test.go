package bot

import (
	"slices"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// TestEndToEndForcePushConcludesTheFormerHead: an evaluation died with its
// check run in progress on a pull request's head (created in progress, as
// a run with many annotations is, and never completed), then the head was
// force-pushed away, so the former head is no longer among the pull
// request's commits and the resynchronization cannot find it. The
// synchronize delivery names it: its check run is concluded neutral,
// "superseded", and the new head gets its own verdict. In both modes.
func TestEndToEndForcePushConcludesTheFormerHead(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"in-memory", "durable"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newWorld(t)
			opts := harnessOptions{}
			if mode == "durable" {
				_, opts.durable = azureQueue(t)
			}
			h.start(opts)
			n, former := h.simplePR("rewrite")

			// The replica that died: its check run stays in progress.
			gh, err := h.bot.deps.client(testInstallationID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := gh.CreateCheckRun(t.Context(), testOwner, testRepo, githubapi.CheckRun{
				Name: h.bot.cfg.CheckName, HeadSHA: former, Status: githubapi.StatusInProgress, StartedAt: h.bot.cfg.Now(),
			}); err != nil {
				t.Fatal(err)
			}

			// A force push: the branch restarts from main, without former.
			head := gittest.MustCommit(t, h.RepoPath, gittest.Commit{
				Branch: "rewrite", Parents: []string{h.Tip("main")}, Message: "Docs, rewritten",
				Files:  map[string]string{"README.md": "# Models\n\nrewritten\n"},
				Author: gittest.Signature{Name: "alex", Email: "alex@users.noreply.github.com", When: world.MustTime(t, evaltest.DefaultNow)},
			})
			if _, err := h.Em.SyncPR(testOwner, testRepo, n); err != nil {
				t.Fatal(err)
			}
			commits, err := gh.PullRequestCommits(t.Context(), testOwner, testRepo, n)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(commits, func(c githubapi.Commit) bool { return c.SHA == former }) {
				t.Fatal("the force push left the former head among the pull request's commits")
			}
			p, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "synchronize", "")
			if err != nil {
				t.Fatal(err)
			}
			if p["before"] != former {
				t.Fatalf("synchronize before = %v, want %s", p["before"], former)
			}
			h.send("pull_request", p)

			deadline := time.Now().Add(45 * time.Second)
			for h.Latest(former).Status != "completed" || h.runs(head) == 0 || h.Latest(head).Status != "completed" {
				if time.Now().After(deadline) {
					t.Fatalf("after 45s: former head %+v, %d check runs on the new head", h.Latest(former), h.runs(head))
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got := h.Latest(former); got.Conclusion != "neutral" || got.Title != "superseded" {
				t.Errorf("former head's check run: %s %q, want neutral \"superseded\"", got.Conclusion, got.Title)
			}
			if got := h.runs(former); got != 1 {
				t.Errorf("%d check runs on the former head, want the one concluded", got)
			}
			h.want("the new head", head, "success", []string{"no promotion changes"}, nil)
		})
	}
}
