package gitrepo

import (
	"maps"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// TestLayoutChangesAreGated replays layout changes of the sample repository
// through git and the engine: whatever a gated path becomes, the change is
// named and needs governance approvals; the prod owners alone never pass it.
func TestLayoutChangesAreGated(t *testing.T) {
	prod := evaltest.ManifestPath("prod", evaltest.Unbundled)
	type entries = map[string]gittest.TreeEntry
	tests := []struct {
		name string
		// base and head edit the sample base tree.
		base, head func(e entries, blob func(string) gittest.TreeEntry)
		reviews    []string
		want       evaluate.Verdict
		wantTitle  string
		wantRules  []string
	}{
		{
			name: "environments replaced by a symbolic link to a copy",
			head: func(e entries, blob func(string) gittest.TreeEntry) {
				for p, x := range maps.Clone(e) {
					if rest, ok := strings.CutPrefix(p, "environments/"); ok {
						delete(e, p)
						e["live/"+rest] = x
					}
				}
				e["environments"] = gittest.TreeEntry{Mode: filemode.Symlink, Hash: blob("live").Hash}
			},
			reviews:   []string{"mara", "rita"},
			want:      evaluate.VerdictFail,
			wantTitle: "environments is replaced by a symbolic link; promobot reads environments/, schemas/, the policy and CODEOWNERS only as regular files in folders",
			wantRules: []string{
				"approvals environments: environments is replaced by a symbolic link: needs 2 more approvals from @example-org/platform-admins for environments",
			},
		},
		{
			name: "a prod manifest replaced by a symbolic link",
			head: func(e entries, blob func(string) gittest.TreeEntry) {
				e[prod] = gittest.TreeEntry{Mode: filemode.Symlink, Hash: blob("../test/lasso-spx.yaml").Hash}
			},
			reviews:   []string{"mara", "rita"},
			want:      evaluate.VerdictFail,
			wantTitle: "environments/prod/lasso-spx.yaml is replaced by a symbolic link; promobot reads",
			wantRules: []string{
				"ticket environments/prod/lasso-spx.yaml: cannot check ticket: environments/prod/lasso-spx.yaml is a symbolic link, not a manifest",
				"approvals environments/prod/lasso-spx.yaml: environments/prod/lasso-spx.yaml is replaced by a symbolic link: needs 2 more governance approvals from @example-org/platform-admins (owners of .github/promobot.yaml) for environments/prod/lasso-spx.yaml",
			},
		},
		{
			name: "a submodule in an environment",
			head: func(e entries, blob func(string) gittest.TreeEntry) {
				e["environments/prod/vendored"] = gittest.TreeEntry{Mode: filemode.Submodule, Hash: plumbing.NewHash("1111111111111111111111111111111111111111")}
			},
			reviews:   []string{"mara", "rita", "pat", "paula"},
			want:      evaluate.VerdictFail,
			wantTitle: "environments/prod/vendored is added as a submodule; promobot reads",
			wantRules: []string{"approvals environments/prod/vendored: 2/2 approvals from owners of environments/prod/vendored (2/2 counted; approved by @mara, @rita; environments/prod/vendored is added as a submodule: also 2/2 governance approvals from owners of .github/promobot.yaml, by @pat, @paula)"},
		},
		{
			name: "removing a symbolic link needs governance approvals and then passes",
			base: func(e entries, blob func(string) gittest.TreeEntry) {
				e["environments/dev/latest"] = gittest.TreeEntry{Mode: filemode.Symlink, Hash: blob("lasso-spx.yaml").Hash}
			},
			head: func(e entries, _ func(string) gittest.TreeEntry) {
				delete(e, "environments/dev/latest")
			},
			reviews:   []string{"pat", "paula"},
			want:      evaluate.VerdictPass,
			wantTitle: "all rules pass, 2/2 governance approvals",
			wantRules: []string{"approvals environments/dev/latest: no approvals needed for environments/dev/latest (the symbolic link environments/dev/latest is removed: also 2/2 governance approvals from owners of .github/promobot.yaml, by @pat, @paula)"},
		},
		{
			name: "removing a symbolic link is not left to the environment's owners",
			base: func(e entries, blob func(string) gittest.TreeEntry) {
				e["environments/dev/latest"] = gittest.TreeEntry{Mode: filemode.Symlink, Hash: blob("lasso-spx.yaml").Hash}
			},
			head: func(e entries, _ func(string) gittest.TreeEntry) {
				delete(e, "environments/dev/latest")
			},
			reviews:   []string{"alex", "erin"},
			want:      evaluate.VerdictFail,
			wantTitle: "the symbolic link environments/dev/latest is removed: needs 2 more governance approvals from @example-org/platform-admins (owners of .github/promobot.yaml) for environments/dev/latest",
		},
		{
			name: "the folder of the policy replaced by a symbolic link",
			head: func(e entries, blob func(string) gittest.TreeEntry) {
				for p := range maps.Clone(e) {
					if strings.HasPrefix(p, ".github/") {
						delete(e, p)
					}
				}
				e[".github"] = gittest.TreeEntry{Mode: filemode.Symlink, Hash: blob("elsewhere").Hash}
			},
			reviews:   []string{"pat", "paula"},
			want:      evaluate.VerdictFail,
			wantTitle: ".github is replaced by a symbolic link; promobot reads",
			wantRules: []string{"approvals .github: 2/2 approvals from owners of .github/promobot.yaml for .github (.github is replaced by a symbolic link: governance approvals"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			repo, err := git.PlainOpen(f.path)
			if err != nil {
				t.Fatal(err)
			}
			blob := func(s string) gittest.TreeEntry {
				h, err := gittest.WriteBlob(repo, []byte(s))
				if err != nil {
					t.Fatal(err)
				}
				return gittest.TreeEntry{Mode: filemode.Regular, Hash: h}
			}
			commit := func(files entries, parents ...plumbing.Hash) plumbing.Hash {
				tree, err := gittest.WriteTree(repo, files)
				if err != nil {
					t.Fatal(err)
				}
				sig := gittest.Signature{Name: "alex", Email: "alex@users.noreply.github.com", When: at(len(parents))}
				h, err := gittest.WriteCommit(repo, tree, parents, "change", sig, sig)
				if err != nil {
					t.Fatal(err)
				}
				return h
			}
			tree := entries{}
			for p, text := range evaltest.Base() {
				tree[p] = blob(text)
			}
			if tt.base != nil {
				tt.base(tree, blob)
			}
			base := commit(tree)
			tree = maps.Clone(tree)
			tt.head(tree, blob)
			head := commit(tree, base)

			in, err := f.open().BuildInput(t.Context(), base, head, InputOptions{})
			if err != nil {
				t.Fatalf("BuildInput: %v", err)
			}
			in.PullRequest.Author = "alex"
			in.Teams = evaltest.Teams()
			for i, login := range tt.reviews {
				in.Reviews = append(in.Reviews, evaluate.Review{ID: int64(i + 1), User: login, State: evaluate.Approved, CommitID: head.String()})
			}
			res := evaluate.Evaluate(in)
			var rules []string
			for _, r := range res.Rules {
				rules = append(rules, r.ID+" "+r.File+": "+r.Message)
			}
			if res.Verdict != tt.want || !strings.HasPrefix(res.Title, tt.wantTitle) {
				t.Errorf("got %s %q\nwant %s %q\nrules:\n%s", res.Verdict, res.Title, tt.want, tt.wantTitle, strings.Join(rules, "\n"))
			}
			for _, want := range tt.wantRules {
				found := false
				for _, r := range rules {
					found = found || strings.HasPrefix(r, want)
				}
				if !found {
					t.Errorf("no rule starts with %q; rules:\n%s", want, strings.Join(rules, "\n"))
				}
			}
		})
	}
}
