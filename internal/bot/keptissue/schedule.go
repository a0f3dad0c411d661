package keptissue

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/queue"
)

// Schedule remembers when each repository's periodic pass last succeeded,
// so a feature called at every resynchronization pass works on a
// repository at most once per interval. It is in memory: a restarted bot
// runs every repository's pass at its first resynchronization.
type Schedule struct {
	// Interval is the least time between two successful passes of one
	// repository.
	Interval time.Duration
	mu       sync.Mutex
	done     map[string]time.Time
}

// Due reports whether the pass of repository key is due at now: it never
// succeeded, or last succeeded at least Interval before now.
func (s *Schedule) Due(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := s.done[key]
	return !ok || now.Sub(last) >= s.Interval
}

// Done records that the pass of repository key succeeded at now.
func (s *Schedule) Done(key string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = map[string]time.Time{}
	}
	s.done[key] = now
}

// Submitter queues a job; bot.Host implements it.
type Submitter interface {
	Submit(key bot.JobKey, logger *slog.Logger, run queue.Func) error
}

// SubmitDue queues run, as job kind of repo, when the repository's pass is
// due at now(); a failed run is due again at the next pass, a successful
// one records its time. A queued duplicate of a pass that ran in between
// does nothing. what names the pass in the error.
func (s *Schedule) SubmitDue(h Submitter, repo bot.Repo, kind, what string, now func() time.Time, logger *slog.Logger,
	run func(ctx context.Context, logger *slog.Logger) error) error {
	key := strings.ToLower(repo.FullName())
	if !s.Due(key, now()) {
		return nil
	}
	return h.Submit(bot.JobKey{Installation: repo.Installation, Repo: key, Kind: kind}, logger,
		func(ctx context.Context, logger *slog.Logger) error {
			if !s.Due(key, now()) {
				return nil
			}
			if err := run(ctx, logger); err != nil {
				return fmt.Errorf("%s of %s: %w", what, repo.FullName(), err)
			}
			s.Done(key, now())
			return nil
		})
}
