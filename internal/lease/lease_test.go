package lease

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// clock is a monotonic clock a test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeRenewer answers renewals with err and counts them.
type fakeRenewer struct {
	mu       sync.Mutex
	err      error
	renewals int
	released bool
}

func (f *fakeRenewer) renew(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renewals++
	return f.err
}

func (f *fakeRenewer) release(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = true
	return nil
}

func (f *fakeRenewer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.renewals
}

func TestHeldRunsDownByTheHoldersClock(t *testing.T) {
	const period = 30 * time.Second
	margin := Margin(period)
	tests := []struct {
		name      string
		elapsed   time.Duration
		remaining time.Duration
		writable  bool
	}{
		{"just acquired", 0, period, true},
		{"at the last renewal's time", period / 3, period - period/3, true},
		{"margin left exactly", period - margin, margin, true},
		{"less than the margin left", period - margin + time.Nanosecond, margin - time.Nanosecond, false},
		{"expired", period, 0, false},
		{"long expired", 2 * period, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			// No renewal happens during the test.
			h := hold("pr", Options{Period: period, RenewEvery: time.Hour, Now: c.Now}.withDefaults(), &fakeRenewer{}, c.Now())
			defer h.Release()
			c.Advance(tt.elapsed)
			if got := h.Remaining(); got != tt.remaining {
				t.Errorf("Remaining() = %s, want %s", got, tt.remaining)
			}
			if got := h.Writable(); got != tt.writable {
				t.Errorf("Writable() = %v, want %v", got, tt.writable)
			}
			if got := h.Err() == nil; got != tt.writable {
				t.Errorf("Err() = %v, want nil: %v", h.Err(), tt.writable)
			}
		})
	}
}

func TestHeldRenewal(t *testing.T) {
	const period = 30 * time.Second
	tests := []struct {
		name     string
		err      error
		elapsed  time.Duration // by the clock, before the renewal
		writable bool
	}{
		// A renewal counts from when it was sent: 25 s on, the lease
		// has the whole period again.
		{"renewed", nil, 25 * time.Second, true},
		// A refused renewal ends the lease at once.
		{"refused", ErrLost, 0, false},
		// A failed request leaves the expiry as it was.
		{"network error", errors.New("connection reset"), 25 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			r := &fakeRenewer{err: tt.err}
			h := hold("pr", Options{Period: period, RenewEvery: time.Millisecond, Now: c.Now}.withDefaults(), r, c.Now())
			c.Advance(tt.elapsed)
			for r.count() < 2 {
				time.Sleep(time.Millisecond)
			}
			if got := h.Writable(); got != tt.writable {
				t.Errorf("Writable() = %v, want %v (remaining %s)", got, tt.writable, h.Remaining())
			}
			h.Release()
			if !r.released || h.Writable() {
				t.Errorf("after Release: released %v, writable %v; want true, false", r.released, h.Writable())
			}
		})
	}
}

func TestContainerURL(t *testing.T) {
	tests := []struct {
		spec, want string
		wantErr    bool
	}{
		{spec: "azblob://acct/leases", want: "https://acct.blob.core.windows.net/leases"},
		{spec: "https://acct.blob.core.windows.net/leases/", want: "https://acct.blob.core.windows.net/leases"},
		{spec: "http://127.0.0.1:10000/devstoreaccount1/leases", want: "http://127.0.0.1:10000/devstoreaccount1/leases"},
		{spec: "azblob://acct", wantErr: true},
		{spec: "azblob://acct/leases/more", wantErr: true},
		{spec: "https://example.com/leases", wantErr: true},
		{spec: "https://acct.blob.core.windows.net/leases?sig=x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ContainerURL(tt.spec)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ContainerURL(%q) = %q, %v; want %q, error %v", tt.spec, got, err, tt.want, tt.wantErr)
		}
	}
}
