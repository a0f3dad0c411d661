// Package webauth signs people in to the dashboard with GitHub and keeps
// their sessions.
//
// Sign-in is the GitHub App's user authorization (the OAuth web application
// flow): /login sends the browser to GitHub with a state bound to that
// browser by a short-lived cookie, /oauth/callback checks the state once,
// exchanges the code for the person's user access token and asks GitHub
// who they are. The session is a cookie sealed with AES-256-GCM under
// session keys every replica shares (the first seals, all open, so keys
// rotate), holding the login, the token, a CSRF token and an expiry; the
// token is never readable outside the server. What a person may see of a
// repository is what GitHub answers them for it, asked with their token and
// remembered for a short time; any failure to ask refuses (fails closed).
package webauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/example-org/promobot/internal/githubapi"
)

// Names of the cookies, the CSRF form field and header.
const (
	// SessionCookie holds the sealed session.
	SessionCookie = "__Host-promobot-session"
	// StateCookie binds a sign-in in progress to the browser that began it.
	StateCookie = "__Host-promobot-oauth-state"
	// CSRFField is the form field carrying the CSRF token.
	CSRFField = "csrf_token"
	// CSRFHeader is the request header carrying the CSRF token, for
	// requests sent by script (htmx's hx-headers).
	CSRFHeader = "X-CSRF-Token"
)

// Paths of the sign-in routes.
const (
	LoginPath    = "/login"
	CallbackPath = "/oauth/callback"
	LogoutPath   = "/logout"
)

// Defaults of Config.
const (
	DefaultSessionTTL = 8 * time.Hour
	DefaultAccessTTL  = time.Minute
	// stateTTL is how long a sign-in may take between /login and the
	// callback.
	stateTTL = 10 * time.Minute
	// maxCacheEntries bounds the permission cache.
	maxCacheEntries = 10000
)

// GitHub is what sign-in needs of GitHub; *githubapi.UserOAuth provides it.
type GitHub interface {
	AuthorizeURL(state, redirectURI string) string
	Exchange(ctx context.Context, code, redirectURI string) (githubapi.UserToken, error)
	Login(ctx context.Context, token string) (string, error)
	RepoAccess(ctx context.Context, token, owner, repo string) (githubapi.RepoAccess, error)
}

// Config configures Auth.
type Config struct {
	// GitHub answers the OAuth flow and the permission questions.
	GitHub GitHub
	// BaseURL is the dashboard's public origin, such as
	// https://dashboard.example.com; the OAuth callback is
	// BaseURL + /oauth/callback. It must be https, or http on a loopback
	// address for a local trial, and have no path: __Host- cookies are
	// scoped to the whole origin.
	BaseURL string
	// Keys seal sessions and sign-in states.
	Keys *Keys
	// SessionTTL is how long a session lasts; zero means DefaultSessionTTL.
	// A session never outlives the user token inside it.
	SessionTTL time.Duration
	// AccessTTL is how long GitHub's answer about a person's access to a
	// repository is reused; zero means DefaultAccessTTL.
	AccessTTL time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives sign-in events and failures; nil discards them.
	Logger *slog.Logger
}

// Auth is the dashboard's sign-in. It is safe for concurrent use.
type Auth struct {
	cfg      Config
	origin   string
	callback string
	access   *accessCache

	mu     sync.Mutex
	states map[string]time.Time // hashes of states already used, until they expire
	// revoked holds hashes of user tokens GitHub no longer accepts, until
	// the sessions holding them would have expired.
	revoked map[string]time.Time
}

// New checks cfg and returns an Auth.
func New(cfg Config) (*Auth, error) {
	if cfg.GitHub == nil {
		return nil, errors.New("webauth: no GitHub client")
	}
	if cfg.Keys == nil || len(cfg.Keys.keys) == 0 {
		return nil, errors.New("webauth: no session keys")
	}
	origin, err := parseOrigin(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Auth{
		cfg: cfg, origin: origin, callback: origin + CallbackPath,
		access: &accessCache{entries: map[string]accessEntry{}},
		states: map[string]time.Time{}, revoked: map[string]time.Time{},
	}, nil
}

// parseOrigin checks the dashboard's public URL and returns its origin.
func parseOrigin(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return "", fmt.Errorf("webauth: the dashboard URL %q must be an origin such as https://dashboard.example.com, without a path", base)
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", fmt.Errorf("webauth: the dashboard URL %q must be https (plain http only on a loopback address): the session cookie is Secure", base)
		}
	default:
		return "", fmt.Errorf("webauth: the dashboard URL %q must be an https URL", base)
	}
	return u.Scheme + "://" + u.Host, nil
}

