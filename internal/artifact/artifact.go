// Package artifact fetches model artifacts from storage and proves that they
// are the bytes a manifest promised: the object exists at an allowed
// location, its size and sha256 match, and its signature verifies with a
// trusted key.
//
// Storage is reached through the small Store interface, implemented for
// Azure Blob Storage (BlobStore) and local files (FileStore). Reads are
// streamed in ranged requests pinned to the object's ETag, so an object that
// changes while it is read fails verification instead of yielding a mix of
// old and new bytes, and memory stays flat whatever the artifact's size.
package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"
)

// Spec names an artifact and states what it must be. The caller maps its
// manifest onto it.
type Spec struct {
	// URI locates the artifact, e.g. https://<account>.blob.core.windows.net/<container>/<path>.
	URI string
	// SHA256 is the expected hex digest of the bytes (64 characters, an
	// optional "sha256:" prefix is accepted).
	SHA256 string
	// Size is the expected length in bytes, or nil when the manifest does
	// not state one.
	Size *int64
	// Signature is the base64 ECDSA signature over the sha256 digest of the
	// bytes, or empty when the artifact is unsigned.
	Signature string
}

// Info describes a stored object as reported by its store.
type Info struct {
	// Size is the object's length in bytes.
	Size int64
	// ETag identifies this version of the object; reads are pinned to it.
	ETag string
	// LastModified is when the object was last written, if known.
	LastModified time.Time
	// ContentMD5 is the MD5 digest the store keeps for the object, if any.
	ContentMD5 []byte
	// Metadata holds the object's user-defined metadata, if any.
	Metadata map[string]string
}

// Store reads objects from one kind of storage. Implementations trust the
// URL they are given: callers must pass only URLs that location.Check has
// accepted, which the Verifier does.
type Store interface {
	// Stat describes the object at u. It returns an error wrapping
	// ErrNotFound when the object does not exist.
	Stat(ctx context.Context, u *url.URL) (Info, error)
	// OpenRange returns length bytes of the object at u starting at
	// offset, provided its ETag still equals etag. It returns an error
	// wrapping ErrChanged when the object has changed and ErrNotFound when
	// it has been deleted. The caller closes the reader.
	OpenRange(ctx context.Context, u *url.URL, etag string, offset, length int64) (io.ReadCloser, error)
}

// ErrNotFound is wrapped by Store errors for objects that do not exist.
var ErrNotFound = errors.New("the artifact does not exist")

// ErrChanged is wrapped by Store errors for objects whose ETag no longer
// matches the one a read is pinned to.
var ErrChanged = errors.New("the artifact changed while it was being read")

// Resolver picks the Store that serves a URL.
type Resolver interface {
	// StoreFor returns the store for u, or an error when none serves it.
	StoreFor(u *url.URL) (Store, error)
}

// SchemeResolver picks a store by the URL's scheme ("https", "http",
// "file"). A scheme without an entry is not served.
type SchemeResolver map[string]Store

// StoreFor returns the store registered for u's scheme.
func (r SchemeResolver) StoreFor(u *url.URL) (Store, error) {
	if s, ok := r[u.Scheme]; ok && s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("no artifact store is configured for %s:// URIs", u.Scheme)
}
