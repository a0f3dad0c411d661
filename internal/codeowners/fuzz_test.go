package codeowners

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse and Match never panic, that warnings point
// inside the input, and that the index agrees with a linear scan. Each input
// is a file; its lines are also used as paths to match.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		githubDocsExample,
		"* @a\n!x @b\n[x] @c\n\\#y @d\n/ @e\n",
		"/environments/prod/ @org/t\n/environments/*/m.yaml a@b.co\n**/logs\na/**/b @x\n",
		"path\\ with\\ spaces/ @a #c\nfoo\\\n\t\t@x\n\xff\xfe @y\n",
		"docs/* @a\n/*\n**/\n/**\n***\na**b\nx//y\n",
		"\ufeff*.go @Alice bob@Example.COM @org/Team\r\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		file, warns := Parse([]byte(data))
		lines := strings.Split(data, "\n")
		for _, w := range warns {
			if w.Line < 1 || w.Line > len(lines) {
				t.Fatalf("warning %v: line outside 1..%d", w, len(lines))
			}
			if w.Column < 1 || w.Column > utf8.RuneCountInString(lines[w.Line-1])+1 {
				t.Fatalf("warning %v: column outside line %q", w, lines[w.Line-1])
			}
			if w.Message == "" {
				t.Fatalf("warning %v has no message", w)
			}
		}
		paths := append(lines, "a", "a/b/c", "environments/prod/m.yaml", "docs/README.md")
		for _, p := range paths {
			got, gotOK := file.Match(p)
			want, wantOK := linearMatch(file, p)
			if gotOK != wantOK || got.Line != want.Line {
				t.Fatalf("Match(%q) = line %d (%v), linear scan gives line %d (%v)", p, got.Line, gotOK, want.Line, wantOK)
			}
		}
	})
}
