package yamldoc

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// Buffer reads files into memory it reuses from one file to the next, so
// that a loop over many small files allocates nothing per file for their
// bytes. The zero value is ready to use; a Buffer is not safe for
// concurrent use.
type Buffer struct {
	buf []byte
}

// ReadFile is ReadFile into the buffer: the returned bytes are valid until
// the next call, so the caller must not keep them (nor anything that
// aliases them) past it.
func (b *Buffer) ReadFile(fsys fs.FS, p string, lim Limits) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("is a directory")}
	}
	if lim.MaxBytes > 0 && info.Size() > int64(lim.MaxBytes) {
		return nil, &Error{Message: fmt.Sprintf("file is %d bytes, larger than the limit of %d bytes", info.Size(), lim.MaxBytes)}
	}
	// One byte more than the size, so that one read sees the end.
	if need := int(info.Size()) + 1; cap(b.buf) < need {
		b.buf = make([]byte, max(need, 4<<10))
	}
	data := b.buf[:0]
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	b.buf = data[:0]
	return data, nil
}
