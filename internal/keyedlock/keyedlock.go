// Package keyedlock serializes work by key: a set of mutexes created on
// demand and removed when released.
package keyedlock

import (
	"context"
	"sync"
)

// Set is a set of mutexes by key, created on demand and removed when
// released. The zero value is ready to use.
type Set struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// Lock waits until key is free or ctx ends, takes it, and returns the
// function that releases it.
func (l *Set) Lock(ctx context.Context, key string) (func(), error) {
	for {
		l.mu.Lock()
		if l.held == nil {
			l.held = map[string]chan struct{}{}
		}
		ch, busy := l.held[key]
		if !busy {
			released := make(chan struct{})
			l.held[key] = released
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				delete(l.held, key)
				l.mu.Unlock()
				close(released)
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
