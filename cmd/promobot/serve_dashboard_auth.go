package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/dashboard"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/webauth"
)

// dashboardAuthFlags are the flags of the dashboard's GitHub sign-in.
type dashboardAuthFlags struct {
	url, githubWebURL              string
	clientID                       string
	clientSecret, clientSecretFile string
	sessionKeys, sessionKeysFile   string
	accessTTL                      time.Duration
}

func (f *dashboardAuthFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.url, "dashboard-url", "", "the dashboard's public URL, such as https://promobot-dashboard.example.com; GitHub sends people back to it at /oauth/callback after sign-in (required with --dashboard-addr)")
	fl.StringVar(&f.githubWebURL, "github-web-url", "", "GitHub's web URL, where people sign in: https://github.com, or https://HOST for GitHub Enterprise Server (default: derived from --github-url)")
	fl.StringVar(&f.clientID, "oauth-client-id", "", "the GitHub App's client id, for the dashboard's sign-in (required with --dashboard-addr)")
	fl.StringVar(&f.clientSecret, "oauth-client-secret", "", "the GitHub App's client secret (prefer the environment variable or --oauth-client-secret-file; flags show in ps)")
	fl.StringVar(&f.clientSecretFile, "oauth-client-secret-file", "", "file holding the GitHub App's client secret, such as a Kubernetes secret mount; instead of --oauth-client-secret")
	fl.StringVar(&f.sessionKeys, "session-keys", "", "the dashboard's session keys: base64 32-byte keys separated by commas or newlines, the first sealing new sessions, all opening them; the same on every replica (prefer the environment variable or --session-keys-file)")
	fl.StringVar(&f.sessionKeysFile, "session-keys-file", "", "file holding the dashboard's session keys, one per line; instead of --session-keys")
	fl.DurationVar(&f.accessTTL, "dashboard-access-ttl", webauth.DefaultAccessTTL, "how long GitHub's answer about what a signed-in person may read is reused (at most 10m)")
}

// dashboardAuthConfig is the checked configuration of the sign-in.
type dashboardAuthConfig struct {
	url, webURL, apiURL string
	clientID            string
	clientSecret        string
	keys                *webauth.Keys
	accessTTL           time.Duration
}

// check validates the sign-in flags of a dashboard that is served; apiURL
// is --github-url. Messages name the flag and its variable, never a secret.
func (f *dashboardAuthFlags) check(apiURL string, bad func(string, ...any)) *dashboardAuthConfig {
	c := &dashboardAuthConfig{url: f.url, apiURL: apiURL, clientID: strings.TrimSpace(f.clientID), accessTTL: f.accessTTL}
	if f.url == "" {
		bad("--dashboard-url (PROMOBOT_DASHBOARD_URL) is required with --dashboard-addr: the dashboard's public https URL, for GitHub's sign-in callback")
	} else if _, err := webauth.CallbackURL(f.url); err != nil {
		bad("--dashboard-url (PROMOBOT_DASHBOARD_URL): %v", strings.TrimPrefix(err.Error(), "webauth: "))
	}
	web, err := githubWebURL(f.githubWebURL, apiURL)
	if err != nil {
		bad("--github-web-url (GITHUB_SERVER_URL): %v", err)
	}
	c.webURL = web
	if c.clientID == "" {
		bad("--oauth-client-id (PROMOBOT_OAUTH_CLIENT_ID) is required with --dashboard-addr: the GitHub App's client id")
	}
	switch {
	case f.clientSecret == "" && f.clientSecretFile == "":
		bad("--oauth-client-secret (PROMOBOT_OAUTH_CLIENT_SECRET) or --oauth-client-secret-file (PROMOBOT_OAUTH_CLIENT_SECRET_FILE) is required with --dashboard-addr")
	case f.clientSecret != "" && f.clientSecretFile != "":
		bad("--oauth-client-secret (PROMOBOT_OAUTH_CLIENT_SECRET) and --oauth-client-secret-file (PROMOBOT_OAUTH_CLIENT_SECRET_FILE) are both set; set one")
	case f.clientSecretFile != "":
		if s, err := readSecretFile(f.clientSecretFile); err != nil {
			bad("--oauth-client-secret-file (PROMOBOT_OAUTH_CLIENT_SECRET_FILE): %v", err)
		} else {
			c.clientSecret = strings.TrimSpace(s)
		}
	default:
		c.clientSecret = strings.TrimSpace(f.clientSecret)
	}
	switch {
	case f.sessionKeys == "" && f.sessionKeysFile == "":
		bad("--session-keys (PROMOBOT_SESSION_KEYS) or --session-keys-file (PROMOBOT_SESSION_KEYS_FILE) is required with --dashboard-addr (make a key with `openssl rand -base64 32`)")
	case f.sessionKeys != "" && f.sessionKeysFile != "":
		bad("--session-keys (PROMOBOT_SESSION_KEYS) and --session-keys-file (PROMOBOT_SESSION_KEYS_FILE) are both set; set one")
	case f.sessionKeysFile != "":
		if s, err := readSecretFile(f.sessionKeysFile); err != nil {
			bad("--session-keys-file (PROMOBOT_SESSION_KEYS_FILE): %v", err)
		} else if keys, err := webauth.ParseKeys(s); err != nil {
			bad("--session-keys-file (PROMOBOT_SESSION_KEYS_FILE): %s: %v", f.sessionKeysFile, strings.TrimPrefix(err.Error(), "webauth: "))
		} else {
			c.keys = keys
		}
	default:
		if keys, err := webauth.ParseKeys(f.sessionKeys); err != nil {
			bad("--session-keys (PROMOBOT_SESSION_KEYS): %v", strings.TrimPrefix(err.Error(), "webauth: "))
		} else {
			c.keys = keys
		}
	}
	if f.accessTTL <= 0 || f.accessTTL > 10*time.Minute {
		bad("--dashboard-access-ttl (PROMOBOT_DASHBOARD_ACCESS_TTL) must be between 1s and 10m, not %s: it bounds how long a person keeps seeing a repository after losing access", f.accessTTL)
	}
	return c
}

