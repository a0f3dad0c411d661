package promobot_test

// Every setting of `promobot serve` is documented with its environment
// variable in the operator's flag table.

import (
	"regexp"
	"strings"
	"testing"
)

func TestServeSettingsAreDocumented(t *testing.T) {
	source := readRootFile(t, "cmd/promobot/serve_env.go")
	start := strings.Index(source, "var serveEnv = ")
	if start < 0 {
		t.Fatal("cmd/promobot/serve_env.go has no serveEnv table")
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

// TestAppManifestNamesRealFlags checks that the flags the App manifest's
// extended set names for its permissions exist, and that the optional
// features are named there.
func TestAppManifestNamesRealFlags(t *testing.T) {
	manifest := readRootFile(t, ".github/promobot-app.yml")
	source := readRootFile(t, "cmd/promobot/serve_env.go")
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("--([a-z][a-z-]+)").FindAllStringSubmatch(manifest, -1) {
		named[m[1]] = true
	}
	for _, feature := range []string{"chatops", "bypass-issues", "audit-sink"} {
		if !named[feature] {
			t.Errorf("the App manifest does not say which permissions --%s needs", feature)
		}
	}
	for flag := range named {
		if !strings.Contains(source, `"`+flag+`", `) {
			t.Errorf("the App manifest names --%s, which promobot serve does not have", flag)
		}
	}
}
