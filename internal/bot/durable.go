package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/keyedlock"
	"github.com/example-org/promobot/internal/workqueue"
)

// JobQueue is a durable, at-least-once queue shared by every replica (Azure
// Queue Storage); *workqueue.Queue implements it. A dequeued message is
// hidden from the other consumers for a visibility timeout, extended while
// it is worked on, and deleted when done; one whose consumer died
// reappears with a higher dequeue count.
type JobQueue interface {
	Enqueue(ctx context.Context, text string) error
	Dequeue(ctx context.Context, n int, visibility time.Duration) ([]workqueue.Message, error)
	Extend(ctx context.Context, m workqueue.Message, visibility time.Duration) (string, error)
	Update(ctx context.Context, m workqueue.Message, text string, visibility time.Duration) (string, error)
	Delete(ctx context.Context, m workqueue.Message) error
	Length(ctx context.Context) (int, error)
}

// DurableQueue puts the pipeline's jobs on a JobQueue instead of the
// in-memory queue (Config.Durable). Every delivery the pipeline acts on is
// verified, turned into a small message (a hint: what to evaluate, never
// what the result is) and enqueued before it is answered; workers on every
// replica take messages, rebuild everything from GitHub, and delete them
// when done. A forged or stale message can only cause a re-evaluation.
type DurableQueue struct {
	// Queue is the shared queue.
	Queue JobQueue
	// VisibilityTimeout hides a message taken by a worker; the worker
	// extends it every third of it while it works. Default 30s.
	VisibilityTimeout time.Duration
	// MaxDequeue is how often a message may be taken: one taken more often
	// is poison, and ends as a failing check run "could not evaluate".
	// Default 5.
	MaxDequeue int
	// Poll is the wait between two reads of an empty queue by this
	// replica's poller; default 1s. A replica reads at once after it
	// enqueued a message itself.
	Poll time.Duration
}

// The defaults of DurableQueue.
const (
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultMaxDequeue        = 5
	defaultPoll              = time.Second
	// probeInterval is how often the queue's length is read, for the
	// metric and /readyz.
	probeInterval = 5 * time.Second
)

// durable is the durable queue's consumer on this replica.
type durable struct {
	cfg     DurableQueue
	workers int
	metrics *metrics.WorkQueue
	// jobs serializes the jobs of one hint on this replica.
	jobs keyedlock.Set

	// cancel ends the context the consumers run in (startDurable).
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// running counts the messages being worked on.
	running atomic.Int64
	// reachable is whether the last read of the queue succeeded; probed
	// says whether one was made.
	reachable, probed atomic.Bool
	// stopCh is closed, once, when the consumers must stop.
	stopCh   chan struct{}
	stopOnce sync.Once
	// work carries the messages the poller took to the workers; each
	// worker sends on freed when it is done with one. wake asks the
	// poller to read the queue at once: this replica just enqueued.
	work  chan workqueue.Message
	freed chan struct{}
	wake  chan struct{}
}

// enqueue puts a job's hint on the durable queue, answering 503 when the
// queue cannot be reached (GitHub records the delivery as failed, and the
// resynchronization finds its pull request).
func (b *Bot) enqueue(logger *slog.Logger, h hint) error {
	text, err := json.Marshal(h)
	if err != nil {
		return err
	}
	// GitHub waits 10 seconds for the answer.
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	if b.draining.Load() {
		b.durable.metrics.Enqueued("closed")
		return webhook.Unavailable(errors.New("shutting down"))
	}
	if err := b.durable.cfg.Queue.Enqueue(ctx, string(text)); err != nil {
		b.durable.metrics.Enqueued("failed")
		logger.Error("cannot enqueue the job", "error", err)
		return webhook.Unavailable(err)
	}
	b.durable.metrics.Enqueued("enqueued")
	b.durable.woken()
	logger.Debug("job enqueued", "job", h.Kind)
	return nil
}

