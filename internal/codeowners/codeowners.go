// Package codeowners reads GitHub CODEOWNERS files and answers who owns a
// path, with GitHub's semantics, for a policy engine that decides whose
// approval a change needs.
//
// Parse never fails as a whole. As GitHub documents, a line with invalid syntax
// is skipped and the rest of the file still applies; every problem is reported
// as a Warning with its line and column. Unsupported gitignore syntax
// (negation with '!', "[ ]" character ranges, escaping a leading '#') makes a
// line invalid. An owner token that is not "@user", "@org/team" or an email
// address is reported and dropped on its own: the line keeps its pattern and
// its other owners, as GitHub does when it flags a single unknown owner, and a
// line left with no valid owner makes matching files unowned.
//
// Match applies the last matching line, as GitHub does. Paths are compared
// case-sensitively; owners compare case-insensitively through Owner.Key.
//
// The package does not use github.com/hmarr/codeowners for parsing or
// matching: that library fails the whole file on one bad line, rejects valid
// pattern characters and long top-level domains, keeps owner case, and runs
// one regular expression per rule on every match. Patterns are compiled once
// into segment matchers here, and rules are indexed by their literal leading
// directories so that a match looks at few rules.
package codeowners

import (
	"bytes"
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
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	f := &File{}
	var warns []Warning
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		rule, pat, ok, lineWarns := parseLine(string(line), lineNo)
		warns = append(warns, lineWarns...)
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

// parseLine parses one line. ok is false for blank, comment and invalid lines.
func parseLine(line string, lineNo int) (rule Rule, pat pattern, ok bool, warns []Warning) {
	warn := func(byteOffset int, msg string) {
		col := utf8.RuneCountInString(line[:byteOffset]) + 1
		warns = append(warns, Warning{Line: lineNo, Column: col, Message: msg})
	}

	start := 0
	for start < len(line) && isSpace(line[start]) {
		start++
	}
	if start == len(line) || line[start] == '#' {
		return Rule{}, pattern{}, false, nil
	}

	// The pattern runs to the first whitespace not escaped by a backslash.
	end := start
	for end < len(line) && !isSpace(line[end]) {
		if line[end] == '\\' && end+1 < len(line) {
			end++
		}
		end++
	}
	raw := line[start:end]

	var owners []Owner
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
			warn(i, why+"; owner ignored")
		case !slices.ContainsFunc(owners, func(x Owner) bool { return strings.EqualFold(x.Value, o.Value) }):
			owners = append(owners, o)
		}
		i = j
	}

	pat, perr := compilePattern(raw)
	if perr != nil {
		// Report the pattern first: it decides the fate of the whole line.
		warns = append([]Warning{{
			Line:    lineNo,
			Column:  utf8.RuneCountInString(line[:start+perr.offset]) + 1,
			Message: perr.message,
		}}, warns...)
		return Rule{}, pattern{}, false, warns
	}
	if raw[0] == '@' && len(owners) == 0 {
		warn(start, fmt.Sprintf("pattern %q looks like an owner, but a line must start with a path pattern", raw))
	}
	return Rule{Pattern: raw, Line: lineNo, Owners: owners}, pat, true, warns
}

// Match returns the rule of the last line whose pattern matches path, and
// whether any line matched. A matched rule with no owners means the path has
// no code owner. path is relative to the repository root and uses forward
// slashes; a leading "/" or "./" is ignored. Paths are case-sensitive, as on
// GitHub.
func (f *File) Match(path string) (Rule, bool) {
	i := f.index.lookup(f.patterns, splitPath(path))
	if i < 0 {
		return Rule{}, false
	}
	r := f.rules[i]
	r.Owners = slices.Clone(r.Owners)
	return r, true
}

// splitPath splits a repository-relative path into its segments.
func splitPath(path string) []string {
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
		return nil
	}
	return strings.Split(path, "/")
}
