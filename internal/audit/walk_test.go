package audit

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/testing/audittest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

func open(t *testing.T, path string, opts RepositoryOptions) *Repository {
	t.Helper()
	r, err := OpenRepository(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func reconstruct(t *testing.T, repo *Repository, opts Options) *History {
	t.Helper()
	h, err := Reconstruct(t.Context(), repo, opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// gitChanges lists "commit path" for every manifest changed on the first-
// parent history, as git itself sees it.
func gitChanges(t *testing.T, dir string) []string {
	t.Helper()
	cmd := exec.Command("git", "log", "--first-parent", "--no-renames", "--name-status", "--format=commit %H", "main", "--", "environments/")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var commit string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, "commit "); ok {
			commit = c
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 2 && strings.HasSuffix(fields[1], ".yaml") && strings.Count(fields[1], "/") == 2 {
			got = append(got, commit+" "+fields[1])
		}
	}
	slices.Sort(got)
	return got
}

func recordChanges(h *History) []string {
	var out []string
	for _, r := range h.Records {
		out = append(out, r.Commit+" "+r.Path)
	}
	slices.Sort(out)
	return out
}

// TestWalkAgreesWithGit compares the changes the walk finds with git log on
// generated histories, packed and loose, with and without a commit-graph.
func TestWalkAgreesWithGit(t *testing.T) {
	for _, tc := range []struct {
		name        string
		repack      bool
		graph       bool
		ignoreGraph bool
		samples     bool
	}{
		{name: "fast-import pack"},
		{name: "the repository's sample manifests", repack: true, graph: true, samples: true},
		{name: "repacked with a commit-graph", repack: true, graph: true},
		{name: "commit-graph ignored", repack: true, graph: true, ignoreGraph: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo.git")
			cfg := audittest.Large{Commits: 600, Touching: 200, Models: 5, SourceFiles: 40, Repack: tc.repack, CommitGraph: tc.graph, Seed: 3}
			if tc.samples {
				cfg.Samples = repositorySamples(t)
			}
			if err := audittest.GenerateLarge(dir, cfg); err != nil {
				t.Fatal(err)
			}
			repo := open(t, dir, RepositoryOptions{IgnoreCommitGraph: tc.ignoreGraph})
			h := reconstruct(t, repo, Options{NoCache: true})
			if diff := cmp.Diff(gitChanges(t, dir), recordChanges(h)); diff != "" {
				t.Errorf("changes differ from git log (-git +audit):\n%s", diff)
			}
			if h.Stats.Walked != 600 {
				t.Errorf("walked %d commits, want 600", h.Stats.Walked)
			}
			if got, want := h.Stats.FromGraph > 0, tc.graph && !tc.ignoreGraph; got != want {
				t.Errorf("commits from the graph: %d, want some: %v", h.Stats.FromGraph, want)
			}
			if tc.samples && h.Stats.FullParses > 0 {
				t.Errorf("%d sample manifests needed the full decoder", h.Stats.FullParses)
			}
			if h.Stats.FullParses > h.Stats.QuickParses/20 {
				t.Errorf("%d manifests needed the full decoder, %d the fast path", h.Stats.FullParses, h.Stats.QuickParses)
			}
		})
	}
}

func TestWalkSmallHistoryAgreesWithGit(t *testing.T) {
	t.Parallel()
	h := audittest.BuildHistory(t)
	repo := open(t, h.Path, RepositoryOptions{})
	got := reconstruct(t, repo, Options{NoCache: true})
	if diff := cmp.Diff(gitChanges(t, h.Path), recordChanges(got)); diff != "" {
		t.Errorf("changes differ from git log (-git +audit):\n%s", diff)
	}
	if got.Stats.Walked != 12 {
		t.Errorf("walked %d commits, want the 12 first-parent commits", got.Stats.Walked)
	}
}

// TestIndexWalksOnlyNewCommits re-runs the audit after new commits and
// after a rewrite of the branch, and checks both the work done and that the
// result equals a run without the index.
func TestIndexWalksOnlyNewCommits(t *testing.T) {
	t.Parallel()
	hist := audittest.BuildHistory(t)
	cache := t.TempDir()
	run := func() *History {
		t.Helper()
		return reconstruct(t, open(t, hist.Path, RepositoryOptions{}), Options{CacheDir: cache})
	}
	fresh := func() *History {
		t.Helper()
		return reconstruct(t, open(t, hist.Path, RepositoryOptions{}), Options{NoCache: true})
	}
	first := run()
	if first.Stats.Walked != 12 || first.Stats.Reused != 0 {
		t.Fatalf("first run: %+v", first.Stats)
	}
	second := run()
	if second.Stats.Walked != 0 || second.Stats.Reused != 10 {
		t.Errorf("unchanged re-run: %+v, want nothing walked and 10 commits reused", second.Stats)
	}
	if diff := cmp.Diff(first.Records, second.Records); diff != "" {
		t.Errorf("indexed run differs:\n%s", diff)
	}
	tip := gittest.MustCommit(t, hist.Path, gittest.Commit{Branch: "main", Message: "Register threshold 0.2.0 (#10)\n",
		Files: map[string]string{audittest.Pin{Environment: "dev", Model: "threshold", Version: "0.2.0"}.Path(): audittest.Pin{Environment: "dev", Model: "threshold", Version: "0.2.0"}.YAML()}})
	gittest.MustCommit(t, hist.Path, gittest.Commit{Branch: "main", Message: "Docs\n", Files: map[string]string{"docs/x.md": "x"}})
	third := run()
	if third.Stats.Walked != 2 || third.Stats.Reused != 10 {
		t.Errorf("run after two commits: %+v, want 2 walked and 10 reused", third.Stats)
	}
	if diff := cmp.Diff(fresh().Records, third.Records); diff != "" {
		t.Errorf("indexed run differs from a full walk:\n%s", diff)
	}
	if third.Records[len(third.Records)-1].Kind != KindRegister || third.Records[len(third.Records)-1].Commit != tip {
		t.Errorf("last record = %+v", third.Records[len(third.Records)-1])
	}
	// Rewrite: reset main to the decommission and commit something else.
	reset := exec.Command("git", "update-ref", "refs/heads/main", hist.Commits["decommission-threshold"])
	reset.Dir = hist.Path
	if out, err := reset.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	gittest.MustCommit(t, hist.Path, gittest.Commit{Branch: "main", Message: "Hotfix\n",
		Files: map[string]string{audittest.Pin{Environment: "test", Model: "forecaster", Version: "1.0.0"}.Path(): audittest.Pin{Environment: "test", Model: "forecaster", Version: "1.0.0"}.YAML()}})
	fourth := run()
	if fourth.Stats.Walked != 1 || fourth.Stats.Reused != 9 {
		t.Errorf("run after a rewrite: %+v, want 1 walked and 9 reused", fourth.Stats)
	}
	if diff := cmp.Diff(fresh().Records, fourth.Records); diff != "" {
		t.Errorf("indexed run after a rewrite differs from a full walk:\n%s", diff)
	}
	if last := fourth.Records[len(fourth.Records)-1]; last.Kind != KindRollback || last.Environment != "test" {
		t.Errorf("last record after the rewrite = %s %s", last.Kind, last.Environment)
	}
}

func TestDamagedIndexIsRebuilt(t *testing.T) {
	t.Parallel()
	hist := audittest.BuildHistory(t)
	cache := t.TempDir()
	repo := open(t, hist.Path, RepositoryOptions{})
	first := reconstruct(t, repo, Options{CacheDir: cache})
	writeFile(t, indexPath(cache, first.Ref), "{not json")
	again := reconstruct(t, repo, Options{CacheDir: cache})
	if again.Stats.Walked != 12 {
		t.Errorf("walked %d commits after damage, want a full walk", again.Stats.Walked)
	}
	if diff := cmp.Diff(first.Records, again.Records); diff != "" {
		t.Errorf("records differ:\n%s", diff)
	}
}

// TestCloneUsesOriginHead audits a working-tree clone, whose default branch
// comes from origin/HEAD.
func TestCloneUsesOriginHead(t *testing.T) {
	t.Parallel()
	hist := audittest.BuildHistory(t)
	dir := filepath.Join(t.TempDir(), "clone")
	clone := exec.Command("git", "clone", "-q", hist.Path, dir)
	if out, err := clone.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	checkout := exec.Command("git", "checkout", "-q", "-b", "feature", hist.Commits["policy"])
	checkout.Dir = dir
	if out, err := checkout.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	h := reconstruct(t, open(t, dir, RepositoryOptions{}), Options{})
	if h.Ref != "refs/remotes/origin/main" || h.Branch != "main" || len(h.Records) != 11 {
		t.Errorf("ref %s branch %s, %d records; want origin/main with 11", h.Ref, h.Branch, len(h.Records))
	}
	if _, err := OpenRepository(t.TempDir(), RepositoryOptions{}); err == nil {
		t.Error("opened a folder that is not a repository")
	}
}

func TestRecordsSince(t *testing.T) {
	t.Parallel()
	hist := audittest.BuildHistory(t)
	repo := open(t, hist.Path, RepositoryOptions{})
	h := reconstruct(t, repo, Options{NoCache: true})
	for _, tc := range []struct {
		name, before string
		want         int
		err          bool
	}{
		{name: "two commits pushed", before: hist.Commits["edit-ticket"], want: 2},
		{name: "nothing pushed", before: h.Tip, want: 0},
		{name: "branch created", before: "0000000000000000000000000000000000000000", want: 11},
		{name: "force push", before: strings.Repeat("1", 40), err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RecordsSince(t.Context(), repo, h, tc.before)
			if (err != nil) != tc.err || len(got) != tc.want {
				t.Errorf("%d records, err %v; want %d, error %v", len(got), err, tc.want, tc.err)
			}
		})
	}
}
