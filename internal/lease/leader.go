package lease

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// LeaderName is the lease whose holder leads the periodic work.
const LeaderName = "leader"

// Leader campaigns for the leader lease of a Blobs: every Options.Poll
// (a third of the period by default) a replica that does not lead tries to
// take it, and one that leads keeps it renewed. A replica leads while its
// lease is Writable, so two replicas never both believe they lead by
// their own clocks.
type Leader struct {
	blobs    *Blobs
	onChange func(leading bool)
	logger   *slog.Logger

	mu   sync.Mutex
	held *Held

	cancel context.CancelFunc
	done   chan struct{}
}

// StartLeader starts campaigning. onChange, when not nil, is called each
// time this replica becomes or stops being the leader; logger may be nil.
func (b *Blobs) StartLeader(onChange func(leading bool), logger *slog.Logger) *Leader {
	if onChange == nil {
		onChange = func(bool) {}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Leader{blobs: b, onChange: onChange, logger: logger, cancel: cancel, done: make(chan struct{})}
	go l.campaign(ctx)
	return l
}

func (l *Leader) campaign(ctx context.Context) {
	defer close(l.done)
	poll := l.blobs.opts.Poll
	if poll <= 0 {
		poll = l.blobs.opts.Period / 3
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		l.step(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// step gives up a lease that ran down and tries to take one when none is
// held.
func (l *Leader) step(ctx context.Context) {
	l.mu.Lock()
	held := l.held
	l.mu.Unlock()
	if held != nil {
		if held.Writable() {
			return
		}
		held.Release()
		l.set(nil)
		l.logger.Warn("leadership lost: the leader lease could not be renewed in time")
	}
	h, err := l.blobs.TryAcquire(ctx, LeaderName)
	if err != nil {
		if ctx.Err() == nil {
			l.logger.Warn("leader campaign: the lease could not be read", "error", err)
		}
		return
	}
	if h != nil {
		l.set(h)
		l.logger.Info("this replica now leads the periodic work")
	}
}

func (l *Leader) set(h *Held) {
	l.mu.Lock()
	was := l.held != nil
	l.held = h
	l.mu.Unlock()
	if was != (h != nil) {
		l.onChange(h != nil)
	}
}

// Leading reports whether this replica leads now.
func (l *Leader) Leading() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held != nil && l.held.Writable()
}

// Stop ends the campaign and releases the leader lease, so that another
// replica takes over at its next attempt instead of after the lease
// expires.
func (l *Leader) Stop() {
	l.cancel()
	<-l.done
	l.mu.Lock()
	h := l.held
	l.mu.Unlock()
	if h != nil {
		h.Release()
		l.set(nil)
	}
}
