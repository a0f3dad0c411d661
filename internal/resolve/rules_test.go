package resolve

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// TestResolveAppliesTheEngineRules resolves manifests of the engine's
// sample repository that reached the branch without review, without
// verifying artifacts: every rule judged from the tree is the engine's,
// with the policy's modes.
func TestResolveAppliesTheEngineRules(t *testing.T) {
	prod := evaltest.ManifestPath("prod", evaltest.Unbundled)
	type tree = map[string]gittest.TreeEntry
	tests := []struct {
		name  string
		model string
		// edit changes the sample base in a second, direct commit.
		edit        func(tr tree, blob func(string) gittest.TreeEntry)
		wantRefused string
		wantWarning string
	}{
		{name: "the sample prod pin resolves", model: evaltest.Unbundled, edit: func(tree, func(string) gittest.TreeEntry) {}},
		{
			name: "a prod manifest pushed without the ticket prod requires", model: evaltest.Unbundled,
			edit: func(tr tree, blob func(string) gittest.TreeEntry) {
				tr[prod] = blob(evaltest.ManifestWith("prod", evaltest.Unbundled, evaltest.V2, "passed", ""))
			},
			wantRefused: "approval.ticket is missing; prod requires a change ticket matching CHG-[0-9]{3,7}",
		},
		{
			name: "the version test pins, with another sha256", model: evaltest.Unbundled,
			edit: func(tr tree, blob func(string) gittest.TreeEntry) {
				m := evaltest.Manifest("prod", evaltest.Unbundled, evaltest.V2)
				i := strings.Index(m, "sha256: ")
				tr[prod] = blob(m[:i] + "sha256: " + strings.Repeat("ab", 32) + m[i+8+64:])
			},
			wantRefused: "version 2026.11.13-2 of lasso-spx differs from its pin in environments/test/lasso-spx.yaml (artifact)",
		},
		{
			name: "lineage off: a missing lineage field does not refuse", model: evaltest.Unbundled,
			edit: func(tr tree, blob func(string) gittest.TreeEntry) {
				tr[".github/promobot.yaml"] = blob(evaltest.Policy + "rules:\n  lineage: off\n")
				tr[prod] = blob(evaltest.Replace(evaltest.Manifest("prod", evaltest.Unbundled, evaltest.V4), "  dataVersion: ohlcv-2026-11-27\n", ""))
			},
		},
		{
			name: "ticket warn: a missing ticket is a warning", model: evaltest.Unbundled,
			edit: func(tr tree, blob func(string) gittest.TreeEntry) {
				tr[".github/promobot.yaml"] = blob(evaltest.Policy + "rules:\n  ticket: warn\n")
				tr[prod] = blob(evaltest.ManifestWith("prod", evaltest.Unbundled, evaltest.V1, "passed", ""))
			},
			wantWarning: "approval.ticket is missing",
		},
		{
			name: "a model of a bundle pinned without its partner", model: evaltest.Forecaster,
			edit: func(tr tree, blob func(string) gittest.TreeEntry) {
				tr[evaltest.ManifestPath("prod", evaltest.Forecaster)] = blob(evaltest.Manifest("prod", evaltest.Forecaster, evaltest.V2))
			},
			wantRefused: "bundle ndx-forecast: elasticnet-ndx moves in prod but elasticnet-ndx-threshold does not",
		},
		{
			name: "a bundle pinned together resolves", model: evaltest.Forecaster,
			edit: func(tr tree, blob func(string) gittest.TreeEntry) {
				for _, m := range []string{evaltest.Forecaster, evaltest.Calibrator} {
					tr[evaltest.ManifestPath("prod", m)] = blob(evaltest.Manifest("prod", m, evaltest.V2))
				}
			},
		},
		{
			name: "a manifest that is a symbolic link", model: evaltest.Unbundled,
			edit: func(tr tree, blob func(string) gittest.TreeEntry) {
				tr[prod] = gittest.TreeEntry{Mode: filemode.Symlink, Hash: blob("../test/lasso-spx.yaml").Hash}
			},
			wantRefused: "environments/prod/lasso-spx.yaml is a symbolic link",
		},
		{
			name: "an environment folder that is a symbolic link", model: evaltest.Unbundled,
			edit: func(tr tree, blob func(string) gittest.TreeEntry) {
				for p := range maps.Clone(tr) {
					if strings.HasPrefix(p, "environments/prod/") {
						delete(tr, p)
					}
				}
				tr["environments/prod"] = gittest.TreeEntry{Mode: filemode.Symlink, Hash: blob("test").Hash}
			},
			wantRefused: "environments/prod is a symbolic link",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := gittest.MustInitBare(t, t.TempDir(), "repo.git", "main")
			raw, err := git.PlainOpen(dir)
			if err != nil {
				t.Fatal(err)
			}
			blob := func(s string) gittest.TreeEntry {
				h, err := gittest.WriteBlob(raw, []byte(s))
				if err != nil {
					t.Fatal(err)
				}
				return gittest.TreeEntry{Mode: filemode.Regular, Hash: h}
			}
			commit := func(tr tree, when time.Time, parents ...plumbing.Hash) plumbing.Hash {
				h, err := gittest.WriteTree(raw, tr)
				if err != nil {
					t.Fatal(err)
				}
				sig := gittest.Signature{Name: "Ada", Email: "ada@example.org", When: when}
				c, err := gittest.WriteCommit(raw, h, parents, "pin", sig, sig)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			tr := tree{}
			for p, text := range evaltest.Base() {
				tr[p] = blob(text)
			}
			first := commit(tr, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
			tr = maps.Clone(tr)
			tt.edit(tr, blob)
			head := commit(tr, time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), first)

			repo, err := gitrepo.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { repo.Close() })
			no := false
			res, err := Resolve(t.Context(), repo, Request{Environment: "prod", Model: tt.model, Commit: head, Verify: &no}, Deps{})
			if tt.wantRefused != "" {
				var refused *RefusedError
				if !errors.As(err, &refused) || !strings.Contains(err.Error(), tt.wantRefused) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tt.wantRefused)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			got := strings.Join(res.Warnings, "\n")
			if tt.wantWarning == "" && got != "" || !strings.Contains(got, tt.wantWarning) {
				t.Errorf("warnings %q, want %q", got, tt.wantWarning)
			}
		})
	}
}
