// Package schema compiles promobot's JSON Schemas and turns validation errors
// into short, positioned messages about the offending field.
package schema

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Schema is a compiled JSON Schema. It is safe for concurrent use.
type Schema struct {
	compiled *jsonschema.Schema
}

// Violation is one reason a value does not satisfy a schema.
type Violation struct {
	// Path is the list of keys and indices of the offending value.
	Path []string
	// AtKey is true when the violation is about a mapping key (an unknown
	// field) rather than a value, so positions point at the key.
	AtKey bool
	// Message is a complete sentence fragment naming the field.
	Message string
}

var cache sync.Map // [32]byte -> *Schema

// Compile compiles a draft 2020-12 schema. Formats are asserted, not just
// annotated. Schemas are content-addressed: compiling the same bytes twice
// returns the same *Schema.
func Compile(name string, data []byte) (*Schema, error) {
	key := sha256.Sum256(data)
	if s, ok := cache.Load(key); ok {
		return s.(*Schema), nil
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	url := "mem:///" + name
	if err := c.AddResource(url, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	compiled, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	s := &Schema{compiled: compiled}
	actual, _ := cache.LoadOrStore(key, s)
	return actual.(*Schema), nil
}

// MustCompile is Compile for schemas embedded in the binary.
func MustCompile(name string, data []byte) *Schema {
	s, err := Compile(name, data)
	if err != nil {
		panic(err)
	}
	return s
}

// Validate checks a plain value (as produced by yamldoc) and returns every
// violation, sorted by path. It returns nil when the value is valid.
func (s *Schema) Validate(v any) []Violation {
	err := s.compiled.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Violation{{Message: err.Error()}}
	}
	var out []Violation
	seen := map[string]bool{}
	for _, leaf := range leaves(ve, nil) {
		for _, v := range translate(leaf) {
			k := strings.Join(v.Path, "\x00") + "\x01" + v.Message
			if !seen[k] {
				seen[k] = true
				out = append(out, v)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return strings.Join(out[i].Path, ".") < strings.Join(out[j].Path, ".")
	})
	return out
}

func leaves(e *jsonschema.ValidationError, acc []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(acc, e)
	}
	for _, c := range e.Causes {
		acc = leaves(c, acc)
	}
	return acc
}

var (
	missingProps    = regexp.MustCompile(`^missing properties: (.*)$`)
	additionalProps = regexp.MustCompile(`^additionalProperties (.*) not allowed$`)
	quoted          = regexp.MustCompile(`'([^']*)'`)
)

// patternHints explain the patterns our schemas use in words.
var patternHints = map[string]string{
	`^[0-9a-f]{64}$`:                    "must be 64 lower-case hexadecimal characters",
	`^[0-9a-f]{40}$`:                    "must be a full 40-character lower-case hexadecimal commit id",
	`^[a-z0-9][a-z0-9-]{0,62}$`:         "must be lower-case letters, digits and dashes (at most 63, starting with a letter or digit)",
	`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`: "must be letters, digits, dots, dashes and underscores (at most 64, starting with a letter or digit)",
	`^[A-Za-z0-9+/]+={0,2}$`:            "must be standard base64",
	`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`:    "must start with a letter and hold only letters, digits, dots, dashes and underscores",
}

func translate(e *jsonschema.ValidationError) []Violation {
	path := splitPointer(e.InstanceLocation)
	field := dotted(path)
	keyword := e.KeywordLocation[strings.LastIndex(e.KeywordLocation, "/")+1:]
	msg := e.Message
	switch {
	case missingProps.MatchString(msg):
		var out []Violation
		for _, m := range quoted.FindAllStringSubmatch(missingProps.FindStringSubmatch(msg)[1], -1) {
			out = append(out, Violation{Path: path, Message: fmt.Sprintf("%smissing required field %q", prefix(field), m[1])})
		}
		return out
	case additionalProps.MatchString(msg):
		var out []Violation
		for _, m := range quoted.FindAllStringSubmatch(additionalProps.FindStringSubmatch(msg)[1], -1) {
			p := append(append([]string(nil), path...), m[1])
			out = append(out, Violation{Path: p, AtKey: true, Message: fmt.Sprintf("%sunknown field %q", prefix(field), m[1])})
		}
		return out
	case keyword == "pattern":
		if m := quoted.FindStringSubmatch(msg); m != nil {
			if hint, ok := patternHints[m[1]]; ok {
				return []Violation{{Path: path, Message: fmt.Sprintf("%s %s", fieldName(field), hint)}}
			}
		}
	case keyword == "propertyNames":
		return []Violation{{Path: path, Message: fmt.Sprintf("%s has an invalid key: %s", fieldName(field), msg)}}
	case keyword == "format":
		return []Violation{{Path: path, Message: fmt.Sprintf("%s %s", fieldName(field), formatMessage(msg))}}
	case keyword == "type":
		return []Violation{{Path: path, Message: fmt.Sprintf("%s: %s%s", fieldName(field), msg, typeHint(msg))}}
	}
	return []Violation{{Path: path, Message: fmt.Sprintf("%s: %s", fieldName(field), msg)}}
}

func formatMessage(msg string) string {
	m := quoted.FindAllStringSubmatch(msg, -1)
	if len(m) < 2 {
		return msg
	}
	switch f := m[len(m)-1][1]; f {
	case "date":
		return fmt.Sprintf("%q is not a date (YYYY-MM-DD)", m[0][1])
	case "date-time":
		return fmt.Sprintf("%q is not an RFC 3339 date-time (e.g. 2026-06-05T14:30:00Z)", m[0][1])
	case "uri":
		return fmt.Sprintf("%q is not an absolute URI", m[0][1])
	default:
		return fmt.Sprintf("%q is not a valid %s", m[0][1], f)
	}
}

func typeHint(msg string) string {
	if strings.HasPrefix(msg, "expected string, but got number") {
		return " (quote the value)"
	}
	return ""
}

func fieldName(field string) string {
	if field == "" {
		return "document"
	}
	return field
}

func prefix(field string) string {
	if field == "" {
		return ""
	}
	return field + ": "
}

func dotted(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if isIndex(p) {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// splitPointer splits a JSON pointer into its unescaped tokens.
func splitPointer(ptr string) []string {
	if ptr == "" || ptr == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts
}
