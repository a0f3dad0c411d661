package evaluate

import (
	"cmp"
	"slices"
)

// AnnotationLevel is the severity of a check-run annotation, spelled as
// GitHub's annotation_level.
type AnnotationLevel string

// The annotation levels.
const (
	AnnotationFailure AnnotationLevel = "failure"
	AnnotationWarning AnnotationLevel = "warning"
	AnnotationNotice  AnnotationLevel = "notice"
)

// Annotation is a message attached to a line of a changed file.
type Annotation struct {
	Path string `json:"path"`
	// Line is 1-based; a rule about a whole file is placed on line 1.
	Line int `json:"line"`
	// Column is 1-based; zero means the whole line.
	Column  int             `json:"column,omitempty"`
	Level   AnnotationLevel `json:"level"`
	Title   string          `json:"title"`
	Message string          `json:"message"`
}

// noticeRules are passing rules worth pointing out on the file.
var noticeRules = map[string]bool{"rollback": true, "freeze-override": true}

// Annotations returns the check-run annotations of a result: a failure for
// every blocking rule, a warning for every warning, and a notice for
// rollbacks and freeze overrides, each on the file and line it concerns.
// Rules about no file in particular are left to the summary.
func Annotations(r *Result) []Annotation {
	var out []Annotation
	for _, rule := range r.Rules {
		if rule.File == "" {
			continue
		}
		var level AnnotationLevel
		switch {
		case rule.Status == StatusFail:
			level = AnnotationFailure
		case rule.Status == StatusWarn:
			level = AnnotationWarning
		case rule.Status == StatusPass && noticeRules[rule.ID]:
			level = AnnotationNotice
		default:
			continue
		}
		out = append(out, Annotation{
			Path: rule.File, Line: max(rule.Line, 1), Column: rule.Column, Level: level,
			Title: "promobot: " + ruleName(rule), Message: rule.Message,
		})
	}
	slices.SortStableFunc(out, func(a, b Annotation) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return out
}
