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
func startDashboard(ctx context.Context, e *env, c *serveConfig, apps *githubapi.Apps, logger *slog.Logger) (stop func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	addr := c.flags.dashboard.addr
	if addr == "" {
		return noop, nil
	}
	signIn, err := serveSignIn(c, logger)
	if err != nil {
		return nil, err
	}
	repos, err := servedRepositories(ctx, apps, c.flags.cacheDir)
	if err != nil {
		return nil, err
	}
	_, stop, err = listenDashboard(addr, signIn, repos, logger)
	return stop, err
}

// listenDashboard serves the dashboard of repos on addr behind signIn and
// returns the address it listens on and how to stop it.
func listenDashboard(addr string, signIn *dashboardSignIn, repos []*dashboard.Repository, logger *slog.Logger) (net.Addr, func(context.Context) error, error) {
	if signIn == nil || signIn.Gate == nil {
		return nil, nil, usageError("serve: the dashboard has no sign-in gate; it is not started")
	}
	srv, err := dashboard.New(dashboard.Options{
		Gate: signIn.Gate, Middleware: signIn.Middleware, Routes: signIn.Routes,
		Repositories: repos, Logger: logger.With("component", "dashboard"),
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
	logger.Info("dashboard listening", "addr", ln.Addr().String(), "repositories", len(repos))
	return ln.Addr(), hs.Shutdown, nil
}

// servedRepositories lists the repositories of every installation, each
// read from its mirror under cacheDir through its installation's client.
func servedRepositories(ctx context.Context, apps *githubapi.Apps, cacheDir string) ([]*dashboard.Repository, error) {
	ids, err := apps.InstallationIDs(ctx)
	if err != nil {
		return nil, err
	}
	var out []*dashboard.Repository
	for _, id := range ids {
		client, err := apps.Installation(id)
		if err != nil {
			return nil, err
		}
		list, err := client.Repositories(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range list {
			path, err := mirror.LocalPath(cacheDir, r.Owner+"/"+r.Name, r.CloneURL)
			if err != nil {
				return nil, err
			}
			out = append(out, &dashboard.Repository{Owner: r.Owner, Name: r.Name, Path: path, Ref: "refs/remotes/origin/" + r.DefaultBranch, GitHub: client})
		}
	}
	return out, nil
}
