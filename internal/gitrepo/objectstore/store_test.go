package objectstore

import (
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/testing/audittest"
)

// generated returns a small generated repository, packed or not.
func generated(t *testing.T, repack, graph bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo.git")
	err := audittest.GenerateLarge(dir, audittest.Large{Commits: 300, Touching: 80, Models: 4, SourceFiles: 30, Repack: repack, CommitGraph: graph, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReadMatchesGoGit reads every object of the repository with both
// readers and compares the bytes.
func TestReadMatchesGoGit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		repack bool
		loose  bool
	}{
		{name: "fast-import pack"},
		{name: "repacked with deltas", repack: true},
		{name: "loose objects", loose: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := generated(t, tc.repack, false)
			if tc.loose {
				unpack(t, dir)
			}
			repo, err := git.PlainOpen(dir)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir, Options{CacheBytes: 1 << 16})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			iter, err := repo.Storer.IterEncodedObjects(plumbing.AnyObject)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			err = iter.ForEach(func(o plumbing.EncodedObject) error {
				r, err := o.Reader()
				if err != nil {
					return err
				}
				want, err := io.ReadAll(r)
				r.Close()
				if err != nil {
					return err
				}
				typ, got, err := s.Read(o.Hash())
				if err != nil {
					return err
				}
				if typ.String() != o.Type().String() {
					t.Errorf("%s: type %s, want %s", o.Hash(), typ, o.Type())
				}
				if string(got) != string(want) {
					t.Errorf("%s: content differs", o.Hash())
				}
				n++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n < 500 {
				t.Fatalf("compared only %d objects", n)
			}
			if _, _, err := s.Read(plumbing.NewHash("0123456789012345678901234567890123456789")); !errors.Is(err, ErrNotFound) {
				t.Errorf("missing object: err = %v, want ErrNotFound", err)
			}
		})
	}
}

// unpack explodes the repository's packs into loose objects.
func unpack(t *testing.T, dir string) {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	for _, p := range packs {
		moved := p + ".moved"
		if err := exec.Command("mv", p, moved).Run(); err != nil {
			t.Fatal(err)
		}
		idx := p[:len(p)-len(".pack")] + ".idx"
		if err := exec.Command("rm", idx).Run(); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-c", "git unpack-objects -q < "+moved)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("unpack: %v: %s", err, out)
		}
		if err := exec.Command("rm", moved).Run(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGraphMatchesCommits checks tree, first parent and time recorded in
// the commit-graph against the commit objects.
func TestGraphMatchesCommits(t *testing.T) {
	dir := generated(t, true, true)
	g, err := OpenGraph(dir)
	if err != nil || g == nil {
		t.Fatalf("OpenGraph: %v, %v", g, err)
	}
	defer g.Close()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference("refs/heads/main", true)
	if err != nil {
		t.Fatal(err)
	}
	walked := 0
	for h := ref.Hash(); ; walked++ {
		c, err := object.GetCommit(repo.Storer, h)
		if err != nil {
			t.Fatal(err)
		}
		pos, ok := g.Lookup(h)
		if !ok {
			t.Fatalf("%s is not in the graph", h)
		}
		gc, err := g.Commit(pos)
		if err != nil {
			t.Fatal(err)
		}
		back, _ := g.Hash(pos)
		got := []string{back.String(), gc.Tree.String(), parentHash(g, gc.FirstParent), c.Committer.When.UTC().String()}
		want := []string{h.String(), c.TreeHash.String(), firstParent(c), timeOf(gc.Time)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("commit %s (-commit +graph):\n%s", h, diff)
		}
		if len(c.ParentHashes) == 0 {
			break
		}
		h = c.ParentHashes[0]
	}
	if walked != 299 {
		t.Errorf("walked %d commits, want 299", walked)
	}
	none, err := OpenGraph(generated(t, false, false))
	if err != nil || none != nil {
		t.Errorf("OpenGraph without a graph = %v, %v; want nil, nil", none, err)
	}
}

func parentHash(g *Graph, pos uint32) string {
	if pos == NoParent {
		return ""
	}
	h, _ := g.Hash(pos)
	return h.String()
}

func firstParent(c *object.Commit) string {
	if len(c.ParentHashes) == 0 {
		return ""
	}
	return c.ParentHashes[0].String()
}
