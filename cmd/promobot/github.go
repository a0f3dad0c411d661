package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/githubapi"
)

// githubClient returns the GitHub client of a command that acts as one
// identity (cfg.Token, or an App installation). Its requests take the
// server's route: retries with backoff, waits for primary and secondary
// rate limits, conditional reads and the in-flight cap. Its errors are
// usage errors. e.githubRetry, when set, tunes the retries.
func githubClient(e *env, cfg githubapi.Config) (*githubapi.Client, error) {
	wire := http.DefaultTransport.(*http.Transport).Clone()
	wire.ResponseHeaderTimeout = 30 * time.Second
	cfg.Transport = wire
	cfg.UserAgent = "promobot/" + version
	cfg.Budget = &githubapi.Budget{}
	if e.githubRetry != nil {
		cfg.Budget.Retry = *e.githubRetry
	}
	apps, err := githubapi.New(cfg)
	if err != nil {
		return nil, usageError("%s", strings.TrimPrefix(err.Error(), "githubapi: "))
	}
	c, err := apps.Client()
	if err != nil {
		return nil, usageError("%s", strings.TrimPrefix(err.Error(), "githubapi: "))
	}
	return c, nil
}
