package promobot_test

// The GitHub App manifest asks for the least GitHub permits the bot to work:
// the events it handles and the permissions those need.

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/example-org/promobot/internal/webauth"
)

func TestAppManifest(t *testing.T) {
	var m struct {
		Name           string `yaml:"name"`
		Description    string `yaml:"description"`
		URL            string `yaml:"url"`
		HookAttributes struct {
			URL    string `yaml:"url"`
			Active bool   `yaml:"active"`
		} `yaml:"hook_attributes"`
		RedirectURL           string            `yaml:"redirect_url"`
		CallbackURLs          []string          `yaml:"callback_urls"`
		RequestOAuthOnInstall *bool             `yaml:"request_oauth_on_install"`
		Public                *bool             `yaml:"public"`
		DefaultPermissions    map[string]string `yaml:"default_permissions"`
		DefaultEvents         []string          `yaml:"default_events"`
	}
	dec := yaml.NewDecoder(strings.NewReader(readRootFile(t, ".github/promobot-app.yml")))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("the App manifest: %v", err)
	}
	if m.Name == "" || m.Description == "" || m.URL == "" || m.RedirectURL == "" {
		t.Errorf("name, description, url and redirect_url are required: %+v", m)
	}
	if !strings.HasPrefix(m.HookAttributes.URL, "https://") || !strings.HasSuffix(m.HookAttributes.URL, "/webhook") || !m.HookAttributes.Active {
		t.Errorf("hook_attributes %+v: want an active https URL ending in /webhook", m.HookAttributes)
	}
	// The dashboard's sign-in: one https callback ending in the path
	// internal/webauth serves, and no sign-in forced on installers.
	if len(m.CallbackURLs) != 1 || !strings.HasPrefix(m.CallbackURLs[0], "https://") || !strings.HasSuffix(m.CallbackURLs[0], webauth.CallbackPath) {
		t.Errorf("callback_urls %v: want one https URL ending in %s", m.CallbackURLs, webauth.CallbackPath)
	}
	if m.RequestOAuthOnInstall == nil || *m.RequestOAuthOnInstall {
		t.Error("request_oauth_on_install must be false: people authorize the App when they first sign in to the dashboard")
	}
	if m.Public == nil || *m.Public {
		t.Error("public must be false: only the owning organization installs the App")
	}
	// The events the bot handles, and no others. The handler table in
	// internal/bot/events.go is the only place that says which events the
	// bot reacts to; Apps get ping and installation events unsubscribed.
	handlers := regexp.MustCompile(`"([a-z_]+)":\s*webhook\.HandlerFunc`).FindAllStringSubmatch(readRootFile(t, "internal/bot/events.go"), -1)
	var handled []string
	for _, h := range handlers {
		switch h[1] {
		case "ping", "installation", "installation_repositories":
		default:
			handled = append(handled, h[1])
		}
	}
	if len(handled) < 4 {
		t.Fatalf("found only %v in the bot's handler table", handled)
	}
	sortedEvents := slices.Sorted(slices.Values(m.DefaultEvents))
	if diff := cmp.Diff(slices.Sorted(slices.Values(handled)), sortedEvents); diff != "" {
		t.Errorf("default_events against the events the bot handles (-handled +subscribed):\n%s", diff)
	}
	// Least privilege for gating; optional features are commented out.
	want := map[string]string{"checks": "write", "contents": "read", "pull_requests": "read", "metadata": "read", "members": "read"}
	if slices.Contains(handled, "merge_group") {
		want["merge_queues"] = "read" // GitHub sends merge_group only with it
	}
	if diff := cmp.Diff(want, m.DefaultPermissions); diff != "" {
		t.Errorf("default_permissions (-want +got):\n%s", diff)
	}
}
