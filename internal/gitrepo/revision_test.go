package gitrepo

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/failure"
)

// revParse is what git itself resolves rev to, as a commit.
func revParse(t *testing.T, dir, rev string) string {
	t.Helper()
	cmd := exec.Command("git", "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// TestResolveFollowsGit builds a repository where a branch and a tag are
// named like prefixes of other commits' hashes, and checks that every
// revision resolves to what git rev-parse says.
func TestResolveFollowsGit(t *testing.T) {
	dir := t.TempDir()
	gitCLI(t, dir, "init", "-q", "-b", "main")
	writeFiles(t, dir, map[string]string{"a.txt": "1\n"})
	gitCLI(t, dir, "add", "-A")
	gitCLI(t, dir, "commit", "-q", "-m", "first")
	first := gitCLI(t, dir, "rev-parse", "HEAD")
	writeFiles(t, dir, map[string]string{"a.txt": "2\n"})
	gitCLI(t, dir, "commit", "-q", "-am", "second")
	second := gitCLI(t, dir, "rev-parse", "HEAD")
	writeFiles(t, dir, map[string]string{"a.txt": "3\n"})
	gitCLI(t, dir, "commit", "-q", "-am", "third")
	third := gitCLI(t, dir, "rev-parse", "HEAD")

	// A branch named like the first commit's hash points at the third; a
	// tag named like the second's points at the first.
	branch, tag := first[:4], second[:6]
	gitCLI(t, dir, "branch", branch, third)
	gitCLI(t, dir, "tag", "-a", "-m", "a tag", tag, first)
	gitCLI(t, dir, "update-ref", "refs/remotes/origin/feature", second)
	gitCLI(t, dir, "branch", "20261120", second) // digits only

	tests := []struct {
		name, rev, want string
	}{
		{name: "a branch named like a hash prefix is the branch", rev: branch, want: third},
		{name: "an annotated tag named like a hash prefix is the tag's commit", rev: tag, want: first},
		{name: "the full name of that branch", rev: "refs/heads/" + branch, want: third},
		{name: "heads/ names the branch", rev: "heads/" + branch, want: third},
		{name: "a suffix applies to the branch", rev: branch + "~1", want: second},
		{name: "a branch named with digits only", rev: "20261120", want: second},
		{name: "a full hash is the commit", rev: first, want: first},
		{name: "an abbreviated hash no reference is named like", rev: second[:8], want: second},
		{name: "a remote branch", rev: "origin/feature", want: second},
		{name: "HEAD", rev: "HEAD", want: third},
		{name: "HEAD with a suffix", rev: "HEAD^", want: second},
		{name: "main with ^{commit}", rev: "main~2^{commit}", want: first},
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	g, err := OpenGit(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if git := revParse(t, dir, tc.rev); git != tc.want {
				t.Fatalf("the test is wrong: git rev-parse %s = %s, want %s", tc.rev, git, tc.want)
			}
			got, err := r.Resolve(tc.rev)
			if err != nil || got.String() != tc.want {
				t.Errorf("Repo.Resolve(%q) = %s, %v; want %s", tc.rev, got, err, tc.want)
			}
			h, _, err := ResolveRevision(g, tc.rev)
			if err != nil || h.String() != tc.want {
				t.Errorf("ResolveRevision(%q) = %s, %v; want %s", tc.rev, h, err, tc.want)
			}
		})
	}

	for _, rev := range []string{"nope", third[:3], "refs/heads/nope", "main~9"} {
		if got := revParse(t, dir, rev); got != "" {
			t.Fatalf("the test is wrong: git resolves %q to %s", rev, got)
		}
		if h, err := r.Resolve(rev); err == nil || !failure.IsTerminal(err) {
			t.Errorf("Resolve(%q) = %s, %v; want a terminal error", rev, h, err)
		}
	}
	_, name, err := ResolveRevision(g, branch)
	if err != nil || name.String() != "refs/heads/"+branch {
		t.Errorf("ResolveRevision(%q) matched %q, %v; want the branch", branch, name, err)
	}
}
