package schema

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/yamldoc"
	"github.com/example-org/promobot/schemas"
)

// holdToLibrary fails when the walk of Accepts finds v valid against s and
// the library does not, and when Accepts and the library disagree.
func holdToLibrary(t *testing.T, s *Schema, v any) (surely bool) {
	t.Helper()
	valid := s.compiled.Validate(v) == nil
	surely = surelyValid(s.compiled, v, 0)
	if surely && !valid {
		t.Fatalf("the walk accepts a value the library refuses: %#v", v)
	}
	if got := s.Accepts(v); got != valid {
		t.Fatalf("Accepts = %v, the library %v: %#v", got, valid, v)
	}
	return surely
}

// TestAcceptsKeywordByKeyword holds the walk to the library on small
// schemas, one keyword at a time, and checks that it proves the plain
// cases valid (else it would save nothing).
func TestAcceptsKeywordByKeyword(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		values []any
		surely []bool // the walk proves the value valid
	}{
		{"type", `{"type": ["number", "string"]}`, []any{int64(1), 1.5, "a", true, nil}, []bool{true, true, true, false, false}},
		{"integer", `{"type": "integer"}`, []any{int64(-3), 2.0, 2.5, "2"}, []bool{true, false, false, false}},
		{"const", `{"const": "promobot/v1"}`, []any{"promobot/v1", "promobot/v2", int64(1)}, []bool{true, false, false}},
		{"null const", `{"const": null}`, []any{nil, "x"}, []bool{false, false}},
		{"enum", `{"enum": ["a", "b", 1]}`, []any{"a", "c", int64(1)}, []bool{true, false, false}},
		{"lengths count runes", `{"type": "string", "minLength": 2, "maxLength": 3}`, []any{"é", "éé", "ééé", "éééé", "ab"}, []bool{false, true, true, false, true}},
		{"pattern", `{"type": "string", "pattern": "^[0-9a-f]{4}$"}`, []any{"00af", "00AF", "00af0"}, []bool{true, false, false}},
		{"format uri", `{"type": "string", "format": "uri"}`, []any{"https://a.example/x", "a/b", "http://[::1", int64(1)}, []bool{true, false, false, false}},
		{"format date-time", `{"format": "date-time"}`, []any{"2026-11-09T15:05:44Z", "2026-11-09", int64(3)}, []bool{true, false, true}},
		{"format date", `{"format": "date"}`, []any{"2026-02-28", "2026-02-30"}, []bool{true, false}},
		{"unknown format", `{"format": "x-promobot"}`, []any{"a"}, []bool{false}},
		{"minimum", `{"type": "integer", "minimum": 0}`, []any{int64(0), int64(-1)}, []bool{true, false}},
		{"bounds", `{"type": "number", "minimum": 0.1, "exclusiveMaximum": 1}`, []any{0.1, 0.09999999999999999, 1.0, int64(1), 0.5}, []bool{true, false, false, false, true}},
		{"required and closed", `{"type": "object", "additionalProperties": false, "required": ["a"], "properties": {"a": {"type": "string"}, "b": {"type": "number"}}}`,
			[]any{map[string]any{"a": "x"}, map[string]any{"a": "x", "b": int64(2)}, map[string]any{"b": int64(2)}, map[string]any{"a": "x", "c": nil}, map[string]any{"a": int64(1)}},
			[]bool{true, true, false, false, false}},
		{"additional schema and names", `{"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}, "additionalProperties": {"type": "number"}}`,
			[]any{map[string]any{"ab": 1.5}, map[string]any{"a1": 1.5}, map[string]any{"ab": "x"}, map[string]any{}}, []bool{true, false, false, true}},
		{"open object", `{"type": "object", "properties": {"a": {"type": "string"}}}`, []any{map[string]any{"z": []any{int64(1)}}, map[string]any{"a": true}}, []bool{true, false}},
		{"array keywords are left to the library", `{"type": "array", "items": {"type": "string"}}`, []any{[]any{"a"}, []any{int64(1)}}, []bool{false, false}},
		{"combinators are left to the library", `{"anyOf": [{"type": "string"}, {"type": "number"}]}`, []any{"a", true}, []bool{false, false}},
		{"references are left to the library", `{"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s"}`, []any{"a", int64(1)}, []bool{false, false}},
		{"boolean schema", `{"properties": {"a": false}}`, []any{map[string]any{"a": int64(1)}, map[string]any{}}, []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compile(strings.ReplaceAll(tt.name, " ", "-")+".json", []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema", `+strings.TrimPrefix(tt.schema, "{")))
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range tt.values {
				if got := holdToLibrary(t, s, v); got != tt.surely[i] {
					t.Errorf("%#v: walk proves valid = %v, want %v", v, got, tt.surely[i])
				}
			}
		})
	}
}

// sampleManifests decodes the repository's sample manifests.
func sampleManifests(t testing.TB) []map[string]any {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "environments", "*", "*.yaml"))
	paths = append(paths, filepath.Join("..", "repoconfig", "testdata", "good.yaml"))
	var out []map[string]any
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, doc.Value.(map[string]any))
	}
	if len(out) < 7 {
		t.Fatalf("found %d sample manifests", len(out))
	}
	return out
}

