package repoconfig

import (
	"fmt"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/internal/yamldoc"
	"github.com/example-org/promobot/schemas"
)

// BuiltinManifestSchema is the manifest schema embedded in the binary.
// Every manifest is checked against it, and against the repository's copy
// when the repository carries one.
var BuiltinManifestSchema = schema.MustCompile("model-deployment.schema.json", schemas.ModelDeployment)

// LoadManifest decodes and checks one manifest file: YAML safety and
// limits, the schemas, and that model and environment equal the file and
// folder names. p is the repository-relative path used in messages and for
// the path check.
//
// The document is validated against BuiltinManifestSchema and against sch,
// the repository's schemas/model-deployment.schema.json when it has one
// (nil otherwise). The repository's schema may only add constraints: a
// document the built-in schema refuses is never valid, since the typed
// Manifest cannot represent it faithfully.
//
// A valid manifest in the plain block style takes a fast path that builds
// no YAML node tree; any other file is decoded by yamldoc, which gives its
// problems their positions.
func LoadManifest(p string, data []byte, sch *schema.Schema) (*manifest.Document, []diag.Problem) {
	if d, ok := loadValid(p, data, sch); ok {
		return d, nil
	}
	tree, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		d := manifest.NewDocument(p, nil)
		d.Problems = []diag.Problem{err.(*yamldoc.Error).Problem(p)}
		return d, d.Problems
	}
	d := manifest.NewDocument(p, tree)
	root, ok := tree.Value.(map[string]any)
	if !ok {
		d.Problems = []diag.Problem{d.Problem("manifest must be a YAML mapping")}
		return d, d.Problems
	}
	d.Manifest = fromValue(root)
	problems := append(schema.ProblemsWithBuiltIn(p, tree, BuiltinManifestSchema, sch, schemas.ModelDeploymentPath), checkPath(d)...)
	diag.Sort(problems)
	d.Valid = len(problems) == 0
	d.Problems = problems
	if d.Valid {
		d.KeepSource(data)
	}
	return d, problems
}

// checkPath reports a model or environment that disagrees with the path.
func checkPath(d *manifest.Document) []diag.Problem {
	env, model, ok := manifest.EnvironmentAndModel(d.Path)
	if !ok {
		return []diag.Problem{{File: d.Path, Message: "a manifest must live at environments/<environment>/<model>.yaml"}}
	}
	var out []diag.Problem
	m := d.Manifest
	if m.Model != "" && m.Model != model {
		out = append(out, d.Problem(fmt.Sprintf("model %q does not match the file name %q", m.Model, model+".yaml"), "model"))
	}
	if m.Environment != "" && m.Environment != env {
		out = append(out, d.Problem(fmt.Sprintf("environment %q does not match the folder %q", m.Environment, env), "environment"))
	}
	return out
}
