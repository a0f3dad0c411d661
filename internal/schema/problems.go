package schema

import (
	"strings"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/yamldoc"
)

// Problems validates a decoded document and returns each violation as a
// problem about file, positioned at the offending field of doc.
func (s *Schema) Problems(file string, doc *yamldoc.Doc) []diag.Problem {
	var out []diag.Problem
	for _, v := range s.Validate(doc.Value) {
		line, col := doc.Position(v.Path, v.AtKey)
		out = append(out, diag.Problem{File: file, Line: line, Column: col, Field: strings.Join(v.Path, "."), Message: v.Message})
	}
	return out
}
