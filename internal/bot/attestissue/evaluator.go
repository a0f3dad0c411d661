package attestissue

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/attest/issue"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/githubapi"
)

// GitHub's limits on a check run's output.
const (
	maxSummary = 65535
	maxTitle   = 1000
)

// evaluator judges a merge of the default branch for the issuer, with the
// pipeline's evaluation, and posts the verdict on the merge.
type evaluator struct {
	host   bot.Host
	gh     API
	repo   bot.Repo
	logger *slog.Logger
}

// EvaluateMerge judges merge against firstParent (bot.Host.EvaluateMerge)
// and posts the verdict as a check run on merge.
func (e *evaluator) EvaluateMerge(ctx context.Context, firstParent, merge string) (issue.Verdict, error) {
	mv, err := e.host.EvaluateMerge(ctx, e.logger, e.repo, firstParent, merge)
	if err != nil {
		return issue.Verdict{}, err
	}
	v := issue.Verdict{Green: mv.Green, Reason: mv.Reason}
	if pr := mv.PullRequest; pr != nil {
		v.PullRequest = &attest.PullRequest{Number: pr.Number, URL: pullURL(pr, e.repo), Author: pr.Author}
		v.Head = pr.HeadSHA
	}
	if mv.Result != nil {
		v.Rules = ruleOutcomes(mv.Result)
		v.Approvers = approvers(mv.Result, mv.Reviews)
	}
	return e.post(ctx, merge, v, mv.Summary)
}

// post creates the completed check run of the merge's verdict and records
// its id in v; summary is the engine's summary, "" when none.
func (e *evaluator) post(ctx context.Context, merge string, v issue.Verdict, summary string) (issue.Verdict, error) {
	out := &githubapi.Output{}
	conclusion := githubapi.ConclusionFailure
	if v.Green {
		conclusion = githubapi.ConclusionSuccess
		out.Title = "Merge verified; its manifest pins are attested"
	} else {
		out.Title = truncate("Not attested: "+v.Reason, maxTitle, "…")
	}
	out.Summary = "promobot judged this merge afresh (its first parent as base, the pull request's current reviews on its head) before signing promotion attestations. " +
		"A merge that is not green gets no attestation, and scoring jobs that require attestations refuse its pins."
	if summary != "" {
		out.Summary += "\n\n" + summary
	}
	out.Summary = truncate(out.Summary, maxSummary, "\n\n_Summary truncated to GitHub's limit._\n")
	now := e.host.Now()
	id, err := e.gh.CreateCheckRun(ctx, e.repo.Owner, e.repo.Name, githubapi.CheckRun{
		Name: e.host.CheckName() + CheckSuffix, HeadSHA: merge, Status: githubapi.StatusCompleted,
		Conclusion: conclusion, StartedAt: now, CompletedAt: now, Output: out,
	})
	if err != nil {
		return issue.Verdict{}, err
	}
	v.CheckRunID = id
	return v, nil
}

// pullURL is the pull request's web page, as GitHub gives it or built
// from the repository's name.
func pullURL(pr *githubapi.PullRequest, r bot.Repo) string {
	if pr.URL != "" {
		return pr.URL
	}
	return fmt.Sprintf("https://github.com/%s/pull/%d", r.FullName(), pr.Number)
}

// ruleOutcomes reduces the engine's rules to one outcome per family, the
// worst of its rules (fail, warn, pass, skip), in first-seen order.
func ruleOutcomes(res *evaluate.Result) []attest.RuleOutcome {
	rank := map[evaluate.Status]int{evaluate.StatusFail: 3, evaluate.StatusWarn: 2, evaluate.StatusPass: 1, evaluate.StatusSkip: 0}
	out := []attest.RuleOutcome{}
	index := map[string]int{}
	for _, r := range res.Rules {
		fam := string(r.Family)
		i, ok := index[fam]
		if !ok {
			index[fam] = len(out)
			out = append(out, attest.RuleOutcome{Family: fam, Status: r.Status.String(), Message: r.Message})
			continue
		}
		var cur evaluate.Status
		_ = cur.UnmarshalText([]byte(out[i].Status))
		if rank[r.Status] > rank[cur] {
			out[i] = attest.RuleOutcome{Family: fam, Status: r.Status.String(), Message: r.Message}
		}
	}
	return out
}

// approvers returns the approving reviews that counted: for each login
// the engine counted, its latest approving review.
func approvers(res *evaluate.Result, reviews []githubapi.Review) []attest.Approver {
	counted := map[string]bool{}
	for _, a := range res.Approvals {
		for _, l := range a.Approvers {
			counted[strings.ToLower(l)] = true
		}
		if a.Governance != nil {
			for _, l := range a.Governance.Approvers {
				counted[strings.ToLower(l)] = true
			}
		}
	}
	latest := map[string]githubapi.Review{}
	for _, r := range reviews {
		if r.State != "APPROVED" || !counted[strings.ToLower(r.User)] {
			continue
		}
		if old, ok := latest[strings.ToLower(r.User)]; !ok || r.SubmittedAt.After(old.SubmittedAt) {
			latest[strings.ToLower(r.User)] = r
		}
	}
	out := []attest.Approver{}
	for _, r := range latest {
		out = append(out, attest.Approver{Login: r.User, ID: r.UserID, ReviewID: r.ID, Time: r.SubmittedAt.UTC().Truncate(time.Second), CommitID: r.CommitID})
	}
	slices.SortFunc(out, func(a, b attest.Approver) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Login, b.Login)
	})
	return out
}

// truncate cuts s to at most limit bytes, on a rune boundary, ending with
// note when it cuts.
func truncate(s string, limit int, note string) string {
	if len(s) <= limit {
		return s
	}
	cut := max(limit-len(note), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}
