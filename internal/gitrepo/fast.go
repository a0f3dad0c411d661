package gitrepo

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/gitrepo/objectstore"
)

// FastObjects is a repository opened with the fast object reader (package
// objectstore), for walks that visit tens of thousands of commits and
// trees. It is not safe for concurrent use; Store.Fork gives each worker
// its own reader.
type FastObjects struct {
	// Store reads objects from the packs and loose objects.
	Store *objectstore.Store
	// Graph is the commit-graph; nil when the repository has none, when it
	// was ignored, or in a shallow clone, where, like git, promobot trusts
	// no commit-graph: its parents are not the ones the shallow boundary
	// implies.
	Graph *objectstore.Graph
	// Shallow holds the commits at the boundary of a shallow clone, whose
	// parents are missing.
	Shallow map[plumbing.Hash]bool
}

// FastOptions tunes OpenFast.
type FastOptions struct {
	// IgnoreCommitGraph leaves Graph nil, so that walks read commit
	// objects even when the repository has a commit-graph.
	IgnoreCommitGraph bool
}

// OpenFast opens the objects of the repository at loc with the fast
// reader. Close releases its mapped files.
func (loc Location) OpenFast(opts FastOptions) (*FastObjects, error) {
	dir := loc.CommonDir
	store, err := objectstore.Open(dir, objectstore.Options{})
	if err != nil {
		return nil, err
	}
	f := &FastObjects{Store: store, Shallow: map[plumbing.Hash]bool{}}
	if data, err := os.ReadFile(filepath.Join(dir, "shallow")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			f.Shallow[plumbing.NewHash(strings.TrimSpace(sc.Text()))] = true
		}
	}
	if !opts.IgnoreCommitGraph && len(f.Shallow) == 0 {
		if f.Graph, err = objectstore.OpenGraph(dir); err != nil {
			_ = store.Close()
			return nil, err
		}
	}
	return f, nil
}

// Close releases the mapped files.
func (f *FastObjects) Close() error {
	return errors.Join(f.Store.Close(), f.Graph.Close())
}
