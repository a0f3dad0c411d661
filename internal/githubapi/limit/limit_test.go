package limit

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counting answers after a short pause and records the most requests it
// ever had at once.
type counting struct {
	now, peak atomic.Int64
	fail      bool
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	n := c.now.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(time.Millisecond)
	c.now.Add(-1)
	if c.fail {
		return nil, errors.New("connection reset")
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
}

func TestNeverMoreThanNInFlight(t *testing.T) {
	tests := []struct {
		name string
		n    int
		fail bool
		want int
	}{
		{name: "cap of 3", n: 3, want: 3},
		{name: "default", n: 0, want: DefaultMaxInFlight},
		{name: "errors release their slot", n: 2, fail: true, want: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wire := &counting{fail: tc.fail}
			l := New(tc.n)
			rt := l.Transport(wire)
			var wg sync.WaitGroup
			for range 40 {
				wg.Go(func() {
					req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://api.github.test/x", nil)
					resp, err := rt.RoundTrip(req)
					if err == nil {
						_, _ = io.ReadAll(resp.Body)
						_ = resp.Body.Close()
					}
				})
			}
			wg.Wait()
			if got := wire.peak.Load(); got > int64(tc.want) || got < 1 {
				t.Errorf("peak of %d requests in flight, want at most %d", got, tc.want)
			}
			if got := l.InFlight(); got != 0 {
				t.Errorf("%d slots still taken after every request ended", got)
			}
		})
	}
}

func TestASlotIsHeldUntilTheBodyEnds(t *testing.T) {
	l := New(1)
	rt := l.Transport(&counting{})
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://api.github.test/x", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if l.InFlight() != 1 {
		t.Fatal("the slot was given back before the body was read")
	}

	// Another request waits, and gives up when its context ends.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	waiting, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.test/y", nil)
	if _, err := rt.RoundTrip(waiting); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's", err)
	}

	_, _ = io.ReadAll(resp.Body) // reaching EOF releases...
	if l.InFlight() != 0 {
		t.Fatal("the slot was not given back at the end of the body")
	}
	_ = resp.Body.Close() // ...and closing after that releases nothing more
	if l.InFlight() != 0 {
		t.Fatal("the slot count went wrong on Close")
	}
}
