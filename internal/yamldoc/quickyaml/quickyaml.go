// Package quickyaml is a fast reader of the manifests promobot and people
// write, in the plain block style: one key per line, single-line plain and
// quoted scalars (any printable text, UTF-8 included), literal and folded
// block scalars, and single-line flow collections of plain scalars.
//
// It accepts a document only when it can prove that the safe YAML decoder
// (internal/yamldoc) would accept it and read the same values; on anything
// else (multi-line plain or quoted strings, escapes in double quotes, tabs,
// control characters, anchors, tags, duplicate keys, numbers it cannot
// prove finite) it says no and the caller decodes the file with yamldoc.
// Fuzz tests hold it to that decoder. It is shared by the audit, which
// reads a version and a digest from every blob of a history, and by
// repoconfig.LoadManifest, which validates whole repositories.
package quickyaml

import (
	"bytes"
)

// Section is the text of one top-level entry of a document; both slices
// alias the document.
type Section struct{ Key, Text []byte }

// level is one open mapping or sequence of a document.
type level struct {
	indent    int
	seq       bool
	keysStart int  // where this level's keys start in Scratch.keys
	artifact  bool // the mapping under the top-level key "artifact"
	compact   bool // a sequence at its parent key's indentation

	// With values: the mapping this level fills, or the sequence's items
	// and the mapping and key they are set under when the level closes.
	mapping map[string]any
	items   []any
	parent  map[string]any
	key     string
}

// Scratch holds buffers that reads reuse across documents; the zero value
// is ready to use. It is not safe for concurrent use.
type Scratch struct {
	levels   []level
	keys     [][]byte // keys of the open levels, in stack order; alias the document
	sections []Section
}

// Manifest reads version and artifact.sha256 from a manifest, and, when
// wantSections is set, the text of each top-level entry, so that edits can
// be described by the keys whose text changed. A version or digest that is
// null, a number or a boolean reads as "", as the decoder reads no string.
// The returned sections alias data and scratch: they are valid until the
// next call with the same scratch. ok is false when the caller must decode
// the document with yamldoc.
func Manifest(data []byte, wantSections bool, scratch *Scratch) (version, sha256 string, sections []Section, ok bool) {
	r := reader{data: data, wantSections: wantSections, scratch: scratch}
	if !r.read() {
		return "", "", nil, false
	}
	return r.version, r.sha256, r.sections, true
}

// Decode reads a document into the plain values yamldoc.Parse gives its
// Value (map[string]any, []any, string, int64, float64, bool, nil). ok is
// false when the caller must decode the document with yamldoc; documents
// with block scalars are left to it too.
func Decode(data []byte, scratch *Scratch) (root map[string]any, ok bool) {
	r := reader{data: data, values: true, scratch: scratch}
	if !r.read() {
		return nil, false
	}
	return r.root, true
}

// reader reads one document.
type reader struct {
	data         []byte
	wantSections bool
	values       bool
	scratch      *Scratch

	stack    []level
	keys     [][]byte
	sections []Section
	version  string
	sha256   string
	root     map[string]any

	// A "key:" with no value on the previous line, which a deeper line
	// turns into a collection and anything else into null.
	pendingIndent int
	pendingIsArt  bool
	pendingParent map[string]any
	pendingKey    string
}

// set puts a value under key in the mapping m, when reading values.
func (r *reader) set(m map[string]any, key []byte, v any) {
	if r.values {
		m[string(key)] = v
	}
}

// pop closes the innermost open level.
func (r *reader) pop() {
	top := &r.stack[len(r.stack)-1]
	if r.values && top.seq {
		top.parent[top.key] = top.items
	}
	r.keys = r.keys[:top.keysStart]
	*top = level{}
	r.stack = r.stack[:len(r.stack)-1]
}

// resolvePending turns a pending "key:" into null when no collection
// opened under it.
func (r *reader) resolvePending() {
	if r.pendingIndent >= 0 && r.values {
		r.pendingParent[r.pendingKey] = nil
	}
	r.pendingIndent, r.pendingParent = -1, nil
}

