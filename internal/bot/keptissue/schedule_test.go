package keptissue

import (
	"testing"
	"time"
)

// TestSchedule: a repository is due until its pass succeeds, then again
// once the interval has run out, independently of other repositories.
func TestSchedule(t *testing.T) {
	s := &Schedule{Interval: time.Hour}
	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	steps := []struct {
		key  string
		at   time.Duration
		done bool
		want bool
	}{
		{key: "o/a", at: 0, want: true, done: true},
		{key: "o/a", at: 59 * time.Minute, want: false},
		{key: "o/b", at: 59 * time.Minute, want: true},
		{key: "o/a", at: time.Hour, want: true},
	}
	for i, st := range steps {
		if got := s.Due(st.key, t0.Add(st.at)); got != st.want {
			t.Errorf("step %d: Due(%s, +%s) = %v, want %v", i, st.key, st.at, got, st.want)
		}
		if st.done {
			s.Done(st.key, t0.Add(st.at))
		}
	}
}
