package objectstore

import (
	"os"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// BenchmarkReadTrees reads every root tree of a large repository; set
// OBJECTSTORE_BENCH_REPO to a bare repository with a commit-graph.
func BenchmarkReadTrees(b *testing.B) {
	dir := os.Getenv("OBJECTSTORE_BENCH_REPO")
	if dir == "" {
		b.Skip("OBJECTSTORE_BENCH_REPO is not set")
	}
	g, err := OpenGraph(dir)
	if err != nil || g == nil {
		b.Fatal("no commit-graph", err)
	}
	var trees []plumbing.Hash
	for pos := uint32(0); pos < g.total; pos++ {
		c, _ := g.Commit(pos)
		trees = append(trees, c.Tree)
	}
	for b.Loop() {
		s, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range trees {
			if _, err := s.ReadType(t, Tree); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
	}
}
