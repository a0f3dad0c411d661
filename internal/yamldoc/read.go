package yamldoc

import (
	"fmt"
	"io/fs"

	"github.com/example-org/promobot/internal/diag"
)

// Problem returns the error as a problem about file.
func (e *Error) Problem(file string) diag.Problem {
	return diag.Problem{File: file, Line: e.Line, Column: e.Column, Message: e.Message}
}

// ReadFile reads p from fsys, refusing a file over lim.MaxBytes with an
// *Error before reading it, so an oversized file costs no memory.
func ReadFile(fsys fs.FS, p string, lim Limits) ([]byte, error) {
	info, err := fs.Stat(fsys, p)
	if err != nil {
		return nil, err
	}
	if lim.MaxBytes > 0 && info.Size() > int64(lim.MaxBytes) {
		return nil, &Error{Message: fmt.Sprintf("file is %d bytes, larger than the limit of %d bytes", info.Size(), lim.MaxBytes)}
	}
	return fs.ReadFile(fsys, p)
}
