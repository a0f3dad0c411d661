package artifact

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/example-org/promobot/internal/location"
)

// Download verifies the artifact named by spec exactly as Verify does while
// writing its bytes to a temporary file next to destPath, and only when
// every check passes syncs that file and renames it to destPath. On any
// failure the temporary file is removed and destPath is left untouched, so
// a file at destPath is always a complete, verified artifact.
func (v *Verifier) Download(ctx context.Context, spec Spec, requireSignature bool, destPath string) (Result, error) {
	dir, base := filepath.Split(destPath)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		res := newResult(location.Redact(spec.URI))
		return *res, v.fail(ReasonInvalidSpec, spec, fmt.Sprintf("the destination %q is a directory, not a file path", destPath), nil)
	}
	f, err := os.CreateTemp(dir, "."+base+".partial-*")
	if err != nil {
		res := newResult(location.Redact(spec.URI))
		return *res, v.fail(ReasonUnavailable, spec, "could not create a temporary file next to the destination", err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()

	res, err := v.run(ctx, spec, requireSignature, f)
	if err != nil {
		return res, err
	}
	if err := f.Sync(); err != nil {
		return res, v.fail(ReasonUnavailable, spec, "could not flush the downloaded artifact to disk", err)
	}
	if err := f.Close(); err != nil {
		return res, v.fail(ReasonUnavailable, spec, "could not close the downloaded artifact", err)
	}
	if err := os.Rename(tmp, destPath); err != nil {
		return res, v.fail(ReasonUnavailable, spec, "could not move the downloaded artifact into place", err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		// The verified file is in place; only its durability across a
		// crash is in doubt, which is not worth failing the download for.
		v.logger.WarnContext(ctx, "could not sync the directory of a downloaded artifact", "dir", dir, "error", err)
	}
	return res, nil
}

// syncDir flushes a directory entry change (the rename) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems cannot sync directories; that is not worth failing
	// a verified download for.
	if errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}
