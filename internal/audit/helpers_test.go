package audit

import (
	"os"
	"slices"
)

func sortedStrings(s []string) []string { return slices.Sorted(slices.Values(s)) }

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }

func writeFile(t interface {
	Helper()
	Fatal(...any)
}, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
