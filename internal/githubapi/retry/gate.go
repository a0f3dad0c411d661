package retry

import (
	"fmt"
	"sync"
	"time"
)

// Gate pauses every request of one installation while GitHub has asked it
// to wait (a secondary rate limit, or a primary one until its reset), so
// that one limited request never lets its siblings hammer the API. Share
// one Gate between all transports of an installation and never between
// installations: each has its own limits. The zero value is open and ready
// to use; a Gate is safe for concurrent use.
type Gate struct {
	mu    sync.Mutex
	until time.Time
}

// Close keeps the gate closed until the given time, or longer if it is
// already closed until later.
func (g *Gate) Close(until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.until) {
		g.until = until
	}
}

// Until returns the time the gate opens; a time not after now means open.
func (g *Gate) Until() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until
}

// PausedError is the error of a request that was not sent because its
// installation is paused for longer than the request may wait (its
// context's deadline or Options.MaxWait). A retry helps after Until.
type PausedError struct {
	// Until is when GitHub's limit is expected to lift.
	Until time.Time
	// Wait is how long that was from the moment the request gave up.
	Wait time.Duration
}

// Error says how long the pause lasts.
func (e *PausedError) Error() string {
	return fmt.Sprintf("not sent: GitHub asked this installation to pause for %s more (rate limit), longer than the request may wait", e.Wait.Round(time.Second))
}
