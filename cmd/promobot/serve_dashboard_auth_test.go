package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDashboardAuthFlags(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secretFile := write("secret", "s3cret-value\n")
	keysFile := write("keys", "# current\n"+key+"\n")
	badKeysFile := write("badkeys", "c2hvcnQ=\n")
	good := dashboardAuthFlags{
		url: "https://promobot-dashboard.example.com", clientID: "Iv1.abc", clientSecret: "s3cret-value",
		sessionKeys: key, accessTTL: time.Minute,
	}
	tests := []struct {
		name    string
		change  func(f *dashboardAuthFlags)
		api     string
		want    []string
		webURL  string
		secret  string
		numKeys int
	}{
		{name: "complete", webURL: "https://github.com/", secret: "s3cret-value", numKeys: 1},
		{name: "files", change: func(f *dashboardAuthFlags) {
			f.clientSecret, f.clientSecretFile, f.sessionKeys, f.sessionKeysFile = "", secretFile, "", keysFile
		}, webURL: "https://github.com/", secret: "s3cret-value", numKeys: 1},
		{name: "enterprise server web URL derived", api: "https://ghe.example.com/api/v3/", webURL: "https://ghe.example.com/", secret: "s3cret-value", numKeys: 1},
		{name: "web URL given", change: func(f *dashboardAuthFlags) { f.githubWebURL = "https://ghe.example.com" },
			api: "https://ghe.example.com/api/v3/", webURL: "https://ghe.example.com", secret: "s3cret-value", numKeys: 1},
		{name: "nothing", change: func(f *dashboardAuthFlags) { *f = dashboardAuthFlags{accessTTL: time.Minute} }, want: []string{
			"--dashboard-url (PROMOBOT_DASHBOARD_URL) is required with --dashboard-addr: the dashboard's public https URL, for GitHub's sign-in callback",
			"--oauth-client-id (PROMOBOT_OAUTH_CLIENT_ID) is required with --dashboard-addr: the GitHub App's client id",
			"--oauth-client-secret (PROMOBOT_OAUTH_CLIENT_SECRET) or --oauth-client-secret-file (PROMOBOT_OAUTH_CLIENT_SECRET_FILE) is required with --dashboard-addr",
			"--session-keys (PROMOBOT_SESSION_KEYS) or --session-keys-file (PROMOBOT_SESSION_KEYS_FILE) is required with --dashboard-addr (make a key with `openssl rand -base64 32`)",
		}},
		{name: "plain http elsewhere than loopback", change: func(f *dashboardAuthFlags) { f.url = "http://dashboard.example.com" }, want: []string{
			`--dashboard-url (PROMOBOT_DASHBOARD_URL): the dashboard URL "http://dashboard.example.com" must be https (plain http only on a loopback address): the session cookie is Secure`,
		}},
		{name: "a path", change: func(f *dashboardAuthFlags) { f.url = "https://example.com/promobot" }, want: []string{
			`--dashboard-url (PROMOBOT_DASHBOARD_URL): the dashboard URL "https://example.com/promobot" must be an origin such as https://dashboard.example.com, without a path`,
		}},
		{name: "both secrets", change: func(f *dashboardAuthFlags) { f.clientSecretFile = secretFile }, want: []string{
			"--oauth-client-secret (PROMOBOT_OAUTH_CLIENT_SECRET) and --oauth-client-secret-file (PROMOBOT_OAUTH_CLIENT_SECRET_FILE) are both set; set one",
		}},
		{name: "short key", change: func(f *dashboardAuthFlags) { f.sessionKeys = "c2hvcnQ=" }, want: []string{
			"--session-keys (PROMOBOT_SESSION_KEYS): session key 1 has 5 bytes, want 32 (make one with `openssl rand -base64 32`)",
		}},
		{name: "short key in a file", change: func(f *dashboardAuthFlags) { f.sessionKeys, f.sessionKeysFile = "", badKeysFile }, want: []string{
			"--session-keys-file (PROMOBOT_SESSION_KEYS_FILE): " + badKeysFile + ": session key 1 has 5 bytes, want 32 (make one with `openssl rand -base64 32`)",
		}},
		{name: "missing secret file", change: func(f *dashboardAuthFlags) { f.clientSecret, f.clientSecretFile = "", filepath.Join(dir, "none") }, want: []string{
			"--oauth-client-secret-file (PROMOBOT_OAUTH_CLIENT_SECRET_FILE): read " + filepath.Join(dir, "none") + ": no such file or directory",
		}},
		{name: "TTL too long", change: func(f *dashboardAuthFlags) { f.accessTTL = time.Hour }, want: []string{
			"--dashboard-access-ttl (PROMOBOT_DASHBOARD_ACCESS_TTL) must be between 1s and 10m, not 1h0m0s: it bounds how long a person keeps seeing a repository after losing access",
		}},
		{name: "bad web URL", change: func(f *dashboardAuthFlags) { f.githubWebURL = "github.com" }, want: []string{
			`--github-web-url (GITHUB_SERVER_URL): "github.com" must be an http(s) URL such as https://github.com or https://HOST`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good
			if tt.change != nil {
				tt.change(&f)
			}
			api := tt.api
			if api == "" {
				api = defaultGitHubAPI
			}
			var got []string
			c := f.check(api, func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("problems (-want +got):\n%s", diff)
			}
			for _, p := range got {
				if strings.Contains(p, "s3cret") || strings.Contains(p, key) {
					t.Errorf("a problem shows a secret: %s", p)
				}
			}
			if tt.want != nil {
				return
			}
			if c.webURL != tt.webURL || c.clientSecret != tt.secret || c.keys == nil {
				t.Errorf("config: web %q secret %q keys %v", c.webURL, c.clientSecret, c.keys)
			}
			if _, err := newDashboardAuth(c, nil, nil); err != nil {
				t.Errorf("build the sign-in: %v", err)
			}
		})
	}
}
