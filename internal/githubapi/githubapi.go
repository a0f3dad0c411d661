// Package githubapi is promobot's one adapter to the GitHub REST API, used
// by the server and the command line alike: the calls the bot, promote and
// the audit make, with plain result types where it can and errors that say
// through their failure kind whether a retry can help.
//
// New is the one constructor. For the server, Apps authenticates as a
// GitHub App with ghinstallation and keeps one client, and so one
// token-refreshing transport, per installation; a command acts as a token
// or a single installation (Apps.Client). GitHub Enterprise Server is
// reached through Config.BaseURL. Every request goes through a single
// http.RoundTripper chain:
//
//	go-github → Config.Middleware (outermost first) → installation token or Config.Token → Config.Transport (the wire)
//
// Request counting belongs in Config.Transport, where it also sees the
// token requests and every retry. Config.Budget adds, above the middleware,
// a per-installation concurrency cap, a conditional-request cache and
// retries (see Budget).
package githubapi

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/githubapi/httpcache"
)

// DefaultBaseURL is the API root of github.com.
const DefaultBaseURL = "https://api.github.com/"

// Middleware wraps a transport.
type Middleware func(http.RoundTripper) http.RoundTripper

// Config configures Apps.
type Config struct {
	// BaseURL is the REST API root: DefaultBaseURL, or for GitHub
	// Enterprise Server "https://HOST/api/v3/". Empty means DefaultBaseURL.
	BaseURL string
	// AppID is the GitHub App's id.
	AppID int64
	// PrivateKey is the App's PEM-encoded RSA private key.
	PrivateKey []byte
	// Transport sends requests on the wire; nil means a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Middleware wraps the authenticated transport of every installation,
	// the first element outermost.
	Middleware []Middleware
	// UserAgent is sent with every request; empty means go-github's.
	UserAgent string
	// Budget, when set, caches, retries and caps every installation's
	// requests (see Budget); nil sends each request once, as go-github
	// makes it.
	Budget *Budget
	// Token is a personal, fine-grained, GITHUB_TOKEN or installation
	// access token to act with instead of the App (see Apps.Client); the
	// App fields are then not needed.
	Token string
	// InstallationID is the App installation Apps.Client acts as when
	// Token is empty.
	InstallationID int64
}

// Apps hands out clients: the server's one per App installation
// (Installation), or the one client of a command that acts as a token or
// a single installation (Client). It is safe for concurrent use.
type Apps struct {
	cfg     Config
	baseURL *url.URL
	apps    *ghinstallation.AppsTransport
	cache   *httpcache.Cache // nil without a budget

	mu       sync.Mutex
	clients  map[int64]*Client
	botLogin string // set by BotLogin
}

