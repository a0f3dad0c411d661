package workqueue

import (
	"slices"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/testing/azuritetest"
)

// BenchmarkEnqueue measures one Enqueue of a hint-sized message on Azurite
// over loopback, nothing else running: the storage's share of a webhook
// acknowledgement with the durable queue (bot.BenchmarkDurableDeliveryAck
// measures the whole acknowledgement). It reports the median and the 99th
// percentile besides the mean.
func BenchmarkEnqueue(b *testing.B) {
	a := azuritetest.StartWithQueue(b)
	q, err := Open(a.QueueURL("bench"), artifact.Credentials{ConnectionString: a.ConnectionString}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := q.Create(b.Context()); err != nil {
		b.Fatal(err)
	}
	const hint = `{"kind":"pull_request","installation":88,"owner":"example-org","repo":"models","number":42,` +
		`"sha":"0a2a021386ae7f4559c14531341909d491accaec","delivery":"0f3c6e2a-5b1d-11ef-8f6a-1d2c3b4a5f6e","event":"pull_request_review"}`
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := q.Enqueue(b.Context(), hint); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	quantile := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(quantile(0.50), "p50-ms")
	b.ReportMetric(quantile(0.99), "p99-ms")
}
