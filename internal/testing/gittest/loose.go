package gittest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// looseWriters keeps zlib writers from one object to the next. Making one
// costs about a megabyte (the compressor's tables): go-git's own writer
// pool is a sync.Pool, which the race detector empties at random and every
// collection empties too, so building the fixtures of a package made
// gigabytes of compressors, and under -race their shadow memory was the
// largest cost of the whole test run.
var looseWriters = make(chan *zlib.Writer, 8)

// storeObject stores obj in repo and returns its hash. In a repository on
// disk it writes the loose object itself, in git's format (zlib of "type
// size\x00content" at objects/xx/yyyy…), with a kept writer; in any other
// storage it asks go-git. Objects already present are left as they are.
func storeObject(repo *git.Repository, obj plumbing.EncodedObject) (plumbing.Hash, error) {
	fs, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return repo.Storer.SetEncodedObject(obj)
	}
	r, err := obj.Reader()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	content, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	h := plumbing.ComputeHash(obj.Type(), content)
	hex := h.String()
	dir := filepath.Join(fs.Filesystem().Root(), "objects", hex[:2])
	path := filepath.Join(dir, hex[2:])
	if _, err := os.Stat(path); err == nil {
		return h, nil
	}
	var buf bytes.Buffer
	buf.Grow(len(content)/2 + 64)
	zw := looseWriter(&buf)
	fmt.Fprintf(zw, "%s %d\x00", obj.Type(), len(content))
	_, err = zw.Write(content)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	select {
	case looseWriters <- zw:
	default:
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: compress %s: %w", hex, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: store %s: %w", hex, err)
	}
	tmp, err := os.CreateTemp(dir, "tmp_obj_")
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: store %s: %w", hex, err)
	}
	_, werr := tmp.Write(buf.Bytes())
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o444)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return plumbing.ZeroHash, fmt.Errorf("gittest: store %s: %w", hex, werr)
	}
	return h, nil
}

// looseWriter returns a kept zlib writer reset to w, or a new one.
func looseWriter(w io.Writer) *zlib.Writer {
	select {
	case zw := <-looseWriters:
		zw.Reset(w)
		return zw
	default:
		zw, _ := zlib.NewWriterLevel(w, zlib.BestSpeed)
		return zw
	}
}
