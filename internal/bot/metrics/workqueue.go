package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// WorkQueue records the coalescing of evaluations and, when the bot runs
// on a durable job queue, the queue's messages. A nil *WorkQueue records
// nothing.
type WorkQueue struct {
	coalesced prometheus.Counter
	enqueued  *prometheus.CounterVec
	messages  *prometheus.CounterVec
	dequeues  prometheus.Histogram
	poisoned  *prometheus.CounterVec
	length    atomic.Int64
}

// WorkQueue registers the work queue's metrics and returns their recorder;
// call it once per Metrics. On a nil *Metrics it returns nil.
//
//   - promobot_evaluations_coalesced_total: jobs dropped because the
//     inputs they would evaluate were already evaluated;
//   - promobot_workqueue_enqueued_total{outcome}: hints put on the durable
//     queue (enqueued, failed, closed);
//   - promobot_workqueue_messages_total{outcome}: messages taken and how
//     their work ended (completed, failed, lost, malformed, poisoned);
//   - promobot_workqueue_dequeues: the dequeue count of each message
//     taken (1 for a first attempt);
//   - promobot_workqueue_poisoned_total{kind}: messages given up on after
//     too many attempts, by kind of job;
//   - promobot_workqueue_approximate_length: the queue's approximate
//     number of messages at its last probe.
func (m *Metrics) WorkQueue() *WorkQueue {
	if m == nil {
		return nil
	}
	w := &WorkQueue{
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "evaluations_coalesced_total",
			Help: "Jobs dropped because the inputs they would evaluate were already evaluated.",
		}),
		enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "workqueue_enqueued_total",
			Help: "Job hints put on the durable queue, by outcome.",
		}, []string{"outcome"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "workqueue_messages_total",
			Help: "Messages taken from the durable queue, by how their work ended.",
		}, []string{"outcome"}),
		dequeues: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "workqueue_dequeues",
			Help:    "Dequeue count of each message taken from the durable queue.",
			Buckets: []float64{1, 2, 3, 4, 5, 6, 8, 10, 20},
		}),
		poisoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "workqueue_poisoned_total",
			Help: "Messages given up on after too many attempts, by kind of job.",
		}, []string{"kind"}),
	}
	m.registry.MustRegister(w.coalesced, w.enqueued, w.messages, w.dequeues, w.poisoned,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "workqueue_approximate_length",
			Help: "Approximate number of messages in the durable queue at its last probe.",
		}, func() float64 { return float64(w.length.Load()) }),
	)
	return w
}

// Coalesced counts one job dropped because its inputs were already
// evaluated.
func (w *WorkQueue) Coalesced() {
	if w != nil {
		w.coalesced.Inc()
	}
}

// Enqueued counts one hint put (or not) on the durable queue.
func (w *WorkQueue) Enqueued(outcome string) {
	if w != nil {
		w.enqueued.WithLabelValues(outcome).Inc()
	}
}

// Dequeued records the dequeue count of a message taken.
func (w *WorkQueue) Dequeued(count int64) {
	if w != nil {
		w.dequeues.Observe(float64(count))
	}
}

// Outcome counts how the work of one message ended.
func (w *WorkQueue) Outcome(outcome string) {
	if w != nil {
		w.messages.WithLabelValues(outcome).Inc()
	}
}

// Poisoned counts one message given up on.
func (w *WorkQueue) Poisoned(kind string) {
	if w != nil {
		w.poisoned.WithLabelValues(kind).Inc()
	}
}

// Length records the queue's approximate length.
func (w *WorkQueue) Length(n int) {
	if w != nil {
		w.length.Store(int64(n))
	}
}
