package world

import (
	"context"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/githubapi"
)

// Services are what a bot is built with in front of the world: its own
// metrics, GitHub clients as the App and mirrors.
type Services struct {
	Metrics *metrics.Metrics
	Apps    *githubapi.Apps
	Mirrors *mirror.Set
}

// Services builds a bot's services; wire, when set, wraps the transport to
// the emulator.
func (w *World) Services(wire func(http.RoundTripper) http.RoundTripper) Services {
	t := w.T
	t.Helper()
	_, keyPEM := AppKey()
	m := metrics.New()
	var transport http.RoundTripper = http.DefaultTransport
	if wire != nil {
		transport = wire(transport)
	}
	apps, err := githubapi.New(githubapi.Config{
		BaseURL: w.Fixture.URL(), AppID: AppID, PrivateKey: keyPEM,
		Transport: m.InstrumentTransport(transport),
	})
	if err != nil {
		t.Fatal(err)
	}
	mirrors, err := mirror.New(t.TempDir(), mirror.Options{ObserveFetch: func(o mirror.FetchOutcome, d time.Duration) { m.GitFetch(string(o), d) }})
	if err != nil {
		t.Fatal(err)
	}
	return Services{Metrics: m, Apps: apps, Mirrors: mirrors}
}

// Serve serves handler over loopback until the test ends, then closes the
// server and calls shutdown (a bot's Shutdown) with ten seconds to drain.
func (w *World) Serve(handler http.Handler, shutdown func(context.Context) error) *httptest.Server {
	srv := httptest.NewServer(handler)
	w.T.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = shutdown(ctx)
	})
	return srv
}
