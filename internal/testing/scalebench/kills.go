package scalebench

import (
	"context"
	"sync"
	"time"

	"github.com/example-org/promobot/internal/testing/githubtest"
)

// killLoop kills one replica with SIGKILL every opts.KillEvery while the
// load runs, in turn, at most opts.Kills times, and restarts it at once
// on the same address, as a container platform would. The balancer stops
// sending to a replica from its kill until it is ready again.
func killLoop(ctx context.Context, opts Options, replicas []*replica, l *load, mon *monitor, loadDone <-chan struct{}) error {
	if opts.Kills == 0 {
		return nil
	}
	ticker := time.NewTicker(opts.KillEvery)
	defer ticker.Stop()
	for k := range opts.Kills {
		select {
		case <-ctx.Done():
			return nil
		case <-loadDone:
			return nil
		case <-ticker.C:
		}
		i := k % len(replicas)
		victim := replicas[i]
		l.lb.down[i].Store(true)
		at := time.Now()
		victim.kill()
		mon.add(victim.name, at, waitingAt(l))
		if err := victim.start(); err != nil {
			return err
		}
		l.lb.down[i].Store(false)
	}
	return nil
}

// waitingAt returns the pull requests not current with their last change
// at this moment, each with the id of that change: those a kill may have
// left without their evaluation.
func waitingAt(l *load) map[int]int64 {
	latest := latestRuns(l.w)
	changes := l.snapshot()
	out := map[int]int64{}
	for _, p := range l.w.prs {
		if !current(l.w, latest, p.number, changes[p.number]) {
			out[p.number] = changes[p.number]
		}
	}
	return out
}

// monitor watches, after each kill, for the pull requests it left waiting
// to be evaluated again.
type monitor struct {
	w       *world
	mu      sync.Mutex
	records []*killRecord
}

type killRecord struct {
	replica     string
	at          time.Time
	waiting     map[int]int64
	total       int
	recoveredAt time.Time
}

func (m *monitor) add(replica string, at time.Time, waiting map[int]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, &killRecord{replica: replica, at: at, waiting: waiting, total: len(waiting)})
}

// run checks every 100ms until ctx ends, and once more then.
func (m *monitor) run(ctx context.Context) {
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		m.check()
		select {
		case <-ctx.Done():
			m.check()
			return
		case <-ticker.C:
		}
	}
}

func (m *monitor) check() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	var latest map[string]githubtest.CheckRun
	for _, r := range m.records {
		if !r.recoveredAt.IsZero() {
			continue
		}
		if latest == nil {
			latest = latestRuns(m.w)
		}
		for n, since := range r.waiting {
			if current(m.w, latest, n, since) {
				delete(r.waiting, n)
			}
		}
		if len(r.waiting) == 0 {
			r.recoveredAt = now
		}
	}
}

// kills returns what the monitor saw.
func (m *monitor) kills() []Kill {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Kill
	for _, r := range m.records {
		k := Kill{Replica: r.replica, Waiting: r.total, Recovered: !r.recoveredAt.IsZero()}
		if k.Recovered {
			k.Recovery = r.recoveredAt.Sub(r.at)
		}
		out = append(out, k)
	}
	return out
}
