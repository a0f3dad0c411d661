package bot

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"
)

// FuzzHandlers sends correctly signed deliveries with arbitrary payloads to
// every handler: none may panic, and each answer is 202, 400 or 503.
func FuzzHandlers(f *testing.F) {
	for _, seed := range []any{
		openedPayload(),
		envelope("submitted", m{"review": m{"id": 1}, "pull_request": prJSON(5, shaA)}),
		envelope("rerequested", m{"check_run": m{"name": DefaultCheckName, "head_sha": shaA, "app": m{"id": testAppID}}}),
		envelope("requested", m{"check_suite": m{"head_sha": shaA, "pull_requests": []any{m{"number": 5}}}}),
		m{"zen": "ok"},
	} {
		b, _ := json.Marshal(seed)
		for _, event := range []string{"pull_request", "pull_request_review", "check_run", "check_suite", "ping"} {
			f.Add(event, b)
		}
	}
	f.Add("pull_request", []byte(`{"action":"edited","changes":{"base":null},"installation":{"id":-1}}`))
	f.Add("check_suite", []byte(`{"action":"rerequested","check_suite":{"pull_requests":[null]}}`))

	gh := &fakeGitHub{}
	bot, err := newBot(Config{
		AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, Logger: slog.New(slog.DiscardHandler),
		Workers: 1, QueueSize: 10, Now: time.Now,
	}, deps{client: func(int64) (githubAPI, error) { return gh, nil }, mirrors: &fakeMirrors{err: errFake}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = bot.Shutdown(context.Background()) })
	h := bot.Handler()
	f.Fuzz(func(t *testing.T, event string, payload []byte) {
		switch got := post(t, h, event, string(payload)); got {
		case http.StatusAccepted, http.StatusBadRequest, http.StatusServiceUnavailable:
		default:
			t.Errorf("status %d for %s %q", got, event, payload)
		}
	})
}
