package schema

import (
	"slices"
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

// ProblemsWithBuiltIn validates doc against builtIn, the schema compiled
// into the binary, and against repository, the repository's copy of it (nil
// when the repository carries none). A repository's schema may only add
// constraints: whatever builtIn refuses is refused even when repository
// allows it, because the code that reads the document is written for
// builtIn. Such a problem says so, naming repositoryPath. Problems both
// schemas report are reported once.
func ProblemsWithBuiltIn(file string, doc *yamldoc.Doc, builtIn, repository *Schema, repositoryPath string) []diag.Problem {
	out := builtIn.Problems(file, doc)
	if repository == nil || repository == builtIn {
		return out
	}
	fromRepository := repository.Problems(file, doc)
	seen := make(map[diag.Problem]bool, len(fromRepository))
	for _, p := range fromRepository {
		seen[p] = true
	}
	for i, p := range out {
		if !seen[p] {
			out[i].Message += " (promobot's built-in schema; " + repositoryPath + " may add constraints but cannot remove them)"
		}
	}
	for _, p := range fromRepository {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	diag.Sort(out)
	return out
}
