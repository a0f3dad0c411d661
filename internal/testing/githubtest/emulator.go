// Package githubtest is a stateful emulator of the parts of GitHub's REST API
// that promobot uses, backed by real git repositories served by gittest.
//
// The emulator is an http.Handler, so tests wrap it with httptest.NewServer
// and the demo runs it in-process. It answers with GitHub's paths, JSON
// field names and status codes, paginates with Link headers, supports ETags
// and conditional requests, emits rate-limit headers, records requests per
// endpoint template and fails loudly on paths it does not know. Tests change
// its state directly with methods such as OpenPR, Review and Merge. It also
// serves the OAuth web flow of the App's user authorization at GitHub's web
// paths (oauth.go), signing in the user SetBrowserUser names.
//
// The core of the package does not import "testing"; the helpers in
// testing.go accept the small TB interface instead.
package githubtest

import (
	"crypto/rsa"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config configures an Emulator.
type Config struct {
	// AppID is the GitHub App id; App JWTs must carry it as "iss".
	AppID int64
	// AppSlug is the App's slug; its bot user is AppSlug + "[bot]".
	// Empty means "promobot".
	AppSlug string
	// AppPublicKey, when set, is used to verify the RS256 signature of App
	// JWTs. When nil, any well-formed JWT with the right issuer is accepted.
	AppPublicKey *rsa.PublicKey
	// EmailLogins maps commit author and committer emails to GitHub logins.
	EmailLogins map[string]string
	// OAuthClientID is the App's OAuth client id for the web flow; empty
	// means "Iv1." followed by the App id in hexadecimal.
	OAuthClientID string
	// OAuthClientSecret, when set, is the client secret the token endpoint
	// demands; empty accepts any.
	OAuthClientSecret string
	// OAuthCallbackURL, when set, is the App's registered callback URL:
	// the authorize page refuses other redirect URIs like GitHub does.
	OAuthCallbackURL string
	// RateLimit is the hourly request budget per token; zero means 5000.
	RateLimit int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives one debug line per request; nil discards them.
	Logger *slog.Logger
}

// Emulator is a stateful GitHub REST API emulator. All methods are safe for
// concurrent use.
type Emulator struct {
	cfg    Config
	routes []route

	mu            sync.Mutex
	baseURL       string
	nextID        int64
	users         map[string]*user
	repos         map[string]*repo
	installations map[int64]*installation
	tokens        map[string]*token
	teams         map[string]*team
	checkRuns     map[int64]*checkRunState
	rates         map[string]*rateWindow
	counts        map[string]int
	statusCounts  map[string]int
	unexpected    []string
	faults        []*fault
	diffCache     map[string][]fileChange
	// hiddenPulls holds "owner/name@sha" keys of commits whose pull
	// requests GET .../commits/{sha}/pulls does not list yet.
	hiddenPulls map[string]bool
	// orgs holds child teams, organization members and invitations, and
	// gone accounts (orgs.go); nil until first used.
	orgs *orgState
	// oauth holds the OAuth web flow's codes (oauth.go); nil until first
	// used.
	oauth *oauthState
}

// New returns an emulator with no repositories.
func New(cfg Config) *Emulator {
	if cfg.AppSlug == "" {
		cfg.AppSlug = "promobot"
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 5000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Emulator{
		cfg:           cfg,
		baseURL:       "http://127.0.0.1",
		nextID:        1000,
		users:         map[string]*user{},
		repos:         map[string]*repo{},
		installations: map[int64]*installation{},
		tokens:        map[string]*token{},
		teams:         map[string]*team{},
		checkRuns:     map[int64]*checkRunState{},
		rates:         map[string]*rateWindow{},
		counts:        map[string]int{},
		statusCounts:  map[string]int{},
		diffCache:     map[string][]fileChange{},
		hiddenPulls:   map[string]bool{},
	}
	e.userLocked("web-flow").email = "noreply@github.com"
	for email, login := range cfg.EmailLogins {
		e.userLocked(login).email = email
	}
	e.routes = e.buildRoutes()
	return e
}

// Handler returns the HTTP handler serving the emulated API at both "/" and
// "/api/v3/".
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serveHTTP) }

// SetBaseURL sets the server's base URL (for example an httptest server's
// URL), used for URLs in webhook payloads built outside a request.
func (e *Emulator) SetBaseURL(u string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.baseURL = strings.TrimSuffix(u, "/")
}

// AppBotLogin returns the login of the App's bot user, for example
// "promobot[bot]".
func (e *Emulator) AppBotLogin() string { return e.cfg.AppSlug + "[bot]" }

// Counts returns how many requests each endpoint template received, keyed
// like "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews".
func (e *Emulator) Counts() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.counts)
}

// StatusCounts returns how many requests each endpoint template answered
// with each status, keyed like "GET /repos/{owner}/{repo}/pulls 304".
func (e *Emulator) StatusCounts() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.statusCounts)
}

// ResetCounts clears the request counters.
func (e *Emulator) ResetCounts() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts = map[string]int{}
	e.statusCounts = map[string]int{}
}

// UnexpectedRequests returns the requests, as "METHOD /path", whose path or
// method the emulator does not know.
func (e *Emulator) UnexpectedRequests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.unexpected...)
}

type fault struct {
	template  string
	status    int
	headers   map[string]string
	remaining int
}

// FailNext makes the next n requests to endpointTemplate (a key of Counts,
// or "*" for any endpoint) fail with status and the extra headers. The body
// is GitHub's message for that status; a 403 or 429 gets the secondary rate
// limit message unless headers set X-RateLimit-Remaining to "0", which
// gets the primary one.
func (e *Emulator) FailNext(endpointTemplate string, status int, headers map[string]string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &fault{template: endpointTemplate, status: status, headers: headers, remaining: n})
}

// takeFault returns the first pending fault for template and consumes it.
func (e *Emulator) takeFault(template string) *fault {
	for i, f := range e.faults {
		if f.template != template && f.template != "*" {
			continue
		}
		f.remaining--
		if f.remaining <= 0 {
			e.faults = append(e.faults[:i], e.faults[i+1:]...)
		}
		return f
	}
	return nil
}

// SecondaryRateLimitMessage is the message GitHub sends with a secondary
// rate limit 403.
const SecondaryRateLimitMessage = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID."

const rateLimitDocs = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"

// faultBody returns GitHub's message and documentation URL for a fault.
func faultBody(f *fault) (message, documentation string) {
	switch f.status {
	case http.StatusForbidden, http.StatusTooManyRequests:
		if f.headers["X-RateLimit-Remaining"] == "0" {
			return "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.",
				rateLimitDocs + "#about-the-primary-rate-limit"
		}
		return SecondaryRateLimitMessage, rateLimitDocs + "#about-secondary-rate-limits"
	case http.StatusNotFound:
		return "Not Found", docsURL
	case http.StatusUnprocessableEntity:
		return "Validation Failed", docsURL
	case http.StatusBadGateway, http.StatusInternalServerError, http.StatusServiceUnavailable:
		return "Server Error", docsURL
	}
	return http.StatusText(f.status), docsURL
}

func (e *Emulator) now() time.Time { return e.cfg.Now().UTC().Truncate(time.Second) }

func (e *Emulator) newID() int64 {
	e.nextID++
	return e.nextID
}
