package gitrepo

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// pinSummary is a Pin without the manifest, for comparisons.
type pinSummary struct {
	Version      string
	Commit       string
	Since, Until time.Time
}

func summarize(pins []evaluate.Pin) []pinSummary {
	var out []pinSummary
	for _, p := range pins {
		if p.Manifest == nil || p.Manifest.Version != p.Version {
			panic("pin without its manifest")
		}
		out = append(out, pinSummary{p.Version, p.Commit, p.Since, p.Until})
	}
	return out
}

func TestHistory(t *testing.T) {
	const p = "environments/prod/a.yaml"
	f := newFixture(t)
	c1 := f.commit("main", 1, map[string]string{p: manifestYAML("prod", "a", "1.0", "")})
	f.commit("main", 2, map[string]string{"README.md": "unrelated"})
	f.commit("main", 3, map[string]string{p: manifestYAML("prod", "a", "1.0", "notes only")})
	c4 := f.commit("main", 4, map[string]string{p: manifestYAML("prod", "a", "2.0", "")})
	f.commit("main", 5, nil, p)                              // removed
	f.commit("main", 6, map[string]string{p: "not: [valid"}) // pins nothing
	c7 := f.commit("main", 7, map[string]string{p: manifestYAML("prod", "a", "1.0", "rollback")})
	// A side branch merged with a merge commit: the pin happens when the
	// merge lands on the first-parent line, not when the side commit was
	// written.
	side := f.commitWith(gittest.Commit{Branch: "side", Parents: []string{c7.String()}, Message: "side",
		Files:  map[string]string{p: manifestYAML("prod", "a", "3.0", "")},
		Author: gittest.Signature{When: at(8)}})
	c9 := f.commitWith(gittest.Commit{Branch: "main", Parents: []string{c7.String(), side.String()}, Message: "merge",
		Files:  map[string]string{p: manifestYAML("prod", "a", "3.0", "")},
		Author: gittest.Signature{When: at(9)}})

	r := f.open()
	got, err := r.History(t.Context(), p, c9)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	want := []pinSummary{
		{"1.0", c1.String(), at(1), at(4)},
		{"2.0", c4.String(), at(4), at(5)},
		{"1.0", c7.String(), at(7), at(9)},
		{"3.0", c9.String(), at(9), time.Time{}},
	}
	if diff := cmp.Diff(want, summarize(got)); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
	if got[0].Manifest.Notes != "" {
		t.Errorf("first pin's manifest notes = %q, want the manifest as pinned", got[0].Manifest.Notes)
	}

	// Extending the branch reuses the cached history of its parent and
	// gives the same answer as a fresh repository.
	c10 := f.commit("main", 10, map[string]string{p: manifestYAML("prod", "a", "4.0", "")})
	want = append(want[:3], pinSummary{"3.0", c9.String(), at(9), at(10)}, pinSummary{"4.0", c10.String(), at(10), time.Time{}})
	for name, repo := range map[string]*Repo{"cached": r, "fresh": f.open()} {
		got, err := repo.History(t.Context(), p, c10)
		if err != nil {
			t.Fatalf("%s History: %v", name, err)
		}
		if diff := cmp.Diff(want, summarize(got)); diff != "" {
			t.Errorf("%s History after one more commit (-want +got):\n%s", name, diff)
		}
	}
	// The earlier answer is unchanged by the later one (no shared slices).
	again, err := r.History(t.Context(), p, c9)
	if err != nil {
		t.Fatal(err)
	}
	if again[len(again)-1].Until != (time.Time{}) {
		t.Errorf("history at c9 changed after computing c10: %+v", summarize(again))
	}
}

func TestHistoryOfUnknownPathIsEmpty(t *testing.T) {
	f := newFixture(t)
	c := f.commit("main", 1, map[string]string{"a": "1"})
	got, err := f.open().History(t.Context(), "environments/prod/none.yaml", c)
	if err != nil || len(got) != 0 {
		t.Errorf("History = %v, %v; want nothing", got, err)
	}
}

func TestBuildInputHistory(t *testing.T) {
	const p = "environments/prod/a.yaml"
	f := newFixture(t)
	c1 := f.commit("main", 1, map[string]string{p: manifestYAML("prod", "a", "1.0", "")})
	c2 := f.commit("main", 2, map[string]string{p: manifestYAML("prod", "a", "2.0", "")})
	head := f.commitWith(gittest.Commit{Branch: "rollback", Parents: []string{c2.String()}, Message: "roll back",
		Files: map[string]string{p: manifestYAML("prod", "a", "1.0", "")}, Author: gittest.Signature{When: at(3)}})
	in, err := f.open().BuildInput(t.Context(), c2, head, InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]pinSummary{p: {
		{"1.0", c1.String(), at(1), at(2)},
		{"2.0", c2.String(), at(2), time.Time{}},
	}}
	got := map[string][]pinSummary{}
	for k, v := range in.History {
		got[k] = summarize(v)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
}

func TestHistoriesMatchesHistoryPerPath(t *testing.T) {
	const a, b = "environments/prod/a.yaml", "environments/prod/b.yaml"
	f := newFixture(t)
	f.commit("main", 1, map[string]string{a: manifestYAML("prod", "a", "1.0", "")})
	f.commit("main", 2, map[string]string{b: manifestYAML("prod", "b", "5.0", "")})
	c3 := f.commit("main", 3, map[string]string{a: manifestYAML("prod", "a", "2.0", "")})
	paths := []string{a, b, "environments/prod/none.yaml"}

	got, err := f.open().Histories(t.Context(), paths, c3)
	if err != nil {
		t.Fatalf("Histories: %v", err)
	}
	r := f.open()
	for _, p := range paths {
		one, err := r.History(t.Context(), p, c3)
		if err != nil {
			t.Fatalf("History(%s): %v", p, err)
		}
		if diff := cmp.Diff(summarize(one), summarize(got[p])); diff != "" {
			t.Errorf("Histories[%s] (-History +Histories):\n%s", p, diff)
		}
	}
}
