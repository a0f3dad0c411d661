package keptissue

import (
	"sync"
	"time"
)

// Schedule remembers when each repository's periodic pass last succeeded,
// so a feature called at every resynchronization pass works on a
// repository at most once per interval. It is in memory: a restarted bot
// runs every repository's pass at its first resynchronization.
type Schedule struct {
	// Interval is the least time between two successful passes of one
	// repository.
	Interval time.Duration
	mu       sync.Mutex
	done     map[string]time.Time
}

// Due reports whether the pass of repository key is due at now: it never
// succeeded, or last succeeded at least Interval before now.
func (s *Schedule) Due(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := s.done[key]
	return !ok || now.Sub(last) >= s.Interval
}

// Done records that the pass of repository key succeeded at now.
func (s *Schedule) Done(key string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = map[string]time.Time{}
	}
	s.done[key] = now
}
