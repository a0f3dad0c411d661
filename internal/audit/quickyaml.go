package audit

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// quickManifest reads version and artifact.sha256 from a manifest written
// in the block style that promobot and people write: one key per line,
// single-line plain and quoted scalars (any printable text, UTF-8
// included), literal and folded block scalars, and single-line flow
// collections of plain scalars. It accepts a document only when it can
// prove that the safe YAML decoder (internal/yamldoc) would accept it and
// read the same two values; on anything else (multi-line plain or quoted
// strings, escapes in double quotes, tabs, control characters, anchors,
// tags, duplicate keys, numbers it cannot prove finite) it returns ok false
// and the caller decodes the file with yamldoc.
//
// It also returns the text of each top-level entry, so that edits can be
// described by the keys whose text changed. A fuzz test holds it to the
// full decoder.
func quickManifest(data []byte) (version, sha256 string, sections map[string]string, ok bool) {
	version, sha256, list, ok := quickRead(data, true, &quickScratch{})
	if !ok {
		return "", "", nil, false
	}
	sections = map[string]string{}
	for _, s := range list {
		sections[string(s.key)] = string(s.text)
	}
	return version, sha256, sections, true
}

// section is the text of one top-level entry; both slices alias the
// document.
type section struct{ key, text []byte }

// quickLevel is one open mapping or sequence of a document.
type quickLevel struct {
	indent    int
	seq       bool
	keysStart int  // where this level's keys start in quickScratch.keys
	artifact  bool // the mapping under the top-level key "artifact"
	compact   bool // a sequence at its parent key's indentation
}

// quickScratch holds buffers that quickRead reuses across documents; the
// zero value is ready to use. It is not safe for concurrent use.
type quickScratch struct {
	levels   []quickLevel
	keys     [][]byte // keys of the open levels, in stack order; alias the document
	sections []section
}

