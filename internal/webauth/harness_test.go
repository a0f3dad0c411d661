package webauth

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

const (
	org          = "acme"
	dashboardURL = "https://dashboard.example.com"
	clientSecret = "client-secret"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harness is a dashboard protected by Auth, talking to the GitHub emulator,
// and a browser's cookie jar.
type harness struct {
	fx      *githubtest.Fixture
	clock   *atomic.Int64
	auth    *Auth
	handler http.Handler
	jar     map[string]*http.Cookie
}

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// newHarness starts the emulator with acme/models (carol reads it, erin
// administers it) and the private acme/secret (only erin), the App
// installed on both, and carol signed in to GitHub in the browser.
func newHarness(t *testing.T, keys ...[]byte) *harness {
	t.Helper()
	clock := &atomic.Int64{}
	clock.Store(t0.Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	fx := githubtest.NewFixture(t, githubtest.Config{
		AppID: 42, OAuthClientSecret: clientSecret, OAuthCallbackURL: dashboardURL + CallbackPath, Now: now,
	})
	path := fx.AddRepo(t, org, "models", "main")
	if err := fx.Emulator.AddRepo(githubtest.Repo{Owner: org, Name: "secret", Path: path, CloneURL: "x", Private: true}); err != nil {
		t.Fatal(err)
	}
	fx.Emulator.AddInstallation(7, org, org+"/models", org+"/secret")
	for _, p := range []struct{ repo, login, role string }{{"models", "carol", "read"}, {"models", "erin", "admin"}, {"secret", "erin", "admin"}} {
		if err := fx.Emulator.SetPermission(org, p.repo, p.login, p.role); err != nil {
			t.Fatal(err)
		}
	}
	fx.Emulator.SetBrowserUser("carol")
	gh, err := githubapi.NewUserOAuth(githubapi.UserOAuthConfig{
		WebURL: fx.Server.URL, APIURL: fx.URL(), ClientID: fx.Emulator.OAuthClientID(), ClientSecret: clientSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		keys = [][]byte{newKey(t)}
	}
	k, err := NewKeys(keys...)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := New(Config{GitHub: gh, BaseURL: dashboardURL, Keys: k, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{fx: fx, clock: clock, auth: auth, handler: protected(auth), jar: map[string]*http.Cookie{}}
}

// protected is a minimal dashboard: the sign-in routes, a repository page
// that asks Auth what the person may see, and a form target.
func protected(auth *Auth) http.Handler {
	mux := http.NewServeMux()
	auth.Routes(mux)
	mux.HandleFunc("GET /r/{owner}/{repo}/", func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Permission(r, r.PathValue("owner"), r.PathValue("repo"))
		switch {
		case err != nil:
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		case !p.Read:
			http.NotFound(w, r)
		default:
			fmt.Fprintf(w, "%s reads %s/%s admin=%v csrf=%s", p.Login, r.PathValue("owner"), r.PathValue("repo"), p.Admin, auth.CSRFToken(r))
		}
	})
	mux.HandleFunc("POST /r/{owner}/{repo}/refresh", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "refreshed")
	})
	return auth.Require(mux)
}

func (h *harness) advance(d time.Duration) { h.clock.Add(int64(d / time.Second)) }

// do sends a request the way a browser would, with the jar's cookies,
// and keeps the cookies the answer sets.
func (h *harness) do(t *testing.T, method, target string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var body *bytes.Reader
	if form != nil {
		body = bytes.NewReader([]byte(form.Encode()))
	} else {
		body = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, dashboardURL+target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range h.jar {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(h.jar, c.Name)
			continue
		}
		h.jar[c.Name] = c
	}
	return rec
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// startSignIn opens /login?next=next and follows the browser to GitHub's
// authorize page, returning the callback path and query GitHub sends the
// browser back to.
func (h *harness) startSignIn(t *testing.T, next string) string {
	t.Helper()
	rec := h.do(t, http.MethodGet, LoginPath+"?next="+url.QueryEscape(next), nil, nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("GET /login: %d %s", rec.Code, rec.Body)
	}
	resp, err := noRedirects.Get(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, dashboardURL+CallbackPath+"?") {
		t.Fatalf("GitHub's authorize page answered %d → %q", resp.StatusCode, loc)
	}
	return strings.TrimPrefix(loc, dashboardURL)
}

// signIn signs the browser user in and returns the callback's answer.
func (h *harness) signIn(t *testing.T, next string) *httptest.ResponseRecorder {
	t.Helper()
	rec := h.do(t, http.MethodGet, h.startSignIn(t, next), nil, nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", rec.Code, rec.Body)
	}
	return rec
}

// csrf returns the CSRF token the repository page shows.
func (h *harness) csrf(t *testing.T) string {
	t.Helper()
	rec := h.do(t, http.MethodGet, "/r/acme/models/", nil, nil)
	_, token, ok := strings.Cut(rec.Body.String(), "csrf=")
	if rec.Code != http.StatusOK || !ok || token == "" {
		t.Fatalf("the page shows no CSRF token: %d %s", rec.Code, rec.Body)
	}
	return token
}
