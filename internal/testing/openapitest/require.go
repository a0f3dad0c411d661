package openapitest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// RequireEnv is the environment variable that, set to "1", turns a missing
// node_modules into a test failure instead of a skip. CI=true does the same.
const RequireEnv = "PROMOBOT_REQUIRE_AZURITE"

var (
	loadMu sync.Mutex
	loaded = map[string]*Description{}
)

// Require returns GitHub.com's OpenAPI description from node_modules, parsed
// once per test binary. When node_modules lacks it, the test is skipped, or
// failed when PROMOBOT_REQUIRE_AZURITE=1 or CI=true so CI never passes
// without checking.
func Require(t testing.TB) *Description {
	t.Helper()
	path := requireFile(t, DescriptionFile)
	loadMu.Lock()
	defer loadMu.Unlock()
	if d := loaded[path]; d != nil {
		return d
	}
	d, err := Load(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	loaded[path] = d
	return d
}

// WebhookExamples maps a webhook event name, such as "pull_request", to the
// example payloads @octokit/webhooks-examples ships for it.
type WebhookExamples map[string][]map[string]any

// RequireExamples returns GitHub.com's webhook payload examples from
// node_modules, skipping or failing the test like Require when they are
// missing.
func RequireExamples(t testing.TB) WebhookExamples {
	t.Helper()
	raw, err := os.ReadFile(requireFile(t, ExamplesFile))
	if err != nil {
		t.Fatalf("openapitest: %v", err)
	}
	ex, err := ParseExamples(raw)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return ex
}

// ParseExamples parses the index.json of @octokit/webhooks-examples.
func ParseExamples(raw []byte) (WebhookExamples, error) {
	var events []struct {
		Name     string           `json:"name"`
		Examples []map[string]any `json:"examples"`
	}
	if err := json.Unmarshal(raw, &events); err != nil {
		return nil, fmt.Errorf("openapitest: parse webhook examples: %w", err)
	}
	out := WebhookExamples{}
	for _, ev := range events {
		out[ev.Name] = append(out[ev.Name], ev.Examples...)
	}
	return out, nil
}

// ForAction returns the examples of event whose "action" is action; an
// empty action selects examples without one, as for push.
func (w WebhookExamples) ForAction(event, action string) []map[string]any {
	var out []map[string]any
	for _, ex := range w[event] {
		got, _ := ex["action"].(string)
		if got == action {
			out = append(out, ex)
		}
	}
	return out
}

func requireFile(t testing.TB, rel string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("openapitest: %v", err)
	}
	modules, err := FindNodeModules(wd)
	if err != nil {
		t.Fatalf("%v", err)
	}
	path := filepath.Join(modules, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		if os.Getenv(RequireEnv) == "1" || os.Getenv("CI") == "true" {
			t.Fatalf("openapitest: %s is required (%s=1 or CI=true) but missing: %v; run `make npm-deps`", rel, RequireEnv, err)
			return ""
		}
		t.Skipf("skipping: %s not installed (%v); run `make npm-deps`, or set %s=1 to make this a failure", rel, err, RequireEnv)
	}
	return path
}
