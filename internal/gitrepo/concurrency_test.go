package gitrepo

import (
	"fmt"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/testing/gittest"
)

// packedFixture builds a base with n manifests and heads that each change
// one, and clones it over loopback so that the objects are in a pack file,
// as in the bot's mirrors.
//
// Before the base, the main branch has history commits, each re-pinning
// the manifests that the heads change, so that their histories are long.
func packedFixture(t testing.TB, n, heads, history int) (path string, base plumbing.Hash, hs []plumbing.Hash) {
	srv := gittest.NewTestServer(t)
	origin := gittest.MustInitBare(t, srv.Root(), "repo.git", "main")
	for c := range history {
		files := map[string]string{}
		for i := range min(heads, n) {
			m := fmt.Sprintf("m%03d", i)
			files["environments/dev/"+m+".yaml"] = manifestYAML("dev", m, fmt.Sprintf("0.%d", c), "")
		}
		gittest.MustCommit(t, origin, gittest.Commit{Branch: "main", Files: files, Message: "history", Author: gittest.Signature{When: at(c - history)}})
	}
	files := map[string]string{".github/promobot.yaml": policyYAML(1), ".github/CODEOWNERS": "/environments/ @org/owners\n"}
	for i := range n {
		m := fmt.Sprintf("m%03d", i)
		files["environments/dev/"+m+".yaml"] = manifestYAML("dev", m, "1", "")
	}
	b := gittest.MustCommit(t, origin, gittest.Commit{Branch: "main", Files: files, Message: "base", Author: gittest.Signature{When: at(0)}})
	for i := range heads {
		m := fmt.Sprintf("m%03d", i%n)
		h := gittest.MustCommit(t, origin, gittest.Commit{Branch: fmt.Sprintf("pr%d", i), Parents: []string{b}, Message: "promote",
			Files:  map[string]string{"environments/dev/" + m + ".yaml": manifestYAML("dev", m, "2", "")},
			Author: gittest.Signature{Name: "A", Email: "a@users.noreply.github.com", When: at(1)}})
		hs = append(hs, plumbing.NewHash(h))
	}
	path = t.TempDir()
	if _, err := git.PlainClone(path, true, &git.CloneOptions{URL: srv.RepoURL("repo.git"), Mirror: true}); err != nil {
		t.Fatalf("clone: %v", err)
	}
	return path, plumbing.NewHash(b), hs
}

func TestConcurrentEvaluationsOnAPackedRepository(t *testing.T) {
	path, base, heads := packedFixture(t, 40, 8, 5)
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, h := range heads {
		wg.Go(func() {
			for range 3 {
				in, err := r.BuildInput(t.Context(), base, h, InputOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				want := fmt.Sprintf("environments/dev/m%03d.yaml", i)
				if len(in.Changes) != 1 || in.Changes[0].Path != want || len(in.Base) != 40 || in.Owners == nil {
					t.Errorf("head %d: changes %v, %d base manifests", i, in.Changes, len(in.Base))
				}
			}
		})
	}
	wg.Wait()
}

func TestReopenSeesNewObjectsAndKeepsCaches(t *testing.T) {
	f := newFixture(t)
	base := f.commit("main", 0, map[string]string{".github/CODEOWNERS": "* @a\n", "environments/dev/a.yaml": manifestYAML("dev", "a", "1", "")})
	r := f.open()
	if _, err := r.BuildInput(t.Context(), base, base, InputOptions{}); err != nil {
		t.Fatal(err)
	}
	head := f.commit("main", 1, map[string]string{"environments/dev/a.yaml": manifestYAML("dev", "a", "2", "")})
	again, err := r.Reopen()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Resolve(head.String()); err != nil {
		t.Fatalf("reopened repository does not see the new commit: %v", err)
	}
	if again.caches != r.caches || again.manifests.len() == 0 {
		t.Errorf("Reopen dropped the caches")
	}
}
