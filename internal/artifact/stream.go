package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"
)

// streamer copies an object out of a store in ranged requests pinned to
// its ETag, retrying interrupted reads from where they stopped. Reading and
// consuming overlap: one goroutine fills a small fixed pool of buffers while
// the caller's goroutine hashes (and writes) the previous ones, so memory is
// bounded by buffers*bufferSize whatever the object's size.
type streamer struct {
	// rangeSize is the most bytes asked for in one request; every request
	// carries the pinned ETag, so a change is noticed within this many
	// bytes even when no read fails.
	rangeSize int64
	// bufferSize and buffers size the buffer pool.
	bufferSize int
	buffers    int
	// maxRetries is how many consecutive failed attempts without progress
	// are tolerated before giving up.
	maxRetries int
	// retryDelay returns the pause before retry number attempt (1-based).
	retryDelay func(attempt int) time.Duration
}

// defaultStreamer suits both Azure (large ranges amortise request latency)
// and local files (4 MiB of buffers keep SHA-NI hashing busy).
func defaultStreamer() streamer {
	return streamer{
		rangeSize:  64 << 20,
		bufferSize: 1 << 20,
		buffers:    4,
		maxRetries: 4,
		retryDelay: func(attempt int) time.Duration {
			return time.Duration(250<<min(attempt-1, 5)) * time.Millisecond
		},
	}
}

// errConsumerStopped tells the producer the consumer has given up.
var errConsumerStopped = errors.New("consumer stopped")

// copyPinned writes bytes [0, info.Size) of the object at u to w. It
// returns the number of bytes written. Errors wrap ErrChanged when the
// object changed or disappeared during the read.
func (s streamer) copyPinned(ctx context.Context, store Store, u *url.URL, info Info, w io.Writer) (int64, error) {
	if info.Size == 0 {
		return 0, nil
	}
	free := make(chan []byte, s.buffers)
	full := make(chan []byte, s.buffers)
	for range s.buffers {
		free <- make([]byte, s.bufferSize)
	}
	stop := make(chan struct{})
	var produceErr error
	go func() {
		defer close(full)
		produceErr = s.produce(ctx, store, u, info, free, full, stop)
	}()

	var written int64
	var writeErr error
	for buf := range full {
		if writeErr == nil {
			if _, err := w.Write(buf); err != nil {
				writeErr = err
				close(stop)
			} else {
				written += int64(len(buf))
			}
		}
		free <- buf[:cap(buf)]
	}
	// full is closed only after produceErr is set.
	if writeErr != nil {
		return written, fmt.Errorf("writing the artifact: %w", writeErr)
	}
	if produceErr != nil {
		return written, produceErr
	}
	if written != info.Size {
		return written, fmt.Errorf("read %d bytes but the artifact has %d: %w", written, info.Size, ErrChanged)
	}
	return written, nil
}

// produce reads the object range by range into free buffers and hands them
// over on full, until the whole object has been read.
func (s streamer) produce(ctx context.Context, store Store, u *url.URL, info Info, free chan []byte, full chan<- []byte, stop <-chan struct{}) error {
	var (
		offset   int64
		body     io.ReadCloser
		bodyEnd  int64
		failures int
		lastErr  error
	)
	defer func() {
		if body != nil {
			body.Close()
		}
	}()
	// fail records a failed attempt and waits before the next one; it
	// returns an error when the attempt must not be retried.
	fail := func(err error) error {
		if body != nil {
			body.Close()
			body = nil
		}
		if errors.Is(err, ErrChanged) {
			return fmt.Errorf("reading at offset %d: %w", offset, err)
		}
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("reading at offset %d: it was deleted (%w): %w", offset, ErrChanged, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		failures++
		lastErr = err
		if failures > s.maxRetries {
			return fmt.Errorf("reading at offset %d failed %d times in a row: %w", offset, failures, lastErr)
		}
		t := time.NewTimer(s.retryDelay(failures))
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return errConsumerStopped
		}
	}

	for offset < info.Size {
		if err := ctx.Err(); err != nil {
			return err
		}
		if body == nil {
			length := min(s.rangeSize, info.Size-offset)
			b, err := store.OpenRange(ctx, u, info.ETag, offset, length)
			if err != nil {
				if ferr := fail(err); ferr != nil {
					return ferr
				}
				continue
			}
			body, bodyEnd = b, offset+length
		}

		var buf []byte
		select {
		case buf = <-free:
		case <-stop:
			return errConsumerStopped
		case <-ctx.Done():
			return ctx.Err()
		}
		n, err := io.ReadFull(body, buf[:min(int64(len(buf)), bodyEnd-offset)])
		if n > 0 {
			offset += int64(n)
			failures = 0
			select {
			case full <- buf[:n]:
			case <-stop:
				return errConsumerStopped
			}
		} else {
			// Not handed over: put it back (free has room for it).
			free <- buf
		}
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				err = fmt.Errorf("the response ended at offset %d before the requested range did: %w", offset, io.ErrUnexpectedEOF)
			}
			if ferr := fail(err); ferr != nil {
				return ferr
			}
			continue
		}
		if offset == bodyEnd {
			body.Close()
			body = nil
		}
	}
	return nil
}
