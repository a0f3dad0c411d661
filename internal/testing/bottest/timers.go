package bottest

import (
	"sync"
	"time"
)

// FakeTimers holds delayed callbacks until a test fires them, on a clock
// that moves only when fired. AfterFunc and Now fit the features' timer
// and clock options.
type FakeTimers struct {
	mu      sync.Mutex
	at      time.Time
	pending []func()
}

// NewFakeTimers returns timers whose clock starts at a fixed time.
func NewFakeTimers() *FakeTimers {
	return &FakeTimers{at: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
}

// AfterFunc holds fn until Fire.
func (f *FakeTimers) AfterFunc(_ time.Duration, fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, fn)
}

// Now is the clock.
func (f *FakeTimers) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at
}

// Fire moves the clock on by d and runs the callbacks armed so far; it
// returns how many ran.
func (f *FakeTimers) Fire(d time.Duration) int {
	f.mu.Lock()
	f.at = f.at.Add(d)
	fns := f.pending
	f.pending = nil
	f.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return len(fns)
}

// Waiting returns how many callbacks are held.
func (f *FakeTimers) Waiting() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending)
}
