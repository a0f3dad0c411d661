package repoconfig

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/yamldoc"
)

// reader decodes the plain values of a policy document into typed fields.
// It never panics: a value the binary cannot represent (a wrong type, an
// integer out of range, a field or a rule family it does not know) becomes a
// positioned problem and the field's zero value. The schemas refuse all of
// these first; the reader is what keeps a loosened schema from turning into
// a crash.
type reader struct {
	file     string
	doc      *yamldoc.Doc
	problems []diag.Problem
}

func (r *reader) errorf(at []string, format string, args ...any) {
	r.problem(at, false, fmt.Sprintf(format, args...))
}

func (r *reader) problem(at []string, atKey bool, message string) {
	line, col := r.doc.Position(at, atKey)
	r.problems = append(r.problems, diag.Problem{File: r.file, Line: line, Column: col, Field: strings.Join(at, "."), Message: message})
}

// cannot reports a value the binary cannot represent where want is needed.
func (r *reader) cannot(at []string, v any, want string) {
	r.errorf(at, "%s: promobot cannot represent %s here: it must be %s", fieldName(at), describe(v), want)
}

// object returns the mapping at at, or nil when v is absent. Keys other
// than known are reported.
func (r *reader) object(at []string, v any, known ...string) map[string]any {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		r.cannot(at, v, "a mapping")
		return nil
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(known, k) {
			r.problem(append(slices.Clone(at), k), true, fmt.Sprintf("%sunknown field %q: promobot does not know it", prefix(at), k))
		}
	}
	return m
}

// list returns the sequence v, or nil when v is absent.
func (r *reader) list(at []string, v any) []any {
	if v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		r.cannot(at, v, "a list")
	}
	return l
}

// text returns the string v, or "" when v is absent.
func (r *reader) text(at []string, v any) string {
	if v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.cannot(at, v, "a string")
	}
	return s
}

// texts returns the list of strings v.
func (r *reader) texts(at []string, v any) []string {
	var out []string
	for i, x := range r.list(at, v) {
		out = append(out, r.text(append(slices.Clone(at), fmt.Sprint(i)), x))
	}
	return out
}

// flag returns the boolean v, false when v is absent.
func (r *reader) flag(at []string, v any) bool {
	if v == nil {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		r.cannot(at, v, "true or false")
	}
	return b
}

// count returns the integer v within [lo, hi], and whether it was present
// and representable. A whole number written as a decimal (2.0) is the
// integer it names, as JSON Schema's integer type says.
func (r *reader) count(at []string, v any, lo, hi int) (int, bool) {
	if v == nil {
		return 0, false
	}
	want := fmt.Sprintf("a whole number from %d to %d", lo, hi)
	var n float64
	switch x := v.(type) {
	case int64:
		n = float64(x)
		if x < int64(lo) || x > int64(hi) {
			r.cannot(at, v, want)
			return 0, false
		}
	case float64:
		n = x
	default:
		r.cannot(at, v, want)
		return 0, false
	}
	if n != math.Trunc(n) || n < float64(lo) || n > float64(hi) {
		r.cannot(at, v, want)
		return 0, false
	}
	return int(n), true
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %t", x)
	case int64:
		return fmt.Sprintf("the number %d", x)
	case float64:
		return fmt.Sprintf("the number %g", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("a %T", v)
}

// fieldName renders a path as schema messages do: environments[0].name.
func fieldName(at []string) string {
	if len(at) == 0 {
		return "document"
	}
	var b strings.Builder
	for i, p := range at {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func prefix(at []string) string {
	if len(at) == 0 {
		return ""
	}
	return fieldName(at) + ": "
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
