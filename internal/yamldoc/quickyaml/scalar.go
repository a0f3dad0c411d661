package quickyaml

import (
	"bytes"
	"strconv"
)

// kind is what the decoder reads a scalar as.
type kind uint8

const (
	kindString kind = iota
	kindNull
	kindBool
	kindNumber
)

// scalar is a value read by readValue.
type scalar struct {
	// str is the value when the decoder would read a string, else "" (a
	// number, boolean or null). It aliases the document, except
	// single-quoted text with ''.
	str []byte
	// text is the scalar's text when it is a number or a boolean.
	text  []byte
	kind  kind
	empty bool
	block bool // a literal or folded block scalar header: | > |- >-
	flow  bool // a single-line flow collection, in text
	nodes int  // scalars inside a flow collection
}

// value returns the scalar as the decoder's plain value. It must not be
// called for a block scalar, an empty value or a flow collection.
func (s scalar) value() any {
	switch s.kind {
	case kindNull:
		return nil
	case kindBool:
		return s.text[0] == 't' || s.text[0] == 'T'
	case kindNumber:
		// As yamldoc reads what yaml.v3 tagged: an integer when the text
		// parses as one (base prefixes included), else a float.
		if i, err := strconv.ParseInt(string(s.text), 0, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(s.text), 64)
		return f
	}
	return string(s.str)
}

// readValue reads what follows "key:" or "- ": nothing, a quoted scalar
// without escapes (bar ” in single quotes), a plain scalar, a block scalar
// header, or a single-line flow collection of plain scalars, each
// optionally followed by a comment.
func readValue(rest []byte) (scalar, bool) {
	rest = bytes.TrimLeft(rest, " ")
	if len(rest) == 0 || rest[0] == '#' {
		return scalar{empty: true}, true
	}
	switch rest[0] {
	case '"':
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			return scalar{}, false
		}
		content := rest[1 : 1+end]
		if bytes.IndexByte(content, '\\') >= 0 || !commentOnly(rest[2+end:]) {
			return scalar{}, false
		}
		return scalar{str: content}, true
	case '\'':
		return singleQuoted(rest)
	case '|', '>':
		// Keep chomping (+) and indentation indicators are left to the
		// decoder: trailing blank lines and explicit indents change values
		// in ways the section text would not show.
		if len(rest) > 1 && rest[1] == '-' {
			rest = rest[1:]
		}
		if !commentOnly(rest[1:]) {
			return scalar{}, false
		}
		return scalar{block: true}, true
	case '{', '[':
		return checkFlow(rest)
	}
	value := rest
	if i := bytes.Index(value, []byte(" #")); i >= 0 {
		value = value[:i]
	}
	value = bytes.TrimRight(value, " ")
	str, k, ok := plainScalar(value, false)
	s := scalar{str: str, kind: k}
	if k != kindString {
		s.text = value
	}
	return s, ok
}

// singleQuoted reads a single-quoted scalar on one line, where ” stands
// for a quote.
func singleQuoted(rest []byte) (scalar, bool) {
	escaped := false
	for i := 1; i < len(rest); i++ {
		if rest[i] != '\'' {
			continue
		}
		if i+1 < len(rest) && rest[i+1] == '\'' {
			escaped = true
			i++
			continue
		}
		if !commentOnly(rest[i+1:]) {
			return scalar{}, false
		}
		content := rest[1:i]
		if escaped {
			content = bytes.ReplaceAll(content, []byte("''"), []byte("'"))
		}
		return scalar{str: content}, true
	}
	return scalar{}, false
}

