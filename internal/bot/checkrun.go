package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi"
)

// GitHub's limits on check run output, in characters; counting bytes keeps
// well within them.
const (
	maxSummary          = 65535
	maxTitle            = 1000
	maxAnnotationTitle  = 255
	maxAnnotationText   = 64 << 10
	maxAnnotationsTotal = 500 // ten requests; more are counted in the summary
)

// report is what a check run concludes with.
type report struct {
	conclusion  string
	title       string
	summary     string
	annotations []githubapi.Annotation
	// externalID is the check run's external id: the fingerprint of what
	// the evaluation read, compared by the resynchronization.
	externalID string
	// cause is why the evaluation could not complete, nil for a verdict.
	cause error
}

// couldNotEvaluate starts the title of every check run concluded without a
// verdict; the resynchronization evaluates such check runs again.
const couldNotEvaluate = "could not evaluate"

// report turns the engine's result into a check run report. Only a passing
// verdict is ever a success.
func (b *Bot) report(res *evaluate.Result) (report, error) {
	summary, err := b.cfg.Engine.Summary(res)
	if err != nil {
		return report{}, fmt.Errorf("render the summary: %w", err)
	}
	r := report{conclusion: githubapi.ConclusionFailure, title: res.Title, summary: summary}
	if res.Verdict == evaluate.VerdictPass {
		r.conclusion = githubapi.ConclusionSuccess
	}
	if r.title == "" {
		r.title = "promobot: " + res.Verdict.String()
	}
	for _, a := range b.cfg.Engine.Annotations(res) {
		r.annotations = append(r.annotations, annotation(a))
	}
	if n := len(r.annotations); n > maxAnnotationsTotal {
		r.annotations = r.annotations[:maxAnnotationsTotal]
		r.summary = fmt.Sprintf("_%d annotations; the first %d are shown on the files._\n\n", n, maxAnnotationsTotal) + r.summary
	}
	return r, nil
}

// annotation converts an engine annotation to the API's.
func annotation(a evaluate.Annotation) githubapi.Annotation {
	line := max(a.Line, 1)
	out := githubapi.Annotation{
		Path: a.Path, StartLine: line, EndLine: line,
		Level:   string(a.Level),
		Title:   truncate(a.Title, maxAnnotationTitle, "…"),
		Message: truncate(a.Message, maxAnnotationText, "…"),
	}
	if a.Column > 0 {
		out.StartColumn, out.EndColumn = a.Column, a.Column
	}
	switch out.Level {
	case githubapi.LevelNotice, githubapi.LevelWarning, githubapi.LevelFailure:
	default:
		out.Level = githubapi.LevelFailure
	}
	return out
}

// failureReport is the report of an evaluation that could not complete:
// always a failure, titled "could not evaluate: …", saying whether a re-run
// may help. The cause is logged, not shown: it may name internals.
func failureReport(err error) report {
	msg := userMessage(err)
	var b strings.Builder
	fmt.Fprintf(&b, "## ❌ Could not evaluate\n\n%s.\n\n", capitalize(msg))
	b.WriteString("The policy could not be checked, so this check fails closed: nothing is approved by default.\n\n")
	if failure.IsTerminal(err) {
		b.WriteString("Re-running will not help until the cause above is fixed (a push or a change to the pull request triggers a new evaluation).\n")
	} else {
		b.WriteString("This looks temporary: re-run this check to try again.\n")
	}
	return report{conclusion: githubapi.ConclusionFailure, title: couldNotEvaluate + ": " + msg, summary: b.String(), cause: err}
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}

// complete posts the report on check run id. Annotations beyond the
// per-request limit go first in updates that leave the run in progress;
// the last update carries the conclusion, so the run never completes with
// part of its annotations missing unnoticed.
func (b *Bot) complete(ctx context.Context, gh githubAPI, t target, id int64, r report) error {
	title := truncate(r.title, maxTitle, "…")
	summary := truncate(r.summary, maxSummary, "\n\n_Summary truncated to GitHub's limit._\n")
	batches := chunk(r.annotations, githubapi.MaxAnnotationsPerRequest)
	for _, batch := range batches[:len(batches)-1] {
		err := gh.UpdateCheckRun(ctx, t.owner, t.name, id, githubapi.CheckRun{
			Name:   b.cfg.CheckName,
			Output: &githubapi.Output{Title: title, Summary: summary, Annotations: batch},
		})
		if err != nil {
			// Conclude as a failure rather than leave a verdict without
			// its explanation.
			fail := failureReport(fmt.Errorf("post annotations: %w", err))
			return errors.Join(err, gh.UpdateCheckRun(ctx, t.owner, t.name, id, githubapi.CheckRun{
				Name: b.cfg.CheckName, Status: githubapi.StatusCompleted, Conclusion: fail.conclusion,
				CompletedAt: b.cfg.Now(), Output: &githubapi.Output{Title: fail.title, Summary: fail.summary},
			}))
		}
	}
	return gh.UpdateCheckRun(ctx, t.owner, t.name, id, githubapi.CheckRun{
		Name:        b.cfg.CheckName,
		Status:      githubapi.StatusCompleted,
		Conclusion:  r.conclusion,
		ExternalID:  r.externalID,
		CompletedAt: b.cfg.Now(),
		Output:      &githubapi.Output{Title: title, Summary: summary, Annotations: batches[len(batches)-1]},
	})
}

// chunk splits list into slices of at most n; it always returns at least
// one (possibly empty) slice.
func chunk[T any](list []T, n int) [][]T {
	out := [][]T{nil}
	for i, v := range list {
		if i > 0 && i%n == 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], v)
	}
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
