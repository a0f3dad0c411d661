package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/workqueue"
)

// queueMemory is --queue's default: the in-memory queue of one replica.
const queueMemory = "memory"

// queueFlags are serve's job queue flags.
type queueFlags struct {
	queue      string
	visibility time.Duration
	maxDequeue int
}

func (f *queueFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.queue, "queue", queueMemory, "where the pipeline's jobs wait: memory (this replica only), or a durable queue shared by every replica, azqueue://ACCOUNT/QUEUE or an http(s) queue URL (Azure credentials from the environment)")
	fl.DurationVar(&f.visibility, "visibility-timeout", bot.DefaultVisibilityTimeout, "with an azqueue --queue: how long a message taken by a worker stays hidden from the other replicas; extended every third of it while the job runs")
	fl.IntVar(&f.maxDequeue, "max-dequeue", bot.DefaultMaxDequeue, "with an azqueue --queue: how often a message may be taken before its job is given up as a failing check run \"could not evaluate\"")
}

// check reports the flags' errors through bad.
func (f *queueFlags) check(bad func(format string, args ...any)) {
	if f.queue != queueMemory {
		if _, err := workqueue.ParseURL(f.queue); err != nil {
			bad("--queue (PROMOBOT_QUEUE): %v, or %s", err, queueMemory)
		}
	}
	if f.visibility < time.Second || f.visibility > 7*24*time.Hour {
		bad("--visibility-timeout (PROMOBOT_VISIBILITY_TIMEOUT) must be between 1s and 7 days, not %s", f.visibility)
	}
	if f.maxDequeue < 1 {
		bad("--max-dequeue (PROMOBOT_MAX_DEQUEUE) must be at least 1, not %d", f.maxDequeue)
	}
}

// serveDurable opens the durable queue of --queue, creating it when it does
// not exist; nil with the in-memory queue. A queue that cannot be reached
// at start is unavailable (exit 4): the deployment retries.
func serveDurable(ctx context.Context, e *env, f queueFlags, logger *slog.Logger) (*bot.DurableQueue, error) {
	if f.queue == queueMemory {
		return nil, nil
	}
	creds, err := artifact.CredentialsFromEnv(e.getenv)
	if err != nil {
		return nil, usageError("serve: --queue: %v", err)
	}
	q, err := workqueue.Open(f.queue, creds, nil)
	if err != nil {
		return nil, usageError("serve: --queue: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := q.Create(cctx); err != nil {
		return nil, failure.UnavailableError(fmt.Errorf("serve: --queue %s: %w", q.URL(), err))
	}
	logger.Info("jobs go through a durable queue", "queue", q.URL(), "credentials", creds.Kind(),
		"visibility_timeout", f.visibility, "max_dequeue", f.maxDequeue)
	return &bot.DurableQueue{Queue: q, VisibilityTimeout: f.visibility, MaxDequeue: f.maxDequeue}, nil
}
