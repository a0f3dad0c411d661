package gitrepo

import (
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
)

// tooLargeError says a blob is over the size the caller accepts.
type tooLargeError struct{ size, limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("file is %d bytes, larger than the limit of %d bytes", e.size, e.limit)
}

// readBlob reads the blob h, refusing, before reading it, a blob larger
// than limit bytes (a *tooLargeError).
func (r *Repo) readBlob(h plumbing.Hash, limit int64) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := r.objects.BlobObject(h)
	if err != nil {
		return nil, &Error{Op: "read blob " + h.String(), Err: err}
	}
	if b.Size > limit {
		return nil, &tooLargeError{size: b.Size, limit: limit}
	}
	rc, err := b.Reader()
	if err != nil {
		return nil, &Error{Op: "read blob " + h.String(), Err: err}
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, &Error{Op: "read blob " + h.String(), Err: err}
	}
	if int64(len(data)) > limit {
		return nil, &tooLargeError{size: int64(len(data)), limit: limit}
	}
	return data, nil
}
