package promote

import (
	"errors"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// testNow is the fixed clock of the integration tests: commits, merges and
// tokens all use it, so hashes and golden files are stable.
var testNow = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

const (
	owner    = "example-org"
	repoName = "gitops"
)

// Seed times of the sample history.
var (
	seedOctober  = time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)
	seedNovember = time.Date(2026, 11, 9, 15, 0, 0, 0, time.UTC)
)

// harness is a GitHub emulator and a loopback git server holding the
// sample repository, with a local clone made by go-git.
type harness struct {
	t      testing.TB
	fx     *githubtest.Fixture
	bare   string
	local  string
	token  string
	seedA  string // commit pinning the October versions in prod
	seedB  string // commit pinning the current versions in prod
	author Signature
}

// olderProd rewrites a current prod manifest into the one pinned before it.
var olderProd = strings.NewReplacer(
	"2026.11.06-1", "2026.10.30-1", "CHG-4790", "CHG-4700",
	"sha256: 4916", "sha256: 0000", "sha256: e621", "sha256: 0000",
	"2026-11-09T15:05:44Z", "2026-11-02T10:00:00Z",
)

func newHarness(t testing.TB) *harness {
	t.Helper()
	fx := githubtest.NewFixture(t, githubtest.Config{Now: func() time.Time { return testNow }})
	bare := fx.AddRepo(t, owner, repoName, "main")
	files := baseFiles(t)
	seed := map[string]string{}
	for p, c := range files {
		seed[p] = c
		if strings.HasPrefix(p, "environments/prod/") {
			seed[p] = olderProd.Replace(c)
		}
	}
	h := &harness{t: t, fx: fx, bare: bare, author: Signature{Name: "Release Bot", Email: "release-bot@example.com", Login: "release-bot"}}
	h.seedA = gittest.MustCommit(t, bare, gittest.Commit{Branch: "main", Files: seed, Message: "Seed the GitOps repository\n",
		Author: gittest.Signature{Name: "Alice", Email: "alice@example.com", When: seedOctober}})
	current := map[string]string{}
	for p, c := range files {
		if strings.HasPrefix(p, "environments/prod/") {
			current[p] = c
		}
	}
	h.seedB = gittest.MustCommit(t, bare, gittest.Commit{Branch: "main", Files: current, Message: "Promote the ndx-forecast bundle 2026.11.06-1 to prod\n",
		Author: gittest.Signature{Name: "Alice", Email: "alice@example.com", When: seedNovember}})
	for _, m := range []struct{ team, login string }{
		{"ml-engineers", "dana"}, {"model-validators", "victor"}, {"model-risk", "rita"}, {"model-risk", "raj"},
		{"release-managers", "rosa"}, {"platform-admins", "pat"},
	} {
		fx.Emulator.AddTeamMember(owner, m.team, m.login, "active")
	}
	h.token = fx.Emulator.UserToken("release-bot")
	h.local = t.TempDir()
	if _, err := git.PlainCloneContext(t.Context(), h.local, false, &git.CloneOptions{URL: h.cloneURL(), Auth: TokenAuth(h.token)}); err != nil {
		t.Fatalf("clone: %v", err)
	}
	return h
}

func (h *harness) cloneURL() string { return h.fx.Git.RepoURL(owner + "/" + repoName + ".git") }

// executor returns an executor acting as release-bot.
func (h *harness) executor() *Executor {
	h.t.Helper()
	apps, err := githubapi.New(githubapi.Config{BaseURL: h.fx.URL(), Token: h.token})
	if err != nil {
		h.t.Fatal(err)
	}
	client, err := apps.Client()
	if err != nil {
		h.t.Fatal(err)
	}
	return &Executor{
		Git:    Git{Path: h.local, Auth: TokenAuth(h.token), Author: h.author},
		GitHub: NewGitHub(client, owner, repoName),
		Now:    func() time.Time { return testNow },
	}
}

// commitOnMain adds a commit to the remote's main branch.
func (h *harness) commitOnMain(message string, files map[string]string) string {
	h.t.Helper()
	return gittest.MustCommit(h.t, h.bare, gittest.Commit{Branch: "main", Files: files, Message: message,
		Author: gittest.Signature{Name: "Alice", Email: "alice@example.com", When: testNow.Add(-time.Hour)}})
}

