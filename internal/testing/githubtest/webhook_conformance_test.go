package githubtest

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/testing/gittest"
	"github.com/example-org/promobot/internal/testing/openapitest"
)

// webhookCase is one payload built by the emulator, named by GitHub's
// event and action.
type webhookCase struct {
	event, action string
	payload       Payload
}

// hookName returns the name GitHub's description gives the webhook, such
// as "pull-request-opened" or "push".
func (c webhookCase) hookName() string {
	name := c.event
	if c.action != "" {
		name += "-" + c.action
	}
	return strings.ReplaceAll(name, "_", "-")
}

// buildWebhookPayloads drives a pull request through its life and builds
// every kind of payload the emulator offers along the way.
func buildWebhookPayloads(t *testing.T) []webhookCase {
	t.Helper()
	e := newEnv(t)
	ctx := t.Context()
	em := e.Emulator
	var cases []webhookCase
	add := func(event, action string, p Payload, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s %s: %v", event, action, err)
		}
		cases = append(cases, webhookCase{event: event, action: action, payload: p})
	}
	n := e.openPR(t)
	if _, _, err := e.app.Issues.AddLabelsToIssue(ctx, org, repoName, n, []string{"promotion"}); err != nil {
		t.Fatal(err)
	}
	p, err := em.PullRequestEvent(ctx, org, repoName, n, "opened", "")
	add("pull_request", "opened", p, err)
	comment, err := em.Comment(org, repoName, n, "bob", "/promobot rollback")
	if err != nil {
		t.Fatal(err)
	}
	p, err = em.IssueCommentEvent(ctx, org, repoName, n, comment, "created", "")
	add("issue_comment", "created", p, err)
	p, err = em.IssueCommentEvent(ctx, org, repoName, n, comment, "edited", "")
	add("issue_comment", "edited", p, err)
	p, err = em.PullRequestEvent(ctx, org, repoName, n, "edited", "")
	add("pull_request", "edited", p, err)

	e.advance(time.Minute)
	newHead := gittest.MustCommit(t, e.path, gittest.Commit{
		Branch:  "promote",
		Files:   map[string]string{"environments/prod/fraud.yaml": "version: 3\nsha256: ccc\n"},
		Message: "Bump fraud\n",
		Author:  gittest.Signature{Name: "Alice", Email: "alice@example.com", When: t0.Add(time.Hour)},
	})
	if _, err := em.SyncPR(org, repoName, n); err != nil {
		t.Fatal(err)
	}
	p, err = em.PullRequestEvent(ctx, org, repoName, n, "synchronize", "")
	add("pull_request", "synchronize", p, err)
	p, err = em.PushEvent(ctx, org, repoName, "refs/heads/promote", e.headSHA, newHead, "alice")
	add("push", "", p, err)
	p, err = em.PushEvent(ctx, org, repoName, "refs/heads/promote", strings.Repeat("0", 40), newHead, "alice")
	add("push", "", p, err)

	approval, err := em.Review(org, repoName, n, "bob", "APPROVED", "LGTM")
	if err != nil {
		t.Fatal(err)
	}
	p, err = em.PullRequestReviewEvent(ctx, org, repoName, n, approval, "submitted", "")
	add("pull_request_review", "submitted", p, err)
	p, err = em.PullRequestReviewEvent(ctx, org, repoName, n, approval, "edited", "")
	add("pull_request_review", "edited", p, err)
	changes, err := em.Review(org, repoName, n, "carol", "CHANGES_REQUESTED", "Needs metrics.")
	if err != nil {
		t.Fatal(err)
	}
	if err := em.Dismiss(org, repoName, n, changes); err != nil {
		t.Fatal(err)
	}
	p, err = em.PullRequestReviewEvent(ctx, org, repoName, n, changes, "dismissed", "promobot[bot]")
	add("pull_request_review", "dismissed", p, err)

	run, _, err := e.app.Checks.CreateCheckRun(ctx, org, repoName, github.CreateCheckRunOptions{
		Name: "promobot/gate", HeadSHA: newHead, Status: github.String("in_progress"),
		Output: &github.CheckRunOutput{Title: github.String("Evaluating"), Summary: github.String("…")},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err = em.CheckRunEvent(ctx, org, repoName, run.GetID(), "created", em.AppBotLogin())
	add("check_run", "created", p, err)
	if _, _, err := e.app.Checks.UpdateCheckRun(ctx, org, repoName, run.GetID(), github.UpdateCheckRunOptions{
		Name: "promobot/gate", Conclusion: github.String("success"),
	}); err != nil {
		t.Fatal(err)
	}
	p, err = em.CheckRunEvent(ctx, org, repoName, run.GetID(), "completed", em.AppBotLogin())
	add("check_run", "completed", p, err)
	p, err = em.CheckRunEvent(ctx, org, repoName, run.GetID(), "rerequested", "bob")
	add("check_run", "rerequested", p, err)
	p, err = em.CheckSuiteEvent(ctx, org, repoName, newHead, "requested", "alice")
	add("check_suite", "requested", p, err)
	p, err = em.CheckSuiteEvent(ctx, org, repoName, newHead, "rerequested", "bob")
	add("check_suite", "rerequested", p, err)

	p, err = em.MergeGroupEvent(ctx, org, repoName, newHead, "refs/heads/gh-readonly-queue/main/pr-1-"+newHead, "refs/heads/main", "bob")
	add("merge_group", "checks_requested", p, err)

	if err := em.SetPRState(org, repoName, n, "closed"); err != nil {
		t.Fatal(err)
	}
	p, err = em.PullRequestEvent(ctx, org, repoName, n, "closed", "")
	add("pull_request", "closed", p, err)
	if err := em.SetPRState(org, repoName, n, "open"); err != nil {
		t.Fatal(err)
	}
	p, err = em.PullRequestEvent(ctx, org, repoName, n, "reopened", "")
	add("pull_request", "reopened", p, err)
	if _, err := em.Merge(org, repoName, n, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err = em.PullRequestEvent(ctx, org, repoName, n, "closed", "")
	add("pull_request", "closed", p, err)
	p, err = em.IssueCommentEvent(ctx, org, repoName, n, comment, "created", "carol")
	add("issue_comment", "created", p, err)
	return cases
}

func TestWebhookPayloadsMatchOpenAPI(t *testing.T) {
	d := openapitest.Require(t)
	cases := buildWebhookPayloads(t)
	pointers := map[string]string{}
	var all []string
	for _, c := range cases {
		if _, done := pointers[c.hookName()]; done {
			continue
		}
		p, err := d.WebhookPointer(c.hookName())
		if err != nil {
			t.Fatalf("%s: %v", c.hookName(), err)
		}
		pointers[c.hookName()] = p
		all = append(all, p)
	}
	schemas, err := d.Compile(all...)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		raw, err := json.Marshal(c.payload)
		if err != nil {
			t.Fatal(err)
		}
		where := c.hookName() + " payload #" + strconv.Itoa(i) + "\n  schema " + pointers[c.hookName()]
		if err := schemas.Validate(pointers[c.hookName()], raw); err != nil {
			t.Errorf("%s\n%s", where, openapitest.Explain(err))
			continue
		}
		extra, err := schemas.Undeclared(pointers[c.hookName()], raw)
		if err != nil {
			t.Fatal(err)
		}
		extra = undeclaredGaps(c.hookName(), 0, extra)
		if len(extra) > 0 {
			t.Errorf("%s\n  members GitHub's schema does not declare: %s", where, strings.Join(extra, ", "))
		}
	}
	t.Logf("validated %d payloads of %d webhooks against OpenAPI %s", len(cases), len(pointers), d.Version)
}

func TestWebhookPayloadsMatchExamples(t *testing.T) {
	examples := openapitest.RequireExamples(t)
	for _, c := range buildWebhookPayloads(t) {
		t.Run(c.hookName(), func(t *testing.T) {
			same := examples.ForAction(c.event, c.action)
			if len(same) == 0 {
				t.Skipf("@octokit/webhooks-examples has no %s example; the schema test still covers it", c.hookName())
			}
			// Examples differ in optional members such as installation and
			// organization, so the payload must have every member all
			// examples of its action share, and no member that no example
			// of its event has.
			common, _ := keySets(same)
			_, known := keySets(examples[c.event])
			var missing, invented []string
			for k := range common {
				if _, ok := c.payload[k]; !ok {
					missing = append(missing, k)
				}
			}
			for k := range c.payload {
				if !known[k] {
					invented = append(invented, k)
				}
			}
			sort.Strings(missing)
			sort.Strings(invented)
			type members struct{ Missing, Invented []string }
			if diff := cmp.Diff(members{}, members{missing, invented}); diff != "" {
				t.Errorf("top-level members against %d examples (-want +got):\n%s", len(same), diff)
			}
		})
	}
}

// keySets returns the top-level members every example has and those any
// has.
func keySets(list []map[string]any) (common, union map[string]bool) {
	common, union = map[string]bool{}, map[string]bool{}
	for i, ex := range list {
		for k := range ex {
			union[k] = true
			if i == 0 {
				common[k] = true
			}
		}
		for k := range common {
			if _, ok := ex[k]; !ok {
				delete(common, k)
			}
		}
	}
	return common, union
}
