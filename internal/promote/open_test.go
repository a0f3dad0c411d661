package promote

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5"
)

// TestOpenRepository opens a bare repository (the bot's mirrors are bare), a
// working tree, and a folder inside a working tree.
func TestOpenRepository(t *testing.T) {
	dir := t.TempDir()
	bare := filepath.Join(dir, "bare.git")
	if _, err := git.PlainInit(bare, true); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	if _, err := git.PlainInit(tree, false); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(tree, "environments", "prod")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bare, tree, sub} {
		if _, err := openRepository(p); err != nil {
			t.Errorf("openRepository(%s): %v", p, err)
		}
	}
	if _, err := openRepository(filepath.Join(dir, "nothing")); err == nil {
		t.Error("opened a folder that is no repository")
	}
}