// quickRead is quickManifest that collects sections only when asked. The
// returned sections alias data and scratch: they are valid until the next
// call with the same scratch.
func quickRead(data []byte, wantSections bool, scratch *quickScratch) (version, sha256 string, sections []section, ok bool) {
	if len(data) == 0 || len(data) > 1<<20 {
		return "", "", nil, false
	}
	if !quickText(data) {
		return "", "", nil, false
	}
	stack := append(scratch.levels[:0], quickLevel{})
	keys := scratch.keys[:0]
	sections = scratch.sections[:0]
	defer func() { scratch.levels, scratch.keys, scratch.sections = stack[:0], keys[:0], sections[:0] }()
	var (
		pendingIndent = -1 // indentation of a "key:" with no value on the previous line
		pendingIsArt  bool
		sectionKey    []byte
		sectionStart  int
		lines, nodes  int
		topKeys       int
	)
	closeSection := func(end int) {
		if wantSections && sectionKey != nil {
			sections = append(sections, section{key: sectionKey, text: bytes.TrimRight(data[sectionStart:end], "\n ")})
		}
	}
	at := 0
	for at < len(data) {
		lineStart := at
		nl := bytes.IndexByte(data[at:], '\n')
		var line []byte
		if nl < 0 {
			line, at = data[at:], len(data)
		} else {
			line, at = data[at:at+nl], at+nl+1
		}
		lines++
		if lines > 10_000 || nodes > 50_000 {
			return "", "", nil, false
		}
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		body := line[indent:]
		if len(bytes.TrimRight(body, " ")) == 0 || body[0] == '#' {
			continue
		}
		item := body[0] == '-'
		if item && (len(body) < 2 || body[1] != ' ') {
			return "", "", nil, false // "---", "-1" at line start, "-x"
		}
		// Open the child collection announced by "key:" on the previous line.
		if pendingIndent >= 0 {
			if len(stack) > 16 {
				return "", "", nil, false
			}
			switch {
			case item && indent >= pendingIndent:
				stack = append(stack, quickLevel{indent: indent, seq: true, keysStart: len(keys), compact: indent == pendingIndent})
			case !item && indent > pendingIndent:
				stack = append(stack, quickLevel{indent: indent, keysStart: len(keys), artifact: pendingIsArt})
			}
			pendingIndent = -1
		}
		// Close collections this line is outside of.
		for {
			top := &stack[len(stack)-1]
			if indent < top.indent || (top.seq && top.compact && !item && indent == top.indent) {
				keys = keys[:top.keysStart]
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return "", "", nil, false
				}
				continue
			}
			break
		}
		top := &stack[len(stack)-1]
		if indent != top.indent || item != top.seq {
			return "", "", nil, false
		}
		nodes += 2
		if item {
			v, ok := quickValue(body[2:])
			if !ok || v.empty || v.block {
				return "", "", nil, false
			}
			nodes += v.nodes
			continue
		}
		key, rest, ok := quickKey(body)
		if !ok || len(keys)-top.keysStart >= 256 {
			return "", "", nil, false
		}
		for _, k := range keys[top.keysStart:] {
			if bytes.Equal(k, key) {
				return "", "", nil, false
			}
		}
		keys = append(keys, key)
		atTop := len(stack) == 1
		if atTop {
			topKeys++
			closeSection(lineStart)
			sectionKey, sectionStart = key, lineStart
		}
		isVersion := atTop && string(key) == "version"
		isArtifact := atTop && string(key) == "artifact"
		isSHA := top.artifact && string(key) == "sha256"
		v, ok := quickValue(rest)
		if !ok {
			return "", "", nil, false
		}
		if v.block {
			if isVersion || isSHA || isArtifact {
				return "", "", nil, false // a value the audit reads: let the decoder read it
			}
			n, ok := blockScalarEnd(data, at, indent)
			if !ok {
				return "", "", nil, false
			}
			lines += n.lines
			at = n.at
			nodes++
			continue
		}
		if v.empty {
			if isVersion || isSHA {
				continue // a null value: the decoder reads no string either
			}
			pendingIndent, pendingIsArt = indent, isArtifact
			continue
		}
		if isArtifact {
			return "", "", nil, false // a flow mapping: let the decoder read it
		}
		nodes += v.nodes
		switch {
		case isVersion:
			version = string(v.str)
		case isSHA:
			sha256 = string(v.str)
		}
	}
	closeSection(len(data))
	if topKeys == 0 {
		return "", "", nil, false
	}
	return version, sha256, sections, true
}

// quickText accepts documents of printable text: ASCII without control
// characters but the newline, and UTF-8 runes the YAML reader takes as
// ordinary characters (no byte-order mark, no Unicode line breaks).
func quickText(data []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i := 0; i < len(data); {
		// Eight plain printable ASCII bytes at once: no byte at or above
		// 0x80, none below 0x20 (newlines take the byte path) and no DEL.
		if i+8 <= len(data) {
			x := binary.LittleEndian.Uint64(data[i:])
			del := x ^ (0x7f * ones)
			if (x|(x-0x20*ones)&^x|(del-ones)&^del)&highs == 0 {
				i += 8
				continue
			}
		}
		c := data[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return false
		case r >= 0xa0 && r <= 0xd7ff && r != 0x2028 && r != 0x2029:
		case r >= 0xe000 && r <= 0xfffd && r != 0xfeff:
		case r >= 0x10000 && r <= 0x10ffff:
		default:
			return false
		}
		i += size
	}
	return true
}

// quickKey splits "key: rest" or "key:" into the key and the rest.
func quickKey(body []byte) ([]byte, []byte, bool) {
	colon := bytes.IndexByte(body, ':')
	if colon <= 0 || !isKey(body[:colon]) {
		return nil, nil, false
	}
	rest := body[colon+1:]
	if len(rest) > 0 && rest[0] != ' ' {
		return nil, nil, false
	}
	return body[:colon], rest, true
}

