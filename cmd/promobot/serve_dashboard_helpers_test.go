package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/example-org/promobot/internal/testing/chromiumtest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/webauth"
)

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

func ioCopy(w io.Writer, resp *http.Response) (int64, error) { return io.Copy(w, resp.Body) }

// chromiumPath finds the Chromium chromiumtest.Require found.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, c := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed")
	return ""
}

// headlessPage starts headless Chromium for a dashboard test and returns
// its page: 1280×900, trusting the test servers' certificates, closed when
// the test ends or after 90 seconds.
func headlessPage(t *testing.T) context.Context {
	t.Helper()
	alloc, cancel := chromedp.NewExecAllocator(t.Context(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		chromedp.IgnoreCertErrors, chromedp.WindowSize(1280, 900),
	)...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pageText returns the text of the first element of the page that sel
// matches.
func pageText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// pageShot keeps a screenshot of the whole page among the test artifacts
// as name.
func pageShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(chromiumtest.ArtifactDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// dashboardEmulator reserves a loopback address for a dashboard and starts
// an emulated GitHub whose OAuth App sends browsers back to it (client
// secret "oauth-secret"); it returns the emulator, the address and the
// dashboard's URL.
func dashboardEmulator(t *testing.T) (*githubtest.Fixture, string, string) {
	t.Helper()
	key, _ := serveTestKey(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dashURL := "http://" + addr
	fx := githubtest.NewFixture(t, githubtest.Config{
		AppID: 31, AppPublicKey: &key.PublicKey, OAuthClientSecret: "oauth-secret", OAuthCallbackURL: dashURL + webauth.CallbackPath,
	})
	return fx, addr, dashURL
}

// servedDashboard is promobot serve running with --dashboard-addr.
type servedDashboard struct {
	stderr *syncBuffer
	stop   context.CancelFunc
	exited chan int
}

// startDashboardServe runs promobot serve as App 31 against fx, with its
// dashboard on dashAddr (reached at dashURL) signing in through fx's OAuth
// App, and waits until it listens.
func startDashboardServe(t *testing.T, fx *githubtest.Fixture, dashAddr, dashURL string) *servedDashboard {
	t.Helper()
	_, keyPEM := serveTestKey(t)
	vars := map[string]string{
		"PROMOBOT_ADDR": "127.0.0.1:0", "PROMOBOT_APP_ID": "31", "PROMOBOT_PRIVATE_KEY": string(keyPEM),
		"PROMOBOT_WEBHOOK_SECRET": serveSecret, "GITHUB_API_URL": fx.URL(), "PROMOBOT_CACHE_DIR": t.TempDir(),
		"PROMOBOT_RESYNC_INTERVAL": "0", "PROMOBOT_RECHECK_INTERVAL": "0",
		"PROMOBOT_DASHBOARD_ADDR": dashAddr, "PROMOBOT_DASHBOARD_URL": dashURL,
		"PROMOBOT_OAUTH_CLIENT_ID": fx.Emulator.OAuthClientID(), "PROMOBOT_OAUTH_CLIENT_SECRET": "oauth-secret",
		"PROMOBOT_SESSION_KEYS": dashboardSessionKey,
	}
	ctx, stop := context.WithCancel(t.Context())
	t.Cleanup(stop)
	s := &servedDashboard{stderr: &syncBuffer{}, stop: stop, exited: make(chan int, 1)}
	go func() { s.exited <- runServe(ctx, vars, s.stderr) }()
	waitForListening(t, s.stderr, s.exited)
	return s
}

// shutdown stops serve, fails the test unless it exits 0 within 30
// seconds, and returns its log.
func (s *servedDashboard) shutdown(t *testing.T) string {
	t.Helper()
	s.stop()
	select {
	case code := <-s.exited:
		if code != exitOK {
			t.Errorf("exit %d, want 0; log:\n%s", code, s.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	return s.stderr.String()
}
