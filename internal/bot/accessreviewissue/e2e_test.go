package accessreviewissue_test

import (
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/accessreviewissue"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/bottest"
)

var _ accessreviewissue.API = (*githubapi.Client)(nil)

// withReview is a bot with the access-review issue on, as promobot serve
// --access-review-issue builds it, on the harness's clock.
func withReview() bottest.Options {
	return bottest.Options{Features: func(env bottest.Env) []bot.Feature {
		f, err := accessreviewissue.New(accessreviewissue.Options{
			Client:     func(id int64) (accessreviewissue.API, error) { return env.Apps.Installation(id) },
			BotLogin:   env.Apps.BotLogin,
			Workspaces: workspace.NewSet(env.WorkDir),
			Clock:      env.Timers.Now,
		})
		if err != nil {
			panic(err)
		}
		return []bot.Feature{f}
	}}
}

// TestAccessReviewIssueKeptAcrossPasses: a release manager losing write
// access opens the issue at the first pass; a pass within the interval
// does nothing, even though more changed; the pass a day later edits the
// same issue instead of opening another.
func TestAccessReviewIssueKeptAcrossPasses(t *testing.T) {
	h := bottest.New(t, withReview())
	if err := h.Em.SetPermission(bottest.Owner, bottest.Repo, "rob", "read"); err != nil {
		t.Fatal(err)
	}
	h.Resync(false)
	issues := h.BotIssues()
	if len(issues) != 1 {
		t.Fatalf("%d access-review issues after the first pass, want 1", len(issues))
	}
	first := issues[0]
	if first.Title != accessreviewissue.Title || !strings.Contains(first.Body, "rob") {
		t.Fatalf("the issue does not report rob's missing write access:\n%s: %s", first.Title, first.Body)
	}

	// Within the interval: the new finding waits for the next review.
	h.Em.RemoveTeamMember("example-org", "release-managers", "rita")
	h.Resync(false)
	if issues := h.BotIssues(); len(issues) != 1 || issues[0].Body != first.Body {
		t.Fatalf("a pass within the interval changed the issues: %+v", issues)
	}

	h.Timers.Fire(accessreviewissue.DefaultInterval)
	h.Resync(false)
	issues = h.BotIssues()
	if len(issues) != 1 || issues[0].Number != first.Number {
		t.Fatalf("the second review did not keep the one issue: %+v", issues)
	}
	if issues[0].Body == first.Body {
		t.Errorf("the second review did not update the issue:\n%s", issues[0].Body)
	}
}
