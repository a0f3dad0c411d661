package main

// The operations and deployment guides name metrics and environment
// variables; these tests keep them true to the code.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readDoc reads a file relative to the module root.
func readDoc(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// metricNames returns the names of the metrics the bot serves, read from
// the metric definitions in internal/bot/metrics, so a metric added there
// and not documented fails the test below.
func metricNames(t *testing.T) []string {
	t.Helper()
	sources, err := filepath.Glob(filepath.Join("..", "..", "internal", "bot", "metrics", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	definition := regexp.MustCompile(`Namespace:\s*namespace,\s*Name:\s*"([a-z_]+)"`)
	var names []string
	for _, path := range sources {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range definition.FindAllStringSubmatch(string(data), -1) {
			names = append(names, "promobot_"+m[1])
		}
	}
	// The drift monitor's gauges, served when --drift-reports is set.
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "bot", "driftmonitor", "driftmonitor.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`Name:\s*"(promobot_[a-z_]+)"`).FindAllStringSubmatch(string(data), -1) {
		names = append(names, m[1])
	}
	return names
}

func TestOperationsGuideNamesTheMetrics(t *testing.T) {
	served := metricNames(t)
	if len(served) < 8 {
		t.Fatalf("only %v found", served)
	}
	mention := regexp.MustCompile(`promobot_[a-z_]+[a-z]`)
	suffixes := regexp.MustCompile(`_(bucket|count|sum)$`)
	for _, doc := range []string{"docs/operations.md", "docs/deploy.md"} {
		text := readDoc(t, doc)
		mentioned := map[string]bool{}
		for _, name := range mention.FindAllString(text, -1) {
			base := suffixes.ReplaceAllString(name, "")
			if !slices.Contains(served, name) && !slices.Contains(served, base) {
				t.Errorf("%s names %s, which the bot does not serve", doc, name)
			}
			mentioned[base] = true
		}
		if doc != "docs/operations.md" {
			continue
		}
		for _, name := range served {
			if !mentioned[name] {
				t.Errorf("%s does not document the metric %s", doc, name)
			}
		}
	}
}

// TestDocsUseOnlyRealVariables keeps the deployment guides honest: every
// PROMOBOT_ variable they set is one promobot serve reads.
func TestDocsUseOnlyRealVariables(t *testing.T) {
	known := map[string]bool{}
	for _, m := range serveEnv {
		known[m.env] = true
	}
	variable := regexp.MustCompile(`PROMOBOT_[A-Z_]+[A-Z]`)
	for _, doc := range []string{"docs/deploy.md", "docs/operations.md"} {
		for _, v := range variable.FindAllString(readDoc(t, doc), -1) {
			if !known[v] {
				t.Errorf("%s sets %s, which promobot serve does not read", doc, v)
			}
		}
	}
}