func (r *reader) read() bool {
	data := r.data
	if len(data) == 0 || len(data) > 1<<20 || !printableText(data) {
		return false
	}
	s := r.scratch
	if r.values {
		r.root = map[string]any{}
	}
	r.stack = append(s.levels[:0], level{mapping: r.root})
	r.keys = s.keys[:0]
	r.sections = s.sections[:0]
	r.pendingIndent = -1
	defer func() {
		clear(r.stack)
		s.levels, s.keys, s.sections = r.stack[:0], r.keys[:0], r.sections[:0]
	}()
	var (
		sectionKey   []byte
		sectionStart int
		lines, nodes int
		topKeys      int
	)
	closeSection := func(end int) {
		if r.wantSections && sectionKey != nil {
			r.sections = append(r.sections, Section{Key: sectionKey, Text: bytes.TrimRight(data[sectionStart:end], "\n ")})
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
			return false
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
			return false // "---", "-1" at line start, "-x"
		}
		// Open the child collection announced by "key:" on the previous line.
		if r.pendingIndent >= 0 {
			if len(r.stack) > 16 {
				return false
			}
			switch {
			case item && indent >= r.pendingIndent:
				r.stack = append(r.stack, level{indent: indent, seq: true, keysStart: len(r.keys), compact: indent == r.pendingIndent, parent: r.pendingParent, key: r.pendingKey})
				if r.values {
					r.stack[len(r.stack)-1].items = []any{}
				}
				r.pendingIndent = -1
			case !item && indent > r.pendingIndent:
				var m map[string]any
				if r.values {
					m = map[string]any{}
					r.pendingParent[r.pendingKey] = m
				}
				r.stack = append(r.stack, level{indent: indent, keysStart: len(r.keys), artifact: r.pendingIsArt, mapping: m})
				r.pendingIndent = -1
			}
			r.resolvePending()
		}
		// Close collections this line is outside of.
		for {
			top := &r.stack[len(r.stack)-1]
			if indent < top.indent || (top.seq && top.compact && !item && indent == top.indent) {
				if len(r.stack) == 1 {
					return false
				}
				r.pop()
				continue
			}
			break
		}
		top := &r.stack[len(r.stack)-1]
		if indent != top.indent || item != top.seq {
			return false
		}
		nodes += 2
		if item {
			v, ok := readValue(body[2:])
			if !ok || v.empty || v.block {
				return false
			}
			nodes += v.nodes
			if r.values {
				if v.flow {
					top.items = append(top.items, flowValue(v.text))
				} else {
					top.items = append(top.items, v.value())
				}
			}
			continue
		}
		key, rest, ok := splitKey(body)
		if !ok || len(r.keys)-top.keysStart >= 256 {
			return false
		}
		for _, k := range r.keys[top.keysStart:] {
			if bytes.Equal(k, key) {
				return false
			}
		}
		r.keys = append(r.keys, key)
		atTop := len(r.stack) == 1
		if atTop {
			topKeys++
			closeSection(lineStart)
			sectionKey, sectionStart = key, lineStart
		}
		isVersion := atTop && string(key) == "version"
		isArtifact := atTop && string(key) == "artifact"
		isSHA := top.artifact && string(key) == "sha256"
		v, ok := readValue(rest)
		if !ok {
			return false
		}
		if v.block {
			if isVersion || isSHA || isArtifact || r.values {
				return false // a value the audit reads, or one to build: let the decoder read it
			}
			n, ok := blockScalarEnd(data, at, indent)
			if !ok {
				return false
			}
			lines += n.lines
			at = n.at
			nodes++
			continue
		}
		if v.empty {
			if isVersion || isSHA {
				r.set(top.mapping, key, nil)
				continue // a null value: the decoder reads no string either
			}
			r.pendingIndent, r.pendingIsArt = indent, isArtifact
			if r.values {
				r.pendingParent, r.pendingKey = top.mapping, string(key)
			}
			continue
		}
		if isArtifact {
			return false // a flow mapping: let the decoder read it
		}
		nodes += v.nodes
		switch {
		case isVersion:
			r.version = string(v.str)
		case isSHA:
			r.sha256 = string(v.str)
		}
		if r.values {
			if v.flow {
				r.set(top.mapping, key, flowValue(v.text))
			} else {
				r.set(top.mapping, key, v.value())
			}
		}
	}
	closeSection(len(data))
	r.resolvePending()
	for len(r.stack) > 1 {
		r.pop()
	}
	return topKeys > 0
}
