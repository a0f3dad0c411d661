package artifact

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"sync"
	"testing"
	"time"
)

// newKey generates a P-256 key pair for a test.
func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signDER returns the base64 ASN.1 DER signature over sha256(data), the
// format `cosign sign-blob --key` writes.
func signDER(t testing.TB, k *ecdsa.PrivateKey, data []byte) string {
	t.Helper()
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// signP1363 returns the base64 IEEE P1363 (r‖s) signature over sha256(data).
func signP1363(t testing.TB, k *ecdsa.PrivateKey, data []byte) string {
	t.Helper()
	sum := sha256.Sum256(data)
	r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return base64.StdEncoding.EncodeToString(sig)
}

// sha256Hex returns the hex digest of data.
func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// testData returns n deterministic, non-repeating-looking bytes.
func testData(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// fakeObject is one object held by fakeStore.
type fakeObject struct {
	data []byte
	etag string
}

// fakeStore is an in-memory Store that can inject failures. It records
// every call so tests can prove that refused URIs cause no access.
type fakeStore struct {
	mu      sync.Mutex
	objects map[string]fakeObject
	calls   []string
	// openErr, when set, is consulted before each OpenRange; a non-nil
	// result is returned instead of opening.
	openErr func(call int, offset int64) error
	// cutAfter, when positive, makes every body fail with a reset after
	// that many bytes.
	cutAfter int64
	// onOpen runs after each successful OpenRange (outside the lock).
	onOpen func(call int)
	opens  int
}

func newFakeStore() *fakeStore { return &fakeStore{objects: map[string]fakeObject{}} }

func (s *fakeStore) put(uri string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[uri] = fakeObject{data: data, etag: fmt.Sprintf("\"0x%x\"", time.Now().UnixNano())}
}

func (s *fakeStore) callLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *fakeStore) Stat(ctx context.Context, u *url.URL) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "stat "+u.String())
	o, ok := s.objects[u.String()]
	if !ok {
		return Info{}, fmt.Errorf("fake: %s: %w", u, ErrNotFound)
	}
	return Info{Size: int64(len(o.data)), ETag: o.etag}, nil
}

func (s *fakeStore) OpenRange(ctx context.Context, u *url.URL, etag string, offset, length int64) (io.ReadCloser, error) {
	s.mu.Lock()
	s.opens++
	call := s.opens
	s.calls = append(s.calls, fmt.Sprintf("open %s %d+%d", u, offset, length))
	if s.openErr != nil {
		if err := s.openErr(call, offset); err != nil {
			s.mu.Unlock()
			return nil, err
		}
	}
	o, ok := s.objects[u.String()]
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("fake: %s: %w", u, ErrNotFound)
	}
	if o.etag != etag {
		s.mu.Unlock()
		return nil, fmt.Errorf("fake: etag %s != %s: %w", o.etag, etag, ErrChanged)
	}
	var r io.Reader = bytes.NewReader(o.data[offset : offset+length])
	if s.cutAfter > 0 {
		r = io.MultiReader(io.LimitReader(r, s.cutAfter), errReader{fmt.Errorf("fake: connection reset")})
	}
	onOpen := s.onOpen
	s.mu.Unlock()
	if onOpen != nil {
		onOpen(call)
	}
	return io.NopCloser(r), nil
}

// errReader always fails with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// fastStreamer is the default streamer with small ranges and buffers and
// no retry delay, so tests exercise many ranges quickly.
func fastStreamer() streamer {
	s := defaultStreamer()
	s.rangeSize = 64 << 10
	s.bufferSize = 16 << 10
	s.retryDelay = func(int) time.Duration { return 0 }
	return s
}
