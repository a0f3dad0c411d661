package promote

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// commit writes the plan's files on top of the base as one commit in the
// in-memory overlay and returns it. Nothing reaches the disk.
func (s *session) commit(plan *Plan, now time.Time) (*object.Commit, error) {
	st := s.overlay.Storer
	baseTree, err := s.base.Tree()
	if err != nil {
		return nil, err
	}
	tree, err := writeTree(st, baseTree, plan.Files())
	if err != nil {
		return nil, fmt.Errorf("write tree: %w", err)
	}
	sig := object.Signature{Name: s.cfg.Author.Name, Email: s.cfg.Author.Email, When: now}
	c := &object.Commit{Author: sig, Committer: sig, Message: plan.CommitMessage, TreeHash: tree, ParentHashes: []plumbing.Hash{s.base.Hash}}
	obj := st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return nil, fmt.Errorf("encode commit: %w", err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		return nil, fmt.Errorf("store commit: %w", err)
	}
	return s.overlay.CommitObject(h)
}

// writeTree stores t with files (slash paths) written over it and returns
// the new root tree's hash.
func writeTree(st storer.EncodedObjectStorer, t *object.Tree, files map[string][]byte) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if t != nil {
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	sub := map[string]map[string][]byte{}
	for p, content := range files {
		head, rest, nested := strings.Cut(p, "/")
		if nested {
			if sub[head] == nil {
				sub[head] = map[string][]byte{}
			}
			sub[head][rest] = content
			continue
		}
		h, err := writeBlob(st, content)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		mode := filemode.Regular
		if old, ok := entries[head]; ok && old.Mode == filemode.Executable {
			mode = old.Mode
		}
		entries[head] = object.TreeEntry{Name: head, Mode: mode, Hash: h}
	}
	for dir, inner := range sub {
		var child *object.Tree
		if old, ok := entries[dir]; ok {
			if old.Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%s is a file, not a folder", dir)
			}
			var err error
			if child, err = object.GetTree(st, old.Hash); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		h, err := writeTree(st, child, inner)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries[dir] = object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: h}
	}
	list := make([]object.TreeEntry, 0, len(entries))
	for _, e := range entries {
		list = append(list, e)
	}
	// Git orders entries by name, comparing a folder as if it ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(list, func(i, j int) bool { return key(list[i]) < key(list[j]) })
	obj := st.NewEncodedObject()
	if err := (&object.Tree{Entries: list}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

func writeBlob(st storer.EncodedObjectStorer, content []byte) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(content)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// diff renders the change as a unified diff.
func (s *session) diff(c *object.Commit) (string, error) {
	base, err := s.overlay.CommitObject(s.base.Hash)
	if err != nil {
		return "", err
	}
	patch, err := base.Patch(c)
	if err != nil {
		return "", fmt.Errorf("diff: %w", err)
	}
	return patch.String(), nil
}
