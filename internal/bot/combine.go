package bot

import (
	"errors"
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/githubapi"
)

// combine turns the outcomes of the open pull requests sharing one head
// commit into the report of that commit's check run. GitHub shows one
// check run per commit on every pull request with that head, so it must be
// the strictest of them: it passes only when every pull request passes,
// and one that could not be evaluated makes it "could not evaluate". The
// summary has a section per pull request, naming it.
func combine(outcomes []prOutcome) report {
	reports := make([]report, len(outcomes))
	var causes []error
	states := make([]prState, 0, len(outcomes))
	for i, o := range outcomes {
		reports[i] = o.report
		if o.err != nil {
			reports[i] = failureReport(o.err)
			causes = append(causes, fmt.Errorf("#%d: %w", o.number, o.err))
		}
		states = append(states, o.state)
	}
	if len(outcomes) == 1 {
		r := reports[0]
		if r.cause == nil {
			r.externalID = fingerprint(states)
		}
		return r
	}

	out := report{conclusion: githubapi.ConclusionSuccess}
	var failing, passing []string
	for i, o := range outcomes {
		r := reports[i]
		line := fmt.Sprintf("#%d: %s", o.number, r.title)
		if r.conclusion == githubapi.ConclusionSuccess {
			passing = append(passing, fmt.Sprintf("#%d", o.number))
			continue
		}
		out.conclusion = githubapi.ConclusionFailure
		failing = append(failing, line)
	}
	switch {
	case len(causes) > 0:
		// Keep the marker first, so the resynchronization knows to retry.
		out.title = couldNotEvaluate + " " + strings.Join(failing, "; ")
	case len(failing) > 0:
		out.title = strings.Join(failing, "; ")
	default:
		out.title = fmt.Sprintf("all %d pull requests with this head pass (%s)", len(outcomes), strings.Join(passing, ", "))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "This commit is the head of %d open pull requests. Its check run passes only when every one of them passes.\n\n", len(outcomes))
	seen := map[githubapi.Annotation]bool{}
	for i, o := range outcomes {
		// A pull request's summary does not repeat its title, which GitHub
		// shows only for the whole check run: say it here.
		fmt.Fprintf(&b, "---\n\n# Pull request #%d\n\n**%s**\n\n%s\n\n", o.number, audit.MarkdownText(reports[i].title), strings.TrimSpace(reports[i].summary))
		for _, a := range reports[i].annotations {
			if !seen[a] {
				seen[a] = true
				out.annotations = append(out.annotations, a)
			}
		}
	}
	out.summary = b.String()
	if n := len(out.annotations); n > maxAnnotationsTotal {
		out.annotations = out.annotations[:maxAnnotationsTotal]
		out.summary = fmt.Sprintf("_%d annotations; the first %d are shown on the files._\n\n", n, maxAnnotationsTotal) + out.summary
	}
	out.cause = errors.Join(causes...)
	if out.cause == nil {
		out.externalID = fingerprint(states)
	}
	return out
}
