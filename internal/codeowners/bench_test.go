package codeowners

import (
	"fmt"
	"strings"
	"testing"
)

var benchEnvironments = []string{"dev", "test", "staging", "prod", "prod-eu"}

// realisticCodeowners returns a CODEOWNERS file of about n lines shaped like a
// promotion repository's: a few default and glob rules, per-environment
// directory rules, then one exact rule per manifest, with comments and blank
// lines between environments and a few glob rules near the end.
func realisticCodeowners(n int) string {
	var b strings.Builder
	b.WriteString("# Default owners.\n* @example-org/platform\n\n")
	b.WriteString("*.md @example-org/docs\n")
	b.WriteString("/.github/ @example-org/platform @release-bot\n")
	b.WriteString("/schemas/ @example-org/platform\n")
	b.WriteString("**/README.md @example-org/docs\n")
	b.WriteString("/environments/*/README.md @example-org/docs\n")
	lines := 8
	perEnv := (n - lines - 10) / len(benchEnvironments)
	for _, env := range benchEnvironments {
		fmt.Fprintf(&b, "\n# %s\n/environments/%s/ @example-org/%s-approvers\n", env, env, env)
		lines += 3
		for m := 0; m < perEnv-3; m++ {
			fmt.Fprintf(&b, "/environments/%s/model-%04d.yaml @example-org/team-%02d @owner-%04d ml-%d@example.com\n",
				env, m, m%40, m, m%7)
			lines++
		}
	}
	b.WriteString("\n/environments/prod*/*.yaml @example-org/prod-approvers\n")
	b.WriteString("/environments/**/*.lock @example-org/platform\n")
	b.WriteString("*.sig @example-org/security\n")
	b.WriteString("/CODEOWNERS @example-org/platform\n")
	b.WriteString("/.github/CODEOWNERS @example-org/platform @example-org/security\n")
	return b.String()
}

// changedPaths returns 50 paths of a realistic promotion change: mostly
// manifests spread over environments, plus docs and repository files.
func changedPaths() []string {
	var paths []string
	for i := 0; i < 44; i++ {
		paths = append(paths, fmt.Sprintf("environments/%s/model-%04d.yaml", benchEnvironments[i%len(benchEnvironments)], i*97%900))
	}
	paths = append(paths,
		"environments/prod/README.md",
		"environments/prod/model-0001.yaml.sig",
		"docs/promotion.md",
		".github/CODEOWNERS",
		"go.mod",
		"environments/prod/new-model.yaml",
	)
	return paths
}

func TestRealisticCodeownersIsClean(t *testing.T) {
	data := realisticCodeowners(5000)
	if n := strings.Count(data, "\n"); n < 4900 || n > 5100 {
		t.Fatalf("generated %d lines, want about 5000", n)
	}
	f, warns := Parse([]byte(data))
	if len(warns) != 0 {
		t.Fatalf("warnings: %v", warns[:min(len(warns), 5)])
	}
	paths := changedPaths()
	if len(paths) != 50 {
		t.Fatalf("%d paths, want 50", len(paths))
	}
	for _, p := range paths {
		got, gotOK := f.Match(p)
		want, wantOK := linearMatch(f, p)
		if !gotOK || gotOK != wantOK || got.Line != want.Line {
			t.Errorf("Match(%q) = line %d (%v), linear scan gives line %d (%v)", p, got.Line, gotOK, want.Line, wantOK)
		}
	}
}

func BenchmarkParse5000(b *testing.B) {
	data := []byte(realisticCodeowners(5000))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(data)
	}
}

// BenchmarkMatch50Paths5000Rules measures one change: 50 paths matched
// against a parsed 5,000-line file. One op is all 50 matches.
func BenchmarkMatch50Paths5000Rules(b *testing.B) {
	f, _ := Parse([]byte(realisticCodeowners(5000)))
	paths := changedPaths()
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range paths {
			if _, ok := f.Match(p); !ok {
				b.Fatalf("no match for %q", p)
			}
		}
	}
}

// BenchmarkMatch50PathsLinearScan is the same work without the index, to show
// what the index saves.
func BenchmarkMatch50PathsLinearScan(b *testing.B) {
	f, _ := Parse([]byte(realisticCodeowners(5000)))
	paths := changedPaths()
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range paths {
			linearMatch(f, p)
		}
	}
}
