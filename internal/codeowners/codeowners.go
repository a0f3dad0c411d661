// Package codeowners reads GitHub CODEOWNERS files and answers who owns a
// path, with GitHub's semantics, for a policy engine that decides whose
// approval a change needs.
//
// Parse never fails as a whole. GitHub documents that a line with invalid
// syntax is skipped while the rest of the file applies; Parse does the same
// and reports every problem as a Warning with its line and column. The
// gitignore features GitHub documents as not working in CODEOWNERS (negation
// with '!', "[ ]" character ranges, escaping a leading '#') make a line
// invalid.
//
// An owner token that is not "@user", "@org/team" or an email address is
// reported and dropped on its own: the line keeps its pattern and its other
// owners. GitHub's documentation does not say whether one bad owner voids its
// line; GitHub reports owner problems per owner ("Unknown owner on line N"),
// and users report that the line's other owners still apply, so dropping only
// the token is the closer reading. A line whose owners are all invalid makes
// matching files unowned, as a line written without owners does.
//
// Match applies the last matching line, as GitHub does. Paths are compared
// case-sensitively, as GitHub documents; owners compare case-insensitively
// through Owner.Key.
//
// The package does not use github.com/hmarr/codeowners for parsing or
// matching: that library fails the whole file on one bad line, rejects valid
// pattern characters and long top-level domains, keeps owner case, and tries
// every rule in turn. Its pattern semantics, written to follow GitHub's, are
// the reference the tests compare ours with. Here patterns are compiled once
// into segment matchers, and rules are indexed by their literal leading
// directories so that a match looks at few rules.
package codeowners

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Warning is a problem found on one line of a CODEOWNERS file. Line and
// Column are 1-based; Column counts characters, a tab counting as one.
type Warning struct {
	// Line is the 1-based line number.
	Line int
	// Column is the 1-based column of the offending text.
	Column int
	// Message says what is wrong and what was ignored.
	Message string
}

// String returns the warning as "line L, column C: message".
func (w Warning) String() string {
	return fmt.Sprintf("line %d, column %d: %s", w.Line, w.Column, w.Message)
}

// Rule is one effective line of a CODEOWNERS file.
type Rule struct {
	// Pattern is the path pattern exactly as written, escapes included.
	Pattern string
	// Line is the 1-based line number of the rule.
	Line int
	// Owners are the valid owners of the line in the order written, without
	// duplicates (compared by Key). It is empty when the line names none, which
	// means matching files have no code owner.
	Owners []Owner
}

// File is a parsed CODEOWNERS file. It is immutable and safe for concurrent
// use.
type File struct {
	rules    []Rule
	patterns []pattern
	index    index
}

// Rules returns a copy of the effective rules in file order.
func (f *File) Rules() []Rule {
	out := make([]Rule, len(f.rules))
	for i, r := range f.rules {
		r.Owners = slices.Clone(r.Owners)
		out[i] = r
	}
	return out
}

// Parse reads a CODEOWNERS file. It always returns a usable File; lines that
// GitHub would skip are skipped and reported in the warnings, in line order.
func Parse(data []byte) (*File, []Warning) {
	text := strings.TrimPrefix(string(data), "\ufeff") // UTF-8 byte order mark
	n := strings.Count(text, "\n") + 1
	f := &File{rules: make([]Rule, 0, n), patterns: make([]pattern, 0, n)}
	var (
		warns   []Warning
		scratch []Owner
		ar      arenas
	)
	for lineNo := 1; text != ""; lineNo++ {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		line = strings.TrimSuffix(line, "\r")
		var (
			rule Rule
			pat  pattern
			ok   bool
		)
		rule, pat, ok, scratch, warns = parseLine(line, lineNo, &ar, scratch[:0], warns)
		if ok {
			f.rules = append(f.rules, rule)
			f.patterns = append(f.patterns, pat)
		}
	}
	f.index = buildIndex(f.patterns)
	return f, warns
}

// isSpace reports whether c separates the fields of a line.
func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// parseLine parses one line and appends its problems to warns. ok is false
// for blank, comment and invalid lines. owners is scratch space for the
// line's owners, returned for reuse; the rule's own slices come from ar.
func parseLine(line string, lineNo int, ar *arenas, owners []Owner, warns []Warning) (rule Rule, pat pattern, ok bool, _ []Owner, _ []Warning) {
	start := 0
	for start < len(line) && isSpace(line[start]) {
		start++
	}
	if start == len(line) || line[start] == '#' {
		return Rule{}, pattern{}, false, owners, warns
	}
	column := func(byteOffset int) int { return utf8.RuneCountInString(line[:byteOffset]) + 1 }

	// The pattern runs to the first whitespace not escaped by a backslash.
	end := start
	for end < len(line) && !isSpace(line[end]) {
		if line[end] == '\\' && end+1 < len(line) {
			end++
		}
		end++
	}
	raw := line[start:end]

	// Report a bad pattern first: it decides the fate of the whole line.
	pat, perr := compilePattern(raw, ar)
	if perr != nil {
		warns = append(warns, Warning{Line: lineNo, Column: column(start + perr.offset), Message: perr.message})
	}

	for i := end; i < len(line); {
		if isSpace(line[i]) {
			i++
			continue
		}
		if line[i] == '#' { // a comment runs to the end of the line
			break
		}
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		o, why := parseOwner(line[i:j])
		switch {
		case why != "":
			warns = append(warns, Warning{Line: lineNo, Column: column(i), Message: why + "; owner ignored"})
		case !slices.ContainsFunc(owners, func(x Owner) bool { return strings.EqualFold(x.Value, o.Value) }):
			owners = append(owners, o)
		}
		i = j
	}

	if perr != nil {
		return Rule{}, pattern{}, false, owners, warns
	}
	if raw[0] == '@' && len(owners) == 0 {
		warns = append(warns, Warning{Line: lineNo, Column: column(start),
			Message: fmt.Sprintf("pattern %q looks like an owner, but a line must start with a path pattern", raw)})
	}
	rule = Rule{Pattern: raw, Line: lineNo}
	if len(owners) > 0 {
		rule.Owners = append(ar.owners.alloc(len(owners)), owners...)
	}
	return rule, pat, true, owners, warns
}

// Match returns the rule of the last line whose pattern matches path, and
// whether any line matched. A matched rule with no owners means the path has
// no code owner. path is relative to the repository root and uses forward
// slashes; a leading "/" or "./" is ignored. Paths are case-sensitive, as on
// GitHub.
func (f *File) Match(path string) (Rule, bool) {
	var buf [16]string
	i := f.index.lookup(f.patterns, splitPath(path, buf[:0]))
	if i < 0 {
		return Rule{}, false
	}
	r := f.rules[i]
	r.Owners = slices.Clone(r.Owners)
	return r, true
}

// splitPath appends the segments of a repository-relative path to dst.
func splitPath(path string, dst []string) []string {
	for {
		if p, ok := strings.CutPrefix(path, "./"); ok {
			path = p
			continue
		}
		if p, ok := strings.CutPrefix(path, "/"); ok {
			path = p
			continue
		}
		break
	}
	if path == "" {
		return dst
	}
	for {
		seg, rest, more := strings.Cut(path, "/")
		dst = append(dst, seg)
		if !more {
			return dst
		}
		path = rest
	}
}
