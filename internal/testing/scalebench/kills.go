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
		waiting := waitingAt(l)
		// Only replicas on the durable queue log the messages they take;
		// in the other modes any pull request waiting may have been in the
		// killed replica's memory.
		hit := waiting
		if opts.Mode == ModeQueue {
			held, err := victim.heldAtExit()
			if err != nil {
				return err
			}
			hit = affected(waiting, held)
		}
		mon.add(victim.name, at, waiting, hit)
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

// affected returns the pull requests among waiting whose work the killed
// replica held: a message it had taken and not finished (its evaluation,
// and the pull request's lease while it evaluated). The others waiting at
// the kill were queued, or held by a replica still alive.
func affected(waiting map[int]int64, held map[int]bool) map[int]int64 {
	out := map[int]int64{}
	for n, since := range waiting {
		if held[n] {
			out[n] = since
		}
	}
	return out
}

// monitor watches, after each kill, for the pull requests it left waiting
// to be evaluated again: those the killed replica held, and every one
// waiting anywhere at the kill.
type monitor struct {
	w       *world
	mu      sync.Mutex
	records []*killRecord
}

type killRecord struct {
	replica string
	at      time.Time
	// held are the pull requests the killed replica held; all those
	// waiting anywhere at the kill.
	held, all *watch
}

// watch follows a set of pull requests until each is current with its
// change at the kill.
type watch struct {
	waiting     map[int]int64
	total       int
	recoveredAt time.Time
}

// newWatch watches waiting from the kill at at; a kill that left nothing
// waiting has recovered at once.
func newWatch(at time.Time, waiting map[int]int64) *watch {
	w := &watch{waiting: waiting, total: len(waiting)}
	if len(waiting) == 0 {
		w.recoveredAt = at
	}
	return w
}

func (m *monitor) add(replica string, at time.Time, all, held map[int]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, &killRecord{replica: replica, at: at, held: newWatch(at, held), all: newWatch(at, all)})
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
		for _, w := range []*watch{r.held, r.all} {
			if !w.recoveredAt.IsZero() {
				continue
			}
			if latest == nil {
				latest = latestRuns(m.w)
			}
			for n, since := range w.waiting {
				if current(m.w, latest, n, since) {
					delete(w.waiting, n)
				}
			}
			if len(w.waiting) == 0 {
				w.recoveredAt = now
			}
		}
	}
}

// kills returns what the monitor saw.
func (m *monitor) kills() []Kill {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Kill
	for _, r := range m.records {
		out = append(out, Kill{Replica: r.replica, Held: r.held.figure(r.at), Waiting: r.all.figure(r.at)})
	}
	return out
}

func (w *watch) figure(at time.Time) Recovery {
	f := Recovery{PullRequests: w.total, Recovered: !w.recoveredAt.IsZero()}
	if f.Recovered {
		f.Time = w.recoveredAt.Sub(at)
	}
	return f
}
