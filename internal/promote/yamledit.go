package promote

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/example-org/promobot/internal/manifest"
)

// The order in which manifest fields are written; it is also where a field
// that a file lacks is inserted.
var (
	topLevelOrder = []string{"apiVersion", "kind", "model", "environment", "version", "artifact", "lineage", "metrics", "parameters", "validation", "approval", "notes"}
	artifactOrder = []string{"uri", "sha256", "size", "signature"}
	lineageOrder  = []string{"trainingRun", "sourceCommit", "dataWindow", "featureSet", "dataVersion"}
)

// retarget rewrites a manifest for another environment by editing its text:
// the environment value is replaced in place and the approval block is
// replaced by one holding ticket (or removed when ticket is empty). Every
// other byte of the file, comments and field order included, is kept, so
// that artifact and lineage stay byte-identical. A file laid out in a way
// the edit cannot handle safely is an error, never a guess.
func retarget(src []byte, env, ticket string) ([]byte, error) {
	return retargetApproval(src, env, manifest.Approval{Ticket: ticket})
}

// retargetApproval is retarget with a whole approval block: ticket and
// rationale, either of which may be empty.
func retargetApproval(src []byte, env string, approval manifest.Approval) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("manifest is not a YAML mapping")
	}
	root := doc.Content[0]
	if root.Style&yaml.FlowStyle != 0 {
		return nil, errors.New("manifest is written as a flow mapping ({...}); write it as a block mapping")
	}
	lines := splitLines(src)
	newline := "\n"
	if len(lines) > 0 && strings.HasSuffix(lines[0], "\r\n") {
		newline = "\r\n"
	}

	// Edits never overlap and are applied bottom-up so that line numbers
	// stay valid: the environment edit keeps the line count.
	type edit struct {
		from, to int // 0-based, inclusive; to < from inserts before from
		text     []string
	}
	var edits []edit

	// An approval block appended at the end needs the last line to end.
	if approvalKey, _, _ := lookup(root, "approval"); !approval.IsZero() && approvalKey == nil && firstKeyAfter(root, "approval") == nil &&
		len(lines) > 0 && !strings.HasSuffix(lines[len(lines)-1], "\n") {
		lines[len(lines)-1] += newline
	}

	_, envValue, _ := lookup(root, "environment")
	if envValue == nil {
		return nil, errors.New("manifest has no environment field")
	}
	line, err := replaceScalar(lines, envValue, plainOrQuoted(env))
	if err != nil {
		return nil, fmt.Errorf("edit environment: %w", err)
	}
	edits = append(edits, edit{from: envValue.Line - 1, to: envValue.Line - 1, text: []string{line}})

	var block []string
	if !approval.IsZero() {
		indent := strings.Repeat(" ", nestedIndent(root))
		block = []string{"approval:" + newline}
		if approval.Ticket != "" {
			block = append(block, indent+"ticket: "+plainOrQuoted(approval.Ticket)+newline)
		}
		if approval.Rationale != "" {
			block = append(block, indent+"rationale: "+doubleQuoted(approval.Rationale)+newline)
		}
	}
	if key, _, i := lookup(root, "approval"); key != nil {
		if key.Column != 1 {
			return nil, errors.New("approval key is not at the start of its line")
		}
		end := len(lines) - 1
		if i+2 < len(root.Content) {
			end = root.Content[i+2].Line - 2
		}
		for end > key.Line-1 && isBlankOrComment(lines[end]) {
			end--
		}
		edits = append(edits, edit{from: key.Line - 1, to: end, text: block})
	} else if block != nil {
		at := len(lines)
		if next := firstKeyAfter(root, "approval"); next != nil {
			at = next.Line - 1
			for at > 0 && isComment(lines[at-1]) {
				at--
			}
		}
		edits = append(edits, edit{from: at, to: at - 1, text: block})
	}

	slices.SortFunc(edits, func(a, b edit) int { return b.from - a.from })
	for _, e := range edits {
		lines = slices.Replace(lines, e.from, e.to+1, e.text...)
	}
	return []byte(strings.Join(lines, "")), nil
}

// splitLines splits after each '\n', keeping the line endings.
func splitLines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i+1]))
		b = b[i+1:]
	}
	return out
}

func isComment(line string) bool {
	return strings.HasPrefix(strings.TrimSpace(line), "#")
}

func isBlankOrComment(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#")
}

// lookup finds key in a mapping node and returns the key node, the value
// node and the key's index in Content.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node, index int) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1], i
		}
	}
	return nil, nil, -1
}

