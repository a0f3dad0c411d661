package chain

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/example-org/promobot/internal/failure"
)

func TestReadExisting(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		path string
		want failure.Kind
	}{
		{name: "missing", path: filepath.Join(dir, "missing.jsonl"), want: failure.NotFound},
		{name: "a folder", path: dir, want: failure.Unavailable},
		{name: "empty", path: empty, want: failure.Unknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadExisting(t.Context(), FileSink{Path: c.path})
			if got := failure.KindOf(err); got != c.want {
				t.Errorf("kind %v (%v), want %v", got, err, c.want)
			}
		})
	}
}