// New checks the configuration and, unless cfg.Token is set, parses the
// App's private key. It is the one constructor of GitHub clients, for the
// server and the command line alike. Its errors are configuration errors:
// retrying does not help.
func New(cfg Config) (*Apps, error) {
	base, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Token != "" {
		if cfg.Transport == nil {
			cfg.Transport = http.DefaultTransport.(*http.Transport).Clone()
		}
		return &Apps{cfg: cfg, baseURL: base, cache: newCache(cfg.Budget), clients: map[int64]*Client{}}, nil
	}
	if cfg.AppID <= 0 {
		return nil, errors.New("githubapi: the App id must be a positive number")
	}
	if err := checkPrivateKey(cfg.PrivateKey); err != nil {
		return nil, err
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	apps, err := ghinstallation.NewAppsTransport(cfg.Transport, cfg.AppID, cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("githubapi: the App private key: %w", err)
	}
	apps.BaseURL = strings.TrimSuffix(base.String(), "/")
	return &Apps{cfg: cfg, baseURL: base, apps: apps, cache: newCache(cfg.Budget), clients: map[int64]*Client{}}, nil
}

// ParseBaseURL checks an API root URL and returns it with a trailing slash.
// Empty means DefaultBaseURL.
func ParseBaseURL(s string) (*url.URL, error) {
	if s == "" {
		s = DefaultBaseURL
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("githubapi: the GitHub API URL %q: %w", s, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("githubapi: the GitHub API URL %q must be an http(s) URL with a host, such as %s", s, DefaultBaseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("githubapi: the GitHub API URL %q must not hold credentials, a query or a fragment", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// uploadURL returns the upload API root that goes with the REST API root
// base: uploads.github.com for api.github.com, HOST/api/uploads/ for a
// GitHub Enterprise Server at HOST/api/v3/.
func uploadURL(base *url.URL) *url.URL {
	if base.Host == "api.github.com" {
		return &url.URL{Scheme: "https", Host: "uploads.github.com", Path: "/"}
	}
	upload := *base
	upload.Path = strings.TrimSuffix(strings.TrimSuffix(base.Path, "/"), "/api/v3") + "/api/uploads/"
	return &upload
}

// checkPrivateKey says clearly what is wrong with a key that is not a PEM
// RSA private key, without ever echoing it.
func checkPrivateKey(key []byte) error {
	block, _ := pem.Decode(key)
	if block == nil {
		return errors.New("githubapi: the App private key is not PEM-encoded (expected -----BEGIN RSA PRIVATE KEY-----)")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return errors.New("githubapi: the App private key is not an RSA private key in PKCS #1 or PKCS #8 form")
	}
	if _, ok := k.(interface{ Size() int }); !ok {
		return errors.New("githubapi: the App private key is not an RSA key")
	}
	return nil
}

// Installation returns the client of an installation, creating it on first
// use. Clients are reused, so the installation token is fetched once and
// refreshed shortly before it expires.
func (a *Apps) Installation(id int64) (*Client, error) {
	if id <= 0 {
		return nil, &Error{Op: "installation client", Err: fmt.Errorf("invalid installation id %d", id), Terminal: true}
	}
	if a.apps == nil {
		return nil, errNoApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[id]; ok {
		return c, nil
	}
	itr := ghinstallation.NewFromAppsTransport(a.apps, id)
	c := &Client{gh: a.rest(a.chain(id, itr)), tokens: itr, installationID: id}
	a.clients[id] = c
	return c, nil
}

// chain wraps an authenticated transport in the configured middleware and
// budget; id keys the budget's cache entries.
func (a *Apps) chain(id int64, authenticated http.RoundTripper) http.RoundTripper {
	rt := authenticated
	for i := len(a.cfg.Middleware) - 1; i >= 0; i-- {
		rt = a.cfg.Middleware[i](rt)
	}
	return a.budgetTransport(id, rt)
}

// errNoApp is the error of a call that needs the App's credentials on
// Apps made for a token.
var errNoApp = &Error{Op: "act as the App", Err: errors.New("a token was configured, not the App's credentials"), Terminal: true}

// Client returns the client of a command that acts as one identity: the
// configured Token when set, else the App installation InstallationID.
// Its requests take the same route as the server's (see Config and
// Budget).
func (a *Apps) Client() (*Client, error) {
	token := a.cfg.Token
	if token == "" {
		if a.cfg.InstallationID <= 0 {
			return nil, errors.New("githubapi: no installation: give a token, or the App's installation id")
		}
		return a.Installation(a.cfg.InstallationID)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[0]; ok {
		return c, nil
	}
	rt := a.chain(0, tokenTransport{token: token, next: a.cfg.Transport})
	c := &Client{gh: a.rest(rt), tokens: tokenFunc(func(context.Context) (string, error) { return token, nil })}
	a.clients[0] = c
	return c, nil
}

// tokenTransport authenticates every request with a fixed token.
type tokenTransport struct {
	token string
	next  http.RoundTripper
}

// RoundTrip sends a copy of r with the token as its bearer credential.
func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(r)
}

// appClient returns a go-github client that authenticates as the App
// itself, for the few calls made as the App rather than an installation.
func (a *Apps) appClient() *github.Client { return a.rest(a.apps) }

// rest returns a go-github client sending requests through rt to the
// configured API root, with the configured user agent.
func (a *Apps) rest(rt http.RoundTripper) *github.Client {
	gh := github.NewClient(&http.Client{Transport: rt})
	base := *a.baseURL
	gh.BaseURL = &base
	gh.UploadURL = uploadURL(a.baseURL)
	if a.cfg.UserAgent != "" {
		gh.UserAgent = a.cfg.UserAgent
	}
	return gh
}

// tokenSource is the part of ghinstallation.Transport the client uses.
type tokenSource interface {
	Token(ctx context.Context) (string, error)
}

// Client calls the REST API as one installation. It is safe for concurrent
// use.
type Client struct {
	gh             *github.Client
	tokens         tokenSource
	installationID int64
}

// NewClient returns a client that sends requests through rt to the API at
// baseURL and gets git credentials from token. It is meant for tests and
// tools that hold a token already; the bot uses Apps.Installation.
func NewClient(baseURL string, rt http.RoundTripper, token func(context.Context) (string, error)) (*Client, error) {
	base, err := ParseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	gh := github.NewClient(&http.Client{Transport: rt})
	gh.BaseURL = base
	return &Client{gh: gh, tokens: tokenFunc(token)}, nil
}

type tokenFunc func(context.Context) (string, error)

func (f tokenFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// Token returns a valid installation access token, for git over HTTPS
// (user "x-access-token"). Never log it.
func (c *Client) Token(ctx context.Context) (string, error) {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return "", classify("get an installation token", err)
	}
	return tok, nil
}
