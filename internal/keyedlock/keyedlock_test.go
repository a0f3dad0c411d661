package keyedlock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLockSerializesOneKeyOnly(t *testing.T) {
	var s Set
	unlock, err := s.Lock(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is free while "a" is held.
	unlockB, err := s.Lock(t.Context(), "b")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()

	// "a" again waits until its holder releases it, or the context ends.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(ctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock of a held key: %v, want the context's deadline", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := s.Lock(t.Context(), "a")
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	if len(s.held) != 0 {
		t.Fatalf("released keys are kept: %v", s.held)
	}
}
