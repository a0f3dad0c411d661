package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/webauth"
)

const dashboardSessionKey = "YSBzZXNzaW9uIGtleSBmb3IgYnJvd3NlciB0ZXN0cyE="

func TestDashboardServeNeedsSignInSettings(t *testing.T) {
	vars := listenFailingVars(t)
	vars["PROMOBOT_DASHBOARD_ADDR"] = "127.0.0.1:0"
	for _, want := range []string{
		"--dashboard-url (PROMOBOT_DASHBOARD_URL) is required with --dashboard-addr",
		"--oauth-client-id (PROMOBOT_OAUTH_CLIENT_ID) is required with --dashboard-addr",
		"--oauth-client-secret (PROMOBOT_OAUTH_CLIENT_SECRET) or --oauth-client-secret-file (PROMOBOT_OAUTH_CLIENT_SECRET_FILE) is required with --dashboard-addr",
		"--session-keys (PROMOBOT_SESSION_KEYS) or --session-keys-file (PROMOBOT_SESSION_KEYS_FILE) is required with --dashboard-addr",
	} {
		wantServeUsageError(t, vars, nil, nil, want)
	}
	wantServeUsageError(t, vars, map[string]string{
		"PROMOBOT_DASHBOARD_URL": "http://dashboard.example.com", "PROMOBOT_OAUTH_CLIENT_ID": "Iv1.x",
		"PROMOBOT_OAUTH_CLIENT_SECRET": "s3cret", "PROMOBOT_SESSION_KEYS": dashboardSessionKey,
	}, nil, "must be https (plain http only on a loopback address)")
	// Without --dashboard-addr the sign-in settings are not needed.
	var stderr syncBuffer
	env := maps.Clone(vars)
	delete(env, "PROMOBOT_DASHBOARD_ADDR")
	runServe(t.Context(), env, &stderr)
	if strings.Contains(stderr.String(), "dashboard") {
		t.Errorf("without --dashboard-addr serve talks of the dashboard:\n%s", stderr.String())
	}
}

// TestDashboardServeSignIn runs promobot serve with --dashboard-addr and
// signs in through the emulated GitHub with a plain client, carrying the
// cookies by hand (Go's cookie jar keeps Secure cookies off plain http,
// which browsers allow on loopback).
func TestDashboardServeSignIn(t *testing.T) {
	const installation = 41
	fx, dashAddr, dashURL := dashboardEmulator(t)
	fx.AddRepo(t, "example-org", "models", "main")
	secret := fx.Git.RepoURL("example-org/secret.git")
	if err := fx.Emulator.AddRepo(githubtest.Repo{Owner: "example-org", Name: "secret", Path: t.TempDir(), CloneURL: secret, Private: true}); err != nil {
		t.Fatal(err)
	}
	fx.Emulator.AddInstallation(installation, "example-org", "example-org/models", "example-org/secret")
	fx.Emulator.SetBrowserUser("carol")

	srv := startDashboardServe(t, fx, dashAddr, dashURL)

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cookies := map[string]string{}
	get := func(target string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		if strings.HasPrefix(target, dashURL) {
			for name, value := range cookies {
				req.AddCookie(&http.Cookie{Name: name, Value: value})
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.MaxAge < 0 {
				delete(cookies, c.Name)
			} else {
				cookies[c.Name] = c.Value
			}
		}
		return resp
	}

	resp := get(dashURL + "/r/example-org/models/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fr%2Fexample-org%2Fmodels%2F" {
		t.Fatalf("without a session: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = get(dashURL + resp.Header.Get("Location"))
	authorize, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(authorize.String(), fx.Server.URL+"/login/oauth/authorize?") {
		t.Fatalf("/login: %d → %q, want GitHub's authorize page", resp.StatusCode, authorize)
	}
	resp = get(authorize.String())
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, dashURL+webauth.CallbackPath+"?") {
		t.Fatalf("GitHub sent the browser to %q", callback)
	}
	resp = get(callback)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/r/example-org/models/" || cookies[webauth.SessionCookie] == "" {
		t.Fatalf("callback: %d → %q, cookies %v", resp.StatusCode, resp.Header.Get("Location"), cookies)
	}
	// Signed in: the gate asks GitHub, which lets carol read the public
	// repository (it has no commit, so the page answers 503: nothing to
	// fetch; TestDashboardServeShowsARepositoryTheBotNeverEvaluated shows
	// one) and hides the private one.
	if resp = get(dashURL + "/r/example-org/models/"); resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusNotFound {
		t.Errorf("signed in, example-org/models: %d", resp.StatusCode)
	}
	if resp = get(dashURL + "/r/example-org/secret/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("signed in, the private example-org/secret: %d, want 404", resp.StatusCode)
	}
	if fx.Emulator.Counts()["GET /repos/{owner}/{repo}"] < 2 || fx.Emulator.Counts()["GET /user"] != 1 {
		t.Errorf("GitHub was not asked who signed in and what they may read: %v", fx.Emulator.Counts())
	}

	logs := srv.shutdown(t)
	for _, secret := range []string{"oauth-secret", dashboardSessionKey, "ghu_", cookies[webauth.SessionCookie]} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("the log shows a secret (%.12q…)", secret)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
}
