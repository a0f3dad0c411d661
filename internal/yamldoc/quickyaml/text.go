package quickyaml

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// printableText accepts documents of printable text: ASCII without control
// characters but the newline, and UTF-8 runes the YAML reader takes as
// ordinary characters (no byte-order mark, no Unicode line breaks).
func printableText(data []byte) bool {
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

// splitKey splits "key: rest" or "key:" into the key and the rest.
func splitKey(body []byte) ([]byte, []byte, bool) {
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

// isKey accepts the keys the decoder reads as the same text: a letter or
// underscore, then letters, digits, underscores, dashes and dots.
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

// commentOnly reports whether b is blank or a comment after a space.
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
