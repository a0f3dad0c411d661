// Package queue runs jobs on a fixed number of workers from a bounded queue
// that coalesces jobs by key.
//
// A job is submitted under a key (for the bot: one pull request). While a
// job for a key is waiting, a newer job for the same key replaces it instead
// of taking another slot, and while a job for a key is running, the next one
// for that key waits until it finishes. So a burst of events about one pull
// request costs at most one running and one waiting evaluation, and two
// evaluations of the same pull request never race.
//
// Submit never blocks and never starts a goroutine: when the queue holds as
// many waiting keys as its size, it returns ErrFull. Each job runs with a
// fresh context derived from the queue's own (not the submitter's, which
// usually belongs to an HTTP request that ends at once), bounded by a
// timeout, and a panic in a job is recovered into an error.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/example-org/promobot/internal/failure"
)

// ErrFull is returned by Submit when the queue holds as many waiting jobs as
// its size. Retrying later can help: its kind is failure.Unavailable.
var ErrFull = failure.UnavailableError(errors.New("queue: full"))

// ErrClosed is returned by Submit after Shutdown began. Its kind is
// failure.Unavailable: another instance, or this one after a restart, can
// take the job.
var ErrClosed = failure.UnavailableError(errors.New("queue: shutting down"))

// Func is the work of a job. logger is the job's logger, already enriched by
// the submitter.
type Func func(ctx context.Context, logger *slog.Logger) error

// Job is one unit of work.
type Job struct {
	// Logger is passed to Run and used for the queue's own messages about
	// the job. Nil means the queue's logger.
	Logger *slog.Logger
	// Run does the work.
	Run Func
}

// Outcome says how a job ended, for metrics.
type Outcome string

// The job outcomes.
const (
	// Succeeded means Run returned nil.
	Succeeded Outcome = "succeeded"
	// Failed means Run returned an error.
	Failed Outcome = "failed"
	// Panicked means Run panicked; the panic was recovered.
	Panicked Outcome = "panicked"
	// Coalesced means the job replaced a waiting job with the same key; the
	// replaced job never ran.
	Coalesced Outcome = "coalesced"
)

// The defaults of Options.
const (
	DefaultWorkers = 4
	DefaultSize    = 100
	DefaultTimeout = 5 * time.Minute
)

// Options configure a Queue. Zero values pick the defaults.
type Options struct {
	// Workers is the number of jobs run at once; default 4.
	Workers int
	// Size is the number of waiting jobs (distinct keys) the queue holds
	// before Submit returns ErrFull; default 100.
	Size int
	// Timeout bounds each job; default 5 minutes.
	Timeout time.Duration
	// Logger receives job failures and panics; nil discards them.
	Logger *slog.Logger
	// Observe, when set, is called once for every job that ends or is
	// coalesced away, with how long it ran.
	Observe func(o Outcome, d time.Duration)
}

// Queue is a bounded, coalescing job queue with a fixed pool of workers. It
// is safe for concurrent use.
type Queue[K comparable] struct {
	opts   Options
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	cond    *sync.Cond
	ready   []K        // keys with a waiting job and none running, in order
	waiting map[K]Job  // the waiting job of each key
	running map[K]bool // keys with a running job
	closed  bool
}

