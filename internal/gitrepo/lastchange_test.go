package gitrepo

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/testing/gittest"
)

func TestLastChange(t *testing.T) {
	dir := t.TempDir()
	if _, err := gittest.InitBare(dir, ".git", "main"); err != nil {
		t.Fatal(err)
	}
	gitDir := filepath.Join(dir, ".git")
	const p = "environments/prod/ranker.yaml"
	n := 0
	commit := func(branch string, parents []string, files map[string]string, del ...string) string {
		t.Helper()
		n++
		c, err := gittest.CommitFiles(gitDir, gittest.Commit{Branch: branch, Parents: parents, Files: files, Delete: del, Message: "c\n",
			Author: gittest.Signature{Name: "Ada", Email: "ada@example.org", When: time.Date(2026, 11, 1, 9, n, 0, 0, time.UTC)}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1 := commit("main", nil, map[string]string{p: "v1\n"})
	c2 := commit("main", nil, map[string]string{"README.md": "x\n"})
	c3 := commit("main", nil, map[string]string{p: "v2\n"})
	side := commit("side", []string{c1}, map[string]string{p: "v2\n", "other": "y\n"})
	merge := commit("main", []string{c3, side}, map[string]string{"other": "y\n"})
	c5 := commit("main", nil, map[string]string{p: "v1\n"})
	c6 := commit("main", nil, nil, p)

	repo, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	cases := []struct {
		name, from, want string
		wantErr          error
	}{
		{name: "the commit that wrote it", from: c1, want: c1},
		{name: "later commits that leave it alone", from: c2, want: c1},
		{name: "a merge whose first parent has the same blob", from: merge, want: c3},
		{name: "an older content written again", from: c5, want: c5},
		{name: "deleted", from: c6, wantErr: ErrNoFile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, blob, err := repo.LastChange(t.Context(), p, plumbing.NewHash(tc.from))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !failure.IsTerminal(err) {
					t.Fatalf("err = %v, want terminal %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.String() != tc.want || blob.IsZero() {
				t.Errorf("LastChange = %s, %s, %v; want %s", got, blob, err, tc.want)
			}
		})
	}
}
