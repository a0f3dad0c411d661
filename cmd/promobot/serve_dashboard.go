package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/dashboard"
	"github.com/example-org/promobot/internal/githubapi"
)

// dashboardServeFlags are serve's dashboard flags.
type dashboardServeFlags struct {
	addr string
}

func (f *dashboardServeFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.addr, "dashboard-addr", "", "serve the read-only dashboard, behind GitHub sign-in, on this address, a listener apart from the webhook's (empty: off; docs/dashboard.md)")
}

// dashboardSignIn is who may see what on the served dashboard: the gate,
// the middleware that sends a person without a session to sign in, and the
// sign-in routes.
type dashboardSignIn struct {
	Gate       dashboard.Gate
	Middleware func(http.Handler) http.Handler
	Routes     func(*http.ServeMux)
}

// startDashboard starts the dashboard listener when --dashboard-addr is set
// and returns how to stop it, behind GitHub sign-in (serveSignIn; its
// settings were checked with the flags, so it never serves without it).
func startDashboard(c *serveConfig, apps *githubapi.Apps, mirrors *mirror.Set, logger *slog.Logger) (stop func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	addr := c.flags.dashboard.addr
	if addr == "" {
		return noop, nil
	}
	signIn, err := serveSignIn(c, logger)
	if err != nil {
		return nil, err
	}
	repos := &servedRepositories{apps: apps, mirrors: mirrors, logger: logger.With("component", "dashboard")}
	_, stop, err = listenDashboard(addr, signIn, repos.list, logger)
	return stop, err
}

// listenDashboard serves the dashboard of the repositories list names on
// addr behind signIn and returns the address it listens on and how to stop
// it. The repositories are listed on the first request and again after
// dashboard.DefaultListTTL.
func listenDashboard(addr string, signIn *dashboardSignIn, list dashboard.Lister, logger *slog.Logger) (net.Addr, func(context.Context) error, error) {
	if signIn == nil || signIn.Gate == nil {
		return nil, nil, usageError("serve: the dashboard has no sign-in gate; it is not started")
	}
	srv, err := dashboard.New(dashboard.Options{
		Gate: signIn.Gate, Middleware: signIn.Middleware, Routes: signIn.Routes,
		List: list, Logger: logger.With("component", "dashboard"),
	})
	if err != nil {
		return nil, nil, usageError("serve: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, usageError("serve: listen on --dashboard-addr %s: %v", addr, err)
	}
	hs := newDashboardHTTPServer(srv, logger)
	go func() {
		if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
			logger.Error("dashboard listener stopped", "error", err)
		}
	}()
	logger.Info("dashboard listening", "addr", ln.Addr().String(), "repositories_ttl", dashboard.DefaultListTTL, "mirror_max_age", dashboardMirrorMaxAge)
	return ln.Addr(), hs.Shutdown, nil
}