func isKey(k []byte) bool {
	for i, c := range k {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return len(k) > 0 && len(k) <= 128
}

// quickScalar is a value read by quickValue. str is the value when the
// decoder would read a string, else "" (a number, boolean or null).
type quickScalar struct {
	str   []byte // aliases the document, except single-quoted text with ''
	empty bool
	block bool // a literal or folded block scalar header: | > |- >-
	nodes int  // scalars inside a flow collection
}

// quickValue reads what follows "key:" or "- ": nothing, a quoted scalar
// without escapes (bar ” in single quotes), a plain scalar, a block scalar
// header, or a single-line flow collection of plain scalars, each
// optionally followed by a comment.
func quickValue(rest []byte) (quickScalar, bool) {
	rest = bytes.TrimLeft(rest, " ")
	if len(rest) == 0 || rest[0] == '#' {
		return quickScalar{empty: true}, true
	}
	switch rest[0] {
	case '"':
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			return quickScalar{}, false
		}
		content := rest[1 : 1+end]
		if bytes.IndexByte(content, '\\') >= 0 || !commentOnly(rest[2+end:]) {
			return quickScalar{}, false
		}
		return quickScalar{str: content}, true
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
			return quickScalar{}, false
		}
		return quickScalar{block: true}, true
	case '{', '[':
		return quickFlow(rest)
	}
	value := rest
	if i := bytes.Index(value, []byte(" #")); i >= 0 {
		value = value[:i]
	}
	value = bytes.TrimRight(value, " ")
	str, ok := plainScalar(value, false)
	return quickScalar{str: str}, ok
}

// singleQuoted reads a single-quoted scalar on one line, where ” stands
// for a quote.
func singleQuoted(rest []byte) (quickScalar, bool) {
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
			return quickScalar{}, false
		}
		content := rest[1:i]
		if escaped {
			content = bytes.ReplaceAll(content, []byte("''"), []byte("'"))
		}
		return quickScalar{str: content}, true
	}
	return quickScalar{}, false
}

// blockEnd is where a block scalar's content ends.
type blockEnd struct {
	at    int // offset of the first line after the content
	lines int // lines of content
}

// blockScalarEnd skips the content of a block scalar whose header ended the
// line before offset at, under a key indented by keyIndent: the lines
// indented deeper than the key (by the first content line's indentation)
// and the blank lines among, before and after them. A line of spaces before
// the first content line is refused: it would set the indentation in ways
// not worth following.
func blockScalarEnd(data []byte, at, keyIndent int) (blockEnd, bool) {
	end := blockEnd{at: at}
	blockIndent := -1
	for at < len(data) {
		next := len(data)
		if nl := bytes.IndexByte(data[at:], '\n'); nl >= 0 {
			next = at + nl + 1
		}
		line := bytes.TrimSuffix(data[at:next], []byte("\n"))
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		switch {
		case indent == len(line):
			if indent > 0 && blockIndent < 0 {
				return blockEnd{}, false
			}
		case blockIndent < 0 && indent <= keyIndent, blockIndent >= 0 && indent < blockIndent:
			return end, true
		case blockIndent < 0:
			blockIndent = indent
		}
		at = next
		end.at = at
		end.lines++
	}
	return end, true
}

func commentOnly(b []byte) bool {
	t := bytes.TrimLeft(b, " ")
	return len(t) == 0 || (t[0] == '#' && len(t) < len(b))
}

// finiteNumber matches -?[0-9]{1,15}(\.[0-9]{1,15})?([eE][-+]?[0-9]{1,2})?:
// a number the decoder reads as a finite int or float.
func finiteNumber(v []byte) bool {
	v = bytes.TrimPrefix(v, []byte("-"))
	if e := bytes.IndexAny(v, "eE"); e >= 0 {
		exp := v[e+1:]
		if len(exp) > 0 && (exp[0] == '-' || exp[0] == '+') {
			exp = exp[1:]
		}
		if !digits(exp, 1, 2) {
			return false
		}
		v = v[:e]
	}
	whole, frac, dot := bytes.Cut(v, []byte("."))
	return digits(whole, 1, 15) && (!dot || digits(frac, 1, 15))
}

