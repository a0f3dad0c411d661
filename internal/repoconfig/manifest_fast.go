package repoconfig

import (
	"sync"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/internal/yamldoc/quickyaml"
)

// scratches hold the fast reader's buffers between documents.
var scratches = sync.Pool{New: func() any { return new(quickyaml.Scratch) }}

// loadValid is LoadManifest's fast path for the common case, a valid
// manifest in the plain block style: the shared fast reader builds the
// plain values without yaml.v3's node tree, and both schemas check them.
// It answers only when the document is valid, and then exactly as the full
// path would (the reader is held to yamldoc's values by a fuzz test, and
// the schemas see the same values); ok is false otherwise, and the caller
// takes the full path, which gives every problem its position.
func loadValid(p string, data []byte, sch *schema.Schema) (*manifest.Document, bool) {
	scratch := scratches.Get().(*quickyaml.Scratch)
	root, ok := quickyaml.Decode(data, scratch)
	scratches.Put(scratch)
	if !ok {
		return nil, false
	}
	if !BuiltinManifestSchema.Accepts(root) || (sch != nil && sch != BuiltinManifestSchema && !sch.Accepts(root)) {
		return nil, false
	}
	d := manifest.NewDocument(p, nil)
	d.Manifest = fromValue(root)
	if len(checkPath(d)) > 0 {
		return nil, false
	}
	d.Valid = true
	d.KeepSource(data)
	return d, true
}
