// Package progress reports how long-running work goes (a large artifact's
// download and verification, a clone or fetch, the first walk of an audit)
// as lines on a writer, normally standard error. The command line puts a
// Sink in the context when standard error is a terminal or --progress is
// given; without one every call here does nothing, so the work is quiet.
package progress

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Sink writes progress lines, at most one per task every Interval.
type Sink struct {
	mu sync.Mutex
	w  io.Writer
	// Interval is the least time between two lines of one task.
	Interval time.Duration
	// now is the clock, time.Now outside tests.
	now func() time.Time
}

// New returns a Sink writing to w, a line per task at most every second.
func New(w io.Writer) *Sink { return &Sink{w: w, Interval: time.Second, now: time.Now} }

type sinkKey struct{}

// WithSink returns a context carrying s.
func WithSink(ctx context.Context, s *Sink) context.Context {
	return context.WithValue(ctx, sinkKey{}, s)
}

// FromContext returns the context's Sink, nil when it has none.
func FromContext(ctx context.Context) *Sink {
	s, _ := ctx.Value(sinkKey{}).(*Sink)
	return s
}

// IsTerminal reports whether w is a character device such as a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// Unit says how a task counts.
type Unit int

// The units.
const (
	// Bytes counts bytes, shown in KiB, MiB or GiB.
	Bytes Unit = iota
	// Items counts things, such as commits.
	Items
)

// Task is one piece of work being reported. A nil Task does nothing.
type Task struct {
	s        *Sink
	what     string
	noun     string
	unit     Unit
	total    int64
	mu       sync.Mutex
	done     int64
	started  time.Time
	lastLine time.Time
}

// Start begins a task: what is shown before the count ("verifying
// https://…/model.pkl"), total is the expected count, or 0 when unknown; noun
// names an Items count ("commits"). It returns nil when s is nil.
func (s *Sink) Start(what string, total int64, unit Unit, noun string) *Task {
	if s == nil {
		return nil
	}
	now := s.now()
	return &Task{s: s, what: what, noun: noun, unit: unit, total: total, started: now, lastLine: now}
}

// Add counts n more, writing a line when Interval has passed since the last.
func (t *Task) Add(n int64) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done += n
	if now := t.s.now(); now.Sub(t.lastLine) >= t.s.Interval {
		t.lastLine = now
		t.s.line(fmt.Sprintf("%s: %s", t.what, t.count()))
	}
}

// Done ends the task with a line saying how much in how long, unless it took
// less than Interval (then nothing was reported and nothing is).
func (t *Task) Done() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	took := t.s.now().Sub(t.started)
	if took < t.s.Interval {
		return
	}
	t.s.line(fmt.Sprintf("%s: %s done in %s", t.what, t.amount(t.done), took.Round(100*time.Millisecond)))
}

func (t *Task) count() string {
	if t.total <= 0 {
		return t.amount(t.done)
	}
	return fmt.Sprintf("%s of %s (%d%%)", t.amount(t.done), t.amount(t.total), t.done*100/t.total)
}

func (t *Task) amount(n int64) string {
	if t.unit == Items {
		return fmt.Sprintf("%d %s", n, t.noun)
	}
	return Size(n)
}

// Size renders a byte count as B, KiB, MiB or GiB with one decimal.
func Size(n int64) string {
	const k = 1024
	switch {
	case n < k:
		return fmt.Sprintf("%d B", n)
	case n < k*k:
		return fmt.Sprintf("%.1f KiB", float64(n)/k)
	case n < k*k*k:
		return fmt.Sprintf("%.1f MiB", float64(n)/(k*k))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(k*k*k))
}

func (s *Sink) line(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintln(s.w, "promobot: "+text)
}

// Writer returns a writer that passes the lines git's remote prints about
// its progress ("Counting objects: 45% (9/20)") to the Sink as lines starting
// with what, keeping only the last of a burst of updates per Interval; nil
// (an untyped nil io.Writer) when s is nil, as go-git wants for "none".
func (s *Sink) Writer(what string) io.Writer {
	if s == nil {
		return nil
	}
	return &remoteWriter{s: s, what: what}
}

// remoteWriter splits the remote's output on carriage returns and newlines.
type remoteWriter struct {
	s        *Sink
	what     string
	partial  string
	lastLine time.Time
}

func (r *remoteWriter) Write(p []byte) (int, error) {
	text := r.partial + string(p)
	parts := strings.FieldsFunc(text, func(c rune) bool { return c == '\r' || c == '\n' })
	complete := len(text) > 0 && (text[len(text)-1] == '\r' || text[len(text)-1] == '\n')
	r.partial = ""
	if !complete && len(parts) > 0 {
		r.partial = parts[len(parts)-1]
		parts = parts[:len(parts)-1]
	}
	for _, line := range parts {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		now := r.s.now()
		final := strings.Contains(line, "done")
		if !final && now.Sub(r.lastLine) < r.s.Interval {
			continue
		}
		r.lastLine = now
		r.s.line(r.what + ": " + line)
	}
	return len(p), nil
}
