package queue

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/failure"
)

// outcomes records what Observe reports.
type outcomes struct {
	mu   sync.Mutex
	seen map[Outcome]int
}

func (o *outcomes) observe(out Outcome, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[Outcome]int{}
	}
	o.seen[out]++
}

func (o *outcomes) get() map[Outcome]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.seen)
}

func newQueue(t *testing.T, opts Options) *Queue[string] {
	t.Helper()
	q := New[string](opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Shutdown(ctx)
	})
	return q
}

// blocker is a job that signals when it starts and waits to be released.
func blocker(started chan<- string, release <-chan struct{}, name string) Job {
	return Job{Run: func(ctx context.Context, _ *slog.Logger) error {
		started <- name
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}}
}

func TestCoalescesWaitingJobsPerKey(t *testing.T) {
	var obs outcomes
	q := newQueue(t, Options{Workers: 1, Size: 10, Observe: obs.observe})
	started := make(chan string, 10)
	release := make(chan struct{})
	if err := q.Submit("pr-1", blocker(started, release, "first")); err != nil {
		t.Fatal(err)
	}
	<-started

	var mu sync.Mutex
	var ran []int
	for i := range 50 {
		err := q.Submit("pr-1", Job{Run: func(context.Context, *slog.Logger) error {
			mu.Lock()
			ran = append(ran, i)
			mu.Unlock()
			return nil
		}})
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	if got := q.Depth(); got != 1 {
		t.Errorf("Depth() = %d while one job runs and 50 were submitted for its key, want 1", got)
	}
	close(release)
	waitFor(t, func() bool { return q.Depth() == 0 && q.Running() == 0 })

	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]int{49}, ran); diff != "" {
		t.Errorf("jobs run after the first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[Outcome]int{Succeeded: 2, Coalesced: 49}, obs.get()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestSubmit(t *testing.T) {
	tests := []struct {
		name    string
		waiting []string // keys submitted while the only worker is busy
		submit  string
		want    error
	}{
		{name: "room left", waiting: []string{"a"}, submit: "b", want: nil},
		{name: "full", waiting: []string{"a", "b"}, submit: "c", want: ErrFull},
		{name: "full but the key is waiting: coalesced", waiting: []string{"a", "b"}, submit: "a", want: nil},
		{name: "full but the key is only running: needs a slot", waiting: []string{"a", "b"}, submit: "busy", want: ErrFull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newQueue(t, Options{Workers: 1, Size: 2})
			started := make(chan string, 10)
			release := make(chan struct{})
			defer close(release)
			if err := q.Submit("busy", blocker(started, release, "busy")); err != nil {
				t.Fatal(err)
			}
			<-started
			noop := Job{Run: func(context.Context, *slog.Logger) error { return nil }}
			for _, k := range tc.waiting {
				if err := q.Submit(k, noop); err != nil {
					t.Fatalf("submit %s: %v", k, err)
				}
			}
			if err := q.Submit(tc.submit, noop); !errors.Is(err, tc.want) {
				t.Errorf("Submit(%q) = %v, want %v", tc.submit, err, tc.want)
			}
		})
	}
}

func TestNeverRunsOneKeyTwiceAtOnce(t *testing.T) {
	q := newQueue(t, Options{Workers: 8, Size: 100})
	var inFlight, maxInFlight, runs atomic.Int32
	job := Job{Run: func(context.Context, *slog.Logger) error {
		n := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		inFlight.Add(-1)
		runs.Add(1)
		return nil
	}}
	for range 200 {
		if err := q.Submit("same", job); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return q.Depth() == 0 && q.Running() == 0 })
	if got := maxInFlight.Load(); got != 1 {
		t.Errorf("at most %d jobs of one key ran at once, want 1", got)
	}
	if got := runs.Load(); got < 1 || got > 200 {
		t.Errorf("ran %d jobs", got)
	}
}

func TestRecoversPanicsAndKeepsWorking(t *testing.T) {
	var obs outcomes
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil)).With("pr", 7)
	q := newQueue(t, Options{Workers: 1, Observe: obs.observe})
	if err := q.Submit("a", Job{Logger: logger, Run: func(context.Context, *slog.Logger) error { panic("boom") }}); err != nil {
		t.Fatal(err)
	}
	if err := q.Submit("b", Job{Run: func(context.Context, *slog.Logger) error { return errors.New("nope") }}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	if err := q.Submit("c", Job{Run: func(context.Context, *slog.Logger) error { close(done); return nil }}); err != nil {
		t.Fatal(err)
	}
	<-done
	waitFor(t, func() bool { return q.Running() == 0 })
	if diff := cmp.Diff(map[Outcome]int{Panicked: 1, Failed: 1, Succeeded: 1}, obs.get()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "job panicked") || !strings.Contains(logs.String(), "pr=7") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("the panic was not logged with the job's logger:\n%s", logs.String())
	}
}