// New starts a queue and its workers. Call Shutdown to stop them.
func New[K comparable](opts Options) *Queue[K] {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Size <= 0 {
		opts.Size = DefaultSize
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	q := &Queue[K]{
		opts:    opts,
		base:    base,
		cancel:  cancel,
		waiting: map[K]Job{},
		running: map[K]bool{},
	}
	q.cond = sync.NewCond(&q.mu)
	q.wg.Add(opts.Workers)
	for range opts.Workers {
		go q.work()
	}
	return q
}

// Submit queues job under key and returns at once. A job already waiting
// under key is replaced by this one (it would have done the same work with
// older information). It returns ErrFull when the queue is full and
// ErrClosed after Shutdown began; the job is then not queued.
func (q *Queue[K]) Submit(key K, job Job) error {
	if job.Run == nil {
		return errors.New("queue: job without Run")
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	if _, ok := q.waiting[key]; ok {
		q.waiting[key] = job
		q.mu.Unlock()
		q.observe(Coalesced, 0)
		return nil
	}
	if len(q.waiting) >= q.opts.Size {
		q.mu.Unlock()
		return ErrFull
	}
	q.waiting[key] = job
	if !q.running[key] {
		q.ready = append(q.ready, key)
		q.cond.Signal()
	}
	q.mu.Unlock()
	return nil
}

// Offer queues job under key unless a job for key is already waiting or
// running, and reports whether it queued it. It is for work that is due in
// any case, such as a periodic resynchronization: a waiting or running job
// for the same key reads the same fresh state, so nothing is lost by not
// queueing another, and a job queued by a delivery is never replaced. Like
// Submit it returns ErrFull or ErrClosed when the job cannot be queued.
func (q *Queue[K]) Offer(key K, job Job) (bool, error) {
	if job.Run == nil {
		return false, errors.New("queue: job without Run")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false, ErrClosed
	}
	if _, ok := q.waiting[key]; ok || q.running[key] {
		return false, nil
	}
	if len(q.waiting) >= q.opts.Size {
		return false, ErrFull
	}
	q.waiting[key] = job
	q.ready = append(q.ready, key)
	q.cond.Signal()
	return true, nil
}

// Size returns how many jobs may wait before Submit returns ErrFull.
func (q *Queue[K]) Size() int { return q.opts.Size }

// Depth returns the number of jobs waiting to run.
func (q *Queue[K]) Depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting)
}

// Running returns the number of jobs running.
func (q *Queue[K]) Running() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.running)
}

// Shutdown stops accepting jobs, lets the workers finish every job already
// queued and waits for them. If ctx ends first, the contexts of the running
// jobs are cancelled, waiting jobs are dropped (and their number logged),
// and ctx's error is returned once the workers have returned.
func (q *Queue[K]) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()

	done := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.mu.Lock()
		if n := len(q.waiting); n > 0 {
			q.opts.Logger.Warn("waiting jobs dropped at shutdown", "dropped", n)
		}
		q.ready = nil
		clear(q.waiting)
		q.cond.Broadcast()
		q.mu.Unlock()
		q.cancel()
		<-done
		return ctx.Err()
	}
}

// work runs jobs until the queue is closed and empty.
func (q *Queue[K]) work() {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		for len(q.ready) == 0 && !q.closed {
			q.cond.Wait()
		}
		if len(q.ready) == 0 {
			q.mu.Unlock()
			return
		}
		key := q.ready[0]
		q.ready[0] = *new(K)
		q.ready = q.ready[1:]
		job := q.waiting[key]
		delete(q.waiting, key)
		q.running[key] = true
		q.mu.Unlock()

		q.run(job)

		q.mu.Lock()
		delete(q.running, key)
		if _, ok := q.waiting[key]; ok {
			q.ready = append(q.ready, key)
			q.cond.Signal()
		}
		q.mu.Unlock()
	}
}

// run runs one job with a fresh context, recovering a panic.
func (q *Queue[K]) run(job Job) {
	logger := job.Logger
	if logger == nil {
		logger = q.opts.Logger
	}
	ctx, cancel := context.WithTimeout(q.base, q.opts.Timeout)
	defer cancel()
	start := time.Now()
	panicked, err := call(ctx, logger, job.Run)
	d := time.Since(start)
	switch {
	case panicked:
		logger.Error("job panicked", "error", err)
		q.observe(Panicked, d)
	case err != nil:
		logger.Error("job failed", "error", err, "terminal", failure.IsTerminal(err))
		q.observe(Failed, d)
	default:
		q.observe(Succeeded, d)
	}
}

// call runs fn, turning a panic into an error that carries the stack.
func call(ctx context.Context, logger *slog.Logger, fn Func) (panicked bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked, err = true, fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return false, fn(ctx, logger)
}

func (q *Queue[K]) observe(o Outcome, d time.Duration) {
	if q.opts.Observe != nil {
		q.opts.Observe(o, d)
	}
}
