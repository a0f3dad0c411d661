package bot

import (
	"context"
	"testing"
)

// Hooks for the package's external tests (package bot_test), which build
// the bot with the real features.

// NewOffline returns a bot whose GitHub and mirrors fail every call.
func NewOffline(t *testing.T, cfg Config) *Bot {
	t.Helper()
	b, err := newBot(cfg, deps{
		client:  func(int64) (githubAPI, error) { return nil, errFake },
		mirrors: &fakeMirrors{err: errFake},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	return b
}

// The package's test helpers and fakes, for the external tests.
var (
	ErrFake     = errFake
	Post        = post
	MetricsText = metricsText
	GrepLines   = grepLines
)

// Constants of the package's tests.
const (
	TestAppID  = testAppID
	TestSecret = testSecret
)

// OpenTestQueue creates a fresh durable queue on the package's shared
// Azurite, for the external tests.
var OpenTestQueue = openTestQueue
