package gitrepo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/gitrepo/objectstore"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// TestOpenFast opens a repository with the fast reader, as the audit does,
// and reads a commit with it; a shallow boundary is read from the shallow
// file.
func TestOpenFast(t *testing.T) {
	path := gittest.MustInitBare(t, t.TempDir(), "app.git", "main")
	tip := plumbing.NewHash(gittest.MustCommit(t, path, gittest.Commit{Branch: "main", Files: map[string]string{"README": "hi\n"}, Message: "init\n"}))
	tests := []struct {
		name    string
		shallow bool
	}{
		{name: "full clone"},
		{name: "shallow clone", shallow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.shallow {
				if err := os.WriteFile(filepath.Join(path, "shallow"), []byte(tip.String()+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			loc, err := Locate(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := loc.OpenFast(FastOptions{})
			if err != nil {
				t.Fatalf("OpenFast: %v", err)
			}
			defer f.Close()
			if got := f.Shallow[tip]; got != tt.shallow {
				t.Errorf("Shallow[tip] = %v, want %v", got, tt.shallow)
			}
			if tt.shallow && f.Graph != nil {
				t.Errorf("a shallow clone's commit-graph was used")
			}
			data, err := f.Store.ReadType(tip, objectstore.Commit)
			if err != nil {
				t.Fatalf("read the tip: %v", err)
			}
			if _, err := objectstore.ParseCommit(data); err != nil {
				t.Errorf("parse the tip: %v", err)
			}
		})
	}
}
