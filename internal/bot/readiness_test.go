package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/failure"
)

// TestReadyzWaitsForTheAppsAuthentication: /readyz answers 503 while the
// App has not authenticated as itself, names a failed attempt (a wrong App
// id or key) in the log at error level, and answers 200 once an attempt
// succeeds.
func TestReadyzWaitsForTheAppsAuthentication(t *testing.T) {
	var log strings.Builder
	var calls atomic.Int32
	release := make(chan struct{})
	sw := &syncWriter{w: &log}
	b := &Bot{cfg: Config{AppID: 7, Logger: slog.New(slog.NewTextHandler(sw, nil))}}
	b.deps.botLogin = func(ctx context.Context) (string, error) {
		if calls.Add(1) == 1 {
			return "", failure.Mark(failure.Refused, errors.New("401 A JSON web token could not be decoded"))
		}
		select {
		case <-release:
			return "promobot[bot]", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	b.auth = b.startAuthentication()
	defer b.auth.stop()
	readyz := func() (int, string) {
		rec := httptest.NewRecorder()
		b.readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	waitFor(t, func() bool { return calls.Load() >= 1 })
	waitFor(t, func() bool { _, body := readyz(); return strings.Contains(body, "cannot authenticate") })
	if code, _ := readyz(); code != http.StatusServiceUnavailable {
		t.Errorf("readyz before the App authenticated: %d, want 503", code)
	}
	close(release)
	waitFor(t, func() bool { code, _ := readyz(); return code == http.StatusOK })
	sw.mu.Lock()
	got := log.String()
	sw.mu.Unlock()
	if !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "check the App id and private key") || !strings.Contains(got, "retry_in=1s") {
		t.Errorf("the log does not show the failed authentication:\n%s", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncWriter serializes writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
