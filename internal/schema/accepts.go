package schema

import (
	"fmt"
	"math/big"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Accepts reports whether a plain value (as produced by yamldoc) satisfies
// the schema, without building the violations Validate explains.
//
// Most documents are valid, and the library's validation allocates for
// every value it visits; so a value is first walked against the compiled
// schema for the keywords promobot's schemas use (type, const and enum
// of strings, required, properties, additionalProperties, propertyNames,
// string lengths, pattern, format, numeric bounds), with the compiled
// schema's own patterns and the library's own format checks. Only when
// that walk proves the value valid is the library skipped: any other
// keyword, or any doubt, or any violation, takes the library's path. A
// property test and a fuzz test hold the walk to the library.
func (s *Schema) Accepts(v any) bool {
	if surelyValid(s.compiled, v, 0) {
		return true
	}
	return s.compiled.Validate(v) == nil
}

// surelyValid reports whether v is valid against sch as far as it can
// prove with the keywords it knows; false means invalid or unknown.
func surelyValid(sch *jsonschema.Schema, v any, depth int) bool {
	if sch == nil || depth > 32 || !knownKeywords(sch) {
		return false
	}
	if len(sch.Types) > 0 && !typeMatches(sch.Types, v) {
		return false
	}
	if len(sch.Constant) > 0 && !equalStrings(sch.Constant[0], v) {
		return false
	}
	if len(sch.Enum) > 0 {
		found := false
		for _, e := range sch.Enum {
			if equalStrings(e, v) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if sch.Format != "" {
		check, ok := jsonschema.Formats[sch.Format]
		if !ok || !check(v) {
			return false
		}
	}
	switch v := v.(type) {
	case map[string]any:
		return surelyValidObject(sch, v, depth)
	case []any:
		return true // no array keyword is set: knownKeywords checked
	case string:
		if sch.MinLength != -1 || sch.MaxLength != -1 {
			n := utf8.RuneCountInString(v)
			if sch.MinLength != -1 && n < sch.MinLength || sch.MaxLength != -1 && n > sch.MaxLength {
				return false
			}
		}
		return sch.Pattern == nil || sch.Pattern.MatchString(v)
	case int64, float64:
		return withinBounds(sch, v)
	case bool, nil:
		return true
	}
	return false
}

// knownKeywords reports whether sch uses only the keywords surelyValid
// checks. MinLength, MaxLength, MinProperties and MaxProperties are -1
// when absent, MinContains 1 and MaxContains -1.
func knownKeywords(sch *jsonschema.Schema) bool {
	return sch.Always == nil && sch.Ref == nil && sch.RecursiveRef == nil && sch.DynamicRef == nil &&
		sch.Not == nil && len(sch.AllOf) == 0 && len(sch.AnyOf) == 0 && len(sch.OneOf) == 0 && sch.If == nil &&
		sch.MinProperties == -1 && sch.MaxProperties == -1 && !sch.RegexProperties && len(sch.PatternProperties) == 0 &&
		len(sch.Dependencies) == 0 && len(sch.DependentRequired) == 0 && len(sch.DependentSchemas) == 0 && sch.UnevaluatedProperties == nil &&
		sch.MinItems == -1 && sch.MaxItems == -1 && !sch.UniqueItems && sch.Items == nil && sch.AdditionalItems == nil &&
		len(sch.PrefixItems) == 0 && sch.Items2020 == nil && sch.Contains == nil && sch.UnevaluatedItems == nil &&
		sch.ContentEncoding == "" && sch.ContentMediaType == "" && sch.ContentSchema == nil &&
		sch.MultipleOf == nil && len(sch.Extensions) == 0
}

// surelyValidObject checks the object keywords: required, properties,
// additionalProperties and propertyNames.
func surelyValidObject(sch *jsonschema.Schema, v map[string]any, depth int) bool {
	for _, name := range sch.Required {
		if _, ok := v[name]; !ok {
			return false
		}
	}
	for name, value := range v {
		if sch.PropertyNames != nil && !surelyValid(sch.PropertyNames, name, depth+1) {
			return false
		}
		if p, ok := sch.Properties[name]; ok {
			if !surelyValid(p, value, depth+1) {
				return false
			}
			continue
		}
		switch extra := sch.AdditionalProperties.(type) {
		case nil:
		case bool:
			if !extra {
				return false
			}
		case *jsonschema.Schema:
			if !surelyValid(extra, value, depth+1) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// typeMatches reports whether v is of one of the JSON types. A float
// under "integer" is left to the library.
func typeMatches(types []string, v any) bool {
	var t string
	switch v.(type) {
	case nil:
		t = "null"
	case bool:
		t = "boolean"
	case int64, float64:
		t = "number"
	case string:
		t = "string"
	case []any:
		t = "array"
	case map[string]any:
		t = "object"
	default:
		return false
	}
	for _, want := range types {
		_, isInt := v.(int64)
		if want == t || want == "integer" && isInt {
			return true
		}
	}
	return false
}

// equalStrings reports whether a and b are the same string; anything but
// two strings is left to the library.
func equalStrings(a, b any) bool {
	x, ok := a.(string)
	y, ok2 := b.(string)
	return ok && ok2 && x == y
}

// withinBounds checks a number against minimum, maximum and their
// exclusive forms, reading it as the library does.
func withinBounds(sch *jsonschema.Schema, v any) bool {
	if sch.Minimum == nil && sch.Maximum == nil && sch.ExclusiveMinimum == nil && sch.ExclusiveMaximum == nil {
		return true
	}
	n, ok := new(big.Rat).SetString(fmt.Sprint(v))
	if !ok {
		return false
	}
	return (sch.Minimum == nil || n.Cmp(sch.Minimum) >= 0) && (sch.Maximum == nil || n.Cmp(sch.Maximum) <= 0) &&
		(sch.ExclusiveMinimum == nil || n.Cmp(sch.ExclusiveMinimum) > 0) && (sch.ExclusiveMaximum == nil || n.Cmp(sch.ExclusiveMaximum) < 0)
}
