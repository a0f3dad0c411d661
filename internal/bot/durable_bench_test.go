package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/testing/azuritetest"
	"github.com/example-org/promobot/internal/workqueue"
)

// BenchmarkDurableDeliveryAck measures the acknowledgement of a signed
// pull_request_review delivery with a durable queue on Azurite, alone:
// over loopback HTTP with a kept-alive connection, the bot verifies the
// delivery, enqueues its hint on Azure Queue Storage and answers 202. The
// workers are stopped, so nothing but the acknowledgements runs: this is
// the floor of the scale-out bench's "ack p50 / p99". It reports the
// median and the 99th percentile besides the mean.
func BenchmarkDurableDeliveryAck(b *testing.B) {
	a := azuritetest.StartWithQueue(b)
	q, err := workqueue.Open(a.QueueURL("ack"), artifact.Credentials{ConnectionString: a.ConnectionString}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := q.Create(b.Context()); err != nil {
		b.Fatal(err)
	}
	fx := &fakeGitHub{}
	bot, err := newBot(Config{
		AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)},
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Workers: 4, Durable: &DurableQueue{Queue: q},
	}, deps{client: func(int64) (githubAPI, error) { return fx, nil }, mirrors: &fakeMirrors{block: true}})
	if err != nil {
		b.Fatal(err)
	}
	// Only the acknowledgements: no worker takes the messages.
	bot.durable.draining()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = bot.Shutdown(ctx)
	}()
	srv := httptest.NewServer(bot.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}

	body, _ := json.Marshal(envelope("submitted", m{"review": m{"id": 1, "state": "approved"}, "pull_request": prJSON(5, shaA)}))
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, srv.URL+"/webhook", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "pull_request_review")
		req.Header.Set("X-Hub-Signature-256", sig)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took = append(took, time.Since(start))
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	slices.Sort(took)
	quantile := func(q float64) float64 {
		return float64(took[min(len(took)-1, int(q*float64(len(took))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(quantile(0.50), "p50-ms")
	b.ReportMetric(quantile(0.99), "p99-ms")
}
