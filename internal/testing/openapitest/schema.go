package openapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// resourceURL names the compiled extract of the description; nothing is
// ever fetched from it.
const resourceURL = "mem:///openapi.json"

// Schemas holds compiled validators for locations in a description.
type Schemas struct {
	byPointer map[string]*jsonschema.Schema
	extract   map[string]any // converted extract, for Undeclared
}

// Compile compiles the schemas at pointers, which are URI fragments such as
// ResponsePointer and WebhookPointer return. All of them share one
// compiler, so a component several of them use is compiled once.
//
// Only the pointed-to schemas and the components they reference are
// compiled, after rewriting OpenAPI 3.0's "nullable: true" into JSON
// Schema: a "type" string becomes a union with "null" (and null joins any
// "enum"), and a schema built from "$ref", "allOf", "anyOf" or "oneOf"
// becomes "anyOf" null or itself. Formats such as date-time and uri are
// asserted.
func (d *Description) Compile(pointers ...string) (*Schemas, error) {
	nodes := map[string]any{}
	queue := append([]string(nil), pointers...)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if _, done := nodes[p]; done {
			continue
		}
		node, err := d.resolve(p)
		if err != nil {
			return nil, err
		}
		if node == nil {
			return nil, fmt.Errorf("openapitest: nothing at %s", p)
		}
		nodes[p] = node
		walkRefs(node, func(ref string) { queue = append(queue, ref) })
	}

	// Place each converted schema at its own location in a fresh document,
	// so the description's "#/components/..." references resolve unchanged.
	extract := map[string]any{}
	locations := sortedKeys(nodes)
	sort.SliceStable(locations, func(i, j int) bool { return len(locations[i]) < len(locations[j]) })
	placed := map[string]bool{}
	for _, p := range locations {
		if err := place(extract, p, convert(nodes[p]), placed); err != nil {
			return nil, err
		}
	}
	raw, err := json.Marshal(extract)
	if err != nil {
		return nil, fmt.Errorf("openapitest: marshal extract: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.Formats["uri-template"] = isURITemplate
	c.LoadURL = func(u string) (io.ReadCloser, error) { return nil, fmt.Errorf("openapitest: refusing to load %s", u) }
	if err := c.AddResource(resourceURL, bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("openapitest: add extract: %w", err)
	}
	out := &Schemas{byPointer: map[string]*jsonschema.Schema{}, extract: extract}
	for _, p := range pointers {
		if out.byPointer[p] != nil {
			continue
		}
		s, err := c.Compile(resourceURL + p)
		if err != nil {
			return nil, fmt.Errorf("openapitest: compile %s: %w", p, err)
		}
		out.byPointer[p] = s
	}
	return out, nil
}

// uriTemplateExpression is an RFC 6570 expression such as "{/sha}" or
// "{?since,all,participating}".
var uriTemplateExpression = regexp.MustCompile(`\{[+#./;?&]?` + varspec + `(?:,` + varspec + `)*\}`)

const varspec = `(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*(?::[1-9][0-9]{0,3}|\*)?`

// isURITemplate reports whether a string is an RFC 6570 URI template.
// jsonschema's own check splits expressions such as "{/sha}" at the slash
// and rejects them, though GitHub uses them throughout.
func isURITemplate(v any) bool {
	s, ok := v.(string)
	if !ok {
		return true
	}
	literal := uriTemplateExpression.ReplaceAllString(s, "x")
	if strings.ContainsAny(literal, "{}") {
		return false
	}
	_, err := url.Parse(literal)
	return err == nil
}

// walkRefs calls fn with every local $ref under node.
func walkRefs(node any, fn func(string)) {
	switch n := node.(type) {
	case map[string]any:
		if ref, ok := n["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
			fn(ref)
		}
		for _, v := range n {
			walkRefs(v, fn)
		}
	case []any:
		for _, v := range n {
			walkRefs(v, fn)
		}
	}
}

// place stores value at pointer inside doc. It refuses to place a schema
// inside one already placed, because convert may have restructured it.
func place(doc map[string]any, pointer string, value any, placed map[string]bool) error {
	toks := splitPointer(pointer)
	cur := doc
	prefix := "#"
	for i, tok := range toks {
		if placed[prefix] {
			return fmt.Errorf("openapitest: %s points inside the schema at %s, which is not supported", pointer, prefix)
		}
		prefix += Pointer(tok)
		if i == len(toks)-1 {
			cur[tok] = value
			placed[pointer] = true
			return nil
		}
		next, ok := cur[tok].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[tok] = next
		}
		cur = next
	}
	return errors.New("openapitest: empty pointer")
}

