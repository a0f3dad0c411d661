package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// indexFormat changes whenever the index layout or the walk's output does.
const indexFormat = 2

// index is the incremental audit index of one ref: the manifest changes of
// its first-parent history up to Tip. It is a cache: losing it costs one
// full walk, and a damaged file is ignored.
type index struct {
	Format  int             `json:"format"`
	Ref     string          `json:"ref"`
	Tip     string          `json:"tip"`
	Commits []CommitChanges `json:"commits"`
}

// indexPath returns the index file of ref under dir.
func indexPath(dir, ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return filepath.Join(dir, "audit-index", hex.EncodeToString(sum[:8])+".gob")
}

// loadIndex reads the index of ref; a missing or unusable file yields an
// empty index and, when damaged, an error for the log.
func loadIndex(dir, ref string) (*index, error) {
	data, err := os.ReadFile(indexPath(dir, ref))
	if errors.Is(err, os.ErrNotExist) {
		return &index{}, nil
	}
	if err != nil {
		return &index{}, err
	}
	var idx index
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&idx); err != nil {
		return &index{}, fmt.Errorf("audit index %s is damaged, rebuilding: %w", indexPath(dir, ref), err)
	}
	if idx.Format != indexFormat || idx.Ref != ref {
		return &index{}, nil
	}
	return &idx, nil
}

// save writes the index atomically.
func (idx *index) save(dir string) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(idx); err != nil {
		return err
	}
	return WriteCacheFile(indexPath(dir, idx.Ref), buf.Bytes())
}

// WriteCacheFile writes data to the file p, creating its folder, through a
// temporary file and a rename, so that a reader sees the old contents or the
// new ones and never a partial file.
func WriteCacheFile(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+"-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}
