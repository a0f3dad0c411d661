package audit

import (
	"bytes"
	"errors"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/gitrepo/objectstore"
	"github.com/example-org/promobot/internal/manifest"
)

// entries reads the entries of a tree that keep accepts, in tree order; a
// zero hash is an empty tree. sorted is false when the names are not in
// strictly increasing byte order, which git never writes for entries of one
// kind; callers then match entries by name instead of merging.
func (w *diffWorker) entries(h plumbing.Hash, keep func(objectstore.TreeEntry) bool, buf []objectstore.TreeEntry) (out []objectstore.TreeEntry, sorted bool, err error) {
	out = buf[:0]
	if h.IsZero() {
		return out, true, nil
	}
	data, err := w.store.ReadType(h, objectstore.Tree)
	if err != nil {
		return nil, false, err
	}
	sorted = true
	err = objectstore.WalkTree(data, func(e objectstore.TreeEntry) bool {
		if keep(e) {
			if len(out) > 0 && bytes.Compare(out[len(out)-1].Name, e.Name) >= 0 {
				sorted = false
			}
			out = append(out, e)
		}
		return true
	})
	return out, sorted, err
}

func isDir(e objectstore.TreeEntry) bool { return e.Mode == objectstore.ModeDir }

// isManifestFile keeps regular files named *.yaml: symbolic links and
// submodules are not manifests.
func isManifestFile(e objectstore.TreeEntry) bool {
	return (e.Mode == objectstore.ModeRegular || e.Mode == objectstore.ModeExecutable) && bytes.HasSuffix(e.Name, []byte(".yaml"))
}

// pair is an entry name with its hash on each side (zero when absent).
type pair struct {
	name          []byte
	before, after plumbing.Hash
}

// pairs matches the entries of two trees by name and calls fn for each name
// whose hash differs, in name order.
func pairs(before, after []objectstore.TreeEntry, sorted bool, fn func(pair) error) error {
	if !sorted {
		byName := map[string]*pair{}
		var names []string
		for _, e := range before {
			byName[string(e.Name)] = &pair{name: e.Name, before: e.Hash}
			names = append(names, string(e.Name))
		}
		for _, e := range after {
			if p, ok := byName[string(e.Name)]; ok {
				p.after = e.Hash
				continue
			}
			byName[string(e.Name)] = &pair{name: e.Name, after: e.Hash}
			names = append(names, string(e.Name))
		}
		slices.Sort(names)
		names = slices.Compact(names)
		for _, n := range names {
			if p := byName[n]; p.before != p.after {
				if err := fn(*p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		var p pair
		switch {
		case j == len(after) || i < len(before) && bytes.Compare(before[i].Name, after[j].Name) < 0:
			p = pair{name: before[i].Name, before: before[i].Hash}
			i++
		case i == len(before) || bytes.Compare(before[i].Name, after[j].Name) > 0:
			p = pair{name: after[j].Name, after: after[j].Hash}
			j++
		default:
			p = pair{name: before[i].Name, before: before[i].Hash, after: after[j].Hash}
			i, j = i+1, j+1
		}
		if p.before != p.after {
			if err := fn(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// diffEnvironments compares two environments/ trees folder by folder.
func (w *diffWorker) diffEnvironments(before, after plumbing.Hash) ([]ManifestChange, error) {
	oldEnvs, sortedA, err := w.entries(before, isDir, w.bufs[0])
	if err != nil {
		return nil, err
	}
	newEnvs, sortedB, err := w.entries(after, isDir, w.bufs[1])
	if err != nil {
		return nil, err
	}
	w.bufs[0], w.bufs[1] = oldEnvs, newEnvs
	var out []ManifestChange
	err = pairs(oldEnvs, newEnvs, sortedA && sortedB, func(env pair) error {
		oldFiles, sortedA, err := w.entries(env.before, isManifestFile, w.bufs[2])
		if err != nil {
			return err
		}
		newFiles, sortedB, err := w.entries(env.after, isManifestFile, w.bufs[3])
		if err != nil {
			return err
		}
		w.bufs[2], w.bufs[3] = oldFiles, newFiles
		return pairs(oldFiles, newFiles, sortedA && sortedB, func(f pair) error {
			p := manifest.Root + "/" + string(env.name) + "/" + string(f.name)
			if _, _, ok := manifest.EnvironmentAndModel(p); !ok {
				return nil
			}
			c := ManifestChange{Path: p}
			var err error
			if c.Old, err = w.snapshot(f.before); err != nil {
				return err
			}
			if c.New, err = w.snapshot(f.after); err != nil {
				return err
			}
			if c.Old != nil && c.New != nil && c.Old.Version == c.New.Version {
				if c.Fields, err = w.fields(f.before, f.after); err != nil {
					return err
				}
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

// snapshot reads a manifest blob once per run; nil for the zero hash.
func (w *diffWorker) snapshot(h plumbing.Hash) (*ManifestSnapshot, error) {
	b, err := w.read(h)
	return b.snapshot, err
}

// read reads a manifest blob once per run: a commit's "before" is usually
// an older commit's "after", which another worker may have read.
func (w *diffWorker) read(h plumbing.Hash) (readBlob, error) {
	if h.IsZero() {
		return readBlob{}, nil
	}
	w.w.mu.Lock()
	b, ok := w.w.blobs[h]
	w.w.mu.Unlock()
	if ok {
		return b, nil
	}
	b.snapshot = &ManifestSnapshot{Blob: h.String()}
	data, err := w.store.ReadType(h, objectstore.Blob)
	switch {
	case errors.Is(err, objectstore.ErrTooLarge):
		b.snapshot.Problem = "manifest is larger than 64 MiB"
	case err != nil:
		return readBlob{}, err
	default:
		info, sums, quick := summarize(data, &w.yaml[0], w.w.seed, w.keys)
		if quick {
			w.stats.QuickParses++
		} else {
			w.stats.FullParses++
		}
		b.snapshot.Version, b.snapshot.SHA256, b.snapshot.Problem = info.version, info.sha256, info.problem
		b.sums = sums
	}
	w.w.mu.Lock()
	if prev, ok := w.w.blobs[h]; ok {
		b = prev // another worker read it first: share one snapshot
	} else {
		w.w.blobs[h] = b
	}
	w.w.mu.Unlock()
	return b, nil
}

// fields lists the top-level keys that differ between two versions of a
// manifest: from the section hashes kept when both were read by the fast
// path, else by reading both again.
func (w *diffWorker) fields(before, after plumbing.Hash) ([]string, error) {
	a, errA := w.read(before)
	b, errB := w.read(after)
	if errA == nil && errB == nil && a.sums != nil && b.sums != nil {
		return diffSums(a.sums, b.sums), nil
	}
	dataA, errA := w.store.ReadType(before, objectstore.Blob)
	dataB, errB := w.store.ReadType(after, objectstore.Blob)
	if errA != nil || errB != nil {
		return nil, nil // too large: the snapshots carry the problem
	}
	f, err := changedFields(dataA, dataB, &w.yaml)
	if err != nil {
		return nil, nil // unreadable: the snapshots carry the problem
	}
	return f, nil
}
