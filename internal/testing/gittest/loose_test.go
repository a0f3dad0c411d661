package gittest

import (
	"bytes"
	"io"
	"os/exec"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/storage/memory"
)

// TestLooseObjectsMatchGoGit holds the fixtures' own loose-object writer
// to go-git: the same objects stored on disk by storeObject and in memory
// by go-git have the same hashes, go-git reads every one back with its
// content, a second store of an object keeps the first, and git fsck
// finds nothing wrong.
func TestLooseObjectsMatchGoGit(t *testing.T) {
	path := MustInitBare(t, t.TempDir(), "a.git", "main")
	disk, err := git.PlainOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		t.Fatal(err)
	}
	contents := map[string][]byte{
		"empty":  nil,
		"line":   []byte("version: 1.2.0\n"),
		"large":  bytes.Repeat([]byte("promobot ElasticNet forecaster\n"), 50_000),
		"binary": {0, 1, 2, 0, 255, 0x78, 0x9c},
	}
	files := map[string]TreeEntry{}
	for name, content := range contents {
		h := sameHash(t, name, func(r *git.Repository) (plumbing.Hash, error) { return WriteBlob(r, content) }, disk, mem)
		blob, err := disk.BlobObject(h)
		if err != nil {
			t.Fatalf("%s: go-git cannot read the blob: %v", name, err)
		}
		rc, err := blob.Reader()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s: read back %d bytes (%v), want %d", name, len(got), err, len(content))
		}
		files["models/"+name] = TreeEntry{Mode: filemode.Regular, Hash: h}
	}
	again, err := WriteBlob(disk, contents["line"])
	if err != nil || again != files["models/line"].Hash {
		t.Errorf("storing an object twice: %s, %v", again, err)
	}
	tree := sameHash(t, "tree", func(r *git.Repository) (plumbing.Hash, error) { return WriteTree(r, files) }, disk, mem)
	who := Signature{Name: "Ann", Email: "ann@example.com", When: when}
	commit := sameHash(t, "commit", func(r *git.Repository) (plumbing.Hash, error) {
		return WriteCommit(r, tree, nil, "first\n", who, who)
	}, disk, mem)
	c, err := disk.CommitObject(commit)
	if err != nil || c.TreeHash != tree || c.Message != "first\n" {
		t.Fatalf("go-git reads the commit as %+v, %v", c, err)
	}
	if out, err := exec.Command("git", "-C", path, "fsck", "--strict", "--unreachable").CombinedOutput(); err != nil {
		t.Fatalf("git fsck: %v\n%s", err, out)
	}
}

// sameHash stores an object with store in the repository on disk and in
// the one in memory and fails unless both give the same hash.
func sameHash(t *testing.T, what string, store func(*git.Repository) (plumbing.Hash, error), disk, mem *git.Repository) plumbing.Hash {
	t.Helper()
	d, err := store(disk)
	if err != nil {
		t.Fatalf("%s on disk: %v", what, err)
	}
	m, err := store(mem)
	if err != nil {
		t.Fatalf("%s in memory: %v", what, err)
	}
	if d != m {
		t.Fatalf("%s: hash on disk %s, go-git's %s", what, d, m)
	}
	return d
}
