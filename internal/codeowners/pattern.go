package codeowners

import (
	"strings"
	"unicode/utf8"
)

// segmentKind says how one compiled pattern segment matches one path segment.
type segmentKind uint8

const (
	// segmentLiteral matches a path segment equal to its text.
	segmentLiteral segmentKind = iota
	// segmentGlob matches a path segment against '*' and '?' wildcards.
	segmentGlob
	// segmentAny matches exactly one path segment, whatever it is.
	segmentAny
	// segmentStars matches zero or more whole path segments.
	segmentStars
)

// tokenKind is one element of a glob segment.
type tokenKind uint8

const (
	tokenLiteral tokenKind = iota // a run of literal bytes
	tokenStar                     // '*': any run of characters, possibly empty
	tokenOne                      // '?': exactly one character
)

// token is one literal run or wildcard of a glob segment.
type token struct {
	kind    tokenKind
	literal string
}

// segment is one compiled element of a pattern.
type segment struct {
	kind    segmentKind
	literal string  // unescaped text of a segmentLiteral
	tokens  []token // the wildcards of a segmentGlob
}

// pattern is a compiled CODEOWNERS path pattern. It matches a path split into
// segments; see compilePattern for how GitHub's forms map onto segments.
type pattern struct {
	segments []segment
}

// patternError explains why a pattern is skipped. Offset is the byte offset in
// the pattern text where the problem starts.
type patternError struct {
	offset  int
	message string
}

