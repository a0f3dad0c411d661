package bot

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/example-org/promobot/internal/failure"
)

// authentication tracks whether the App has authenticated as itself (GET
// /app with its JWT) once: until it has, /readyz says not ready, so a wrong
// App id or private key shows at start rather than at the first delivery.
type authentication struct {
	ok     atomic.Bool
	failed atomic.Bool // an attempt failed; the log says why
	cancel context.CancelFunc
	done   chan struct{}
}

// authRetry bounds the wait between two attempts to authenticate.
const (
	authRetryFirst = time.Second
	authRetryMax   = time.Minute
)

// startAuthentication authenticates as the App in the background, retrying
// with backoff until it succeeds or the bot shuts down. Without a way to ask
// (botLogin is nil), the bot counts as authenticated.
func (b *Bot) startAuthentication() *authentication {
	a := &authentication{done: make(chan struct{})}
	if b.deps.botLogin == nil {
		a.ok.Store(true)
		close(a.done)
		a.cancel = func() {}
		return a
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	logger := b.cfg.Logger
	go func() {
		defer close(a.done)
		wait := authRetryFirst
		for attempt := 1; ; attempt++ {
			start := time.Now()
			login, err := b.deps.botLogin(ctx)
			if err == nil {
				logger.Info("authenticated as the GitHub App", "app_id", b.cfg.AppID, "bot", login, "took", time.Since(start))
				a.ok.Store(true)
				return
			}
			if ctx.Err() != nil {
				return
			}
			a.failed.Store(true)
			if failure.IsTerminal(err) {
				logger.Error("cannot authenticate as the GitHub App: check the App id and private key; /readyz stays unready",
					"app_id", b.cfg.AppID, "attempt", attempt, "error", err, "retry_in", wait)
			} else {
				logger.Warn("cannot authenticate as the GitHub App yet; /readyz stays unready",
					"app_id", b.cfg.AppID, "attempt", attempt, "error", err, "retry_in", wait)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, authRetryMax)
		}
	}()
	return a
}

// readyz answers 200 "ready" once the App has authenticated as itself and
// while the bot takes deliveries and, with a durable queue, can reach it;
// 503 otherwise.
func (b *Bot) readyz(w http.ResponseWriter, _ *http.Request) {
	if b.draining.Load() {
		writeText(w, http.StatusServiceUnavailable, "draining")
		return
	}
	if ok, why := b.auth.ready(); !ok {
		writeText(w, http.StatusServiceUnavailable, why)
		return
	}
	if ok, why := b.durable.ready(); !ok {
		writeText(w, http.StatusServiceUnavailable, why)
		return
	}
	writeText(w, http.StatusOK, "ready")
}

// ready reports whether the App has authenticated, and otherwise why not,
// without the cause, which only the log shows.
func (a *authentication) ready() (bool, string) {
	switch {
	case a.ok.Load():
		return true, ""
	case a.failed.Load():
		return false, "cannot authenticate as the GitHub App (see the log)"
	}
	return false, "not yet authenticated as the GitHub App"
}

// stop ends the attempts and waits for them.
func (a *authentication) stop() {
	a.cancel()
	<-a.done
}
