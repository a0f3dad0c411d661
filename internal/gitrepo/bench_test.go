package gitrepo

import (
	"testing"
)

// BenchmarkBuildInput evaluates a one-manifest change on a base of 500
// manifests with 100 commits of history, from a packed repository. Cold
// opens a fresh Repo (empty caches) per evaluation; warm reuses one, as the
// bot does for repeated evaluations of the same base.
func BenchmarkBuildInput(b *testing.B) {
	path, base, heads := packedFixture(b, 500, 1, 100)
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			r, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.BuildInput(b.Context(), base, heads[0], InputOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("warm", func(b *testing.B) {
		r, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := r.BuildInput(b.Context(), base, heads[0], InputOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHistory walks 1000 first-parent commits for one path, cold.
func BenchmarkHistory(b *testing.B) {
	path, base, _ := packedFixture(b, 10, 1, 1000)
	for b.Loop() {
		r, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.History(b.Context(), "environments/dev/m000.yaml", base); err != nil {
			b.Fatal(err)
		}
	}
}
