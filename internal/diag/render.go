package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format names an output format for problems.
type Format string

// The output formats of promobot validate.
const (
	FormatText   Format = "text"
	FormatJSON   Format = "json"
	FormatGitHub Format = "github"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatText, FormatJSON, FormatGitHub:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: want text, json or github", s)
}

// Report is the outcome of validating a set of files.
type Report struct {
	// Files is the number of files checked.
	Files    int       `json:"files"`
	Valid    bool      `json:"valid"`
	Problems []Problem `json:"problems"`
}

// Render writes the report in the given format.
func Render(w io.Writer, f Format, r Report) error {
	if r.Problems == nil {
		r.Problems = []Problem{}
	}
	switch f {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatGitHub:
		for _, p := range r.Problems {
			if _, err := fmt.Fprintln(w, GitHubCommand(p)); err != nil {
				return err
			}
		}
		_, err := fmt.Fprintln(w, summary(r))
		return err
	default:
		for _, p := range r.Problems {
			if _, err := fmt.Fprintln(w, p.String()); err != nil {
				return err
			}
		}
		_, err := fmt.Fprintln(w, summary(r))
		return err
	}
}

func summary(r Report) string {
	errs, warns := 0, 0
	for _, p := range r.Problems {
		if p.Severity == Warning {
			warns++
		} else {
			errs++
		}
	}
	if errs == 0 {
		return fmt.Sprintf("%s valid, %s", count(r.Files, "file"), count(warns, "warning"))
	}
	return fmt.Sprintf("%s checked: %s, %s", count(r.Files, "file"), count(errs, "error"), count(warns, "warning"))
}

// count says "1 file" or "2 files".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// GitHubCommand renders a problem as a GitHub Actions workflow command so that
// it shows as an annotation on the file (on the run, when File is empty).
func GitHubCommand(p Problem) string {
	var b strings.Builder
	b.WriteString("::")
	b.WriteString(p.Severity.String())
	if p.File == "" {
		b.WriteString("::")
		b.WriteString(escapeData(p.Message))
		return b.String()
	}
	b.WriteString(" file=")
	b.WriteString(escapeProperty(p.File))
	if p.Line > 0 {
		fmt.Fprintf(&b, ",line=%d,col=%d", p.Line, max(p.Column, 1))
	}
	b.WriteString("::")
	b.WriteString(escapeData(p.Message))
	return b.String()
}

// escapeData escapes a workflow command message as the runner expects.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command property value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
