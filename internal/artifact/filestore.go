package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"

	"github.com/example-org/promobot/internal/location"
)

// FileStore reads artifacts from the local file system through file://
// URLs. It serves the embedded default artifact and local development; the
// policy must allow local locations for its URLs to pass the location
// check. The ETag of a file is derived from its size, modification time and
// identity (device and inode), so replacing or rewriting a file while it is
// read is detected.
type FileStore struct{}

// Stat describes the regular file at u.
func (FileStore) Stat(ctx context.Context, u *url.URL) (Info, error) {
	path, err := filePath(u)
	if err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Info{}, fmt.Errorf("%s: %w", path, ErrNotFound)
		}
		return Info{}, err
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%s is not a regular file: %w", path, ErrNotFound)
	}
	return Info{Size: fi.Size(), ETag: fileETag(fi), LastModified: fi.ModTime()}, nil
}

// OpenRange opens the file at u and returns length bytes from offset,
// provided the file's ETag still equals etag.
func (FileStore) OpenRange(ctx context.Context, u *url.URL, etag string, offset, length int64) (io.ReadCloser, error) {
	path, err := filePath(u)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if got := fileETag(fi); got != etag {
		f.Close()
		return nil, fmt.Errorf("%s now has ETag %s, not %s: %w", path, got, etag, ErrChanged)
	}
	if offset < 0 || length < 0 || offset+length > fi.Size() {
		f.Close()
		return nil, fmt.Errorf("range %d+%d is outside %s (%d bytes): %w", offset, length, path, fi.Size(), ErrChanged)
	}
	return &fileRange{SectionReader: io.NewSectionReader(f, offset, length), f: f}, nil
}

// filePath returns the local path of a file:// URL.
func filePath(u *url.URL) (string, error) {
	if u.Scheme != "file" || u.Host != "" || u.Path == "" {
		return "", fmt.Errorf("the file store only serves file:///absolute/path URLs, not %s", location.Redact(u.String()))
	}
	return u.Path, nil
}

// fileRange is a section of an open file that closes the file.
type fileRange struct {
	*io.SectionReader
	f *os.File
}

// Close closes the underlying file.
func (r *fileRange) Close() error { return r.f.Close() }

// fileETag derives a version identifier from the file's metadata.
func fileETag(fi fs.FileInfo) string {
	return fmt.Sprintf("%x-%x-%s", fi.Size(), fi.ModTime().UnixNano(), fileIdentity(fi))
}
