package openapitest

import (
	"fmt"
	"sort"
	"strconv"
)

// Undeclared lists the members of the JSON document raw that the schema at
// pointer does not declare, as JSON pointers such as "/head/repo/flavour".
// JSON Schema lets objects carry members their "properties" do not name,
// and GitHub's schemas rarely forbid them, so Validate accepts invented
// fields; Undeclared catches them.
//
// A member counts as declared when any alternative of the schema
// ("allOf", "anyOf", "oneOf", through "$ref") names it. Objects whose
// schema names no properties, or allows others through
// "additionalProperties" or "patternProperties", are not checked.
func (s *Schemas) Undeclared(pointer string, raw []byte) ([]string, error) {
	v, err := decode(raw)
	if err != nil {
		return nil, err
	}
	root, err := s.lookup(pointer)
	if err != nil {
		return nil, err
	}
	var out []string
	s.undeclared([]any{root}, v, "", &out)
	sort.Strings(out)
	return out, nil
}

func (s *Schemas) lookup(pointer string) (any, error) {
	var node any = s.extract
	for _, tok := range splitPointer(pointer) {
		m, _ := node.(map[string]any)
		node = m[tok]
	}
	if node == nil {
		return nil, fmt.Errorf("openapitest: %s was not compiled", pointer)
	}
	return node, nil
}

// leaves expands $ref and the composition keywords of schemas into the
// plain schemas whose keywords apply directly.
func (s *Schemas) leaves(schemas []any) []map[string]any {
	var out []map[string]any
	seen := map[string]bool{}
	var add func(any)
	add = func(node any) {
		m, ok := node.(map[string]any)
		if !ok {
			return
		}
		if ref, ok := m["$ref"].(string); ok {
			if seen[ref] {
				return
			}
			seen[ref] = true
			target, err := s.lookup(ref)
			if err == nil {
				add(target)
			}
		}
		for _, k := range schemaLists {
			list, _ := m[k].([]any)
			for _, sub := range list {
				add(sub)
			}
		}
		out = append(out, m)
	}
	for _, sc := range schemas {
		add(sc)
	}
	return out
}

func (s *Schemas) undeclared(schemas []any, value any, at string, out *[]string) {
	leaves := s.leaves(schemas)
	switch v := value.(type) {
	case map[string]any:
		declared := map[string][]any{}
		var extra []any
		open, objectSchema := false, false
		for _, l := range leaves {
			props, hasProps := l["properties"].(map[string]any)
			for name, sc := range props {
				declared[name] = append(declared[name], sc)
			}
			if hasProps {
				objectSchema = true
			}
			if ap, ok := l["additionalProperties"]; ok {
				objectSchema = true
				if b, isBool := ap.(bool); !isBool || b {
					open = true
					extra = append(extra, ap)
				}
			}
			if _, ok := l["patternProperties"]; ok {
				open = true
			}
			if !hasProps && isObjectType(l["type"]) {
				open = true
			}
		}
		if !objectSchema {
			return
		}
		for _, name := range sortedKeys(v) {
			child := at + Pointer(name)
			subs, ok := declared[name]
			if !ok {
				if !open {
					*out = append(*out, child)
				}
				subs = extra
			}
			if len(subs) > 0 {
				s.undeclared(subs, v[name], child, out)
			}
		}
	case []any:
		var items []any
		for _, l := range leaves {
			if it, ok := l["items"]; ok {
				items = append(items, it)
			}
		}
		if len(items) == 0 {
			return
		}
		for i, elem := range v {
			s.undeclared(items, elem, at+"/"+strconv.Itoa(i), out)
		}
	}
}

func isObjectType(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "object"
	case []any:
		for _, x := range t {
			if x == "object" {
				return true
			}
		}
	}
	return false
}