// plainDate matches YYYY-MM-DD, which the decoder keeps as text.
func plainDate(v []byte) bool {
	return len(v) == 10 && v[4] == '-' && v[7] == '-' && digits(v[:4], 4, 4) && digits(v[5:7], 2, 2) && digits(v[8:], 2, 2)
}

func digits(b []byte, lo, hi int) bool {
	if len(b) < lo || len(b) > hi {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// plainScalar checks a plain scalar and returns its string value, or "" for
// a number, boolean or null. It refuses anything whose reading it cannot be
// sure of. In a block mapping a plain scalar that starts with a letter may
// hold any printable text but ": " and " #" (which quickValue cut off as a
// comment); inFlow keeps to a narrow set of characters, none of which ends
// a scalar in a flow collection.
func plainScalar(v []byte, inFlow bool) ([]byte, bool) {
	if len(v) == 0 {
		return nil, false
	}
	for i, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '.' || c == '/' || c == '+' || c == '=' || c == '@' || c == '%' || c == '-' || c == '(' || c == ')':
		case c == ':':
			if i+1 < len(v) && v[i+1] == ' ' || i+1 == len(v) {
				return nil, false
			}
		case c == '#':
			if i > 0 && v[i-1] == ' ' {
				return nil, false
			}
			if inFlow {
				return nil, false
			}
		case !inFlow && c >= ' ':
			// Any other printable character, UTF-8 included (quickText
			// checked the runes), is text inside a plain scalar in a block
			// mapping.
		default:
			return nil, false
		}
	}
	switch string(v) {
	case "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE":
		return nil, true
	}
	c := v[0]
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '/', c == '(':
		return v, true
	case c >= '0' && c <= '9', c == '-':
		if c != '-' && bytes.IndexByte(v, '_') >= 0 {
			return nil, false // the decoder drops underscores before reading a number
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
					return v, true
				}
			}
			return nil, false
		}
		if finiteNumber(v) {
			return nil, true
		}
		if plainDate(v) {
			return v, true // a timestamp, which the decoder keeps as text
		}
		if c == '-' {
			return nil, false
		}
		for _, d := range v {
			if d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' {
				switch d {
				case 'e', 'E', 'x', 'X', 'o', 'O', 'b', 'B':
					continue
				}
				return v, true
			}
		}
		return nil, false
	}
	return nil, false
}

// quickFlow checks a single-line flow mapping {k: v, …} or sequence
// [v, …] of plain scalars with distinct keys.
func quickFlow(rest []byte) (quickScalar, bool) {
	open, closer := rest[0], byte(']')
	if open == '{' {
		closer = '}'
	}
	closeAt := bytes.IndexByte(rest, closer)
	if closeAt < 0 || !commentOnly(rest[closeAt+1:]) {
		return quickScalar{}, false
	}
	inner := bytes.TrimSpace(rest[1:closeAt])
	if bytes.ContainsAny(inner, "{}[]\"'#") {
		return quickScalar{}, false
	}
	if len(inner) == 0 {
		return quickScalar{}, true
	}
	var seen [16][]byte // keys so far; more spill to the heap
	keys := seen[:0]
	parts := 0
	for rest := inner; rest != nil; parts++ {
		if parts == 512 {
			return quickScalar{}, false
		}
		part := rest
		if comma := bytes.IndexByte(rest, ','); comma >= 0 {
			part, rest = rest[:comma], rest[comma+1:]
		} else {
			rest = nil
		}
		part = bytes.TrimSpace(part)
		if open == '[' {
			if _, ok := plainScalar(part, true); !ok {
				return quickScalar{}, false
			}
			continue
		}
		k, v, found := bytes.Cut(part, []byte(": "))
		if !found || !isKey(k) {
			return quickScalar{}, false
		}
		for _, s := range keys {
			if bytes.Equal(s, k) {
				return quickScalar{}, false
			}
		}
		keys = append(keys, k)
		if _, ok := plainScalar(bytes.TrimSpace(v), true); !ok {
			return quickScalar{}, false
		}
	}
	return quickScalar{nodes: 2 * parts}, true
}
