package promote

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/manifest"
)

// histories returns the pins of each path along the base branch with the
// exact bytes of each pinned manifest.
func (s *session) histories(ctx context.Context, paths []string) (map[string][]PinRecord, error) {
	all, err := s.reader.Histories(ctx, paths, s.base.Hash)
	if err != nil {
		return nil, fmt.Errorf("read the history of %s: %w", strings.Join(paths, ", "), err)
	}
	out := make(map[string][]PinRecord, len(paths))
	for _, p := range paths {
		for _, pin := range all[p] {
			content, err := s.fileAt(plumbing.NewHash(pin.Commit), p)
			if err != nil {
				return nil, err
			}
			out[p] = append(out[p], PinRecord{Version: pin.Version, Commit: pin.Commit, Since: pin.Since, Content: content})
		}
	}
	return out, nil
}

// timeline returns the states of paths along the first-parent history of
// the base, oldest first: one Snapshot per commit that changed the bytes of
// any of them (the first commit of the history included).
func (s *session) timeline(ctx context.Context, paths []string) ([]Snapshot, error) {
	type step struct {
		commit *object.Commit
		blobs  []plumbing.Hash
	}
	var steps []step
	var prevRoot plumbing.Hash
	_, err := gitrepo.FirstParents(ctx, s.base.Hash, gitrepo.FirstParentWalk[*object.Commit]{
		Read: func(h plumbing.Hash) (*object.Commit, error) {
			if h == s.base.Hash {
				return s.base, nil
			}
			c, err := s.disk.CommitObject(h)
			if err != nil {
				return nil, fmt.Errorf("read the history of %s: %w", s.baseBranch, err)
			}
			return c, nil
		},
		Parent: gitrepo.FirstParent,
		Visit: func(c, _ *object.Commit, _ bool) error {
			tree, err := c.Tree()
			if err != nil {
				return fmt.Errorf("read the tree of %s: %w", short(c.Hash.String()), err)
			}
			// Most commits leave environments/ alone: same folder, same blobs.
			root, _ := tree.FindEntry(manifest.Root)
			var blobs []plumbing.Hash
			if len(steps) > 0 && root != nil && root.Hash == prevRoot {
				blobs = steps[len(steps)-1].blobs
			} else {
				blobs = make([]plumbing.Hash, len(paths))
				for i, p := range paths {
					if e, err := tree.FindEntry(p); err == nil && e.Mode.IsFile() {
						blobs[i] = e.Hash
					}
				}
			}
			prevRoot = plumbing.ZeroHash
			if root != nil {
				prevRoot = root.Hash
			}
			steps = append(steps, step{commit: c, blobs: blobs})
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	contents := map[plumbing.Hash][]byte{}
	var out []Snapshot
	var prev []plumbing.Hash
	for i := len(steps) - 1; i >= 0; i-- {
		st := steps[i]
		if prev != nil && slices.Equal(prev, st.blobs) {
			continue
		}
		prev = st.blobs
		snap := Snapshot{Commit: st.commit.Hash.String(), Since: st.commit.Committer.When.UTC(), Files: map[string][]byte{}}
		for j, h := range st.blobs {
			if h.IsZero() {
				continue
			}
			if _, ok := contents[h]; !ok {
				data, err := s.blob(h)
				if err != nil {
					return nil, fmt.Errorf("read %s at %s: %w", paths[j], short(snap.Commit), err)
				}
				contents[h] = data
			}
			snap.Files[paths[j]] = contents[h]
		}
		out = append(out, snap)
	}
	return out, nil
}

// blob reads a blob of the local repository.
func (s *session) blob(h plumbing.Hash) ([]byte, error) {
	b, err := s.disk.BlobObject(h)
	if err != nil {
		return nil, err
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, maxManifestBytes+1))
}

// fileAt reads a file of a commit.
func (s *session) fileAt(commit plumbing.Hash, p string) ([]byte, error) {
	c, err := s.disk.CommitObject(commit)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", commit, err)
	}
	f, err := c.File(p)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", p, short(commit.String()), err)
	}
	content, err := f.Contents()
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", p, short(commit.String()), err)
	}
	return []byte(content), nil
}