// githubWebURL returns the --github-web-url given, or the web root that
// goes with the API root: https://github.com/ for api.github.com,
// https://HOST/ for a GitHub Enterprise Server at https://HOST/api/v3/.
func githubWebURL(given, apiURL string) (string, error) {
	if given != "" {
		u, err := url.Parse(given)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return "", fmt.Errorf("%q must be an http(s) URL such as https://github.com or https://HOST", given)
		}
		return given, nil
	}
	api, err := githubapi.ParseBaseURL(apiURL)
	if err != nil {
		return "", err
	}
	if api.Host == "api.github.com" {
		return githubapi.DefaultWebURL, nil
	}
	web := *api
	web.Path = strings.TrimSuffix(strings.TrimSuffix(api.Path, "/"), "/api/v3") + "/"
	return web.String(), nil
}

// readSecretFile returns the contents of a secret file (the webhook
// secrets, the client secret, the session keys) without its final newline.
// The error names the path, never the contents.
func readSecretFile(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			return "", fmt.Errorf("read %s: %v", path, pathErr.Err)
		}
		return "", fmt.Errorf("read %s: %v", path, err)
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxSecretFileBytes+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("read %s: %v", path, err)
	case len(data) > maxSecretFileBytes:
		return "", fmt.Errorf("%s is larger than %d bytes: not a secret file", path, maxSecretFileBytes)
	}
	text := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if strings.TrimSpace(text) == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return text, nil
}

// newDashboardAuth builds the dashboard's sign-in.
func newDashboardAuth(c *dashboardAuthConfig, transport http.RoundTripper, logger *slog.Logger) (*webauth.Auth, error) {
	gh, err := githubapi.NewUserOAuth(githubapi.UserOAuthConfig{
		WebURL: c.webURL, APIURL: c.apiURL, ClientID: c.clientID, ClientSecret: c.clientSecret,
		Transport: transport, UserAgent: "promobot/" + version,
	})
	if err != nil {
		return nil, err
	}
	return webauth.New(webauth.Config{
		GitHub: gh, BaseURL: c.url, Keys: c.keys, AccessTTL: c.accessTTL, Logger: logger,
	})
}

// signInGate adapts the sign-in to the dashboard's Gate: a person sees a
// repository while GitHub says they can read it, and its access review
// while they administer it. An error (GitHub unreachable, no session)
// makes the dashboard answer 503.
type signInGate struct{ auth *webauth.Auth }

// Access asks the sign-in what the person may see of owner/repo.
func (g signInGate) Access(r *http.Request, owner, repo string) (dashboard.Access, error) {
	p, err := g.auth.Permission(r, owner, repo)
	if err != nil {
		return dashboard.Access{}, err
	}
	return dashboard.Access{Login: p.Login, Read: p.Read, Admin: p.Admin}, nil
}

// serveSignIn builds the served dashboard's GitHub sign-in from serve's
// configuration: its gate, the middleware and the sign-in routes.
func serveSignIn(c *serveConfig, logger *slog.Logger) (*dashboardSignIn, error) {
	cfg := c.dashboardAuth
	if cfg == nil {
		var problems []string
		cfg = c.flags.dashboardAuth.check(c.flags.githubURL, func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) })
		if len(problems) > 0 {
			return nil, usageError("serve: invalid configuration:\n  %s", strings.Join(problems, "\n  "))
		}
	}
	auth, err := newDashboardAuth(cfg, nil, logger.With("component", "dashboard-sign-in"))
	if err != nil {
		return nil, usageError("serve: the dashboard's sign-in: %v", err)
	}
	return &dashboardSignIn{Gate: signInGate{auth: auth}, Middleware: auth.Require, Routes: auth.Routes}, nil
}
