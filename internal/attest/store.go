package attest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/example-org/promobot/internal/artifact"
)

// Location names one attestation: the pin it is about and the key that
// signed it. A reader that knows the pin and its trusted keys computes the
// path of every candidate without listing the store.
type Location struct {
	// Repository is owner/name; it is lower-cased in the path, as GitHub
	// names are case-insensitive.
	Repository string
	// Environment, Model and Version are the manifest's.
	Environment, Model, Version string
	// ManifestBlob is the manifest's git blob id.
	ManifestBlob string
	// KeyID is the signing key's id; the path holds its sha256.
	KeyID string
}

var (
	ownerPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,38}$`)
	repoPattern    = regexp.MustCompile(`^[a-z0-9._-]{1,100}$`)
	namePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// Path returns the store-relative path
// v1/<owner>/<repo>/<environment>/<model>/<version>/<manifest blob>/<sha256 of key id>.sigstore.json.
// Every segment is checked, so a path never escapes its prefix.
func (l Location) Path() (string, error) {
	owner, repo, ok := strings.Cut(strings.ToLower(l.Repository), "/")
	switch {
	case !ok || !ownerPattern.MatchString(owner) || !repoPattern.MatchString(repo) || repo == "." || repo == "..":
		return "", fmt.Errorf("%q is not a repository owner/name", l.Repository)
	case !namePattern.MatchString(l.Environment):
		return "", fmt.Errorf("%q is not an environment name", l.Environment)
	case !namePattern.MatchString(l.Model):
		return "", fmt.Errorf("%q is not a model name", l.Model)
	case !versionPattern.MatchString(l.Version):
		return "", fmt.Errorf("%q is not a model version", l.Version)
	case !sha1Hex.MatchString(l.ManifestBlob):
		return "", fmt.Errorf("%q is not a git blob id", l.ManifestBlob)
	case l.KeyID == "":
		return "", errors.New("the location names no key id")
	}
	sum := sha256.Sum256([]byte(l.KeyID))
	return strings.Join([]string{"v1", owner, repo, l.Environment, l.Model, l.Version, l.ManifestBlob, hex.EncodeToString(sum[:]) + ".sigstore.json"}, "/"), nil
}

// Store keeps bundles write-once.
type Store interface {
	// Put stores data at path unless something is already there. Storing
	// the same bytes again succeeds (a retried write); different bytes
	// yield ErrExists. Service failures wrap ErrUnavailable.
	Put(ctx context.Context, path string, data []byte) error
	// Get returns the bundle at path, ErrNotFound when there is none, or an
	// error wrapping ErrUnavailable.
	Get(ctx context.Context, path string) ([]byte, error)
	// String names the store without secrets, for messages.
	String() string
}

// FileStore keeps bundles under a directory (file:DIR).
type FileStore struct {
	// Dir is the root directory.
	Dir string
}

// Put writes data to a temporary file and hard-links it into place, which
// fails if the path exists: readers never see a partial bundle and nothing
// is ever replaced.
func (s FileStore) Put(ctx context.Context, path string, data []byte) error {
	full, err := s.file(path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(full), ".put-*")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := os.Link(tmp.Name(), full); err != nil {
		if errors.Is(err, os.ErrExist) {
			return sameOrExists(s.Get(ctx, path))(data, path)
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// Get reads the bundle at path.
func (s FileStore) Get(_ context.Context, path string) ([]byte, error) {
	full, err := s.file(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(full)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer f.Close()
	return readBounded(f)
}

// String returns file:DIR.
func (s FileStore) String() string { return "file:" + s.Dir }

// file maps a store path onto the file system, refusing any path that is
// not local to the root.
func (s FileStore) file(path string) (string, error) {
	if s.Dir == "" {
		return "", errors.New("the file store has no directory")
	}
	rel := filepath.FromSlash(path)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%q is not a path inside the store", path)
	}
	return filepath.Join(s.Dir, rel), nil
}

// sameOrExists compares what a failed write found with what it wanted to
// write: identical bytes are a successful retry.
func sameOrExists(existing []byte, err error) func(data []byte, path string) error {
	return func(data []byte, path string) error {
		if err != nil {
			return fmt.Errorf("the path %s is taken and cannot be read back: %w", path, err)
		}
		if !bytes.Equal(existing, data) {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		return nil
	}
}

// readBounded reads at most maxBundleBytes.
func readBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if len(data) > maxBundleBytes {
		return nil, fmt.Errorf("the stored bundle is larger than %d bytes", maxBundleBytes)
	}
	return data, nil
}

// StoreOptions tunes OpenStore. The zero value is ready to use.
type StoreOptions struct {
	// BlobServiceURL replaces https://<account>.blob.core.windows.net as the
	// blob service of an azblob:// store, for sovereign clouds and Azurite
	// (path style, http://127.0.0.1:10000/<account>).
	BlobServiceURL string
	// HTTPClient sends blob requests; nil means a client that never
	// follows redirects.
	HTTPClient *http.Client
	// MaxRetries is how often the SDK retries one failed blob request;
	// zero means 3 and a negative value means none.
	MaxRetries int32
}

// OpenStore opens azblob://ACCOUNT/CONTAINER[/PREFIX] or file:DIR.
func OpenStore(uri string, creds artifact.Credentials, opts *StoreOptions) (Store, error) {
	if opts == nil {
		opts = &StoreOptions{}
	}
	if dir, ok := strings.CutPrefix(uri, "file:"); ok {
		if dir == "" {
			return nil, errors.New("file: names no directory; use file:DIR")
		}
		return FileStore{Dir: dir}, nil
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "azblob" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("%q is not an attestation store (azblob://ACCOUNT/CONTAINER/PREFIX or file:DIR)", uri)
	}
	segs := strings.SplitN(strings.Trim(u.Path, "/"), "/", 2)
	if u.Host == "" || segs[0] == "" {
		return nil, fmt.Errorf("%q names no account and container (azblob://ACCOUNT/CONTAINER/PREFIX)", uri)
	}
	prefix := ""
	if len(segs) == 2 {
		prefix = segs[1]
	}
	return newBlobStore(u.Host, segs[0], prefix, creds, opts)
}
