package resolve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/artifactcheck"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/manifest"
)

// downloadSBOM reads the SBOM m names through v, checks its digest and
// format, and writes it to dest through a temporary file renamed into
// place; on failure nothing is left at dest.
func downloadSBOM(ctx context.Context, v *artifact.Verifier, m *manifest.Manifest, dest string) error {
	p := manifest.Path(m.Environment, m.Model)
	if m.SBOM == nil {
		return errors.Join(refuse(p, "%s: --sbom was given but the manifest names no SBOM", p), removeIfPresent(dest))
	}
	data, check := artifactcheck.ReadSBOM(ctx, v, m.SBOM)
	switch {
	case check.Unavailable:
		return errors.Join(failure.UnavailableError(fmt.Errorf("could not read the SBOM of %s: %s", p, check.Detail)), removeIfPresent(dest))
	case !check.Verified:
		return errors.Join(refuse(p, "%s: SBOM: %s", p, check.Detail), removeIfPresent(dest))
	}
	if err := writeFileAtomic(dest, data); err != nil {
		return errors.Join(fmt.Errorf("write the SBOM of %s: %w", p, err), removeIfPresent(dest))
	}
	return nil
}

// writeFileAtomic writes data to a temporary file next to dest, syncs it
// and renames it into place.
func writeFileAtomic(dest string, data []byte) error {
	dir, base := filepath.Split(dest)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".partial-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dest)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// removeIfPresent removes path, which may not exist.
func removeIfPresent(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
