package manifest

import (
	"path"
	"strings"
	"sync"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/yamldoc"
)

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

// NewDocument returns the document at p whose node tree is tree, which gives
// the positions of Problem until KeepSource replaces it. The loader fills
// Manifest, Valid and Problems.
func NewDocument(p string, tree *yamldoc.Doc) *Document {
	return &Document{Path: p, doc: tree}
}

// KeepSource drops the node tree of a document and keeps data, the source
// it was parsed from, which is many times smaller: the tree is rebuilt the
// first time a position is asked for.
func (d *Document) KeepSource(data []byte) {
	d.doc, d.data = nil, data
}
