package gitrepo

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

func TestBuildInputChanges(t *testing.T) {
	f := newFixture(t)
	base := f.commit("main", 0, map[string]string{
		"environments/dev/a.yaml":  manifestYAML("dev", "a", "1", ""),
		"environments/prod/a.yaml": manifestYAML("prod", "a", "1", ""),
		"docs/old-name.md":         "moved",
		"docs/keep.md":             "kept",
		"tools/run.sh":             "#!/bin/sh",
	})
	gittest.MustCommit(t, f.path, gittest.Commit{Branch: "feature", Parents: []string{base.String()}, Message: "branch"})
	head := f.commit("feature", 1, map[string]string{
		"environments/dev/a.yaml": manifestYAML("dev", "a", "2", ""),
		"environments/dev/b.yaml": manifestYAML("dev", "b", "1", ""),
		"docs/new-name.md":        "moved",
	}, "environments/prod/a.yaml", "docs/old-name.md")

	in, err := f.open().BuildInput(t.Context(), base, head, InputOptions{})
	if err != nil {
		t.Fatalf("BuildInput: %v", err)
	}
	want := []evaluate.Change{
		{Path: "docs/new-name.md", Status: evaluate.Added},
		{Path: "docs/old-name.md", Status: evaluate.Removed},
		{Path: "environments/dev/a.yaml", Status: evaluate.Modified},
		{Path: "environments/dev/b.yaml", Status: evaluate.Added},
		{Path: "environments/prod/a.yaml", Status: evaluate.Removed},
	}
	if diff := cmp.Diff(want, in.Changes); diff != "" {
		t.Errorf("Changes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"environments/dev/a.yaml", "environments/prod/a.yaml"}, sortedKeys(in.Base)); diff != "" {
		t.Errorf("Base paths (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"environments/dev/a.yaml", "environments/dev/b.yaml"}, sortedKeys(in.Head)); diff != "" {
		t.Errorf("Head paths (-want +got):\n%s", diff)
	}
	if got := in.Head["environments/dev/a.yaml"].Manifest.Version; got != "2" {
		t.Errorf("head version of dev/a = %q, want 2", got)
	}
	if got := in.Base["environments/dev/a.yaml"].Manifest.Version; got != "1" {
		t.Errorf("base version of dev/a = %q, want 1", got)
	}
	if diff := cmp.Diff([]string{"environments/dev/a.yaml", "environments/dev/b.yaml", "environments/prod/a.yaml"}, sortedKeys(in.History)); diff != "" {
		t.Errorf("History paths (-want +got):\n%s", diff)
	}
	if in.PullRequest.BaseSHA != base.String() || in.PullRequest.HeadSHA != head.String() {
		t.Errorf("PullRequest = %+v, want base %s head %s", in.PullRequest, base, head)
	}
}

func TestBuildInputChangeKinds(t *testing.T) {
	// A file that becomes a folder, a mode change, a file that becomes a
	// symbolic link, a new submodule link, and an unchanged file.
	f := newFixture(t)
	repo, err := git.PlainOpen(f.path)
	if err != nil {
		t.Fatal(err)
	}
	blob := func(s string) plumbing.Hash {
		h, err := gittest.WriteBlob(repo, []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	commit := func(files map[string]gittest.TreeEntry, parents ...plumbing.Hash) plumbing.Hash {
		tree, err := gittest.WriteTree(repo, files)
		if err != nil {
			t.Fatal(err)
		}
		sig := gittest.Signature{Name: "A", Email: "a@example.com", When: at(len(parents))}
		h, err := gittest.WriteCommit(repo, tree, parents, "m", sig, sig)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	regular := func(s string) gittest.TreeEntry { return gittest.TreeEntry{Mode: filemode.Regular, Hash: blob(s)} }
	base := commit(map[string]gittest.TreeEntry{
		"x": regular("file"), "run.sh": regular("echo"), "link": regular("target"), "same": regular("same"),
	})
	head := commit(map[string]gittest.TreeEntry{
		"x/inner": regular("now a folder"),
		"run.sh":  {Mode: filemode.Executable, Hash: blob("echo")},
		"link":    {Mode: filemode.Symlink, Hash: blob("target")},
		"sub":     {Mode: filemode.Submodule, Hash: plumbing.NewHash("1111111111111111111111111111111111111111")},
		"same":    {Mode: filemode.Deprecated, Hash: blob("same")},
	}, base)
	in, err := f.open().BuildInput(t.Context(), base, head, InputOptions{})
	if err != nil {
		t.Fatalf("BuildInput: %v", err)
	}
	want := []evaluate.Change{
		{Path: "link", Status: evaluate.Modified, After: evaluate.EntrySymlink},
		{Path: "run.sh", Status: evaluate.Modified},
		{Path: "sub", Status: evaluate.Added, After: evaluate.EntrySubmodule},
		{Path: "x", Status: evaluate.Removed},
		{Path: "x/inner", Status: evaluate.Added},
	}
	if diff := cmp.Diff(want, in.Changes); diff != "" {
		t.Errorf("Changes (-want +got):\n%s", diff)
	}
}

func TestTrustedFilesComeFromTheBase(t *testing.T) {
	f := newFixture(t)
	base := f.commit("main", 0, map[string]string{
		".github/promobot.yaml":   policyYAML(1),
		".github/CODEOWNERS":      "/environments/ @org/owners\n",
		"CODEOWNERS":              "* @shadowed\n",
		"environments/dev/a.yaml": manifestYAML("dev", "a", "1", ""),
	})
	gittest.MustCommit(t, f.path, gittest.Commit{Branch: "feature", Parents: []string{base.String()}, Message: "branch"})
	// The head loosens everything: policy, owners, and a schema that would
	// accept any manifest, then adds a manifest only that schema accepts.
	head := f.commit("feature", 1, map[string]string{
		".github/promobot.yaml":                policyYAML(0),
		".github/CODEOWNERS":                   "/environments/ @mallory\n",
		"schemas/model-deployment.schema.json": `{"$schema": "https://json-schema.org/draft/2020-12/schema"}`,
		"environments/dev/b.yaml":              "apiVersion: promobot/v1\nkind: ModelDeployment\nmodel: b\nenvironment: dev\nversion: \"1\"\n",
	})
	// The base then tightens its policy after the branch point.
	tip := f.commit("main", 2, map[string]string{".github/promobot.yaml": policyYAML(3)})

	in, err := f.open().BuildInput(t.Context(), tip, head, InputOptions{})
	if err != nil {
		t.Fatalf("BuildInput: %v", err)
	}
	if in.Policy == nil {
		t.Fatalf("Policy is nil; problems: %v", in.PolicyProblems)
	}
	if got := in.Policy.Environments[0].Approvals; got != 3 {
		t.Errorf("dev approvals = %d, want 3 from the base tip", got)
	}
	if in.OwnersPath != ".github/CODEOWNERS" {
		t.Errorf("OwnersPath = %q, want .github/CODEOWNERS", in.OwnersPath)
	}
	rule, ok := in.Owners.Match("environments/dev/b.yaml")
	if !ok || len(rule.Owners) != 1 || rule.Owners[0].Value != "@org/owners" {
		t.Errorf("owners of environments/dev/b.yaml = %+v, want @org/owners from the base", rule)
	}
	doc := in.Head["environments/dev/b.yaml"]
	if doc == nil || doc.Valid {
		t.Fatalf("head manifest b = %+v, want one that fails the base schema", doc)
	}
	if !strings.Contains(problemText(doc), "artifact") {
		t.Errorf("problems of b = %q, want the missing artifact reported", problemText(doc))
	}
}

func TestBrokenBaseSchemaFailsClosed(t *testing.T) {
	f := newFixture(t)
	base := f.commit("main", 0, map[string]string{
		".github/promobot.yaml":                policyYAML(1),
		"schemas/model-deployment.schema.json": `{"type": 12}`,
	})
	in, err := f.open().BuildInput(t.Context(), base, base, InputOptions{})
	if err != nil {
		t.Fatalf("BuildInput: %v", err)
	}
	if in.Policy != nil {
		t.Errorf("Policy = %+v, want nil when a base schema is broken", in.Policy)
	}
	if len(in.PolicyProblems) != 1 || in.PolicyProblems[0].File != "schemas/model-deployment.schema.json" {
		t.Errorf("PolicyProblems = %v, want one about the manifest schema", in.PolicyProblems)
	}
}

func TestMissingPolicyAndOwners(t *testing.T) {
	f := newFixture(t)
	base := f.commit("main", 0, map[string]string{"README.md": "hi"})
	in, err := f.open().BuildInput(t.Context(), base, base, InputOptions{})
	if err != nil {
		t.Fatalf("BuildInput: %v", err)
	}
	if in.Policy != nil || len(in.PolicyProblems) != 0 {
		t.Errorf("Policy = %v, problems %v; want nil and no problems for a missing policy", in.Policy, in.PolicyProblems)
	}
	if in.Owners != nil || in.OwnersPath != "" {
		t.Errorf("Owners = %v at %q, want none", in.Owners, in.OwnersPath)
	}
	if len(in.Base) != 0 || in.Base == nil {
		t.Errorf("Base = %v, want an empty map", in.Base)
	}
}

func TestCodeownersLocations(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		wantPath string
		wantWarn string
		wantNil  bool
	}{
		{name: "github folder wins", files: map[string]string{".github/CODEOWNERS": "* @a\n", "CODEOWNERS": "* @b\n", "docs/CODEOWNERS": "* @c\n"}, wantPath: ".github/CODEOWNERS"},
		{name: "root before docs", files: map[string]string{"CODEOWNERS": "* @b\n", "docs/CODEOWNERS": "* @c\n"}, wantPath: "CODEOWNERS"},
		{name: "docs", files: map[string]string{"docs/CODEOWNERS": "* @c\n"}, wantPath: "docs/CODEOWNERS"},
		{name: "warnings kept", files: map[string]string{"CODEOWNERS": "* @a\n!x @b\n"}, wantPath: "CODEOWNERS", wantWarn: "line 2"},
		{
			name:     "too large is ignored and not read",
			files:    map[string]string{"CODEOWNERS": strings.Repeat("# padding\n", codeowners.MaxFileSize/10+1), "docs/CODEOWNERS": "* @c\n"},
			wantPath: "CODEOWNERS", wantWarn: "GitHub ignores CODEOWNERS files of 3 MB or more", wantNil: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			base := f.commit("main", 0, tt.files)
			in, err := f.open().BuildInput(t.Context(), base, base, InputOptions{})
			if err != nil {
				t.Fatalf("BuildInput: %v", err)
			}
			if in.OwnersPath != tt.wantPath {
				t.Errorf("OwnersPath = %q, want %q", in.OwnersPath, tt.wantPath)
			}
			if (in.Owners == nil) != tt.wantNil {
				t.Errorf("Owners = %v, want nil: %v", in.Owners, tt.wantNil)
			}
			var warns []string
			for _, w := range in.OwnersWarnings {
				warns = append(warns, w.String())
			}
			if got := strings.Join(warns, "\n"); tt.wantWarn == "" && got != "" || !strings.Contains(got, tt.wantWarn) {
				t.Errorf("warnings = %q, want %q", got, tt.wantWarn)
			}
		})
	}
}

func TestOversizedHeadManifestIsAProblem(t *testing.T) {
	f := newFixture(t)
	base := f.commit("main", 0, map[string]string{".github/promobot.yaml": policyYAML(1)})
	head := f.commit("main", 1, map[string]string{"environments/dev/big.yaml": strings.Repeat("#", int(maxManifestBytes)+1)})
	in, err := f.open().BuildInput(t.Context(), base, head, InputOptions{})
	if err != nil {
		t.Fatalf("BuildInput: %v", err)
	}
	doc := in.Head["environments/dev/big.yaml"]
	if doc == nil || doc.Valid || doc.Manifest != nil {
		t.Fatalf("doc = %+v, want an invalid document without a manifest", doc)
	}
	want := "environments/dev/big.yaml: file is 1048577 bytes, larger than the limit of 1048576 bytes"
	if got := problemText(doc); got != want {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestMergeBaseWhenBaseMovedOn(t *testing.T) {
	f := newFixture(t)
	root := f.commit("main", 0, map[string]string{
		"environments/dev/a.yaml": manifestYAML("dev", "a", "1", ""),
		"environments/dev/b.yaml": manifestYAML("dev", "b", "1", ""),
	})
	branch := f.commitWith(gittest.Commit{Branch: "feature", Parents: []string{root.String()}, Message: "promote a",
		Files:  map[string]string{"environments/dev/a.yaml": manifestYAML("dev", "a", "2", "")},
		Author: gittest.Signature{Name: "Fay", Email: "fay@example.com", When: at(1)}})
	// main moves on: b changes on the base after the branch point.
	moved := f.commit("main", 2, map[string]string{"environments/dev/b.yaml": manifestYAML("dev", "b", "2", "")})
	// The branch merges main in (the merge takes main's b), then changes a
	// again.
	merge := f.commitWith(gittest.Commit{Branch: "feature", Parents: []string{branch.String(), moved.String()}, Message: "merge main",
		Files:  map[string]string{"environments/dev/b.yaml": manifestYAML("dev", "b", "2", "")},
		Author: gittest.Signature{Name: "Fay", Email: "fay@example.com", When: at(3)}})
	head := f.commitWith(gittest.Commit{Branch: "feature", Message: "tweak a",
		Files:  map[string]string{"environments/dev/a.yaml": manifestYAML("dev", "a", "3", "")},
		Author: gittest.Signature{Name: "Fay", Email: "fay@example.com", When: at(4)}})
	// And main moves on again without the branch knowing.
	tip := f.commit("main", 5, map[string]string{"environments/dev/c.yaml": manifestYAML("dev", "c", "1", "")})

	in, err := f.open().BuildInput(t.Context(), tip, head, InputOptions{})
	if err != nil {
		t.Fatalf("BuildInput: %v", err)
	}
	if diff := cmp.Diff([]evaluate.Change{{Path: "environments/dev/a.yaml", Status: evaluate.Modified}}, in.Changes); diff != "" {
		t.Errorf("Changes (-want +got):\n%s", diff)
	}
	var shas []string
	for _, c := range in.Commits {
		shas = append(shas, c.SHA)
	}
	if diff := cmp.Diff([]string{branch.String(), merge.String(), head.String()}, shas); diff != "" {
		t.Errorf("commits (-want +got):\n%s", diff)
	}
	if got := in.Base["environments/dev/b.yaml"].Manifest.Version; got != "2" {
		t.Errorf("base b version = %q, want 2 (the tip)", got)
	}
	if _, ok := in.Base["environments/dev/c.yaml"]; !ok {
		t.Errorf("base manifests lack c.yaml added at the tip")
	}
}

func TestUnrelatedHistoriesAreTerminal(t *testing.T) {
	f := newFixture(t)
	a := f.commit("main", 0, map[string]string{"a": "a"})
	b := f.commit("other", 1, map[string]string{"b": "b"})
	_, err := f.open().BuildInput(t.Context(), a, b, InputOptions{})
	if err == nil || !failure.IsTerminal(err) || !strings.Contains(err.Error(), "no common commit") {
		t.Errorf("err = %v, want a terminal no-common-commit error", err)
	}
}

func TestCommitIdentities(t *testing.T) {
	f := newFixture(t)
	base := f.commit("main", 0, map[string]string{"a": "1"})
	c1 := f.commitWith(gittest.Commit{Branch: "feature", Parents: []string{base.String()},
		Files: map[string]string{"a": "2"},
		Message: "Promote a\n\nCo-authored-by: Bob Builder <12345+bob-b@users.noreply.github.com>\n" +
			"co-authored-by: Carol <CAROL@Example.com>\nCo-Authored-By: not an address\n" +
			"Co-authored-by: Bob again <12345+bob-b@users.noreply.github.com>\n",
		Author:    gittest.Signature{Name: "Ann", Email: "ann@users.noreply.github.com", When: at(1)},
		Committer: gittest.Signature{Name: "GitHub", Email: "noreply@github.com", When: at(1)},
	})
	in, err := f.open().BuildInput(t.Context(), base, c1, InputOptions{Identities: map[string]string{" carol@example.com ": "carol-c"}})
	if err != nil {
		t.Fatalf("BuildInput: %v", err)
	}
	want := []evaluate.Commit{{
		SHA:       c1.String(),
		Author:    evaluate.Identity{Name: "Ann", Email: "ann@users.noreply.github.com", Login: "ann"},
		Committer: evaluate.Identity{Name: "GitHub", Email: "noreply@github.com"},
		CoAuthors: []evaluate.Identity{
			{Name: "Bob Builder", Email: "12345+bob-b@users.noreply.github.com", Login: "bob-b"},
			{Name: "Carol", Email: "CAROL@Example.com", Login: "carol-c"},
			{Name: "not an address"},
		},
	}}
	if diff := cmp.Diff(want, in.Commits); diff != "" {
		t.Errorf("Commits (-want +got):\n%s", diff)
	}
}

func TestHeadAncestorOfBase(t *testing.T) {
	f := newFixture(t)
	old := f.commit("main", 0, map[string]string{"a": "1"})
	tip := f.commit("main", 1, map[string]string{"a": "2"})
	in, err := f.open().BuildInput(t.Context(), tip, old, InputOptions{})
	if err != nil {
		t.Fatalf("BuildInput: %v", err)
	}
	if len(in.Changes) != 0 || len(in.Commits) != 0 {
		t.Errorf("Changes %v, Commits %v; want none for a head already in the base", in.Changes, in.Commits)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slicesSort(out)
	return out
}

func problemText(d *manifest.Document) string {
	var s []string
	for _, p := range d.Problems {
		s = append(s, p.String())
	}
	return strings.Join(s, "\n")
}

func TestUnsortedTreeNeverHidesAChange(t *testing.T) {
	f := newFixture(t)
	repo, err := git.PlainOpen(f.path)
	if err != nil {
		t.Fatal(err)
	}
	// go-git refuses to encode an unsorted tree: write the bytes by hand.
	write := func(entries ...object.TreeEntry) plumbing.Hash {
		obj := repo.Storer.NewEncodedObject()
		obj.SetType(plumbing.TreeObject)
		w, err := obj.Writer()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			fmt.Fprintf(w, "%o %s\x00", uint32(e.Mode), e.Name)
			w.Write(e.Hash[:])
		}
		w.Close()
		h, err := repo.Storer.SetEncodedObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	blob := func(s string) plumbing.Hash {
		h, err := gittest.WriteBlob(repo, []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	commit := func(tree plumbing.Hash, parents ...plumbing.Hash) plumbing.Hash {
		sig := gittest.Signature{Name: "A", Email: "a@example.com", When: at(len(parents))}
		h, err := gittest.WriteCommit(repo, tree, parents, "m", sig, sig)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	// The base lists z before a; the head, sorted, changes a.
	base := commit(write(
		object.TreeEntry{Name: "z", Mode: filemode.Regular, Hash: blob("z")},
		object.TreeEntry{Name: "a", Mode: filemode.Regular, Hash: blob("a1")},
	))
	head := commit(write(
		object.TreeEntry{Name: "a", Mode: filemode.Regular, Hash: blob("a2")},
		object.TreeEntry{Name: "z", Mode: filemode.Regular, Hash: blob("z")},
	), base)
	in, err := f.open().BuildInput(t.Context(), base, head, InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range in.Changes {
		found = found || c.Path == "a"
	}
	if !found {
		t.Errorf("Changes = %v, want a change to a", in.Changes)
	}
}

func TestEntryNamesGitRejectsAreRefused(t *testing.T) {
	// (go-git's decoder already refuses an empty name.)
	for _, name := range []string{"prod/a.yaml", "..", "."} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			repo, err := git.PlainOpen(f.path)
			if err != nil {
				t.Fatal(err)
			}
			blob, err := gittest.WriteBlob(repo, []byte("x"))
			if err != nil {
				t.Fatal(err)
			}
			obj := repo.Storer.NewEncodedObject()
			obj.SetType(plumbing.TreeObject)
			w, _ := obj.Writer()
			fmt.Fprintf(w, "%o %s\x00", uint32(filemode.Regular), name)
			w.Write(blob[:])
			w.Close()
			env, err := repo.Storer.SetEncodedObject(obj)
			if err != nil {
				t.Fatal(err)
			}
			good, err := gittest.WriteTree(repo, map[string]gittest.TreeEntry{"README.md": {Mode: filemode.Regular, Hash: blob}})
			if err != nil {
				t.Fatal(err)
			}
			// Put the malformed tree at environments/ by hand.
			rootObj := repo.Storer.NewEncodedObject()
			rootObj.SetType(plumbing.TreeObject)
			w, _ = rootObj.Writer()
			fmt.Fprintf(w, "%o %s\x00", uint32(filemode.Dir), "environments")
			w.Write(env[:])
			w.Close()
			headTree, err := repo.Storer.SetEncodedObject(rootObj)
			if err != nil {
				t.Fatal(err)
			}
			sig := gittest.Signature{Name: "A", Email: "a@example.com", When: at(0)}
			base, err := gittest.WriteCommit(repo, good, nil, "base", sig, sig)
			if err != nil {
				t.Fatal(err)
			}
			head, err := gittest.WriteCommit(repo, headTree, []plumbing.Hash{base}, "head", sig, sig)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.open().BuildInput(t.Context(), base, head, InputOptions{})
			if err == nil || !failure.IsTerminal(err) || !strings.Contains(err.Error(), "invalid entry name") {
				t.Errorf("BuildInput error = %v, want a terminal invalid-name error", err)
			}
		})
	}
}
