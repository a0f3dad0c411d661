// Package yamldoc decodes small, untrusted YAML documents safely.
//
// A document is parsed once into a yaml.Node tree, which keeps positions for
// messages, and converted into plain JSON-like values (map[string]any, []any,
// string, int64, float64, bool, nil) for schema validation. Anything a
// configuration file has no use for and an attacker might (anchors and
// aliases, merge keys, custom tags, several documents, huge or deeply nested
// input, duplicate keys) is refused with a positioned message.
package yamldoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits bound what a document may contain.
type Limits struct {
	// MaxBytes is the largest accepted file size.
	MaxBytes int
	// MaxKeys is the largest number of keys in one mapping.
	MaxKeys int
	// MaxDepth is the deepest accepted nesting of mappings and sequences.
	MaxDepth int
	// MaxNodes is the largest number of nodes in the document.
	MaxNodes int
}

// DefaultLimits are generous for manifests and policies and small enough that
// a crafted file cannot stall the bot.
var DefaultLimits = Limits{MaxBytes: 1 << 20, MaxKeys: 512, MaxDepth: 32, MaxNodes: 100_000}

// Doc is a decoded document.
type Doc struct {
	// Root is the top-level node (the document's content, not the document node).
	Root *yaml.Node
	// Value is the document as plain values.
	Value any
}

// Error is a problem found while decoding, with a 1-based position.
type Error struct {
	Line    int
	Column  int
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Message
	}
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message)
}

// Parse decodes data as exactly one YAML document within the limits.
func Parse(data []byte, lim Limits) (*Doc, error) {
	if lim.MaxBytes > 0 && len(data) > lim.MaxBytes {
		return nil, &Error{Message: fmt.Sprintf("file is %d bytes, larger than the limit of %d bytes", len(data), lim.MaxBytes)}
	}
	if !utf8.Valid(data) {
		line, col := invalidUTF8Position(data)
		return nil, &Error{Line: line, Column: col, Message: "file is not valid UTF-8"}
	}
	var doc yaml.Node
	if hasDocumentMarker(data) {
		// Perhaps several documents: decode them as a stream.
		dec := yaml.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &Error{Line: 1, Column: 1, Message: "file is empty"}
			}
			return nil, syntaxError(err)
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); err == nil {
			return nil, &Error{Line: extra.Line, Column: extra.Column, Message: "file holds more than one YAML document"}
		} else if !errors.Is(err, io.EOF) {
			return nil, syntaxError(err)
		}
	} else if err := yaml.Unmarshal(data, &doc); err != nil {
		// Without a document marker a stream holds at most one document,
		// which Unmarshal decodes from memory.
		return nil, syntaxError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{Line: 1, Column: 1, Message: "file is empty"}
	}
	c := converter{lim: lim}
	v, err := c.value(doc.Content[0], 0)
	if err != nil {
		return nil, err
	}
	return &Doc{Root: doc.Content[0], Value: v}, nil
}

// hasDocumentMarker reports whether a line of data starts with a document
// start (---) or end (...) marker. Without one, a YAML stream holds at most
// one document: a second needs a marker before it. Line breaks other than
// \n (\r, NEL, LS, PS) and NUL count as a marker, to stay on the safe side.
func hasDocumentMarker(data []byte) bool {
	if bytes.IndexByte(data, '\r') >= 0 || bytes.IndexByte(data, 0) >= 0 || bytes.Contains(data, []byte("\u0085")) ||
		bytes.Contains(data, []byte("\u2028")) || bytes.Contains(data, []byte("\u2029")) {
		return true
	}
	for len(data) > 0 {
		if len(data) >= 3 && (data[0] == '-' && data[1] == '-' && data[2] == '-' || data[0] == '.' && data[1] == '.' && data[2] == '.') {
			if len(data) == 3 || data[3] == ' ' || data[3] == '\t' || data[3] == '\r' || data[3] == '\n' {
				return true
			}
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return false
		}
		data = data[i+1:]
	}
	return false
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 error into a positioned Error.
func syntaxError(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Line: line, Column: 1, Message: "invalid YAML: " + m[2]}
	}
	return &Error{Line: 1, Column: 1, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

func invalidUTF8Position(data []byte) (line, col int) {
	line, col = 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line, col
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return line, col
}

type converter struct {
	lim   Limits
	nodes int
}

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	c.nodes++
	if c.lim.MaxNodes > 0 && c.nodes > c.lim.MaxNodes {
		return nil, &Error{Line: n.Line, Column: n.Column, Message: fmt.Sprintf("document has more than %d nodes", c.lim.MaxNodes)}
	}
	if c.lim.MaxDepth > 0 && depth > c.lim.MaxDepth {
		return nil, &Error{Line: n.Line, Column: n.Column, Message: fmt.Sprintf("document is nested deeper than %d levels", c.lim.MaxDepth)}
	}
	if n.Anchor != "" {
		return nil, &Error{Line: n.Line, Column: n.Column, Message: fmt.Sprintf("anchor &%s is not allowed: write the value out in full", n.Anchor)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		return nil, &Error{Line: n.Line, Column: n.Column, Message: fmt.Sprintf("alias *%s is not allowed: write the value out in full", n.Value)}
	case yaml.MappingNode:
		return c.mapping(n, depth)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.value(item, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, &Error{Line: n.Line, Column: n.Column, Message: "unsupported YAML node"}
}

func (c *converter) mapping(n *yaml.Node, depth int) (any, error) {
	pairs := len(n.Content) / 2
	if c.lim.MaxKeys > 0 && pairs > c.lim.MaxKeys {
		return nil, &Error{Line: n.Line, Column: n.Column, Message: fmt.Sprintf("mapping has %d keys, more than the limit of %d", pairs, c.lim.MaxKeys)}
	}
	out := make(map[string]any, pairs)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Anchor != "" {
			return nil, &Error{Line: k.Line, Column: k.Column, Message: "mapping keys must be plain strings"}
		}
		if k.ShortTag() == "!!merge" {
			return nil, &Error{Line: k.Line, Column: k.Column, Message: "merge keys (<<) are not allowed"}
		}
		if tag := k.ShortTag(); tag != "!!str" && tag != "!!int" && tag != "!!bool" && tag != "!!float" && tag != "!!null" && tag != "!!timestamp" {
			return nil, &Error{Line: k.Line, Column: k.Column, Message: fmt.Sprintf("tag %s is not allowed on a key", tag)}
		}
		if _, dup := out[k.Value]; dup {
			first := findKey(n, k.Value)
			return nil, &Error{Line: k.Line, Column: k.Column, Message: fmt.Sprintf("duplicate key %q (first defined at line %d)", k.Value, first.Line)}
		}
		val, err := c.value(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[k.Value] = val
	}
	return out, nil
}

func findKey(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return m
}

func scalar(n *yaml.Node) (any, error) {
	switch tag := n.ShortTag(); tag {
	case "!!str", "!!timestamp":
		// Timestamps stay strings: the schema checks their format.
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		return strconv.ParseBool(strings.ToLower(n.Value))
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if strings.HasPrefix(s, "0o") || strings.HasPrefix(s, "0O") {
			s = "0" + s[2:]
		}
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, &Error{Line: n.Line, Column: n.Column, Message: fmt.Sprintf("invalid integer %q", n.Value)}
		}
		return f, nil
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, &Error{Line: n.Line, Column: n.Column, Message: fmt.Sprintf("number %q is not a finite decimal number", n.Value)}
		}
		return f, nil
	default:
		return nil, &Error{Line: n.Line, Column: n.Column, Message: fmt.Sprintf("tag %s is not allowed", tag)}
	}
}
