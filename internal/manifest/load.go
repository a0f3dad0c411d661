package manifest

import (
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/internal/yamldoc"
	"github.com/example-org/promobot/schemas"
)

// DefaultSchema is the manifest schema embedded in the binary. Every
// manifest is checked against it, and against the repository's copy when
// the repository carries one.
var DefaultSchema = schema.MustCompile("model-deployment.schema.json", schemas.ModelDeployment)

// Document is a loaded manifest file: the decoded manifest, where it came
// from, and the node tree that gives positions for messages.
type Document struct {
	// Path is the repository-relative, slash-separated path of the file.
	Path string
	// Manifest is the decoded manifest. It is filled as far as possible even
	// when the file has problems, and is nil only when the file is not YAML
	// or not a mapping.
	Manifest *Manifest
	// Valid is true when the file passed YAML, schema and path checks.
	Valid bool
	// Problems are what Load found wrong with the file.
	Problems []diag.Problem

	// A valid document keeps its source instead of its node tree, which is
	// many times larger; the tree is rebuilt the first time a position is
	// asked for (rarely: positions serve messages about problems).
	data []byte
	once sync.Once
	doc  *yamldoc.Doc
}

// Position returns the 1-based position of a field given as YAML keys, such
// as Position("artifact", "sha256"), falling back to the nearest ancestor.
func (d *Document) Position(field ...string) (line, col int) {
	if d == nil {
		return 0, 0
	}
	d.once.Do(func() {
		if d.doc == nil && d.data != nil {
			d.doc, _ = yamldoc.Parse(d.data, yamldoc.DefaultLimits)
		}
	})
	if d.doc == nil {
		return 0, 0
	}
	return d.doc.Position(field, false)
}

// Problem returns an error problem about a field of this document.
func (d *Document) Problem(message string, field ...string) diag.Problem {
	line, col := d.Position(field...)
	return diag.Problem{File: d.Path, Line: line, Column: col, Field: strings.Join(field, "."), Message: message}
}

// EnvironmentAndModel splits a manifest path environments/<env>/<model>.yaml
// into its environment and model names. ok is false for any other path.
func EnvironmentAndModel(p string) (env, model string, ok bool) {
	parts := strings.Split(p, "/")
	if len(parts) != 3 || parts[0] != Root || !strings.HasSuffix(parts[2], ".yaml") {
		return "", "", false
	}
	model = strings.TrimSuffix(parts[2], ".yaml")
	if parts[1] == "" || model == "" {
		return "", "", false
	}
	return parts[1], model, true
}

// Path returns the repository path of the manifest of model in env.
func Path(env, model string) string { return path.Join(Root, env, model+".yaml") }

// Load decodes and checks one manifest file: YAML safety and limits, the
// schemas, and that model and environment equal the file and folder names.
// p is the repository-relative path used in messages and for the path check.
//
// The document is validated against DefaultSchema, built into the binary,
// and against sch, the repository's schemas/model-deployment.schema.json
// when it has one (nil otherwise). The repository's schema may only add
// constraints: a document the built-in schema refuses is never valid, since
// the typed Manifest cannot represent it faithfully.
func Load(p string, data []byte, sch *schema.Schema) (*Document, []diag.Problem) {
	d := &Document{Path: p}
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		d.Problems = []diag.Problem{err.(*yamldoc.Error).Problem(p)}
		return d, d.Problems
	}
	d.doc = doc
	root, ok := doc.Value.(map[string]any)
	if !ok {
		d.Problems = []diag.Problem{d.Problem("manifest must be a YAML mapping")}
		return d, d.Problems
	}
	d.Manifest = fromValue(root)
	problems := append(schema.ProblemsWithBuiltIn(p, doc, DefaultSchema, sch, schemas.ModelDeploymentPath), d.checkPath()...)
	diag.Sort(problems)
	d.Valid = len(problems) == 0
	d.Problems = problems
	if d.Valid {
		d.doc, d.data = nil, data
	}
	return d, problems
}

// checkPath reports a model or environment that disagrees with the path.
func (d *Document) checkPath() []diag.Problem {
	env, model, ok := EnvironmentAndModel(d.Path)
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
