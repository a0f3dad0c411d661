// Package retrytest holds test doubles for the retry package, shared by the
// tests of retry and of the packages that configure it.
package retrytest

import (
	"context"
	"sync"
	"time"
)

// Clock is a fake clock for retry.Options: Sleep returns at once and moves
// the time on by the duration slept, and every sleep is recorded, so a test
// can assert the waits without waiting. It is safe for concurrent use.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

// NewClock returns a clock that starts at start. Tests that check GitHub's
// rate-limit reset times start it at time.Now(), since those times are real.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep moves the clock on by d and records the wait; it fails with the
// context's error, without moving, if ctx is already done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	return nil
}

// Waits returns a copy of the durations slept so far, in order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}
