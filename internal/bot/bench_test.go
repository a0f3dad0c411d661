package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkDeliveryAck measures answering a signed pull_request_review
// delivery of a realistic size: HMAC, parsing, routing and queueing (the
// evaluations coalesce behind a blocked one, as in a burst).
func BenchmarkDeliveryAck(b *testing.B) {
	fx := &fakeGitHub{}
	block := &fakeMirrors{block: true}
	now := time.Now()
	bot, err := newBot(Config{
		AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, Logger: slog.New(slog.DiscardHandler),
		Workers: 1, Now: func() time.Time { return now },
	}, deps{client: func(int64) (githubAPI, error) { return fx, nil }, mirrors: block})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		_ = bot.Shutdown(ctx)
	}()
	pr := prJSON(5, shaA)
	pr["body"] = string(bytes.Repeat([]byte("promotion notes "), 500))
	body, _ := json.Marshal(envelope("submitted", m{"review": m{"id": 1, "state": "approved"}, "pull_request": pr}))
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	h := bot.Handler()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "pull_request_review")
		req.Header.Set("X-Hub-Signature-256", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkWarmEvaluation measures one evaluation end to end through the
// emulator and git on loopback, with warm mirrors and caches: from the
// delivery to the completed check run.
func BenchmarkWarmEvaluation(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	n, _ := h.promotion(nil)
	h.pullRequestEvent(n, "opened")
	b.ResetTimer()
	for b.Loop() {
		h.pullRequestEvent(n, "synchronize")
	}
}