// CallbackURL returns the OAuth callback URL to register with the App.
func (a *Auth) CallbackURL() string { return a.callback }

// Permission is what the signed-in person may see of one repository.
type Permission struct {
	// Login is the person's GitHub login.
	Login string
	// Read is true while GitHub says they can read the repository.
	Read bool
	// Admin is true while GitHub says they administer it.
	Admin bool
}

// ErrNotSignedIn is returned for a request without a valid session.
var ErrNotSignedIn = errors.New("webauth: not signed in")

// session is the content of the session cookie, sealed.
type session struct {
	Login   string `json:"l"`
	Token   string `json:"t"`
	CSRF    string `json:"c"`
	Expires int64  `json:"e"`
}

// pendingSignIn is the content of the state cookie, sealed.
type pendingSignIn struct {
	StateHash string `json:"h"`
	Next      string `json:"n"`
	Expires   int64  `json:"e"`
}

type contextKey struct{}

// sessionOf returns the request's session, from the context when Require
// put it there, otherwise from its cookie.
func (a *Auth) sessionOf(r *http.Request) (*session, error) {
	if s, ok := r.Context().Value(contextKey{}).(*session); ok {
		return s, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, ErrNotSignedIn
	}
	plain, err := a.cfg.Keys.open(SessionCookie, c.Value)
	if err != nil {
		return nil, ErrNotSignedIn
	}
	var s session
	if err := json.Unmarshal(plain, &s); err != nil || s.Login == "" || s.Token == "" || s.CSRF == "" {
		return nil, ErrNotSignedIn
	}
	if !a.cfg.Now().Before(time.Unix(s.Expires, 0)) || a.isRevoked(s.Token) {
		return nil, ErrNotSignedIn
	}
	return &s, nil
}

// isRevoked reports whether GitHub refused token (401) since it was put in
// a session.
func (a *Auth) isRevoked(token string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.revoked[hashOf(token)]
	return ok
}

// revoke remembers that GitHub refused the session's token, so the person
// is sent to sign in again rather than refused until the session ends.
func (a *Auth) revoke(s *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Now()
	for h, exp := range a.revoked {
		if !now.Before(exp) {
			delete(a.revoked, h)
		}
	}
	a.revoked[hashOf(s.Token)] = time.Unix(s.Expires, 0)
}

// Login returns the signed-in person's login, or "" without a session.
func (a *Auth) Login(r *http.Request) string {
	s, err := a.sessionOf(r)
	if err != nil {
		return ""
	}
	return s.Login
}

// Permission asks GitHub, with the signed-in person's token, what they may
// see of owner/repo; answers are reused for the access TTL. Without a
// session it returns ErrNotSignedIn; when GitHub cannot be asked it returns
// the error, and the caller must refuse.
func (a *Auth) Permission(r *http.Request, owner, repo string) (Permission, error) {
	s, err := a.sessionOf(r)
	if err != nil {
		return Permission{}, err
	}
	now := a.cfg.Now()
	key := cacheKey(s.Token, owner, repo)
	if acc, ok := a.access.get(key, now); ok {
		return Permission{Login: s.Login, Read: acc.Read, Admin: acc.Admin}, nil
	}
	acc, err := a.cfg.GitHub.RepoAccess(r.Context(), s.Token, owner, repo)
	if apiErr := (*githubapi.Error)(nil); errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		// The person revoked the App's authorization, or the token
		// expired: this request fails, the next one signs in again.
		a.revoke(s)
	}
	if err != nil {
		a.cfg.Logger.Warn("webauth: cannot ask GitHub what the user may see; refusing", "login", s.Login, "repo", owner+"/"+repo, "error", err)
		return Permission{}, fmt.Errorf("webauth: ask GitHub what %s may see of %s/%s: %w", s.Login, owner, repo, err)
	}
	a.access.put(key, acc, now.Add(a.cfg.AccessTTL))
	return Permission{Login: s.Login, Read: acc.Read, Admin: acc.Admin}, nil
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("webauth: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// equal compares secrets in constant time.
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// CallbackURL returns the OAuth callback URL of a dashboard served at
// baseURL, or why baseURL cannot serve the sign-in.
func CallbackURL(baseURL string) (string, error) {
	origin, err := parseOrigin(baseURL)
	if err != nil {
		return "", err
	}
	return origin + CallbackPath, nil
}