// merge merges a pull request as alice.
func (h *harness) merge(number int) string {
	h.t.Helper()
	sha, err := h.fx.Emulator.Merge(owner, repoName, number, githubtest.MergeOptions{User: "alice"})
	if err != nil {
		h.t.Fatal(err)
	}
	return sha
}

func (h *harness) pr(number int) githubtest.PullRequest {
	h.t.Helper()
	pr, err := h.fx.Emulator.PullRequest(owner, repoName, number)
	if err != nil {
		h.t.Fatal(err)
	}
	return pr
}

// remoteBranches lists the remote's branches.
func (h *harness) remoteBranches() []string {
	h.t.Helper()
	r, err := git.PlainOpen(h.bare)
	if err != nil {
		h.t.Fatal(err)
	}
	iter, err := r.Branches()
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	_ = iter.ForEach(func(ref *plumbing.Reference) error {
		out = append(out, ref.Name().Short())
		return nil
	})
	sort.Strings(out)
	return out
}

// remoteFile reads a file at a revision of the remote.
func (h *harness) remoteFile(rev, p string) string {
	h.t.Helper()
	f, err := h.remoteCommit(rev).File(p)
	if err != nil {
		h.t.Fatalf("read %s at %s: %v", p, rev, err)
	}
	s, err := f.Contents()
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// remoteCommit reads a commit of the remote.
func (h *harness) remoteCommit(rev string) *object.Commit {
	h.t.Helper()
	r, err := git.PlainOpen(h.bare)
	if err != nil {
		h.t.Fatal(err)
	}
	hash, err := r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		h.t.Fatalf("resolve %s: %v", rev, err)
	}
	c, err := r.CommitObject(*hash)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// localState describes the local clone: its references other than the
// remote-tracking ones (which a fetch may move), whether the working tree
// is clean, and and how many commits promobot made are stored without being reachable.
type localState struct {
	Refs             []string
	Clean            bool
	PromobotCommits  int
	TrackingBranches []string
}

func (h *harness) localState() localState {
	h.t.Helper()
	r, err := git.PlainOpen(h.local)
	if err != nil {
		h.t.Fatal(err)
	}
	var st localState
	refs, _ := r.References()
	_ = refs.ForEach(func(ref *plumbing.Reference) error {
		switch {
		case ref.Name().IsRemote():
			st.TrackingBranches = append(st.TrackingBranches, ref.Name().Short())
		default:
			st.Refs = append(st.Refs, ref.String())
		}
		return nil
	})
	sort.Strings(st.Refs)
	sort.Strings(st.TrackingBranches)
	wt, err := r.Worktree()
	if err != nil {
		h.t.Fatal(err)
	}
	status, err := wt.Status()
	if err != nil {
		h.t.Fatal(err)
	}
	st.Clean = status.IsClean()
	// Promobot commits reachable from a reference arrived with a fetch
	// (merged pull requests); only unreachable ones would be leftovers.
	reachable := map[plumbing.Hash]bool{}
	refs, _ = r.References()
	_ = refs.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() != plumbing.HashReference {
			return nil
		}
		log, err := r.Log(&git.LogOptions{From: ref.Hash()})
		if err != nil {
			return nil
		}
		return log.ForEach(func(c *object.Commit) error {
			reachable[c.Hash] = true
			return nil
		})
	})
	commits, err := r.CommitObjects()
	if err != nil {
		h.t.Fatal(err)
	}
	for {
		c, err := commits.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.t.Fatal(err)
		}
		if strings.Contains(c.Message, TrailerAction+": ") && !reachable[c.Hash] {
			st.PromobotCommits++
		}
	}
	return st
}

// checkLocalUnchanged fails unless the local clone holds the same
// references, a clean working tree, no promobot commit and only the base's
// remote-tracking branch.
func (h *harness) checkLocalUnchanged(before localState) {
	h.t.Helper()
	after := h.localState()
	if diff := cmp.Diff(before.Refs, after.Refs); diff != "" {
		h.t.Errorf("local references changed (-before +after):\n%s", diff)
	}
	if !after.Clean {
		h.t.Errorf("local working tree is not clean")
	}
	if after.PromobotCommits != before.PromobotCommits {
		h.t.Errorf("local repository stores %d promobot commits, had %d", after.PromobotCommits, before.PromobotCommits)
	}
	for _, b := range after.TrackingBranches {
		if strings.HasPrefix(b, "origin/"+BranchPrefix) {
			h.t.Errorf("local repository has a remote-tracking branch %s", b)
		}
	}
}
