package promote

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// baseFiles returns the sample repository under testdata/base as a map
// from slash path to contents.
func baseFiles(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	root := filepath.Join("testdata", "base")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// baseFSFor returns the sample repository as a file system.
func baseFSFor(t testing.TB) fs.FS { return baseFSWith(t, nil) }

// baseFS returns the sample repository with edits applied: a value
// replaces a file, an empty value removes it.
func baseFS(t *testing.T, edits map[string]string) fs.FS { return baseFSWith(t, edits) }

func baseFSWith(t testing.TB, edits map[string]string) fs.FS {
	t.Helper()
	files := baseFiles(t)
	for p, c := range edits {
		if c == "" {
			delete(files, p)
		} else {
			files[p] = c
		}
	}
	m := fstest.MapFS{}
	for p, c := range files {
		m[p] = &fstest.MapFile{Data: []byte(c), Mode: 0o644}
	}
	return m
}

// golden compares got with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

// block returns the lines of a top-level YAML block: the key line and the
// indented lines under it.
func block(t *testing.T, doc, key string) string {
	t.Helper()
	lines := strings.SplitAfter(doc, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, key+":") {
			continue
		}
		j := i + 1
		for j < len(lines) && (strings.HasPrefix(lines[j], " ") || strings.HasPrefix(lines[j], "\t")) {
			j++
		}
		return strings.Join(lines[i:j], "")
	}
	t.Fatalf("no %s block in\n%s", key, doc)
	return ""
}