func TestJobGetsItsLoggerAndAFreshBoundedContext(t *testing.T) {
	q := newQueue(t, Options{Workers: 1, Timeout: time.Hour})
	logger := slog.New(slog.DiscardHandler).With("delivery_id", "d-1")
	type seen struct {
		logger      *slog.Logger
		hasDeadline bool
		err         error
	}
	got := make(chan seen, 1)
	if err := q.Submit("a", Job{Logger: logger, Run: func(ctx context.Context, l *slog.Logger) error {
		_, ok := ctx.Deadline()
		got <- seen{logger: l, hasDeadline: ok, err: ctx.Err()}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	s := <-got
	if s.logger != logger {
		t.Error("the job did not receive the submitter's logger")
	}
	if !s.hasDeadline || s.err != nil {
		t.Errorf("job context: deadline %v, err %v; want a live context with a deadline", s.hasDeadline, s.err)
	}
}

func TestShutdownDrainsQueuedJobs(t *testing.T) {
	q := New[string](Options{Workers: 1, Size: 10})
	var runs atomic.Int32
	for _, k := range []string{"a", "b", "c"} {
		if err := q.Submit(k, Job{Run: func(context.Context, *slog.Logger) error {
			time.Sleep(time.Millisecond)
			runs.Add(1)
			return nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if got := runs.Load(); got != 3 {
		t.Errorf("%d jobs ran before Shutdown returned, want 3", got)
	}
	if err := q.Submit("d", Job{Run: func(context.Context, *slog.Logger) error { return nil }}); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Shutdown = %v, want ErrClosed", err)
	}
}

func TestShutdownDeadlineCancelsRunningJobs(t *testing.T) {
	q := New[string](Options{Workers: 1, Size: 10})
	started := make(chan struct{})
	cancelled := make(chan struct{})
	if err := q.Submit("a", Job{Run: func(ctx context.Context, _ *slog.Logger) error {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	}}); err != nil {
		t.Fatal(err)
	}
	var neverRan atomic.Bool
	if err := q.Submit("b", Job{Run: func(context.Context, *slog.Logger) error { neverRan.Store(true); return nil }}); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := q.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	<-cancelled
	if neverRan.Load() {
		t.Error("a waiting job ran after the shutdown deadline")
	}
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkSubmitCoalesced(b *testing.B) {
	q := New[int](Options{Workers: 4, Size: 1000})
	defer func() { _ = q.Shutdown(context.Background()) }()
	job := Job{Run: func(context.Context, *slog.Logger) error { return nil }}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := q.Submit(i%50, job); err != nil && !errors.Is(err, ErrFull) {
			b.Fatal(err)
		}
	}
}

func TestOfferNeverReplacesOrDoublesAJob(t *testing.T) {
	tests := []struct {
		name       string
		waiting    []string // keys submitted while the only worker runs "busy"
		offer      string
		wantQueued bool
		wantErr    error
		// wantRun is the name of the job that runs for the offered key.
		wantRun string
	}{
		{name: "nothing for the key: queued", waiting: []string{"a"}, offer: "b", wantQueued: true, wantRun: "offered"},
		{name: "a job waits for the key: kept", waiting: []string{"a"}, offer: "a", wantRun: "submitted"},
		{name: "a job runs for the key: nothing more", offer: "busy"},
		{name: "full", waiting: []string{"a", "b"}, offer: "c", wantErr: ErrFull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newQueue(t, Options{Workers: 1, Size: 2})
			started := make(chan string, 10)
			release := make(chan struct{})
			if err := q.Submit("busy", blocker(started, release, "busy")); err != nil {
				t.Fatal(err)
			}
			<-started
			var mu sync.Mutex
			ran := map[string][]string{}
			job := func(key, name string) Job {
				return Job{Run: func(context.Context, *slog.Logger) error {
					mu.Lock()
					defer mu.Unlock()
					ran[key] = append(ran[key], name)
					return nil
				}}
			}
			for _, k := range tc.waiting {
				if err := q.Submit(k, job(k, "submitted")); err != nil {
					t.Fatalf("submit %s: %v", k, err)
				}
			}
			queued, err := q.Offer(tc.offer, job(tc.offer, "offered"))
			if queued != tc.wantQueued || !errors.Is(err, tc.wantErr) {
				t.Errorf("Offer(%q) = %v, %v; want %v, %v", tc.offer, queued, err, tc.wantQueued, tc.wantErr)
			}
			close(release)
			waitFor(t, func() bool { return q.Depth() == 0 && q.Running() == 0 })
			mu.Lock()
			defer mu.Unlock()
			var want []string
			if tc.wantRun != "" {
				want = []string{tc.wantRun}
			}
			if diff := cmp.Diff(want, ran[tc.offer]); diff != "" {
				t.Errorf("jobs run for %q (-want +got):\n%s", tc.offer, diff)
			}
		})
	}
}

func TestRefusalsAreNotTerminal(t *testing.T) {
	for _, err := range []error{ErrFull, ErrClosed} {
		if failure.IsTerminal(err) || failure.KindOf(err) != failure.Unavailable {
			t.Errorf("%v: kind %v, want unavailable (a retry can help)", err, failure.KindOf(err))
		}
	}
}
