package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

var benchFile = flag.String("artifact.benchfile", "",
	"path of the 1 GiB file BenchmarkVerify1GiB verifies; created if missing and kept, so that "+
		"`openssl dgst -sha256` can be timed on the same bytes (default: a temporary file)")

const benchSize = 1 << 30

// writeBenchFile fills path with benchSize pseudo-random bytes.
func writeBenchFile(b *testing.B, path string) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	var seed [32]byte
	src := io.LimitReader(rand.NewChaCha8(seed), benchSize)
	if _, err := io.CopyBuffer(f, src, make([]byte, 4<<20)); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkVerify1GiB verifies a 1 GiB local file (digest only) and
// reports its throughput; compare with `openssl dgst -sha256` on the file
// given by -artifact.benchfile.
func BenchmarkVerify1GiB(b *testing.B) {
	path := *benchFile
	if path == "" {
		path = filepath.Join(b.TempDir(), "model.bin")
	}
	path, err := filepath.Abs(path)
	if err != nil {
		b.Fatal(err)
	}
	if fi, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		writeBenchFile(b, path)
	} else if err != nil {
		b.Fatal(err)
	} else if fi.Size() != benchSize {
		b.Fatalf("%s has %d bytes, want %d", path, fi.Size(), benchSize)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 4<<20)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	digest := hex.EncodeToString(h.Sum(nil))

	v, err := NewVerifier(Config{
		AllowedLocations: []string{"file://" + filepath.Dir(path) + "/"},
		AllowLocal:       true,
		Stores:           SchemeResolver{"file": FileStore{}},
	})
	if err != nil {
		b.Fatal(err)
	}
	spec := Spec{URI: "file://" + path, SHA256: digest, Size: ptr(int64(benchSize))}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(b.Context(), spec, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSHA256 is the hashing ceiling: crypto/sha256 over a buffer that
// stays in cache, with no I/O.
func BenchmarkSHA256(b *testing.B) {
	buf := make([]byte, 1<<20)
	h := sha256.New()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		h.Write(buf)
	}
}
