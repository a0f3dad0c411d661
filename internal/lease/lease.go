// Package lease coordinates replicas of the bot with Azure Blob leases:
// one lease per name (a pull request, say) held by at most one replica at
// a time, and a leader lease for the periodic work only one replica should
// do.
//
// A lease is held for Options.Period and renewed every third of it. The
// holder tracks when its lease ends by its own monotonic clock, counted
// from just before each acquire or renew request was sent, so its view
// never outlives Azure's. Held.Writable says whether a side effect may
// start: only while at least Margin of the lease remains (a third of the
// period, 10 s by default), that is while at most one renewal has failed.
// A write that starts in time can still land after the lease ended (a
// paused process, a slow request): GitHub has no conditional writes, so
// the bot labels its writes with the fingerprint of their inputs and the
// next evaluation corrects a stale one (docs/scale-out-consistency.md).
package lease

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Azure's limits on a blob lease's duration.
const (
	MinPeriod = 15 * time.Second
	MaxPeriod = 60 * time.Second
	// DefaultPeriod is the lease period when Options.Period is zero.
	DefaultPeriod = 30 * time.Second
)

// ErrLost is returned for a lease that ended while held: its renewal was
// refused, or it expired by the holder's clock.
var ErrLost = errors.New("lease lost")

// Options tune a Blobs. The zero value is ready to use.
type Options struct {
	// Period is the lease's duration, between MinPeriod and MaxPeriod;
	// zero means DefaultPeriod.
	Period time.Duration
	// RenewEvery is how often a held lease is renewed; zero means a third
	// of Period. A longer interval is cut to a third of Period.
	RenewEvery time.Duration
	// Poll is how often Acquire tries again while another replica holds
	// the lease, and how often a Leader campaigns; zero means a third of
	// Period for the leader and one second for Acquire.
	Poll time.Duration
	// Now is the monotonic clock the holder measures its lease with; nil
	// means time.Now.
	Now func() time.Time
	// OnTakeover is called with a lease's name when it was acquired after
	// its previous holder let it expire without releasing it (a replica
	// that died or stalled).
	OnTakeover func(name string)
}

func (o Options) withDefaults() Options {
	if o.Period == 0 {
		o.Period = DefaultPeriod
	}
	if o.RenewEvery <= 0 || o.RenewEvery > o.Period/3 {
		o.RenewEvery = o.Period / 3
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnTakeover == nil {
		o.OnTakeover = func(string) {}
	}
	return o
}

// Margin is how much of a lease of period must remain for its holder to
// start a side effect: a third of the period.
func Margin(period time.Duration) time.Duration { return period / 3 }

// renewer renews or releases one acquired lease.
type renewer interface {
	renew(ctx context.Context) error
	release(ctx context.Context) error
}

// Held is a lease this replica holds. It renews itself until Release.
type Held struct {
	name   string
	period time.Duration
	now    func() time.Time
	r      renewer

	mu      sync.Mutex
	expires time.Time // by the monotonic clock
	lost    bool

	stop     chan struct{}
	done     chan struct{}
	released sync.Once
}

// hold starts renewing a lease acquired with a request sent at sent.
func hold(name string, o Options, r renewer, sent time.Time) *Held {
	h := &Held{name: name, period: o.Period, now: o.Now, r: r, expires: sent.Add(o.Period),
		stop: make(chan struct{}), done: make(chan struct{})}
	go h.renewLoop(o.RenewEvery)
	return h
}

// Name is the lease's name.
func (h *Held) Name() string { return h.name }

// Remaining is how much of the lease is left by the holder's clock; zero
// once lost or expired.
func (h *Held) Remaining() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost {
		return 0
	}
	return max(h.expires.Sub(h.now()), 0)
}

// Writable reports whether a side effect may start under this lease: at
// least Margin(period) of it remains.
func (h *Held) Writable() bool { return h.Remaining() >= Margin(h.period) }

// Err is nil while Writable, ErrLost otherwise.
func (h *Held) Err() error {
	if h.Writable() {
		return nil
	}
	return ErrLost
}

func (h *Held) renewLoop(every time.Duration) {
	defer close(h.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		sent := h.now()
		ctx, cancel := context.WithTimeout(context.Background(), every)
		err := h.r.renew(ctx)
		cancel()
		h.mu.Lock()
		switch {
		case err == nil:
			if !h.lost {
				h.expires = sent.Add(h.period)
			}
		case errors.Is(err, ErrLost):
			h.lost = true
		}
		// Another error (a network blip) leaves the expiry as it was:
		// the next tick tries again while the lease runs down.
		h.mu.Unlock()
	}
}

// abandon stops renewing without releasing, as a replica that dies does.
func (h *Held) abandon() {
	h.released.Do(func() {
		close(h.stop)
		<-h.done
	})
}

// Release stops renewing and gives the lease back, so that another
// replica need not wait for it to expire. Calling it again does nothing.
func (h *Held) Release() {
	h.released.Do(func() {
		close(h.stop)
		<-h.done
		h.mu.Lock()
		h.lost = true
		h.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// A release that fails lets the lease expire instead.
		_ = h.r.release(ctx)
	})
}
