package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/dashboard"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/audittest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
	"github.com/example-org/promobot/internal/webauth"
)

// commitModels pushes a promotion policy and four pins to main of the
// bare repository at path, directly (no webhook ever told the bot).
func commitModels(t *testing.T, path string) {
	t.Helper()
	files := map[string]string{".github/promobot.yaml": audittest.Policy}
	for _, p := range []audittest.Pin{
		{Environment: "dev", Model: "forecaster", Version: "1.1.0"},
		{Environment: "test", Model: "forecaster", Version: "1.0.0"},
		{Environment: "prod", Model: "forecaster", Version: "0.9.0"},
		{Environment: "dev", Model: "threshold", Version: "0.1.0"},
	} {
		files[p.Path()] = p.YAML()
	}
	gittest.MustCommit(t, path, gittest.Commit{Branch: "main", Files: files, Message: "Pin the models\n",
		Author: gittest.Signature{Name: "Dave Admin", Email: "dave@example.com", When: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}})
}

// matrixShows fails the test unless body is the matrix of commitModels.
func matrixShows(t *testing.T, what, body string) {
	t.Helper()
	for _, want := range []string{`<th scope="col">dev</th><th scope="col">test</th><th scope="col">prod</th>`,
		"/models/forecaster", "/models/threshold", "1.1.0", "1.0.0", "0.9.0", "0.1.0"} {
		if !strings.Contains(body, want) {
			t.Errorf("%s lacks %q:\n%.3000s", what, want, body)
		}
	}
}

// httpSignIn is a plain HTTP client signed in to a dashboard through the
// emulated GitHub's OAuth pages, carrying the cookies by hand (Go's cookie
// jar keeps Secure cookies off plain http, which browsers allow on
// loopback).
type httpSignIn struct {
	t       *testing.T
	dashURL string
	client  *http.Client
	cookies map[string]string
}

// get fetches target without following redirects and returns the
// response and its body.
func (s *httpSignIn) get(target string) (*http.Response, string) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	if strings.HasPrefix(target, s.dashURL) {
		for name, value := range s.cookies {
			req.AddCookie(&http.Cookie{Name: name, Value: value})
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(s.cookies, c.Name)
		} else {
			s.cookies[c.Name] = c.Value
		}
	}
	return resp, string(body)
}

