package progress

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock advances by step on every reading.
func fakeClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(step); return t }
}

func TestTaskLines(t *testing.T) {
	for _, tc := range []struct {
		name  string
		step  time.Duration
		unit  Unit
		total int64
		adds  []int64
		want  []string
	}{
		{name: "bytes with a total", step: 600 * time.Millisecond, unit: Bytes, total: 4 << 20, adds: []int64{1 << 20, 1 << 20, 2 << 20},
			want: []string{"promobot: verify m.pkl: 2.0 MiB of 4.0 MiB (50%)", "promobot: verify m.pkl: 4.0 MiB done in 2.4s"}},
		{name: "commits without a total", step: 2 * time.Second, unit: Items, adds: []int64{500, 500},
			want: []string{"promobot: verify m.pkl: 500 commits", "promobot: verify m.pkl: 1000 commits", "promobot: verify m.pkl: 1000 commits done in 6s"}},
		{name: "quick work says nothing", step: time.Millisecond, unit: Bytes, total: 10, adds: []int64{10}, want: []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			s := New(&b)
			s.now = fakeClock(tc.step)
			task := s.Start("verify m.pkl", tc.total, tc.unit, "commits")
			for _, n := range tc.adds {
				task.Add(n)
			}
			task.Done()
			got := strings.FieldsFunc(b.String(), func(r rune) bool { return r == '\n' })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoSinkIsQuiet(t *testing.T) {
	s := FromContext(context.Background())
	task := s.Start("x", 1, Bytes, "")
	task.Add(1)
	task.Done()
	if w := s.Writer("git"); w != nil {
		t.Errorf("Writer of no sink = %v, want nil", w)
	}
}

func TestRemoteWriterKeepsOneLinePerInterval(t *testing.T) {
	var b strings.Builder
	s := New(&b)
	s.now = fakeClock(400 * time.Millisecond)
	w := s.Writer("fetch origin")
	for _, chunk := range []string{"Counting objects:  10% (1/10)\r", "Counting objects:  50% (5/10)\r", "Counting obj", "ects: 100% (10/10), done.\n"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	want := "promobot: fetch origin: Counting objects:  10% (1/10)\npromobot: fetch origin: Counting objects: 100% (10/10), done.\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
