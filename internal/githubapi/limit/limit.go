// Package limit caps how many requests one GitHub App installation has in
// flight at once. GitHub's secondary rate limits punish concurrency, and a
// bot with several workers evaluating pull requests of the same
// installation would otherwise multiply it.
//
// A request holds its slot from the moment it is sent until its response
// body is read to the end or closed, or until it fails; waiting for a slot
// ends with the request's context.
package limit

import (
	"context"
	"io"
	"net/http"
	"sync"
)

// DefaultMaxInFlight is the default cap per installation.
const DefaultMaxInFlight = 4

// Limiter hands out a fixed number of slots. It is safe for concurrent use.
type Limiter struct {
	slots chan struct{}
}

// New returns a limiter of n slots; n <= 0 means DefaultMaxInFlight.
func New(n int) *Limiter {
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	return &Limiter{slots: make(chan struct{}, n)}
}

// Acquire takes a slot, waiting until one is free or ctx ends.
func (l *Limiter) Acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release gives back a slot taken by Acquire.
func (l *Limiter) Release() { <-l.slots }

// InFlight returns how many slots are taken.
func (l *Limiter) InFlight() int { return len(l.slots) }

// Transport returns a transport that sends requests through next, each
// holding one of l's slots.
func (l *Limiter) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{limiter: l, next: next}
}

type transport struct {
	limiter *Limiter
	next    http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.limiter.Acquire(req.Context()); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		t.limiter.Release()
		return resp, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: t.limiter.Release}
	return resp, nil
}

// releasingBody gives the slot back at the end of the body or on Close,
// whichever comes first.
type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.release)
	}
	return n, err
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
