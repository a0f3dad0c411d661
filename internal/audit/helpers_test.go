package audit

import (
	"os"
	"testing"

	"github.com/example-org/promobot/internal/testing/audittest"
)

func writeFile(t interface {
	Helper()
	Fatal(...any)
}, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// repositorySamples reads the repository's own sample manifests.
func repositorySamples(t testing.TB) audittest.Samples {
	t.Helper()
	root, err := audittest.RepositoryRoot()
	if err != nil {
		t.Fatal(err)
	}
	s, err := audittest.ReadSamples(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
