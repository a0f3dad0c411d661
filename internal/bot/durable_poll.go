package bot

import (
	"context"
	"time"
)

// pollDurable is the replica's one reader of the durable queue: it takes
// as many messages as workers are free (at most 32 at a time) and hands
// them to the workers. When the queue is empty it reads again after Poll,
// or at once when this replica enqueues a message or a worker frees while
// messages were coming. One reader per replica rather than one per worker
// keeps the idle load on the queue service at one read a second a replica.
func (b *Bot) pollDurable(ctx context.Context, d *durable) {
	defer d.wg.Done()
	defer close(d.work)
	stop := d.drained()
	free := d.workers
	next := time.Now()
	var backoff time.Duration
	for {
		select {
		case <-stop:
			return
		default:
		}
		if free == 0 {
			select {
			case <-stop:
				return
			case <-d.freed:
				free++
			}
			continue
		}
		if wait := time.Until(next); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-stop:
				timer.Stop()
				return
			case <-d.freed:
				free++
				timer.Stop()
				continue
			case <-d.wake:
				timer.Stop()
				if backoff > 0 {
					continue // the queue failed: keep backing off
				}
			case <-timer.C:
			}
		}
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		msgs, err := d.cfg.Queue.Dequeue(dctx, min(free, 32), d.cfg.VisibilityTimeout)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				b.cfg.Logger.Warn("cannot take a message from the job queue", "error", err)
			}
			backoff = min(max(2*backoff, d.cfg.Poll), 30*time.Second)
			next = time.Now().Add(backoff)
			continue
		}
		backoff = 0
		if len(msgs) == 0 {
			next = time.Now().Add(d.cfg.Poll)
			continue
		}
		// More may be waiting: read again as soon as a worker is free.
		next = time.Now()
		for _, m := range msgs {
			// A free worker is waiting on work: this does not block long.
			d.work <- m
			free--
		}
	}
}

// consume is one worker: it works on the messages the poller hands it,
// one at a time, until the poller stops.
func (b *Bot) consume(ctx context.Context, d *durable) {
	defer d.wg.Done()
	for m := range d.work {
		b.handleMessage(ctx, d, m)
		d.freed <- struct{}{}
	}
}

// woken asks the poller to read the queue at once, without waiting.
func (d *durable) woken() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}
