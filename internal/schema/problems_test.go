package schema

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/yamldoc"
)

// TestProblemsWithBuiltIn: the built-in schema always applies; the
// repository's copy can only add problems; a problem both report is
// reported once, and one only the built-in schema finds says so.
func TestProblemsWithBuiltIn(t *testing.T) {
	const draft = `"$schema": "https://json-schema.org/draft/2020-12/schema", `
	builtIn := MustCompile("b.json", []byte(`{`+draft+`"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}}}`))
	stricter := MustCompile("r.json", []byte(`{`+draft+`"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}, "s": {"type": "string"}}, "required": ["s"]}`))
	looser := MustCompile("l.json", []byte(`{`+draft+`"type": "object"}`))
	doc, err := yamldoc.Parse([]byte("n: 7\nm: x\n"), yamldoc.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	badType, err := yamldoc.Parse([]byte("n: seven\n"), yamldoc.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		doc        *yamldoc.Doc
		repository *Schema
		want       []string
	}{
		{"no repository schema", doc, nil, nil},
		{"the same schema", badType, builtIn, []string{"f.yaml:1:4: n: expected integer, but got string"}},
		{"a stricter repository schema adds problems", doc, stricter, []string{
			`f.yaml:1:1: missing required field "s"`,
			"f.yaml:1:4: n: must be <= 3 but found 7",
		}},
		{"a looser repository schema removes none", badType, looser, []string{
			"f.yaml:1:4: n: expected integer, but got string (promobot's built-in schema; schemas/x.json may add constraints but cannot remove them)",
		}},
		{"a problem both find is reported once", badType, stricter, []string{
			`f.yaml:1:1: missing required field "s"`,
			"f.yaml:1:4: n: expected integer, but got string",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range ProblemsWithBuiltIn("f.yaml", tt.doc, builtIn, tt.repository, "schemas/x.json") {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
