package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/stats"
	"github.com/example-org/promobot/internal/githubapi"
)

// writeAuditStats prints audit --stats. With --github-repo it measures
// review wait: from the pull request's opening to the approval that
// completed its approvals (the latest first approval of each approver
// counted at merge).
func writeAuditStats(ctx context.Context, e *env, f *auditFlags, run *auditRun, filter audit.Filter) error {
	if f.at != "" {
		return usageError("--stats cannot be combined with --at")
	}
	var wait stats.ReviewWait
	var waitErr error
	if run.reviewer != nil {
		client, err := f.client(e)
		if err != nil {
			return err
		}
		owner, name, _ := strings.Cut(f.githubRepo, "/")
		wait = reviewWaits(ctx, client, owner, name, &waitErr)
	}
	rep := stats.Compute(run.history.Records, filter, run.history.Environments, wait, stats.DefaultExceptions)
	if waitErr != nil {
		return waitErr
	}
	if err := stats.Write(e.stdout, f.format, rep); err != nil {
		return usageError("%v", err)
	}
	return nil
}

// reviewWaits measures review wait on GitHub, asking once per pull
// request. The first error stops measuring and is kept in *firstErr.
func reviewWaits(ctx context.Context, c *githubapi.Client, owner, repo string, firstErr *error) stats.ReviewWait {
	type answer struct {
		d  time.Duration
		ok bool
	}
	cache := map[int]answer{}
	return func(r audit.Record) (time.Duration, bool) {
		pr := r.PullRequest
		if pr == nil || pr.Number == 0 || len(pr.Approvers) == 0 || *firstErr != nil {
			return 0, false
		}
		if a, seen := cache[pr.Number]; seen {
			return a.d, a.ok
		}
		got, _, err := c.GetPullRequest(ctx, owner, repo, pr.Number)
		if err != nil {
			*firstErr = fmt.Errorf("review wait of #%d: %w", pr.Number, err)
			return 0, false
		}
		reviews, err := c.Reviews(ctx, owner, repo, pr.Number)
		if err != nil {
			*firstErr = err
			return 0, false
		}
		first := map[string]time.Time{}
		for _, rv := range reviews {
			if rv.State == "APPROVED" && (pr.MergedAt.IsZero() || !rv.SubmittedAt.After(pr.MergedAt)) {
				if _, seen := first[strings.ToLower(rv.User)]; !seen {
					first[strings.ToLower(rv.User)] = rv.SubmittedAt
				}
			}
		}
		var satisfied time.Time
		for _, login := range pr.Approvers {
			if t, ok := first[strings.ToLower(login)]; ok && t.After(satisfied) {
				satisfied = t
			}
		}
		a := answer{}
		if created := got.GetCreatedAt().Time; !satisfied.IsZero() && !created.IsZero() && !satisfied.Before(created) {
			a = answer{d: satisfied.Sub(created), ok: true}
		}
		cache[pr.Number] = a
		return a.d, a.ok
	}
}
