package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/example-org/promobot/internal/dashboard"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/audittest"
	"github.com/example-org/promobot/internal/testing/chromiumtest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/webauth"
)

// signedInDashboard is the dashboard behind GitHub sign-in, served over
// TLS (the session cookie is Secure), with the emulator as GitHub: the
// audit's small history as acme/models, which bob may write to, and the
// same history as the private acme/secret, which bob cannot read.
type signedInDashboard struct {
	server *httptest.Server
	github *githubtest.Fixture
}

func newSignedInDashboard(t *testing.T) *signedInDashboard {
	t.Helper()
	h := audittest.BuildHistory(t)
	em := h.Fixture.Emulator
	if err := em.AddRepo(githubtest.Repo{Owner: audittest.Owner, Name: "secret", Path: h.Path, CloneURL: "x", Private: true}); err != nil {
		t.Fatal(err)
	}
	em.AddInstallation(audittest.InstallationID+1, audittest.Owner, audittest.Owner+"/secret")
	if err := em.SetPermission(audittest.Owner, audittest.Name, "bob", "write"); err != nil {
		t.Fatal(err)
	}
	apps, err := githubapi.New(githubapi.Config{BaseURL: h.Fixture.URL(), Token: h.Token(t)})
	if err != nil {
		t.Fatal(err)
	}
	client, err := apps.Client()
	if err != nil {
		t.Fatal(err)
	}

	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)

	flags := serveFlags{githubURL: h.Fixture.URL(), dashboardAuth: dashboardAuthFlags{
		url: srv.URL, githubWebURL: h.Fixture.Server.URL, clientID: em.OAuthClientID(), clientSecret: "secret",
		sessionKeys: "YSBzZXNzaW9uIGtleSBmb3IgYnJvd3NlciB0ZXN0cyE=", accessTTL: time.Minute,
	}}
	signIn, err := serveSignIn(&serveConfig{flags: flags}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dashboard.New(dashboard.Options{
		Gate: signIn.Gate, Middleware: signIn.Middleware, Routes: signIn.Routes,
		Repositories: []*dashboard.Repository{
			{Owner: audittest.Owner, Name: audittest.Name, Path: h.Path, CacheDir: t.TempDir(), GitHub: client},
			{Owner: audittest.Owner, Name: "secret", Path: h.Path, CacheDir: t.TempDir()},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = d
	return &signedInDashboard{server: srv, github: h.Fixture}
}

// TestDashboardSignInStatuses drives the sign-in with a plain HTTP client
// and checks the statuses a browser does not show.
func TestDashboardSignInStatuses(t *testing.T) {
	t.Parallel()
	d := newSignedInDashboard(t)
	d.github.Emulator.SetBrowserUser("bob")
	jar := newJar(t)
	client := d.server.Client()
	client.Jar = jar

	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(d.server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = ioCopy(&b, resp)
		return resp, b.String()
	}
	resp, body := get("/r/acme/models/")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/r/acme/models/" || !strings.Contains(body, "Signed in as bob") {
		t.Fatalf("after sign-in: %d at %s:\n%.1500s", resp.StatusCode, resp.Request.URL, body)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != dashboard.ContentSecurityPolicy {
		t.Errorf("CSP %q", got)
	}
	// GitHub failing: the dashboard refuses rather than guess, and asks
	// again next time.
	d.github.Emulator.FailNext("GET /repos/{owner}/{repo}", http.StatusBadGateway, nil, 1)
	if resp, _ := get("/r/acme/secret/"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("with GitHub failing: %d, want 503", resp.StatusCode)
	}
	for _, path := range []string{"/r/acme/secret/", "/r/acme/secret/pulls", "/r/acme/nope/"} {
		if resp, body := get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s as bob: %d, want 404:\n%.500s", path, resp.StatusCode, body)
		}
	}
	// A form without the CSRF token is refused; sign-out with it works.
	resp, err := client.Post(d.server.URL+"/logout", "application/x-www-form-urlencoded", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without a CSRF token: %d, want 403", resp.StatusCode)
	}
}

// TestDashboardSignInBrowser signs in with headless Chromium through the
// emulated GitHub, opens the matrix, is refused a repository bob cannot
// read, and signs out; screenshots go to the test artifacts.
func TestDashboardSignInBrowser(t *testing.T) {
	chromiumtest.Require(t)
	t.Parallel()
	d := newSignedInDashboard(t)
	d.github.Emulator.SetBrowserUser("bob")

	ctx := headlessPage(t)

	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel string) string { t.Helper(); return pageText(t, ctx, sel) }
	location := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	shot := func(name string) { t.Helper(); pageShot(t, ctx, name) }
	cookies := func() []*network.Cookie {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Action[[]*network.Cookie](func(ctx context.Context, target *chromedp.Target) ([]*network.Cookie, error) {
			res, err := cdp.Call(ctx, target, network.GetCookies, network.GetCookiesParams{URLs: []string{d.server.URL}})
			return res.Cookies, err
		}))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// Not signed in: the matrix sends the browser to GitHub and back.
	run("open the matrix", chromedp.Navigate(d.server.URL+"/r/acme/models/"), chromedp.WaitVisible(chromedp.CSS("table")))
	body := text("body")
	if loc := location(); loc != d.server.URL+"/r/acme/models/" || !strings.Contains(body, "Signed in as bob") || !strings.Contains(body, "forecaster") {
		t.Fatalf("after sign-in at %s:\n%.1500s", loc, body)
	}
	shot("dashboard-signin-matrix.png")
	var session *network.Cookie
	for _, c := range cookies() {
		switch c.Name {
		case webauth.SessionCookie:
			session = c
		case webauth.StateCookie:
			t.Errorf("the state cookie outlived the sign-in")
		}
	}
	if session == nil || !session.Secure || !session.HTTPOnly || session.SameSite != network.CookieSameSiteLax || session.Path != "/" {
		t.Fatalf("session cookie %+v: want Secure, HttpOnly, SameSite=Lax, Path=/", session)
	}

	// A repository bob cannot read is a page that does not exist.
	run("open acme/secret", chromedp.Navigate(d.server.URL+"/r/acme/secret/"), chromedp.WaitVisible(chromedp.CSS("main")))
	if body := text("body"); !strings.Contains(strings.ToLower(body), "no such page") || strings.Contains(body, "forecaster") {
		t.Errorf("acme/secret for bob:\n%.1500s", body)
	}
	shot("dashboard-signin-refused.png")

	// Sign out from the matrix's header, through the confirmation form.
	run("sign out", chromedp.Navigate(d.server.URL+"/r/acme/models/"),
		chromedp.WaitVisible(chromedp.CSS(`header a[href="/logout"]`)),
		chromedp.Click(chromedp.CSS(`header a[href="/logout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`)))
	if got := text("main"); !strings.Contains(got, "You are signed out.") {
		t.Errorf("after sign-out: %s", got)
	}
	shot("dashboard-signed-out.png")
	for _, c := range cookies() {
		if c.Name == webauth.SessionCookie {
			t.Error("the session cookie survived sign-out")
		}
	}
}
