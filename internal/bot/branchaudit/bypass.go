package branchaudit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/githubapi"
)

// Bypass detection: every manifest change the default branch gained since
// the last checked tip is assessed as `promobot audit` does
// (audit.Assess: a merged pull request whose promobot check, from this
// App, had passed when it merged). A change that did not come that way is
// reported once: an open issue per model and environment, titled
// "Unreviewed promotion of M to ENV" and opened by the App, gets the
// evidence (updated, not duplicated, when it is already open), and the
// commit gets a failing commit status with context audit.StatusContext
// that links to it.

// maxIssueBody keeps an issue body under GitHub's 65,536 characters;
// evidence beyond it goes into a comment.
const maxIssueBody = 60000

// checkBypass checks the commits added since the last checked tip (or
// floor, the first push's "before", when none was checked) and reports the
// unreviewed changes. again says the job must look again later: a commit
// still waits for its second look, or something failed.
func (r *auditRun) checkBypass(ctx context.Context, floor string) (again bool, err error) {
	m := r.f.host.Metrics()
	checked, err := r.ws.ReadState(checkedState)
	if err != nil {
		m.AuditCheck("error")
		return false, fmt.Errorf("read the last checked commit: %w", err)
	}
	from := checked
	if from == "" {
		from = floor
	}
	switch from {
	case "":
		r.logger.Info("bypass detection starts at the tip of the default branch", bot.KeySHA, r.h.Tip)
		m.AuditCheck("baseline")
		return false, r.checkedUpTo(r.h.Tip)
	case r.h.Tip:
		return false, r.checkedUpTo(r.h.Tip)
	}
	records, err := audit.RecordsSince(ctx, r.repo, r.h, from)
	if errors.Is(err, audit.ErrNotAncestor) {
		r.logger.Warn("the default branch was rewritten (a force push?); bypass detection restarts at its tip",
			"checked", from, bot.KeySHA, r.h.Tip)
		m.AuditCheck("rewritten")
		return false, r.checkedUpTo(r.h.Tip)
	}
	if err != nil {
		m.AuditCheck("error")
		return true, err
	}
	var findings []audit.Finding
	pending := false
	for _, commit := range commitsOf(records) {
		v, err := r.verdict(ctx, commit)
		if err != nil {
			// Unknown is never clean: look again later.
			m.AuditCheck("error")
			return retryable(err), fmt.Errorf("assess commit %s: %w", commit, err)
		}
		if v.Reviewed {
			continue
		}
		if !r.settled(commit, v) {
			pending = true
			r.logger.Info("GitHub links the commit to no merged pull request yet; looking again later", bot.KeySHA, commit)
			continue
		}
		for _, rec := range records {
			if rec.Commit == commit {
				applyVerdict(&rec, v)
				findings = append(findings, audit.Finding{Record: rec, Verdict: v})
			}
		}
	}
	if err := r.report(ctx, findings); err != nil {
		m.AuditCheck("error")
		return retryable(err), err
	}
	switch {
	case len(findings) > 0:
		m.AuditCheck("bypass")
	case pending:
		m.AuditCheck("pending")
	default:
		m.AuditCheck("clean")
	}
	if pending {
		return true, nil
	}
	return false, r.checkedUpTo(r.h.Tip)
}

// checkedUpTo records tip as checked and forgets the floor.
func (r *auditRun) checkedUpTo(tip string) error {
	a := r.f.audits
	a.mu.Lock()
	a.state(r.key).floor = ""
	a.mu.Unlock()
	return r.ws.WriteState(checkedState, tip)
}

// commitsOf returns the distinct commits of records in order.
func commitsOf(records []audit.Record) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range records {
		if !seen[r.Commit] {
			seen[r.Commit] = true
			out = append(out, r.Commit)
		}
	}
	return out
}

// report opens or updates the issue of each finding not reported yet and
// sets the failing status on its commit.
func (r *auditRun) report(ctx context.Context, findings []audit.Finding) error {
	if len(findings) == 0 {
		return nil
	}
	gh, t := r.j.GitHub, r.t
	issues, err := gh.OpenIssues(ctx, t.Owner, t.Name)
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range findings {
		key := f.Record.Key()
		if r.isReported(key) {
			continue
		}
		issue, err := r.upsertIssue(ctx, &issues, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		err = gh.CreateStatus(ctx, t.Owner, t.Name, f.Record.Commit, githubapi.CommitStatus{
			State: "failure", Context: audit.StatusContext, Description: f.StatusDescription(), TargetURL: issue.URL,
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.markReported(key)
		r.f.host.Metrics().BypassFinding()
		r.logger.Warn("unreviewed manifest change reported", bot.KeySHA, f.Record.Commit, "path", f.Record.Path,
			"issue", issue.Number, "reason", f.Verdict.Reason)
	}
	return errors.Join(errs...)
}

func (r *auditRun) isReported(key string) bool {
	a := r.f.audits
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state(r.key).reported[key]
}

func (r *auditRun) markReported(key string) {
	a := r.f.audits
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.state(r.key)
	if len(st.reported) > maxRecentIDs {
		clear(st.reported)
	}
	st.reported[key] = true
}

// upsertIssue adds a finding's evidence to the open issue of its model and
// environment that the App opened, or opens one. Evidence already there
// (found by its marker) is not added again.
func (r *auditRun) upsertIssue(ctx context.Context, issues *[]githubapi.Issue, f audit.Finding) (githubapi.Issue, error) {
	gh, t := r.j.GitHub, r.t
	title := f.Title()
	mark := featurekit.Marker("finding", f.Record.Key())
	evidence := mark + "\n" + f.IssueBody()
	for i := range *issues {
		is := &(*issues)[i]
		if is.PullRequest || is.Title != title || !strings.EqualFold(is.Author, r.j.Bot) {
			continue
		}
		if strings.Contains(is.Body, mark) {
			return *is, nil
		}
		body := is.Body + "\n\n---\n\n" + evidence
		if len(body) > maxIssueBody {
			_, err := gh.CreateComment(ctx, t.Owner, t.Name, is.Number, evidence)
			return *is, err
		}
		if err := gh.EditIssueBody(ctx, t.Owner, t.Name, is.Number, body); err != nil {
			return *is, err
		}
		is.Body = body
		return *is, nil
	}
	created, err := gh.CreateIssue(ctx, t.Owner, t.Name, title, evidence)
	if err != nil {
		return created, err
	}
	*issues = append(*issues, created)
	return created, nil
}
