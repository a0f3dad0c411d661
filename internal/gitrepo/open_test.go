package gitrepo

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// gitCLI runs git in dir as Alex, failing the test with its output on
// error.
func gitCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return gittest.MustRunGit(t, dir, []string{
		"GIT_AUTHOR_NAME=Alex", "GIT_AUTHOR_EMAIL=alex@example.com",
		"GIT_COMMITTER_NAME=Alex", "GIT_COMMITTER_EMAIL=alex@example.com",
	}, args...)
}

// writeFiles writes files (slash paths) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	gittest.MustWriteFiles(t, dir, files)
}

// sparseRepo is a working tree where git sparse-checkout keeps only
// environments/dev of a repository that also has prod manifests, schemas
// and a policy.
func sparseRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	gitCLI(t, dir, "init", "-q", "-b", "main")
	writeFiles(t, dir, map[string]string{
		".github/promobot.yaml":    "policy: 1\n",
		"schemas/manifest.json":    "{}\n",
		"environments/dev/a.yaml":  "dev: a\n",
		"environments/prod/a.yaml": "prod: a\n",
		"environments/prod/b.yaml": "prod: b\n",
		"environments/test/c.yaml": "test: c\n",
		"README.md":                "readme\n",
	})
	gitCLI(t, dir, "add", "-A")
	gitCLI(t, dir, "commit", "-q", "-m", "initial")
	gitCLI(t, dir, "sparse-checkout", "set", "environments/dev")
	if _, err := os.Stat(filepath.Join(dir, "environments", "prod")); !os.IsNotExist(err) {
		t.Fatalf("sparse-checkout left environments/prod on disk: %v", err)
	}
	return dir
}

func TestOpenAcceptsASparseCheckout(t *testing.T) {
	dir := sparseRepo(t)
	if cfg := gitCLI(t, dir, "config", "--get", "extensions.worktreeConfig"); cfg != "true" {
		t.Fatalf("git sparse-checkout did not set extensions.worktreeConfig: %q", cfg)
	}
	want := gitCLI(t, dir, "rev-parse", "HEAD")
	for _, at := range []string{dir, filepath.Join(dir, "environments", "dev")} {
		r, err := Open(at)
		if err != nil {
			t.Fatalf("Open(%s): %v", at, err)
		}
		h, err := r.Resolve("main")
		if err != nil || h.String() != want {
			t.Errorf("Resolve(main) in %s = %s, %v; want %s", at, h, err, want)
		}
		_ = r.Close()
		g, err := OpenGit(at)
		if err != nil {
			t.Fatalf("OpenGit(%s): %v", at, err)
		}
		if head, err := g.Head(); err != nil || head.Hash().String() != want {
			t.Errorf("OpenGit(%s): HEAD %v, %v", at, head, err)
		}
	}
}

func TestOpenRefusesExtensionsThatChangeObjects(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		wantErr []string
	}{
		{name: "sha256 objects", setup: func(t *testing.T, dir string) {
			gitCLI(t, dir, "init", "-q", "--object-format=sha256", "-b", "main")
			writeFiles(t, dir, map[string]string{"a.txt": "a\n"})
			gitCLI(t, dir, "add", "-A")
			gitCLI(t, dir, "commit", "-q", "-m", "a")
		}, wantErr: []string{"git extension objectformat = sha256", "another hash function", "accepts only preciousobjects and worktreeconfig"}},
		{name: "an extension nobody knows", setup: func(t *testing.T, dir string) {
			gitCLI(t, dir, "init", "-q", "-b", "main")
			gitCLI(t, dir, "config", "core.repositoryformatversion", "1")
			gitCLI(t, dir, "config", "extensions.frobnicate", "true")
		}, wantErr: []string{"git extension frobnicate = true", "does not know"}},
		{name: "a future format", setup: func(t *testing.T, dir string) {
			gitCLI(t, dir, "init", "-q", "-b", "main")
			gitCLI(t, dir, "config", "core.repositoryformatversion", "2")
		}, wantErr: []string{"repository format version 2 is not supported"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			for name, open := range map[string]func(string) error{
				"Open":          func(p string) error { _, err := Open(p); return err },
				"OpenGit":       func(p string) error { _, err := OpenGit(p); return err },
				"WorkingTreeFS": func(p string) error { _, err := WorkingTreeFS(p); return err },
			} {
				err := open(dir)
				if err == nil {
					t.Fatalf("%s opened it", name)
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
						t.Errorf("%s: error %q lacks %q", name, err, want)
					}
				}
				if !failure.IsTerminal(err) {
					t.Errorf("%s: error %v is not terminal", name, err)
				}
			}
		})
	}
}