// signIn opens path without a session and follows the sign-in through
// GitHub back to it.
func (s *httpSignIn) signIn(path string) {
	s.t.Helper()
	resp, _ := s.get(s.dashURL + path)
	for range 3 { // /login → GitHub's authorize page → the callback
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
			s.t.Fatalf("signing in: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			s.t.Fatal(err)
		}
		resp, _ = s.get(loc.String())
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path || s.cookies[webauth.SessionCookie] == "" {
		s.t.Fatalf("the callback: %d → %q, cookies %v", resp.StatusCode, resp.Header.Get("Location"), s.cookies)
	}
}

// TestDashboardServeShowsARepositoryTheBotNeverEvaluated runs promobot
// serve with --dashboard-addr against the emulator, signs in through its
// OAuth pages and opens a repository that never received a webhook: the
// dashboard makes the mirror itself and shows the matrix, fetching once
// for several pages. A repository whose fetch fails answers 503 saying so.
func TestDashboardServeShowsARepositoryTheBotNeverEvaluated(t *testing.T) {
	const installation = 41
	fx, dashAddr, dashURL := dashboardEmulator(t)
	commitModels(t, fx.AddRepo(t, "example-org", "models", "main"))
	fx.AddRepo(t, "example-org", "empty", "main") // no commit: nothing to fetch
	fx.Emulator.AddInstallation(installation, "example-org", "example-org/models", "example-org/empty")
	fx.Emulator.SetBrowserUser("carol")

	srv := startDashboardServe(t, fx, dashAddr, dashURL)

	browser := &httpSignIn{t: t, dashURL: dashURL, cookies: map[string]string{},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	browser.signIn("/r/example-org/models/")
	resp, body := browser.get(dashURL + "/r/example-org/models/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the matrix of example-org/models: %d:\n%.2000s\nlog:\n%s", resp.StatusCode, body, srv.stderr.String())
	}
	matrixShows(t, "the matrix of example-org/models", body)
	if resp, body = browser.get(dashURL + "/r/example-org/models/models/forecaster"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "0.9.0") {
		t.Errorf("the model page: %d:\n%.2000s", resp.StatusCode, body)
	}
	fetches := 0
	for _, r := range fx.Git.Requests() {
		if strings.HasPrefix(r.Path, "/example-org/models.git/") && r.Method == http.MethodPost {
			fetches++
		}
	}
	if fetches != 1 {
		t.Errorf("two pages fetched example-org/models %d times, want once (the mirror is fresh)", fetches)
	}

	resp, body = browser.get(dashURL + "/r/example-org/empty/")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "could not fetch this repository from GitHub") {
		t.Errorf("a repository that cannot be fetched: %d:\n%.2000s", resp.StatusCode, body)
	}

	logs := srv.shutdown(t)
	if !strings.Contains(logs, "fetch example-org/empty") {
		t.Errorf("the failed fetch is not logged:\n%s", logs)
	}
	for _, secret := range []string{"ghs_", "ghu_", "oauth-secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log shows a secret (%s…)", secret)
		}
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestDashboardListsRepositoriesAddedToTheInstallation lists the
// installation's repositories as serve does, with a clock the test moves:
// a repository added to the installation appears once the listing's time
// to live has passed, and is fetched on demand; one removed disappears.
func TestDashboardListsRepositoriesAddedToTheInstallation(t *testing.T) {
	key, keyPEM := serveTestKey(t)
	const appID, installation = 31, 41
	fx := githubtest.NewFixture(t, githubtest.Config{AppID: appID, AppPublicKey: &key.PublicKey})
	commitModels(t, fx.AddRepo(t, "example-org", "models", "main"))
	commitModels(t, fx.AddRepo(t, "example-org", "later", "main"))
	fx.Emulator.AddInstallation(installation, "example-org", "example-org/models")

	apps, err := githubapi.New(githubapi.Config{BaseURL: fx.URL(), AppID: appID, PrivateKey: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	mirrors, err := mirror.New(t.TempDir(), mirror.Options{})
	if err != nil {
		t.Fatal(err)
	}
	served := &servedRepositories{apps: apps, mirrors: mirrors, logger: slog.New(slog.DiscardHandler)}
	clock := &fakeClock{now: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
	d, err := dashboard.New(dashboard.Options{Gate: dashboard.AllowAll, List: served.list, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	listed := func(step string, want map[string]bool) {
		t.Helper()
		status, home := get("/")
		if status != http.StatusOK {
			t.Fatalf("%s: GET / = %d:\n%s", step, status, home)
		}
		for name, shown := range want {
			if got := strings.Contains(home, `href="/r/example-org/`+url.PathEscape(name)+`/"`); got != shown {
				t.Errorf("%s: example-org/%s listed %v, want %v:\n%s", step, name, got, shown, home)
			}
		}
	}

	listed("at start", map[string]bool{"models": true, "later": false})
	fx.Emulator.AddInstallation(installation, "example-org", "example-org/models", "example-org/later")
	clock.advance(dashboard.DefaultListTTL - time.Second)
	listed("added, before the TTL", map[string]bool{"models": true, "later": false})
	if status, _ := get("/r/example-org/later/"); status != http.StatusNotFound {
		t.Errorf("added, before the TTL: GET /r/example-org/later/ = %d, want 404", status)
	}
	clock.advance(time.Second)
	listed("added, after the TTL", map[string]bool{"models": true, "later": true})
	status, body := get("/r/example-org/later/")
	if status != http.StatusOK {
		t.Fatalf("the matrix of example-org/later: %d:\n%.2000s", status, body)
	}
	matrixShows(t, "the matrix of example-org/later", body)

	fx.Emulator.AddInstallation(installation, "example-org", "example-org/later")
	clock.advance(dashboard.DefaultListTTL)
	listed("removed, after the TTL", map[string]bool{"models": false, "later": true})
	if status, _ := get("/r/example-org/models/"); status != http.StatusNotFound {
		t.Errorf("removed: GET /r/example-org/models/ = %d, want 404", status)
	}
}
