package artifact

import (
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func fileURL(path string) *url.URL { return &url.URL{Scheme: "file", Path: path} }

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.pkl")
	data := testData(10_000)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var s FileStore
	ctx := t.Context()

	info, err := s.Stat(ctx, fileURL(path))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(data)) || info.ETag == "" {
		t.Fatalf("Stat = %+v", info)
	}

	t.Run("range", func(t *testing.T) {
		r, err := s.OpenRange(ctx, fileURL(path), info.ETag, 100, 50)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got, err := io.ReadAll(r)
		if err != nil || string(got) != string(data[100:150]) {
			t.Errorf("range = %d bytes, %v", len(got), err)
		}
	})
	t.Run("range past the end", func(t *testing.T) {
		if _, err := s.OpenRange(ctx, fileURL(path), info.ETag, 9_990, 20); !errors.Is(err, ErrChanged) {
			t.Errorf("error = %v, want ErrChanged", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := s.Stat(ctx, fileURL(filepath.Join(dir, "nope"))); !errors.Is(err, ErrNotFound) {
			t.Errorf("error = %v, want ErrNotFound", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if _, err := s.Stat(ctx, fileURL(dir)); !errors.Is(err, ErrNotFound) {
			t.Errorf("error = %v, want ErrNotFound", err)
		}
	})
	t.Run("not a file URL", func(t *testing.T) {
		if _, err := s.Stat(ctx, &url.URL{Scheme: "https", Host: "x", Path: path}); err == nil {
			t.Error("Stat accepted an https URL")
		}
	})
	t.Run("replaced file", func(t *testing.T) {
		other := filepath.Join(dir, "other")
		if err := os.WriteFile(other, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// Same size and modification time, different file.
		mtime := info.LastModified
		if err := os.Chtimes(other, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(other, path); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OpenRange(ctx, fileURL(path), info.ETag, 0, 10); !errors.Is(err, ErrChanged) {
			t.Errorf("error = %v, want ErrChanged", err)
		}
	})
	t.Run("rewritten file", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("in-place rewrites with a preserved mtime are only detected on Linux")
		}
		info, err := s.Stat(ctx, fileURL(path))
		if err != nil {
			t.Fatal(err)
		}
		// Same size, and the modification time is put back.
		if err := os.WriteFile(path, testData(10_001)[1:], 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, time.Now(), info.LastModified); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OpenRange(ctx, fileURL(path), info.ETag, 0, 10); !errors.Is(err, ErrChanged) {
			t.Errorf("error = %v, want ErrChanged", err)
		}
	})
}

func TestVerifyLocalFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "default", "model.pkl")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	data := testData(3 << 20)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	uri := "file://" + path
	cfg := Config{AllowedLocations: []string{"file://" + filepath.Dir(path) + "/"}, Stores: SchemeResolver{"file": FileStore{}}}

	t.Run("allowed", func(t *testing.T) {
		cfg := cfg
		cfg.AllowLocal = true
		v, err := NewVerifier(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(t.Context(), Spec{URI: uri, SHA256: sha256Hex(data)}, false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("local locations not allowed", func(t *testing.T) {
		v, err := NewVerifier(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(t.Context(), Spec{URI: uri, SHA256: sha256Hex(data)}, false)
		if got, _ := ReasonOf(err); got != ReasonLocationRefused {
			t.Errorf("error = %v, want %s", err, ReasonLocationRefused)
		}
	})
}
