package gitrepo

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// spyObjects wraps a real repository, counts blob reads and fails the
// reads of chosen objects.
type spyObjects struct {
	objects
	mu    sync.Mutex
	reads map[plumbing.Hash]int
	fail  map[plumbing.Hash]bool
}

var errInjected = errors.New("injected read failure")

func newSpy(t *testing.T, path string) (*spyObjects, *Repo) {
	t.Helper()
	repo, err := git.PlainOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &spyObjects{objects: repo, reads: map[plumbing.Hash]int{}, fail: map[plumbing.Hash]bool{}}
	return s, newRepo(s, nil)
}

func (s *spyObjects) BlobObject(h plumbing.Hash) (*object.Blob, error) {
	s.mu.Lock()
	s.reads[h]++
	fail := s.fail[h]
	s.mu.Unlock()
	if fail {
		return nil, errInjected
	}
	return s.objects.BlobObject(h)
}

func (s *spyObjects) TreeObject(h plumbing.Hash) (*object.Tree, error) {
	s.mu.Lock()
	fail := s.fail[h]
	s.mu.Unlock()
	if fail {
		return nil, errInjected
	}
	return s.objects.TreeObject(h)
}

func (s *spyObjects) blobReads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.reads {
		n += c
	}
	return n
}

func entryHash(t *testing.T, path string, commit plumbing.Hash, p string) plumbing.Hash {
	t.Helper()
	repo, err := git.PlainOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	files, err := gittest.ReadTree(repo, commit)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := files[p]; ok {
		return e.Hash
	}
	c, _ := repo.CommitObject(commit)
	tree, _ := c.Tree()
	e, err := tree.FindEntry(p)
	if err != nil {
		t.Fatalf("no entry %s: %v", p, err)
	}
	return e.Hash
}

func TestReadFailuresFailClosed(t *testing.T) {
	f := newFixture(t)
	base := f.commit("main", 0, map[string]string{
		".github/promobot.yaml":   policyYAML(1),
		"CODEOWNERS":              "* @a\n",
		"environments/dev/a.yaml": manifestYAML("dev", "a", "1", ""),
	})
	head := f.commit("main", 1, map[string]string{"environments/dev/b.yaml": manifestYAML("dev", "b", "1", "")})
	tests := []struct {
		name   string
		commit plumbing.Hash
		path   string
	}{
		{"CODEOWNERS blob", base, "CODEOWNERS"},
		{"base manifest blob", base, "environments/dev/a.yaml"},
		{"base environments tree", base, "environments/dev"},
		{"head manifest blob", head, "environments/dev/b.yaml"},
		{"head environments tree", head, "environments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spy, r := newSpy(t, f.path)
			spy.fail[entryHash(t, f.path, tt.commit, tt.path)] = true
			in, err := r.BuildInput(t.Context(), base, head, InputOptions{})
			if !errors.Is(err, errInjected) {
				t.Fatalf("BuildInput = %v, %v; want the injected error", in, err)
			}
			if failure.IsTerminal(err) {
				t.Errorf("error %v is terminal; a read failure may pass on retry", err)
			}
		})
	}
}

func TestRepeatedEvaluationsReuseParsedFiles(t *testing.T) {
	f := newFixture(t)
	files := map[string]string{".github/promobot.yaml": policyYAML(1), "CODEOWNERS": "* @a\n"}
	for i := range 50 {
		m := fmt.Sprintf("m%02d", i)
		files["environments/dev/"+m+".yaml"] = manifestYAML("dev", m, "1", "")
	}
	base := f.commit("main", 0, files)
	head1 := f.commitWith(gittest.Commit{Branch: "one", Parents: []string{base.String()}, Message: "one",
		Files: map[string]string{"environments/dev/m01.yaml": manifestYAML("dev", "m01", "2", "")}})
	head2 := f.commitWith(gittest.Commit{Branch: "two", Parents: []string{base.String()}, Message: "two",
		Files: map[string]string{"environments/dev/m02.yaml": manifestYAML("dev", "m02", "2", "")}})

	spy, r := newSpy(t, f.path)
	if _, err := r.BuildInput(t.Context(), base, head1, InputOptions{}); err != nil {
		t.Fatal(err)
	}
	first := spy.blobReads()
	if first < 52 {
		t.Fatalf("first evaluation read %d blobs, want at least the 50 manifests and CODEOWNERS", first)
	}
	in, err := r.BuildInput(t.Context(), base, head2, InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The second evaluation of the same base reads only the new head
	// manifest (its history reuses the base's cached blobs).
	if got := spy.blobReads() - first; got != 1 {
		t.Errorf("second evaluation read %d blobs, want 1", got)
	}
	if in.Owners == nil || len(in.Base) != 50 || in.Head["environments/dev/m02.yaml"].Manifest.Version != "2" {
		t.Errorf("second evaluation input incomplete: owners %v, %d base, head %v", in.Owners, len(in.Base), in.Head)
	}
	// Mutating the returned map does not reach the cache.
	delete(in.Base, "environments/dev/m00.yaml")
	again, err := r.BuildInput(t.Context(), base, head2, InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Base) != 50 {
		t.Errorf("cached base set was modified through a returned map: %d entries", len(again.Base))
	}
}

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	c := newLRU[string, int](2)
	c.put("a", 1)
	c.put("b", 2)
	c.get("a")
	c.put("c", 3)
	if _, ok := c.get("b"); ok {
		t.Errorf("b survived; it was the least recently used")
	}
	if v, ok := c.get("a"); !ok || v != 1 {
		t.Errorf("a = %d, %v; want 1", v, ok)
	}
	c.put("a", 10)
	if v, _ := c.get("a"); v != 10 || c.len() != 2 {
		t.Errorf("a = %d, len %d; want 10 and 2", v, c.len())
	}
}
