package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/dashboard"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/chromiumtest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// TestDashboardBrowserOpensARepositoryTheBotNeverEvaluated signs in with
// headless Chromium through the emulated GitHub to the dashboard as serve
// builds it (the installation's repositories, the bot's mirrors, the
// App's sign-in), opens a repository no webhook ever named, whose mirror
// the dashboard fetches on demand, and follows a model.
func TestDashboardBrowserOpensARepositoryTheBotNeverEvaluated(t *testing.T) {
	chromiumtest.Require(t)
	key, keyPEM := serveTestKey(t)
	const appID, installation = 31, 41
	fx := githubtest.NewFixture(t, githubtest.Config{AppID: appID, AppPublicKey: &key.PublicKey})
	commitModels(t, fx.AddRepo(t, "example-org", "models", "main"))
	fx.Emulator.AddInstallation(installation, "example-org", "example-org/models")
	fx.Emulator.SetBrowserUser("carol")

	apps, err := githubapi.New(githubapi.Config{BaseURL: fx.URL(), AppID: appID, PrivateKey: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	mirrors, err := mirror.New(t.TempDir(), mirror.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	flags := serveFlags{githubURL: fx.URL(), dashboardAuth: dashboardAuthFlags{
		url: srv.URL, githubWebURL: fx.Server.URL, clientID: fx.Emulator.OAuthClientID(), clientSecret: "secret",
		sessionKeys: dashboardSessionKey, accessTTL: time.Minute,
	}}
	logger := slog.New(slog.DiscardHandler)
	signIn, err := serveSignIn(&serveConfig{flags: flags}, logger)
	if err != nil {
		t.Fatal(err)
	}
	served := &servedRepositories{apps: apps, mirrors: mirrors, logger: logger}
	d, err := dashboard.New(dashboard.Options{Gate: signIn.Gate, Middleware: signIn.Middleware, Routes: signIn.Routes, List: served.list})
	if err != nil {
		t.Fatal(err)
	}
	handler = d

	ctx := headlessPage(t)
	text := func(sel string) string { t.Helper(); return pageText(t, ctx, sel) }
	shot := func(name string) { t.Helper(); pageShot(t, ctx, name) }

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`a[href="/r/example-org/models/"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/r/example-org/models/"]`)), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatalf("sign in and open example-org/models: %v", err)
	}
	body := text("body")
	for _, want := range []string{"Signed in as carol", "forecaster", "threshold", "1.1.0", "0.9.0"} {
		if !strings.Contains(body, want) {
			t.Errorf("the matrix lacks %q:\n%.1500s", want, body)
		}
	}
	shot("dashboard-fetched-on-demand.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/r/example-org/models/models/forecaster"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="forecaster"]`))); err != nil {
		t.Fatalf("follow forecaster: %v", err)
	}
	if got := text("main"); !strings.Contains(got, "forecaster") || !strings.Contains(got, "0.9.0") {
		t.Errorf("forecaster's page:\n%.1500s", got)
	}
}