// firstKeyAfter returns the first key of the mapping, in file order, that
// the canonical order places after key.
func firstKeyAfter(m *yaml.Node, key string) *yaml.Node {
	rank := slices.Index(topLevelOrder, key)
	for i := 0; i+1 < len(m.Content); i += 2 {
		r := slices.Index(topLevelOrder, m.Content[i].Value)
		if r < 0 || r > rank {
			return m.Content[i]
		}
	}
	return nil
}

// nestedIndent returns the indentation the file uses for nested block
// mappings, two spaces when it has none.
func nestedIndent(root *yaml.Node) int {
	for i := 1; i < len(root.Content); i += 2 {
		v := root.Content[i]
		if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && v.Content[0].Column > 1 {
			return v.Content[0].Column - 1
		}
	}
	return 2
}

// replaceScalar returns the line holding the single-line scalar v with its
// value token replaced by text; whatever follows the token (a comment) is
// kept.
func replaceScalar(lines []string, v *yaml.Node, text string) (string, error) {
	if v.Kind != yaml.ScalarNode || v.Line < 1 || v.Line > len(lines) {
		return "", errors.New("value is not a scalar")
	}
	line := lines[v.Line-1]
	start := byteOffset(line, v.Column-1)
	if start < 0 {
		return "", errors.New("value position is outside its line")
	}
	rest := line[start:]
	var n int
	switch v.Style {
	case 0:
		if !strings.HasPrefix(rest, v.Value) {
			return "", errors.New("value spans several lines")
		}
		n = len(v.Value)
	case yaml.DoubleQuotedStyle:
		n = quotedLength(rest, '"')
	case yaml.SingleQuotedStyle:
		n = quotedLength(rest, '\'')
	default:
		return "", errors.New("value is a block scalar; write it on one line")
	}
	if n <= 0 {
		return "", errors.New("quoted value spans several lines")
	}
	return line[:start] + text + rest[n:], nil
}

// byteOffset converts a 0-based rune column into a byte offset.
func byteOffset(line string, col int) int {
	off := 0
	for i := 0; i < col; i++ {
		if off >= len(line) {
			return -1
		}
		_, size := utf8.DecodeRuneInString(line[off:])
		off += size
	}
	return off
}

// quotedLength returns the length of the quoted token at the start of s,
// or 0 when it does not close on this line.
func quotedLength(s string, quote byte) int {
	if len(s) == 0 || s[0] != quote {
		return 0
	}
	for i := 1; i < len(s); i++ {
		switch {
		case quote == '"' && s[i] == '\\':
			i++
		case s[i] == quote && quote == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == quote:
			return i + 1
		case s[i] == '\n':
			return 0
		}
	}
	return 0
}

// plainOrQuoted renders a string scalar as YAML would: plain when that
// reads back as the same string, quoted otherwise.
// doubleQuoted renders s as one YAML double-quoted scalar on one line,
// whatever it holds: a JSON string is one.
func doubleQuoted(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func plainOrQuoted(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return `"` + s + `"`
	}
	return strings.TrimSuffix(string(out), "\n")
}

// setField sets key to value in mapping m, replacing an existing value (and
// keeping the key's comments) or inserting the key before the first key
// that order places after it.
func setField(m *yaml.Node, order []string, key string, value *yaml.Node) {
	if _, _, i := lookup(m, key); i >= 0 {
		m.Content[i+1] = value
		return
	}
	rank := slices.Index(order, key)
	at := len(m.Content)
	for i := 0; i+1 < len(m.Content); i += 2 {
		r := slices.Index(order, m.Content[i].Value)
		if rank >= 0 && (r < 0 || r > rank) {
			at = i
			break
		}
	}
	k := stringNode(key)
	if at == 0 && len(m.Content) > 0 {
		// A comment above the first key describes the file: keep it first.
		k.HeadComment, m.Content[0].HeadComment = m.Content[0].HeadComment, ""
	}
	m.Content = slices.Insert(m.Content, at, k, value)
}

// deleteField removes key from mapping m.
func deleteField(m *yaml.Node, key string) {
	if _, _, i := lookup(m, key); i >= 0 {
		m.Content = slices.Delete(m.Content, i, i+2)
	}
}

// childMapping returns the mapping under key, creating it when missing or
// not a mapping.
func childMapping(m *yaml.Node, order []string, key string) *yaml.Node {
	if _, v, _ := lookup(m, key); v != nil && v.Kind == yaml.MappingNode {
		return v
	}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	setField(m, order, key, v)
	return v
}

func stringNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func quotedNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
}

func intNode(n int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(n)}
}

// encodeNode writes a document node with two-space indentation.
func encodeNode(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
