package gittest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// TB is the part of testing.TB the helpers use; *testing.T satisfies it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// NewTestServer starts a server rooted at a fresh temporary directory and
// stops it when the test ends.
func NewTestServer(t TB, opts ...Option) *Server {
	t.Helper()
	s, err := NewServer(t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("start git server: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// MustInitBare is InitBare that fails the test on error.
func MustInitBare(t TB, root, rel, defaultBranch string) string {
	t.Helper()
	path, err := InitBare(root, rel, defaultBranch)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return path
}

// MustCommit is CommitFiles that fails the test on error.
func MustCommit(t TB, repoPath string, c Commit) string {
	t.Helper()
	hash, err := CommitFiles(repoPath, c)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return hash
}

// MustRunGit runs the git command line in dir with the environment of the
// test process, git's system and global configuration left out, plus env
// (NAME=value, e.g. the author), and returns its output trimmed of
// surrounding white space. It fails the test with that output on error.
func MustRunGit(t TB, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// MustWriteFiles writes files (slash paths to contents) under dir,
// creating the folders they need, and fails the test on error.
func MustWriteFiles(t TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatalf("%v", err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatalf("%v", err)
		}
	}
}
