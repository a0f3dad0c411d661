package codeowners

import (
	"strings"
	"testing"

	hmarr "github.com/hmarr/codeowners"
)

// TestAgreesWithHmarr compares our matcher with github.com/hmarr/codeowners,
// whose pattern semantics were written to follow GitHub's, on every pattern
// and path built from a small alphabet. Patterns hmarr gets wrong are skipped
// by hmarrGetsWrong with the reason.
func TestAgreesWithHmarr(t *testing.T) {
	// hmarrGetsWrong reports the patterns on which hmarr is known to be wrong:
	// it builds regular expressions that need a "/" where none can be.
	hmarrGetsWrong := func(pat string) bool {
		switch {
		case pat == "**/" || pat == "/**/":
			return true // hmarr matches nothing; we match every path.
		case strings.Contains(pat, "**/**"):
			return true // hmarr misses paths deeper than the first "**".
		}
		return false
	}
	segs := []string{"a", "b", "*", "**", "a*", "?", "*b"}
	var patterns []string
	var build func(prefix []string, depth int)
	build = func(prefix []string, depth int) {
		if len(prefix) > 0 {
			body := strings.Join(prefix, "/")
			patterns = append(patterns, body, "/"+body, body+"/", "/"+body+"/")
		}
		if depth == 0 {
			return
		}
		for _, s := range segs {
			build(append(prefix[:len(prefix):len(prefix)], s), depth-1)
		}
	}
	build(nil, 3)

	names := []string{"a", "b", "ab", "x"}
	var paths []string
	var walk func(prefix string, depth int)
	walk = func(prefix string, depth int) {
		for _, n := range names {
			p := n
			if prefix != "" {
				p = prefix + "/" + n
			}
			paths = append(paths, p)
			if depth > 1 {
				walk(p, depth-1)
			}
		}
	}
	walk("", 4)

	compared, differ := 0, 0
	reported := map[string]bool{}
	for _, pat := range patterns {
		if hmarrGetsWrong(pat) {
			continue
		}
		ruleset, err := hmarr.ParseFile(strings.NewReader(pat + " @o\n"))
		if err != nil {
			t.Fatalf("hmarr rejects %q: %v", pat, err)
		}
		ours, warns := Parse([]byte(pat + " @o\n"))
		if len(warns) != 0 {
			t.Fatalf("Parse(%q) warnings: %v", pat, warns)
		}
		for _, p := range paths {
			rule, err := ruleset.Match(p)
			if err != nil {
				t.Fatalf("hmarr Match(%q, %q): %v", pat, p, err)
			}
			_, ok := ours.Match(p)
			compared++
			if ok != (rule != nil) {
				differ++
				if !reported[pat] {
					reported[pat] = true
					t.Errorf("pattern %q path %q: ours %v, hmarr %v", pat, p, ok, rule != nil)
				}
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d pattern/path pairs differ", differ, compared)
	}
	t.Logf("%d patterns, %d paths, %d pairs compared", len(patterns), len(paths), compared)
}

// BenchmarkHmarrParse5000 is BenchmarkParse5000 with hmarr, for comparison.
func BenchmarkHmarrParse5000(b *testing.B) {
	data := realisticCodeowners(5000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := hmarr.ParseFile(strings.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHmarrMatch50Paths5000Rules is BenchmarkMatch50Paths5000Rules with
// hmarr, for comparison.
func BenchmarkHmarrMatch50Paths5000Rules(b *testing.B) {
	ruleset, err := hmarr.ParseFile(strings.NewReader(realisticCodeowners(5000)))
	if err != nil {
		b.Fatal(err)
	}
	paths := changedPaths()
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range paths {
			if _, err := ruleset.Match(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}