// startDurable starts the durable queue's workers and its probe.
func (b *Bot) startDurable(cfg DurableQueue) *durable {
	if cfg.VisibilityTimeout <= 0 {
		cfg.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if cfg.MaxDequeue <= 0 {
		cfg.MaxDequeue = DefaultMaxDequeue
	}
	if cfg.Poll <= 0 {
		cfg.Poll = defaultPoll
	}
	workers := b.cfg.Workers
	if workers <= 0 {
		workers = 4
	}
	d := &durable{cfg: cfg, workers: workers, stopCh: make(chan struct{}),
		work: make(chan workqueue.Message), freed: make(chan struct{}, workers), wake: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.metrics = b.wq
	d.wg.Add(workers + 2)
	go b.probeDurable(ctx, d)
	go b.pollDurable(ctx, d)
	for range workers {
		go b.consume(ctx, d)
	}
	return d
}

// stop stops taking messages and waits for the messages being worked on,
// or until ctx ends: then their jobs are cancelled, and their messages
// reappear for another replica once their visibility timeout passes.
func (d *durable) stop(ctx context.Context) error {
	if d == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	d.draining()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		return ctx.Err()
	}
}

// draining tells the consumers to take no more messages.
func (d *durable) draining() { d.stopOnce.Do(func() { close(d.stopCh) }) }

// drained returns the channel closed when the consumers must stop.
func (d *durable) drained() <-chan struct{} { return d.stopCh }

// probeDurable reads the queue's approximate length now and then, for the
// metric and /readyz.
func (b *Bot) probeDurable(ctx context.Context, d *durable) {
	defer d.wg.Done()
	stop := d.drained()
	for {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := d.cfg.Queue.Length(lctx)
		cancel()
		if err != nil {
			if d.reachable.Load() || !d.probed.Load() {
				b.cfg.Logger.Error("cannot reach the job queue; /readyz fails until it can", "error", err)
			}
			d.reachable.Store(false)
		} else {
			if !d.reachable.Load() && d.probed.Load() {
				b.cfg.Logger.Info("the job queue is reachable again")
			}
			d.reachable.Store(true)
			d.metrics.Length(n)
		}
		d.probed.Store(true)
		select {
		case <-stop:
			return
		case <-time.After(probeInterval):
		}
	}
}

// handleMessage works on one message: it runs the job it describes while
// keeping the message hidden, deletes it when the job succeeded, and
// otherwise records why and lets it reappear after a backoff. A message
// taken more than MaxDequeue times is poison: its pull request gets a
// failing check run saying why, and the message is deleted.
func (b *Bot) handleMessage(ctx context.Context, d *durable, m workqueue.Message) {
	d.running.Add(1)
	defer d.running.Add(-1)
	d.metrics.Dequeued(m.DequeueCount)
	logger := b.cfg.Logger.With("message_id", m.ID, "dequeue_count", m.DequeueCount)
	var h hint
	err := json.Unmarshal([]byte(m.Text), &h)
	if err == nil {
		err = h.check()
	}
	if err != nil {
		logger.Warn("dropping a message that describes no job", "error", err)
		d.metrics.Outcome("malformed")
		b.deleteMessage(d, logger, m)
		return
	}
	logger = h.logger(logger)
	// A line when a message is taken and one when its work ends, with
	// the same message_id: a replica's log shows what it held when it
	// died (a taken line with no ended line), and how long each took.
	began := time.Now()
	logger.Info("job taken from the queue")
	outcome := "released"
	defer func() { logger.Info("job ended", "outcome", outcome, "elapsed", time.Since(began)) }()
	if m.DequeueCount > int64(d.cfg.MaxDequeue) {
		outcome = b.poison(ctx, d, logger, m, h)
		return
	}

	// The message is kept hidden from the moment it is taken, also while
	// it waits for another job of its hint on this replica: a message left
	// to reappear while it waits is taken again elsewhere, and its dequeue
	// count climbs towards poison although no attempt failed.
	mctx, mcancel := context.WithCancel(ctx)
	defer mcancel()
	held := make(chan struct{})
	extended := make(chan hidden, 1)
	go b.keepHidden(d, logger, m, held, extended, mcancel)
	unlock, lockErr := d.jobs.Lock(mctx, h.lockKey())
	if lockErr == nil {
		ctx, cancel := context.WithTimeout(mctx, b.jobTimeout())
		err = b.runHint(ctx, logger, h)
		cancel()
		unlock()
	}
	close(held)
	kept := <-extended
	m = kept.m
	switch {
	case kept.lost:
		outcome = "lost"
		d.metrics.Outcome(outcome)
		return // another consumer holds it now
	case lockErr != nil:
		return // shutting down while waiting: the message reappears
	case err == nil:
		outcome = "completed"
		d.metrics.Outcome(outcome)
		b.deleteMessage(d, logger, m)
		return
	}
	outcome = "failed"
	d.metrics.Outcome(outcome)
	h.LastError = userMessage(err)
	text, _ := json.Marshal(h)
	backoff := min(time.Duration(1<<min(m.DequeueCount, 10))*time.Second/2, d.cfg.VisibilityTimeout)
	logger.Warn("job failed; the message reappears for another attempt", "error", err,
		"retry_in", backoff, "attempts_left", int64(d.cfg.MaxDequeue)-m.DequeueCount)
	uctx, ucancel := context.WithTimeout(context.WithoutCancel(mctx), 10*time.Second)
	defer ucancel()
	if _, err := d.cfg.Queue.Update(uctx, m, string(text), backoff); err != nil && !errors.Is(err, workqueue.ErrLost) {
		logger.Warn("cannot record the failure on the message; it reappears after its visibility timeout", "error", err)
	}
}

// hidden is a message as keepHidden leaves it: with its latest pop
// receipt, or lost to another consumer.
type hidden struct {
	m    workqueue.Message
	lost bool
}

// keepHidden extends m's visibility every third of the timeout until held
// is closed, then sends m with its latest pop receipt on out. When the
// message is lost (another consumer took it), the job is cancelled.
func (b *Bot) keepHidden(d *durable, logger *slog.Logger, m workqueue.Message, held <-chan struct{}, out chan<- hidden, cancel context.CancelFunc) {
	lost := false
	defer func() { out <- hidden{m: m, lost: lost} }()
	every := max(d.cfg.VisibilityTimeout/3, 100*time.Millisecond)
	for {
		select {
		case <-held:
			return
		case <-time.After(every):
		}
		ctx, c := context.WithTimeout(context.Background(), every)
		receipt, err := d.cfg.Queue.Extend(ctx, m, d.cfg.VisibilityTimeout)
		c()
		switch {
		case errors.Is(err, workqueue.ErrLost):
			logger.Warn("the message was taken by another consumer; stopping its job")
			lost = true
			cancel()
			return
		case err != nil:
			logger.Warn("cannot extend the message's visibility", "error", err)
		default:
			m.PopReceipt = receipt
		}
	}
}

// deleteMessage deletes a message that needs no more work.
func (b *Bot) deleteMessage(d *durable, logger *slog.Logger, m workqueue.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.cfg.Queue.Delete(ctx, m); err != nil && !errors.Is(err, workqueue.ErrLost) {
		logger.Warn("cannot delete a finished message; it will be taken again and coalesced", "error", err)
	}
}

// runHint runs the job a hint describes, as the in-memory queue would.
func (b *Bot) runHint(ctx context.Context, logger *slog.Logger, h hint) error {
	switch h.Kind {
	case hintPullRequest, hintCommit:
		t := h.target()
		if err := b.run(ctx, logger, t); err != nil || t.former == "" {
			return err
		}
		return b.supersede(ctx, logger, t, t.former)
	case hintMergeGroup:
		g := mergeGroup{target: h.target(), headSHA: h.SHA, baseSHA: h.BaseSHA, headRef: h.Ref, baseRef: h.BaseRef}
		g.target.sha = ""
		return b.checkMergeGroup(ctx, logger, g)
	case hintBaseMoved:
		t := h.target()
		t.sha = ""
		return b.baseMoved(ctx, logger, t, h.Ref)
	case hintFeature:
		return b.runFeatureHint(ctx, logger, h)
	}
	return fmt.Errorf("unknown job kind %q", h.Kind)
}

// poison gives up on a message taken more than MaxDequeue times: the head
// it is about gets a failing check run "could not evaluate" with the
// reason, and the message is deleted. The head is read from GitHub, never
// taken from the message, except for a merge group's commit, which only
// the merge queue names. It returns the outcome: poisoned, lost (another
// consumer holds the message) or released (it reappears).
func (b *Bot) poison(ctx context.Context, d *durable, logger *slog.Logger, m workqueue.Message, h hint) string {
	reason := h.LastError
	if reason == "" {
		reason = "its job never finished (the replicas working on it stopped or timed out)"
	}
	logger.Error("giving up on a job that keeps failing", "reason", reason, "max_dequeue", d.cfg.MaxDequeue)
	d.metrics.Poisoned(h.Kind)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// The message stays hidden while the failure is posted, so that no
	// other consumer poisons it again meanwhile.
	held := make(chan struct{})
	extended := make(chan hidden, 1)
	go b.keepHidden(d, logger, m, held, extended, cancel)
	err := b.concludePoisoned(ctx, logger, h, m.DequeueCount-1, reason)
	close(held)
	kept := <-extended
	switch {
	case kept.lost:
		return "lost" // another consumer holds it now
	case err != nil:
		logger.Error("cannot post the failure of a poisoned job; its message reappears", "error", err)
		return "released"
	}
	d.metrics.Outcome("poisoned")
	b.deleteMessage(d, logger, kept.m)
	return "poisoned"
}

// concludePoisoned posts the failing check run of a poisoned hint.
func (b *Bot) concludePoisoned(ctx context.Context, logger *slog.Logger, h hint, attempts int64, reason string) error {
	gh, err := b.deps.client(h.Installation)
	if err != nil {
		return err
	}
	var sha string
	switch h.Kind {
	case hintPullRequest:
		pr, err := gh.PullRequest(ctx, h.Owner, h.Repo, h.Number)
		if err != nil {
			return err
		}
		if pr.State != "open" {
			logger.Info("the pull request of a poisoned job is not open; nothing to report", "state", pr.State)
			return nil
		}
		sha = pr.HeadSHA
	case hintCommit, hintMergeGroup:
		sha = h.SHA
	default:
		return nil // a moved base branch and a feature's job have no check run of their own
	}
	title := fmt.Sprintf("%s: gave up after %d attempts: %s", couldNotEvaluate, attempts, reason)
	summary := fmt.Sprintf("## ❌ Could not evaluate\n\npromobot tried %d times and gave up: %s.\n\n"+
		"The policy could not be checked, so this check fails closed: nothing is approved by default. "+
		"Re-run this check, or push, to try again.\n", attempts, reason)
	_, err = gh.CreateCheckRun(ctx, h.Owner, h.Repo, githubapi.CheckRun{
		Name: b.cfg.CheckName, HeadSHA: sha, Status: githubapi.StatusCompleted,
		Conclusion: githubapi.ConclusionFailure, StartedAt: b.cfg.Now(), CompletedAt: b.cfg.Now(),
		Output: &githubapi.Output{Title: truncate(title, maxTitle, "…"), Summary: summary},
	})
	return err
}

// ready reports whether the durable queue, when there is one, was
// reachable at its last probe, and otherwise why not.
func (d *durable) ready() (bool, string) {
	switch {
	case d == nil:
		return true, ""
	case !d.probed.Load():
		return false, "the job queue has not been reached yet"
	case !d.reachable.Load():
		return false, "cannot reach the job queue (see the log)"
	}
	return true, ""
}

// busy reports whether a message is being worked on.
func (d *durable) busy() bool { return d != nil && d.running.Load() > 0 }
