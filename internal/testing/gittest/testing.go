package gittest

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
