package buildinfo

// Every setting of `promobot serve` is documented with its environment
// variable in the operator's flag table.

import (
	"regexp"
	"strings"
	"testing"
)

func TestServeSettingsAreDocumented(t *testing.T) {
	source := readRootFile(t, "cmd/promobot/serve.go")
	start := strings.Index(source, "var serveEnv = ")
	if start < 0 {
		t.Fatal("cmd/promobot/serve.go has no serveEnv table")
	}
	table := source[start:]
	table = table[:strings.Index(table, "\n}\n")]
	pairs := regexp.MustCompile(`\{"([a-z-]+)", "([A-Z_]+)"\}`).FindAllStringSubmatch(table, -1)
	if len(pairs) < 20 {
		t.Fatalf("found only %d settings in serveEnv", len(pairs))
	}
	docs := readRootFile(t, "docs/github-app.md")
	for _, p := range pairs {
		row := "| `--" + p[1] + "` | `" + p[2] + "` |"
		if !strings.Contains(docs, row) {
			t.Errorf("docs/github-app.md has no row %q", row)
		}
	}
}
