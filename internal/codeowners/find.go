package codeowners

import (
	"errors"
	"fmt"
	"slices"
)

// Locations are the paths where GitHub looks for a CODEOWNERS file, in the
// order it searches them; the first file found is used and the others are
// ignored.
var Locations = slices.Clone(locations[:])

// locations is the search order Find uses; Locations is exported for display
// and is not trusted to stay unmodified.
var locations = [...]string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// MaxFileSize is the size from which GitHub does not load a CODEOWNERS file
// ("CODEOWNERS files must be under 3 MB in size").
const MaxFileSize = 3 << 20

// ErrNotFound is returned by Find when no location holds a CODEOWNERS file.
// Retrying does not help; the repository has no code owners.
var ErrNotFound = errors.New("codeowners: no CODEOWNERS file in .github/, the root or docs/")

// ErrTooLarge is returned by Find when the CODEOWNERS file GitHub would use is
// too large for GitHub to load. Retrying does not help until the file shrinks.
var ErrTooLarge = errors.New("codeowners: CODEOWNERS file is too large for GitHub to load")

// Find returns the path and contents of the CODEOWNERS file GitHub would use.
// read is called with each of Locations in order and reports the file's
// contents and whether it exists. An error from read stops the search and is
// returned wrapped, because a later location must not stand in for an earlier
// one that could not be read; whether a retry helps is up to read's error.
// Find returns ErrNotFound when no file exists and ErrTooLarge, with the path,
// when the first file found is MaxFileSize bytes or larger.
func Find(read func(path string) ([]byte, bool, error)) (path string, data []byte, err error) {
	for _, p := range locations {
		data, ok, err := read(p)
		if err != nil {
			return "", nil, fmt.Errorf("codeowners: read %s: %w", p, err)
		}
		if !ok {
			continue
		}
		if len(data) >= MaxFileSize {
			return p, nil, fmt.Errorf("%w: %s is %d bytes; GitHub loads only files under %d bytes", ErrTooLarge, p, len(data), MaxFileSize)
		}
		return p, data, nil
	}
	return "", nil, ErrNotFound
}
