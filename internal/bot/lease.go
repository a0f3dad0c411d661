package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/keyedlock"
)

// Leases coordinate the replicas of the bot (docs/scale-out-consistency.md):
// one writer per pull request, and one leader for the periodic work
// (resynchronization, rechecks and the features' passes). Nil in Config
// means in-process leases: a lock per name, and this process always leads,
// which is right for a single replica.
type Leases interface {
	// Hold waits until this replica holds the lease named name, or ctx
	// ends. The evaluation that holds it releases it when done.
	Hold(ctx context.Context, name string) (Lease, error)
	// Leading reports whether this replica leads the periodic work now.
	Leading() bool
	// Period is how long a lease lasts unless renewed; zero for leases
	// that do not expire (in-process).
	Period() time.Duration
	// LastRecheck returns when a leader, this replica or another, last
	// started a recheck pass (zero when none did), so that a new leader
	// continues the schedule instead of rechecking everything at once.
	LastRecheck(ctx context.Context) (time.Time, error)
	// RecordRecheck records, while this replica leads, that it starts a
	// recheck pass at at.
	RecordRecheck(ctx context.Context, at time.Time) error
}

// Lease is a held lease.
type Lease interface {
	// Err is nil while a write may start under the lease: enough of it
	// remains by the holder's clock. Otherwise the lease is lost.
	Err() error
	// Release gives the lease back.
	Release()
}

// processLeases are the in-process leases: a lock per name, and the last
// recheck in memory (a restarted process rechecks at its first pass).
type processLeases struct {
	locks keyedlock.Set

	mu          sync.Mutex
	lastRecheck time.Time
}

func (l *processLeases) Hold(ctx context.Context, name string) (Lease, error) {
	unlock, err := l.locks.Lock(ctx, name)
	if err != nil {
		return nil, err
	}
	return processLease(unlock), nil
}

func (*processLeases) Leading() bool         { return true }
func (*processLeases) Period() time.Duration { return 0 }

func (l *processLeases) LastRecheck(context.Context) (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastRecheck, nil
}

func (l *processLeases) RecordRecheck(_ context.Context, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastRecheck = at
	return nil
}

// processLease is an in-process lease: never lost.
type processLease func()

func (processLease) Err() error { return nil }
func (l processLease) Release() { l() }

// errLeaseLost is why a check run write was refused.
var errLeaseLost = errors.New("the pull request's lease ran out before the check run was written; the next evaluation writes it")

// pullLeaseName names the lease of the pull requests sharing a head: that
// of the lowest-numbered one, so that every evaluation posting on the head
// takes the same lease.
func pullLeaseName(t target, group []*githubapi.PullRequest) string {
	n := t.number
	for _, p := range group {
		n = min(n, p.Number)
	}
	return fmt.Sprintf("pulls/%s/%d", strings.ToLower(t.fullName()), n)
}

// mergeGroupLeaseName names the lease of a merge group commit.
func mergeGroupLeaseName(g mergeGroup) string {
	return fmt.Sprintf("merge-groups/%s/%s", strings.ToLower(g.fullName()), g.headSHA)
}

// hold takes the lease named name and returns gh with its check run
// writes refused once the lease is lost, and the function that releases
// it.
func (b *Bot) hold(ctx context.Context, gh githubAPI, name string) (githubAPI, func(), error) {
	l, err := b.cfg.Leases.Hold(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	return leasedGitHub{githubAPI: gh, lease: l}, l.Release, nil
}

// leasedGitHub refuses check run writes once its lease is lost, so that a
// replica that lost a pull request to another does not start writing on
// it. A write started in time may still land late: it carries the
// fingerprint of its inputs, and the next evaluation corrects it.
type leasedGitHub struct {
	githubAPI
	lease Lease
}

func (g leasedGitHub) refuse() error {
	if err := g.lease.Err(); err != nil {
		return fmt.Errorf("%w (%w)", errLeaseLost, err)
	}
	return nil
}

func (g leasedGitHub) CreateCheckRun(ctx context.Context, owner, repo string, run githubapi.CheckRun) (int64, error) {
	if err := g.refuse(); err != nil {
		return 0, err
	}
	return g.githubAPI.CreateCheckRun(ctx, owner, repo, run)
}

func (g leasedGitHub) StartCheckRun(ctx context.Context, owner, repo string, run githubapi.CheckRun) (int64, []int, error) {
	if err := g.refuse(); err != nil {
		return 0, nil, err
	}
	return g.githubAPI.StartCheckRun(ctx, owner, repo, run)
}

func (g leasedGitHub) UpdateCheckRun(ctx context.Context, owner, repo string, id int64, run githubapi.CheckRun) error {
	if err := g.refuse(); err != nil {
		return err
	}
	return g.githubAPI.UpdateCheckRun(ctx, owner, repo, id, run)
}
