package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/testing/gittest"
)

func TestResolve(t *testing.T) {
	f := newFixture(t)
	c1 := f.commit("main", 1, map[string]string{"a": "1"})
	c2 := f.commit("main", 2, map[string]string{"a": "2"})
	c3 := f.commit("main", 3, map[string]string{"a": "3"})
	side := f.commitWith(gittest.Commit{Branch: "side", Parents: []string{c1.String()}, Message: "side", Author: gittest.Signature{When: at(4)}})
	merge := f.commitWith(gittest.Commit{Branch: "merged", Parents: []string{c3.String(), side.String()}, Message: "merge", Author: gittest.Signature{When: at(5)}})

	repo, err := git.PlainOpen(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateTag("v1", c1, nil); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "T", Email: "t@example.com", When: at(6)}
	if _, err := repo.CreateTag("v2-annotated", c2, &git.CreateTagOptions{Tagger: sig, Message: "v2"}); err != nil {
		t.Fatal(err)
	}
	blob, err := gittest.WriteBlob(repo, []byte("not a commit"))
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference("refs/tags/blob-tag", blob)); err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewRemoteReferenceName("origin", "main"), c2)); err != nil {
		t.Fatal(err)
	}

	r := f.open()
	tests := []struct {
		rev  string
		want plumbing.Hash
	}{
		{"main", c3},
		{"refs/heads/main", c3},
		{"HEAD", c3},
		{"HEAD~1", c2},
		{"main~2", c1},
		{"merged^2", side},
		{"merged", merge},
		{"v1", c1},
		{"v2-annotated", c2},
		{"origin/main", c2},
		{c2.String(), c2},
		{c2.String()[:8], c2},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			got, err := r.Resolve(tt.rev)
			if err != nil || got != tt.want {
				t.Errorf("Resolve(%q) = %s, %v; want %s", tt.rev, got, err, tt.want)
			}
		})
	}
	for _, rev := range []string{"", "nope", "main~10", "blob-tag", strings.Repeat("f", 40)} {
		t.Run("bad "+rev, func(t *testing.T) {
			_, err := r.Resolve(rev)
			if err == nil || !failure.IsTerminal(err) {
				t.Errorf("Resolve(%q) error = %v, want a terminal error", rev, err)
			}
		})
	}
}

func TestOpenFindsTheRepositoryAbove(t *testing.T) {
	dir := t.TempDir()
	if _, err := git.PlainInit(dir, false); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "environments", "dev")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(sub); err != nil {
		t.Errorf("Open(subfolder): %v", err)
	}
	_, err := Open(t.TempDir())
	if err == nil || !failure.IsTerminal(err) {
		t.Errorf("Open(empty folder) error = %v, want terminal", err)
	}
}

func TestTreeFS(t *testing.T) {
	f := newFixture(t)
	c := f.commit("main", 1, map[string]string{
		".github/promobot.yaml":    "policy",
		"environments/dev/a.yaml":  "a",
		"environments/dev/b.yaml":  "bb",
		"environments/prod/a.yaml": "aaa",
		"README.md":                "readme",
		"a-b/c":                    "sorting: a-b sorts before a/ in git but after in fs",
		"a/d":                      "d",
	})
	repo, err := git.PlainOpen(f.path)
	if err != nil {
		t.Fatal(err)
	}
	commit, err := repo.CommitObject(c)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := commit.Tree()
	if err != nil {
		t.Fatal(err)
	}
	fsys := TreeFS(tree)
	if err := fstest.TestFS(fsys, ".github/promobot.yaml", "environments/dev/a.yaml", "environments/dev/b.yaml", "environments/prod/a.yaml", "README.md", "a-b/c", "a/d"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"missing", "README.md/x", "environments/missing/a.yaml"} {
		if _, err := fsys.Open(name); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Open(%q) error = %v, want not exist", name, err)
		}
	}
	// Concurrent use is safe.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := fsys.(interface{ ReadFile(string) ([]byte, error) }).ReadFile("environments/prod/a.yaml"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
