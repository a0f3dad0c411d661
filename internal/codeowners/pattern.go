package codeowners

import (
	"slices"
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
	literal string // unescaped text of a segmentLiteral
	glob    *glob  // the wildcards of a segmentGlob
}

// glob is the token list of a segmentGlob, kept behind a pointer so that the
// common literal segments stay small.
type glob struct {
	tokens []token
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
//
// Memory comes from ar.
func compilePattern(raw string, ar *arenas) (pattern, *patternError) {
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

	// parts[0] is kept free so that an implied leading "**" can be put there
	// without copying.
	parts, perr := splitPattern(raw, ar.segments.alloc(strings.Count(raw, "/") + 4)[:1], ar)
	if perr != nil {
		return pattern{}, perr
	}
	leadingSlash := parts[1].isEmpty()
	trailingSlash := len(parts) > 2 && parts[len(parts)-1].isEmpty()
	// Drop the empty segments left by a leading, trailing or doubled slash;
	// the flags above keep the meaning of the first two.
	kept := parts[:1]
	for _, p := range parts[1:] {
		if !p.isEmpty() {
			kept = append(kept, p)
		}
	}
	if len(kept) == 1 {
		return pattern{}, &patternError{0, "pattern has no path segments; line ignored"}
	}
	anchored := leadingSlash || len(kept) > 2

	out := kept[1:]
	if !anchored && kept[1].kind != segmentStars {
		kept[0] = segment{kind: segmentStars}
		out = kept
	}
	last := out[len(out)-1]
	switch {
	case last.kind == segmentStars:
		// A trailing "**" matches everything inside, not the directory
		// itself. "a/**/" is read as "a/**", as hmarr/codeowners (written to
		// follow GitHub) reads it, rather than as git's "directories below a".
		out[len(out)-1] = segment{kind: segmentAny}
		out = append(out, segment{kind: segmentStars})
	case trailingSlash:
		out = append(out, segment{kind: segmentAny}, segment{kind: segmentStars})
	case last.isSingleStar():
		// "docs/*" matches files directly in docs only.
	default:
		out = append(out, segment{kind: segmentStars})
	}
	return pattern{segments: out}, nil
}

// isEmpty reports whether the segment is the empty text between two slashes.
func (s *segment) isEmpty() bool { return s.kind == segmentLiteral && s.literal == "" }

// isSingleStar reports whether the segment is exactly one unescaped '*'.
func (s *segment) isSingleStar() bool {
	return s.kind == segmentGlob && len(s.glob.tokens) == 1 && s.glob.tokens[0].kind == tokenStar && s.glob.tokens[0].literal == "*"
}

// splitPattern splits raw on unescaped slashes, appends one segment per part
// to dst and returns it. Empty parts become empty literal segments. A star
// token's literal records whether it came from one asterisk ("*") or from a
// run of several ("**"): a whole segment of several is a segmentStars.
func splitPattern(raw string, dst []segment, ar *arenas) ([]segment, *patternError) {
	sp := splitter{raw: raw, dst: dst, toks: ar.tokens[:0], hasEscape: strings.IndexByte(raw, '\\') >= 0}
	defer func() { ar.tokens = sp.toks[:0] }()
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\\':
			if i+1 == len(raw) {
				return nil, &patternError{i, `pattern ends with an unfinished escape "\"; line ignored`}
			}
			_, n := utf8.DecodeRuneInString(raw[i+1:])
			sp.lit.WriteString(raw[i+1 : i+1+n])
			i += n
		case '/':
			sp.endPart(i)
		case '[', ']':
			return nil, &patternError{i, "character ranges ([ ]) are not supported in CODEOWNERS; line ignored"}
		case '*':
			sp.flushLiteral(i)
			if n := len(sp.toks); n > 0 && sp.toks[n-1].kind == tokenStar {
				sp.toks[n-1].literal = "**"
			} else {
				sp.toks = append(sp.toks, token{kind: tokenStar, literal: "*"})
			}
		case '?':
			sp.flushLiteral(i)
			sp.toks = append(sp.toks, token{kind: tokenOne})
		default:
			if sp.hasEscape {
				sp.lit.WriteByte(c)
			}
		}
	}
	sp.endPart(len(raw))
	return sp.dst, nil
}

// splitter holds the state of splitPattern.
type splitter struct {
	raw       string
	dst       []segment
	hasEscape bool            // literals are built in lit, else sliced from raw
	toks      []token         // tokens of the current part
	litStart  int             // start in raw of the current literal run
	lit       strings.Builder // the current literal run when hasEscape
}

// flushLiteral ends the literal run that ends at byte end of raw.
func (sp *splitter) flushLiteral(end int) {
	switch {
	case sp.hasEscape && sp.lit.Len() > 0:
		sp.toks = append(sp.toks, token{kind: tokenLiteral, literal: sp.lit.String()})
		sp.lit.Reset()
	case !sp.hasEscape && end > sp.litStart:
		sp.toks = append(sp.toks, token{kind: tokenLiteral, literal: sp.raw[sp.litStart:end]})
	}
	sp.litStart = end + 1
}

// endPart ends the part that ends at byte end of raw.
func (sp *splitter) endPart(end int) {
	sp.flushLiteral(end)
	toks := sp.toks
	switch {
	case len(toks) == 0:
		sp.dst = append(sp.dst, segment{kind: segmentLiteral})
	case len(toks) == 1 && toks[0].kind == tokenLiteral:
		sp.dst = append(sp.dst, segment{kind: segmentLiteral, literal: toks[0].literal})
	case len(toks) == 1 && toks[0].kind == tokenStar && toks[0].literal == "**":
		sp.dst = append(sp.dst, segment{kind: segmentStars})
	default:
		sp.dst = append(sp.dst, segment{kind: segmentGlob, glob: &glob{tokens: slices.Clone(toks)}})
	}
	sp.toks = sp.toks[:0]
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
		return matchGlob(s.glob.tokens, name)
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

// literalPrefixLen returns how many leading segments of the pattern are
// literal; every path the pattern matches starts with them.
func (p *pattern) literalPrefixLen() int {
	for i, s := range p.segments {
		if s.kind != segmentLiteral {
			return i
		}
	}
	return len(p.segments)
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
