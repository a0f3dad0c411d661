package gitrepo

import (
	"context"
	"errors"
	"maps"
	"runtime"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/internal/yamldoc"
)

// maxManifestBytes is the largest manifest read; larger blobs are reported
// as a problem without being read.
var maxManifestBytes = int64(yamldoc.DefaultLimits.MaxBytes)

// manifestKey identifies a loaded manifest: the same bytes at the same path
// checked against the same schema always load the same way. Schemas are
// content-addressed, so equal schema files share one pointer.
type manifestKey struct {
	path   string
	blob   plumbing.Hash
	schema *schema.Schema
}

// manifestEntry is a cached document; it is shared and read-only.
type manifestEntry = *manifest.Document

// baseSetKey identifies the whole set of base manifests: the environments
// folder's tree hash and the schema.
type baseSetKey struct {
	tree   plumbing.Hash
	schema *schema.Schema
}

// IsManifestPath reports whether p is a file the engine treats as a
// manifest: a .yaml file anywhere under environments/. Files in the wrong
// place are still manifests, so that their problems are reported.
func IsManifestPath(p string) bool {
	return strings.HasPrefix(p, manifest.Root+"/") && strings.HasSuffix(p, ".yaml")
}

// isRegular reports whether a tree entry is a regular file, executable or
// not: the only entries read as manifests.
func isRegular(m filemode.FileMode) bool {
	return m == filemode.Regular || m == filemode.Executable || m == filemode.Deprecated
}

// loadManifest loads the blob at p with sch, through the cache.
func (r *Repo) loadManifest(p string, blob plumbing.Hash, sch *schema.Schema) (*manifest.Document, error) {
	key := manifestKey{path: p, blob: blob, schema: sch}
	if d, ok := r.manifests.get(key); ok {
		return d, nil
	}
	data, err := r.readBlob(blob, maxManifestBytes)
	var d *manifest.Document
	var tooBig *tooLargeError
	switch {
	case errors.As(err, &tooBig):
		// The same message validate gives, so both commands agree.
		d = &manifest.Document{Path: p, Problems: []diag.Problem{{File: p, Message: tooBig.Error()}}}
	case err != nil:
		return nil, err
	default:
		d, _ = repoconfig.LoadManifest(p, data, sch)
	}
	r.manifests.put(key, d)
	return d, nil
}

// baseManifests loads every manifest under environments/ of root. The map
// returned is the caller's; the documents in it are shared.
func (r *Repo) baseManifests(ctx context.Context, root *object.Tree, sch *schema.Schema) (map[string]*manifest.Document, error) {
	e, ok := entry(root, manifest.Root)
	if !ok || e.Mode != filemode.Dir {
		return map[string]*manifest.Document{}, nil
	}
	key := baseSetKey{tree: e.Hash, schema: sch}
	if set, ok := r.baseSets.get(key); ok {
		return maps.Clone(set), nil
	}
	envTree, err := r.subtree(e.Hash, manifest.Root)
	if err != nil {
		return nil, err
	}
	type file struct {
		path string
		blob plumbing.Hash
	}
	var files []file
	err = r.walkFiles(ctx, envTree, manifest.Root, func(p string, e object.TreeEntry) error {
		if isRegular(e.Mode) && IsManifestPath(p) {
			files = append(files, file{p, e.Hash})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	docs, err := r.loadManifests(ctx, len(files), func(i int) (string, plumbing.Hash) { return files[i].path, files[i].blob }, sch)
	if err != nil {
		return nil, err
	}
	set := make(map[string]*manifest.Document, len(files))
	for i, f := range files {
		set[f.path] = docs[i]
	}
	r.baseSets.put(key, set)
	return maps.Clone(set), nil
}

// loadManifests loads n manifests, reading cache misses one at a time (the
// object store is not built for concurrent reads) and decoding them in
// parallel.
func (r *Repo) loadManifests(ctx context.Context, n int, file func(int) (string, plumbing.Hash), sch *schema.Schema) ([]*manifest.Document, error) {
	docs := make([]*manifest.Document, n)
	type miss struct {
		i    int
		data []byte
	}
	var misses []miss
	for i := range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, blob := file(i)
		if d, ok := r.manifests.get(manifestKey{p, blob, sch}); ok {
			docs[i] = d
			continue
		}
		data, err := r.readBlob(blob, maxManifestBytes)
		var tooBig *tooLargeError
		switch {
		case errors.As(err, &tooBig):
			docs[i] = &manifest.Document{Path: p, Problems: []diag.Problem{{File: p, Message: tooBig.Error()}}}
			r.manifests.put(manifestKey{p, blob, sch}, docs[i])
		case err != nil:
			return nil, err
		default:
			misses = append(misses, miss{i, data})
		}
	}
	var wg sync.WaitGroup
	next := make(chan miss)
	for range min(runtime.GOMAXPROCS(0), max(len(misses), 1)) {
		wg.Go(func() {
			for m := range next {
				p, blob := file(m.i)
				d, _ := repoconfig.LoadManifest(p, m.data, sch)
				docs[m.i] = d
				r.manifests.put(manifestKey{p, blob, sch}, d)
			}
		})
	}
	for _, m := range misses {
		next <- m
	}
	close(next)
	wg.Wait()
	return docs, nil
}
