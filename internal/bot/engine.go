package bot

import (
	"strings"

	"github.com/example-org/promobot/internal/evaluate"
)

// PolicyEngine is the Engine backed by package evaluate, unchanged: the
// same verdicts, markdown and annotations as the CLI.
type PolicyEngine struct{}

// Evaluate calls evaluate.Evaluate.
func (PolicyEngine) Evaluate(in *evaluate.Input) *evaluate.Result { return evaluate.Evaluate(in) }

// Summary renders the result with evaluate.RenderMarkdown.
func (PolicyEngine) Summary(r *evaluate.Result) (string, error) {
	var b strings.Builder
	err := evaluate.RenderMarkdown(&b, r)
	return b.String(), err
}

// Annotations calls evaluate.Annotations.
func (PolicyEngine) Annotations(r *evaluate.Result) []evaluate.Annotation {
	return evaluate.Annotations(r)
}
