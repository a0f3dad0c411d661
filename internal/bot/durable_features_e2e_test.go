package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/workqueue"
)

// twiceQueue enqueues every message twice: at-least-once delivery at its
// worst, every message taken twice, possibly by two workers at once.
type twiceQueue struct{ *workqueue.Queue }

func (q twiceQueue) Enqueue(ctx context.Context, text string) error {
	if err := q.Queue.Enqueue(ctx, text); err != nil {
		return err
	}
	return q.Queue.Enqueue(ctx, text)
}

// durableQueue returns a fresh Azurite queue for the bot, every message
// enqueued twice when twice is set.
func durableQueue(t *testing.T, twice bool) *bot.DurableQueue {
	t.Helper()
	q := bot.OpenTestQueue(t)
	var jq bot.JobQueue = q
	if twice {
		jq = twiceQueue{q}
	}
	return &bot.DurableQueue{Queue: jq, VisibilityTimeout: 5 * time.Second, MaxDequeue: 3, Poll: 20 * time.Millisecond}
}

// TestEveryMessageTwiceOnTheDurableQueue runs the scenario of
// TestEveryDeliveryTwice on Azure Queue Storage (Azurite): the features'
// jobs (the rollback command's comment, autoPropose's merge, the
// attestations of a push) go through the queue as hints that a worker
// rebuilds from GitHub, like the pipeline's. With every message enqueued
// twice the side effects are those of the in-memory queue with every
// delivery sent once.
func TestEveryMessageTwiceOnTheDurableQueue(t *testing.T) {
	t.Parallel()
	once := runEverySideEffect(t, false, nil)
	durable := runEverySideEffect(t, false, durableQueue(t, true))
	if len(once.Writes) == 0 || once.Attestations == 0 || once.AuditLines == 0 {
		t.Fatalf("the scenario left too little to compare: %+v", once)
	}
	if diff := cmp.Diff(once, durable); diff != "" {
		t.Errorf("side effects on the durable queue with every message twice (-in memory, once +durable, twice):\n%s", diff)
	}
}