// TestAcceptsProvesTheSamplesValid checks that the walk, not the library,
// accepts the sample manifests: it is what makes validate fast.
func TestAcceptsProvesTheSamplesValid(t *testing.T) {
	s := MustCompile("model-deployment.schema.json", schemas.ModelDeployment)
	for i, m := range sampleManifests(t) {
		if !holdToLibrary(t, s, m) {
			t.Errorf("sample %d: the walk does not prove it valid", i)
		}
	}
}

// tricky are values a mutation puts in place of another.
var tricky = []any{
	nil, true, false, int64(0), int64(-1), int64(65536), 0.5, math.Copysign(0, -1), 1e300, 2.0,
	"", " ", "a", "é", "promobot/v1", "ModelDeployment", "prod", "Prod", "-x", "x-", strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("é", 2048), strings.Repeat("é", 2049),
	"passed", "pending", "PASSED", "2026-11-09", "2026-11-09T15:05:44Z", "2026-13-09", "2026-11-09T25:05:44Z",
	"https://a.example/b", "http://[::1]:80/x", "file:///tmp/m.pkl", "relative/path", "https://a example/b", "%zz",
	"4916c32d61687c428d5d47e5755a187211d6b75d4a277b3983a304b7ac1d743a", "4916C32D61687C428D5D47E5755A187211D6B75D4A277B3983A304B7AC1D743A",
	"1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d", "MEUCIQ==", "MEUC IQ==", "a==", "===",
	[]any{}, []any{"a", int64(1)}, map[string]any{}, map[string]any{"start": "2021-10-25", "end": "2026-10-31"}, map[string]any{"status": "passed"},
}

// mutate returns a deep copy of v with one random change: a value
// replaced, a key removed, or a key added, somewhere in the tree.
func mutate(r *rand.Rand, v any, keys []string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return tricky[r.IntN(len(tricky))]
	}
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	switch op := r.IntN(10); {
	case op == 0 && len(names) > 0:
		delete(out, names[r.IntN(len(names))])
	case op == 1:
		out[keys[r.IntN(len(keys))]] = tricky[r.IntN(len(tricky))]
	case len(names) > 0:
		k := names[r.IntN(len(names))]
		out[k] = mutate(r, m[k], keys)
	}
	return out
}

// TestAcceptsHoldsOnMutatedManifests is the property test of the walk:
// on many mutations of the sample manifests (one to three changes each,
// any field, any type, keys known and unknown), whatever the walk proves
// valid the library accepts, against the manifest and the policy schemas.
func TestAcceptsHoldsOnMutatedManifests(t *testing.T) {
	manifestSchema := MustCompile("model-deployment.schema.json", schemas.ModelDeployment)
	policySchema := MustCompile("policy.schema.json", schemas.Policy)
	keys := []string{"apiVersion", "kind", "model", "environment", "version", "artifact", "uri", "sha256", "size", "signature", "lineage",
		"trainingRun", "sourceCommit", "dataWindow", "start", "end", "metrics", "rmse", "1bad", "parameters", "validation", "status", "report", "sbom", "approval", "ticket", "notes", "extra"}
	r := rand.New(rand.NewPCG(17, 2026))
	proved := 0
	runs := 1_500
	if testing.Short() {
		runs = 300
	}
	samples := sampleManifests(t)
	for i := range runs {
		var v any = samples[i%len(samples)]
		for range 1 + r.IntN(3) {
			v = mutate(r, v, keys)
		}
		if holdToLibrary(t, manifestSchema, v) {
			proved++
		}
		holdToLibrary(t, policySchema, v)
	}
	if proved == 0 || proved == runs {
		t.Errorf("the walk proved %d of %d mutations valid: the test exercises nothing", proved, runs)
	}
	t.Logf("the walk proved %d of %d mutations valid", proved, runs)
}

// FuzzAccepts holds the walk to the library on any YAML document, against
// the manifest and the policy schemas.
func FuzzAccepts(f *testing.F) {
	for _, p := range append([]string{filepath.Join("..", "..", ".github", "promobot.yaml"), filepath.Join("..", "repoconfig", "testdata", "good.yaml")},
		must(filepath.Glob(filepath.Join("..", "..", "environments", "*", "*.yaml")))...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(string(data))
		}
	}
	f.Add("metrics: {a: 1, B: 2.5}\nsize: 1\n")
	manifestSchema := MustCompile("model-deployment.schema.json", schemas.ModelDeployment)
	policySchema := MustCompile("policy.schema.json", schemas.Policy)
	f.Fuzz(func(t *testing.T, in string) {
		doc, err := yamldoc.Parse([]byte(in), yamldoc.DefaultLimits)
		if err != nil {
			return
		}
		holdToLibrary(t, manifestSchema, doc.Value)
		holdToLibrary(t, policySchema, doc.Value)
		if m, ok := doc.Value.(map[string]any); ok {
			for _, v := range m {
				holdToLibrary(t, manifestSchema, v)
			}
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v
}