// plainScalar checks a plain scalar and returns its string value (nil for
// a number, boolean or null) and its kind. It refuses anything whose
// reading it cannot be sure of. In a block mapping a plain scalar that
// starts with a letter may hold any printable text but ": " and " #"
// (which readValue cut off as a comment); inFlow keeps to a narrow set of
// characters, none of which ends a scalar in a flow collection.
func plainScalar(v []byte, inFlow bool) ([]byte, kind, bool) {
	if len(v) == 0 {
		return nil, 0, false
	}
	for i, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '.' || c == '/' || c == '+' || c == '=' || c == '@' || c == '%' || c == '-' || c == '(' || c == ')':
		case c == ':':
			if i+1 < len(v) && v[i+1] == ' ' || i+1 == len(v) {
				return nil, 0, false
			}
		case c == '#':
			if i > 0 && v[i-1] == ' ' {
				return nil, 0, false
			}
			if inFlow {
				return nil, 0, false
			}
		case !inFlow && c >= ' ':
			// Any other printable character, UTF-8 included (printableText
			// checked the runes), is text inside a plain scalar in a block
			// mapping.
		default:
			return nil, 0, false
		}
	}
	switch string(v) {
	case "null", "Null", "NULL":
		return nil, kindNull, true
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return nil, kindBool, true
	}
	c := v[0]
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '/', c == '(':
		return v, kindString, true
	case c >= '0' && c <= '9', c == '-':
		if c != '-' && bytes.IndexByte(v, '_') >= 0 {
			return nil, 0, false // the decoder drops underscores before reading a number
		}
		if len(v) > 1 && v[0] == '0' && bytes.IndexByte([]byte("xXoObB"), v[1]) >= 0 {
			// 0x1F, 0o17, 0b101: numbers with a base prefix, unless a
			// character after the prefix is no digit of that base; a
			// digest such as 0b96a7… is text.
			digits := "0123456789"
			if v[1] == 'x' || v[1] == 'X' {
				digits += "abcdefABCDEF"
			}
			for _, d := range v[2:] {
				if bytes.IndexByte([]byte(digits), d) < 0 {
					return v, kindString, true
				}
			}
			return nil, 0, false
		}
		if finiteNumber(v) {
			return nil, kindNumber, true
		}
		if plainDate(v) {
			return v, kindString, true // a timestamp, which the decoder keeps as text
		}
		if c == '-' {
			return nil, 0, false
		}
		for _, d := range v {
			if d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' {
				switch d {
				case 'e', 'E', 'x', 'X', 'o', 'O', 'b', 'B':
					continue
				}
				return v, kindString, true
			}
		}
		return nil, 0, false
	}
	return nil, 0, false
}

// checkFlow checks a single-line flow mapping {k: v, …} or sequence
// [v, …] of plain scalars with distinct keys.
func checkFlow(rest []byte) (scalar, bool) {
	inner, ok := flowInner(rest)
	if !ok {
		return scalar{}, false
	}
	parts := 0
	ok = eachFlowEntry(rest[0] == '{', inner, func(_, v []byte) bool {
		parts++
		_, _, ok := plainScalar(v, true)
		return ok
	})
	return scalar{flow: true, text: rest, nodes: 2 * parts}, ok
}

// flowInner returns the text between the brackets of a single-line flow
// collection followed by nothing but a comment, refusing nested
// collections, quotes and comments inside.
func flowInner(rest []byte) ([]byte, bool) {
	closer := byte(']')
	if rest[0] == '{' {
		closer = '}'
	}
	closeAt := bytes.IndexByte(rest, closer)
	if closeAt < 0 || !commentOnly(rest[closeAt+1:]) {
		return nil, false
	}
	inner := bytes.TrimSpace(rest[1:closeAt])
	if bytes.ContainsAny(inner, "{}[]\"'#") {
		return nil, false
	}
	return inner, true
}

// eachFlowEntry calls fn with each key (nil in a sequence) and value of a
// flow collection's inner text, checking that keys are distinct and there
// are at most 512 entries. It stops at the first false.
func eachFlowEntry(mapping bool, inner []byte, fn func(k, v []byte) bool) bool {
	if len(inner) == 0 {
		return true
	}
	var seen [16][]byte // keys so far; more spill to the heap
	keys := seen[:0]
	parts := 0
	for rest := inner; rest != nil; parts++ {
		if parts == 512 {
			return false
		}
		part := rest
		if comma := bytes.IndexByte(rest, ','); comma >= 0 {
			part, rest = rest[:comma], rest[comma+1:]
		} else {
			rest = nil
		}
		part = bytes.TrimSpace(part)
		if !mapping {
			if !fn(nil, part) {
				return false
			}
			continue
		}
		k, v, found := bytes.Cut(part, []byte(": "))
		if !found || !isKey(k) {
			return false
		}
		for _, s := range keys {
			if bytes.Equal(s, k) {
				return false
			}
		}
		keys = append(keys, k)
		if !fn(k, bytes.TrimSpace(v)) {
			return false
		}
	}
	return true
}

// flowValue builds the plain value of a flow collection checkFlow accepted.
func flowValue(text []byte) any {
	inner, _ := flowInner(text)
	if text[0] == '{' {
		m := map[string]any{}
		eachFlowEntry(true, inner, func(k, v []byte) bool {
			m[string(k)] = plainValue(v)
			return true
		})
		return m
	}
	list := []any{}
	eachFlowEntry(false, inner, func(_, v []byte) bool {
		list = append(list, plainValue(v))
		return true
	})
	return list
}

// plainValue is the plain value of a plain scalar plainScalar accepted in
// a flow collection.
func plainValue(v []byte) any {
	str, k, _ := plainScalar(v, true)
	s := scalar{str: str, kind: k}
	if k != kindString {
		s.text = v
	}
	return s.value()
}