// compilePattern turns the raw pattern text (escapes included) into segments.
//
// The forms follow gitignore as GitHub documents it for CODEOWNERS:
//   - a pattern with a slash at its start or in its middle is anchored at the
//     repository root; otherwise it matches at any depth (a leading "**" is
//     implied);
//   - a trailing slash means a directory: everything below it matches;
//   - a pattern not ending in a slash also matches everything below a directory
//     it names, except when its last segment is exactly "*", which GitHub
//     documents as matching only the files directly inside ("docs/*");
//   - "**" as a whole segment matches zero or more directories, and as the last
//     segment one or more path segments; any other run of asterisks is a '*';
//   - '*' matches within one segment, '?' matches one character but never '/';
//   - a backslash makes the next character literal.
//
// GitHub documents that negation ('!'), character ranges ("[ ]") and escaping
// a leading '#' do not work in CODEOWNERS; such patterns are reported.
func compilePattern(raw string) (pattern, *patternError) {
	switch {
	case raw == "":
		return pattern{}, &patternError{0, "empty pattern"}
	case raw[0] == '!':
		return pattern{}, &patternError{0, "negation (!) is not supported in CODEOWNERS; line ignored"}
	case strings.HasPrefix(raw, `\#`):
		return pattern{}, &patternError{0, `escaping a leading "#" is not supported in CODEOWNERS; line ignored`}
	case raw == "/":
		return pattern{}, &patternError{0, `pattern "/" never matches anything (did you mean "*"?); line ignored`}
	}

	parts, perr := splitPattern(raw)
	if perr != nil {
		return pattern{}, perr
	}

	leadingSlash := parts[0].empty()
	trailingSlash := len(parts) > 1 && parts[len(parts)-1].empty()
	var kept []rawSegment
	for _, p := range parts {
		// Empty segments come from a leading, trailing or doubled slash; the
		// flags above keep the meaning of the first two.
		if !p.empty() {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return pattern{}, &patternError{0, "pattern has no path segments; line ignored"}
	}
	anchored := leadingSlash || len(kept) > 1

	segs := make([]segment, 0, len(kept)+3)
	if !anchored && !kept[0].isStars() {
		segs = append(segs, segment{kind: segmentStars})
	}
	for _, p := range kept {
		segs = append(segs, p.compile())
	}
	last := kept[len(kept)-1]
	switch {
	case last.isStars():
		// A trailing "**" matches everything inside, not the directory
		// itself. "a/**/" is read as "a/**", as hmarr/codeowners (written to
		// follow GitHub) reads it, rather than as git's "directories below a".
		segs[len(segs)-1] = segment{kind: segmentAny}
		segs = append(segs, segment{kind: segmentStars})
	case trailingSlash:
		segs = append(segs, segment{kind: segmentAny}, segment{kind: segmentStars})
	case last.isSingleStar():
		// "docs/*" matches files directly in docs only.
	default:
		segs = append(segs, segment{kind: segmentStars})
	}
	return pattern{segments: segs}, nil
}

// rawSegment is the text of one slash-separated part of a pattern with its
// escapes resolved into tokens.
type rawSegment struct {
	tokens []token
}

func (r rawSegment) empty() bool { return len(r.tokens) == 0 }

// isStars reports whether the segment is only asterisks, at least two.
func (r rawSegment) isStars() bool {
	return len(r.tokens) == 1 && r.tokens[0].kind == tokenStar && r.tokens[0].literal == "**"
}

// isSingleStar reports whether the segment is exactly one unescaped '*'.
func (r rawSegment) isSingleStar() bool {
	return len(r.tokens) == 1 && r.tokens[0].kind == tokenStar && r.tokens[0].literal == "*"
}

func (r rawSegment) compile() segment {
	if r.isStars() {
		return segment{kind: segmentStars}
	}
	if len(r.tokens) == 1 && r.tokens[0].kind == tokenLiteral {
		return segment{kind: segmentLiteral, literal: r.tokens[0].literal}
	}
	return segment{kind: segmentGlob, tokens: r.tokens}
}

// splitPattern splits raw on unescaped slashes and tokenises every part.
// A star token's literal records whether it came from one asterisk ("*") or
// from a run of several ("**"), which only matters for whole segments.
func splitPattern(raw string) ([]rawSegment, *patternError) {
	var (
		parts []rawSegment
		cur   []token
		lit   strings.Builder
	)
	flush := func() {
		if lit.Len() > 0 {
			cur = append(cur, token{kind: tokenLiteral, literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\\':
			if i+1 == len(raw) {
				return nil, &patternError{i, `pattern ends with an unfinished escape "\"; line ignored`}
			}
			_, n := utf8.DecodeRuneInString(raw[i+1:])
			lit.WriteString(raw[i+1 : i+1+n])
			i += n
		case '/':
			flush()
			parts = append(parts, rawSegment{tokens: cur})
			cur = nil
		case '[', ']':
			return nil, &patternError{i, "character ranges ([ ]) are not supported in CODEOWNERS; line ignored"}
		case '*':
			flush()
			if n := len(cur); n > 0 && cur[n-1].kind == tokenStar {
				cur[n-1].literal = "**"
			} else {
				cur = append(cur, token{kind: tokenStar, literal: "*"})
			}
		case '?':
			flush()
			cur = append(cur, token{kind: tokenOne})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	parts = append(parts, rawSegment{tokens: cur})
	return parts, nil
}

// match reports whether the pattern matches the path given as its segments.
func (p *pattern) match(path []string) bool {
	segs := p.segments
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for {
		if pi < len(segs) {
			s := &segs[pi]
			if s.kind == segmentStars {
				if pi == len(segs)-1 {
					return true
				}
				starPi, starSi = pi, si
				pi++
				continue
			}
			if si < len(path) && s.matchOne(path[si]) {
				pi++
				si++
				continue
			}
		} else if si == len(path) {
			return true
		}
		// Backtrack: let the last "**" swallow one more segment.
		if starPi < 0 || starSi >= len(path) {
			return false
		}
		starSi++
		pi, si = starPi+1, starSi
	}
}

// matchOne reports whether the segment matches one path segment.
func (s *segment) matchOne(name string) bool {
	switch s.kind {
	case segmentLiteral:
		return s.literal == name
	case segmentAny:
		return true
	case segmentGlob:
		return matchGlob(s.tokens, name)
	}
	return false
}

// matchGlob matches one path segment against wildcard tokens. It backtracks
// only to the most recent '*', which is enough because every other token has
// a fixed length in characters.
func matchGlob(tokens []token, s string) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(tokens) {
			t := &tokens[ti]
			switch t.kind {
			case tokenStar:
				if ti == len(tokens)-1 {
					return true
				}
				starTi, starSi = ti, si
				ti++
				continue
			case tokenOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case tokenLiteral:
				if strings.HasPrefix(s[si:], t.literal) {
					si += len(t.literal)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		ti, si = starTi+1, starSi
	}
}

// literalPrefix returns the leading literal segments of an anchored pattern;
// every path the pattern matches starts with them.
func (p *pattern) literalPrefix() []string {
	var out []string
	for _, s := range p.segments {
		if s.kind != segmentLiteral {
			break
		}
		out = append(out, s.literal)
	}
	return out
}

// anywhereName returns the literal name of an unanchored single-name pattern
// such as "README.md" or "apps/", which can only match a path having a
// segment with that name.
func (p *pattern) anywhereName() (string, bool) {
	s := p.segments
	if len(s) >= 2 && s[0].kind == segmentStars && s[1].kind == segmentLiteral {
		return s[1].literal, true
	}
	return "", false
}
