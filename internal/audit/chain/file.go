package chain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// FileSink is a log in a local file. Appends take an exclusive lock on the
// file where the platform has one, check the file's length and write at
// its end.
type FileSink struct {
	// Path is the file.
	Path string
}

// String implements Sink.
func (f FileSink) String() string { return "file:" + f.Path }

// Read implements Sink. It holds a shared lock while reading, so it never
// sees an append in progress.
func (f FileSink) Read(ctx context.Context) ([]byte, error) {
	file, err := os.Open(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer file.Close()
	unlock, err := lockFile(file, false)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", f.Path, err)
	}
	defer unlock()
	return io.ReadAll(file)
}

// Append implements Sink.
func (f FileSink) Append(ctx context.Context, offset int64, data []byte) error {
	file, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer file.Close()
	unlock, err := lockFile(file, true)
	if err != nil {
		return fmt.Errorf("lock %s: %w", f.Path, err)
	}
	defer unlock()
	st, err := file.Stat()
	if err != nil {
		return err
	}
	if st.Size() != offset {
		return fmt.Errorf("%s is %d bytes, expected %d: %w", f.Path, st.Size(), offset, ErrConflict)
	}
	if _, err := file.Write(data); err != nil {
		return err
	}
	return file.Sync()
}