// schemaMaps are keywords whose value maps names to schemas; schemaLists
// hold arrays of schemas; schemaValues hold one schema.
var (
	schemaMaps   = []string{"properties", "patternProperties"}
	schemaLists  = []string{"allOf", "anyOf", "oneOf"}
	schemaValues = []string{"items", "additionalProperties", "not"}
)

// convert returns a copy of an OpenAPI 3.0 schema with "nullable" rewritten
// into JSON Schema and the OpenAPI-only keywords JSON Schema would
// misread removed.
func convert(node any) any {
	m, ok := node.(map[string]any)
	if !ok {
		return node
	}
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		switch {
		case k == "nullable" || k == "discriminator" || k == "example" || k == "xml":
			// OpenAPI-only; nullable is handled below.
		case contains(schemaMaps, k):
			props, _ := v.(map[string]any)
			conv := make(map[string]any, len(props))
			for name, s := range props {
				conv[name] = convert(s)
			}
			out[k] = conv
		case contains(schemaLists, k):
			list, _ := v.([]any)
			conv := make([]any, len(list))
			for i, s := range list {
				conv[i] = convert(s)
			}
			out[k] = conv
		case contains(schemaValues, k):
			out[k] = convert(v)
		default:
			out[k] = v
		}
	}
	if nullable, _ := m["nullable"].(bool); !nullable {
		return out
	}
	_, hasRef := m["$ref"]
	composed := hasRef
	for _, k := range schemaLists {
		if _, ok := m[k]; ok {
			composed = true
		}
	}
	typ, typed := m["type"].(string)
	switch {
	case composed:
		return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, out}}
	case typed:
		out["type"] = []any{typ, "null"}
		if enum, ok := out["enum"].([]any); ok && !containsNull(enum) {
			out["enum"] = append(append([]any(nil), enum...), nil)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func containsNull(list []any) bool {
	for _, v := range list {
		if v == nil {
			return true
		}
	}
	return false
}

// Validate checks the JSON document raw against the schema at pointer,
// which must have been passed to Compile. The error, when the document is
// invalid, lists every failing location; Explain renders it.
func (s *Schemas) Validate(pointer string, raw []byte) error {
	schema := s.byPointer[pointer]
	if schema == nil {
		return fmt.Errorf("openapitest: %s was not compiled", pointer)
	}
	v, err := decode(raw)
	if err != nil {
		return err
	}
	return schema.Validate(v)
}

func decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("openapitest: body is not JSON: %w", err)
	}
	return v, nil
}

// Explain renders a validation error as one line per failing leaf: the
// location in the document, the failing keyword's location in the
// description (such as "#/components/schemas/pull-request/properties/state/enum")
// and the message.
// Failures of the null alternative added for "nullable" are left out when
// anything else failed, since they only say the value was not null.
func Explain(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var leaves, nulls []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			line := fmt.Sprintf("  at %q (schema %s): %s", e.InstanceLocation, strings.TrimPrefix(e.AbsoluteKeywordLocation, resourceURL), e.Message)
			if strings.HasSuffix(e.AbsoluteKeywordLocation, "/anyOf/0/type") && strings.HasPrefix(e.Message, "expected null") {
				nulls = append(nulls, line)
			} else {
				leaves = append(leaves, line)
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	if len(leaves) == 0 {
		leaves = nulls
	}
	return strings.Join(leaves, "\n")
}
