package repoconfig

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/schemas"
)

// TestLoadChecksTheBuiltInSchema: a repository schema loosened by an
// approved change cannot make a manifest valid that the built-in schema
// refuses; before, a manifest whose digest or size the typed manifest.Manifest could
// not hold loaded as valid with those fields silently empty.
func TestManifestLoadChecksTheBuiltInSchema(t *testing.T) {
	anything, err := schema.Compile("model-deployment.schema.json", []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema"}`))
	if err != nil {
		t.Fatal(err)
	}
	good := goodManifest(t)
	const note = " (promobot's built-in schema; " + schemas.ModelDeploymentPath + " may add constraints but cannot remove them)"
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"size as a string", strings.Replace(good, "size: 65536", "size: big", 1),
			[]string{testPath + ":9:9: artifact.size: expected integer, but got string" + note}},
		{"digest as a list", strings.Replace(good, "sha256: 4916c32d61687c428d5d47e5755a187211d6b75d4a277b3983a304b7ac1d743a", "sha256: [a, b]", 1),
			[]string{testPath + ":8:11: artifact.sha256: expected string, but got array" + note}},
		{"unknown field", good + "owner: someone\n",
			[]string{testPath + ":33:1: unknown field \"owner\"" + note}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, problems := LoadManifest(testPath, []byte(tt.data), anything)
			if doc.Valid {
				t.Error("Valid = true")
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadSizeAsDecimal: JSON Schema's integer type accepts 65536.0; the
// decoder used to drop such a size, so it went unchecked.
func TestManifestLoadSizeAsDecimal(t *testing.T) {
	doc, problems := LoadManifest(testPath, []byte(strings.Replace(goodManifest(t), "size: 65536", "size: 65536.0", 1)), nil)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	if s := doc.Manifest.Artifact.Size; s == nil || *s != 65536 {
		t.Errorf("size = %v, want 65536", s)
	}
}