func TestWorkingTreeOfASparseCheckoutReadsTheRestFromHEAD(t *testing.T) {
	dir := sparseRepo(t)
	// A change in the cone, not committed, is read from disk.
	writeFiles(t, dir, map[string]string{"environments/dev/a.yaml": "dev: changed\n"})

	wt, err := WorkingTreeFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The cone holds the files at the top, such as README.md.
	wantHEAD := []string{".github/promobot.yaml", "environments/prod/a.yaml", "environments/prod/b.yaml", "environments/test/c.yaml", "schemas/manifest.json"}
	if diff := cmp.Diff(wantHEAD, wt.FromHEAD); diff != "" {
		t.Errorf("files read from HEAD (-want +got):\n%s", diff)
	}
	for p, want := range map[string]string{
		"environments/dev/a.yaml":  "dev: changed\n",
		"environments/prod/b.yaml": "prod: b\n",
		".github/promobot.yaml":    "policy: 1\n",
	} {
		got, err := fs.ReadFile(wt.FS, p)
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	var walked []string
	err = fs.WalkDir(wt.FS, "environments", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			walked = append(walked, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantWalk := []string{"environments/dev/a.yaml", "environments/prod/a.yaml", "environments/prod/b.yaml", "environments/test/c.yaml"}
	if diff := cmp.Diff(wantWalk, walked); diff != "" {
		t.Errorf("walk of environments (-want +got):\n%s", diff)
	}
	if info, err := fs.Stat(wt.FS, "environments/prod"); err != nil || !info.IsDir() {
		t.Errorf("Stat(environments/prod) = %v, %v; want a folder", info, err)
	}
	if info, err := fs.Lstat(wt.FS, "environments/prod/a.yaml"); err != nil || !info.Mode().IsRegular() {
		t.Errorf("Lstat(environments/prod/a.yaml) = %v, %v; want a regular file", info, err)
	}

	// From a folder of the working tree, paths are relative to it.
	sub, err := WorkingTreeFS(filepath.Join(dir, "environments"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fs.ReadFile(sub.FS, "prod/a.yaml"); err != nil || string(got) != "prod: a\n" {
		t.Errorf("prod/a.yaml from environments = %q, %v", got, err)
	}

	// A full checkout reads the disk alone.
	gitCLI(t, dir, "sparse-checkout", "disable")
	full, err := WorkingTreeFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.FromHEAD) != 0 {
		t.Errorf("a full checkout read %v from HEAD", full.FromHEAD)
	}
}

func TestWorkingTreeOfASparseIndex(t *testing.T) {
	dir := sparseRepo(t)
	gitCLI(t, dir, "sparse-checkout", "set", "--sparse-index", "environments/dev")
	if got := gitCLI(t, dir, "ls-files", "--sparse", "environments/prod"); got != "environments/prod/" {
		t.Fatalf("git did not write a sparse index: ls-files says %q", got)
	}
	wt, err := WorkingTreeFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".github/promobot.yaml", "environments/prod/a.yaml", "environments/prod/b.yaml", "environments/test/c.yaml", "schemas/manifest.json"}
	if diff := cmp.Diff(want, wt.FromHEAD); diff != "" {
		t.Errorf("files read from HEAD (-want +got):\n%s", diff)
	}
	if got, err := fs.ReadFile(wt.FS, "environments/prod/b.yaml"); err != nil || string(got) != "prod: b\n" {
		t.Errorf("environments/prod/b.yaml = %q, %v", got, err)
	}
}

func TestWorkingTreeOutsideARepositoryIsTheDisk(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"environments/dev/a.yaml": "dev: a\n"})
	wt, err := WorkingTreeFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fs.ReadFile(wt.FS, "environments/dev/a.yaml"); err != nil || string(got) != "dev: a\n" {
		t.Errorf("read %q, %v", got, err)
	}
}
