package dashboard

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/example-org/promobot/internal/testing/openapitest"
)

// requireNodeModule returns the path of rel inside node_modules, skipping
// the test when it is missing, or failing it when PROMOBOT_REQUIRE_AZURITE=1
// or CI=true, as the other npm-backed tests do.
func requireNodeModule(t *testing.T, rel string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	modules, err := openapitest.FindNodeModules(wd)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(modules, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		if os.Getenv(openapitest.RequireEnv) == "1" || os.Getenv("CI") == "true" {
			t.Fatalf("%s is required (%s=1 or CI=true) but missing: %v; run `make npm-deps`", rel, openapitest.RequireEnv, err)
		}
		t.Skipf("skipping: %s not installed (%v); run `make npm-deps`, or set %s=1 to make this a failure", rel, err, openapitest.RequireEnv)
	}
	return path
}

// The committed htmx.min.js is the one of the htmx.org version package.json
// pins.
func TestDashboardHTMXMatchesPinnedPackage(t *testing.T) {
	dist := requireNodeModule(t, "htmx.org/dist/htmx.min.js")
	want, err := os.ReadFile(dist)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(HTMX(), want) {
		t.Fatalf("internal/dashboard/static/htmx.min.js differs from %s: copy it again after changing the pinned htmx.org", dist)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(dist)), "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	var root struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	raw, err = os.ReadFile(filepath.Join("..", "..", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	if got := root.Dependencies["htmx.org"]; got != pkg.Version {
		t.Fatalf("package.json pins htmx.org %q, node_modules holds %q: run `make npm-deps`", got, pkg.Version)
	}
}

func TestDashboardStaticFiles(t *testing.T) {
	srv := server(t, Options{Gate: AllowAll, Repositories: []*Repository{{Owner: "o", Name: "r", Path: t.TempDir()}}})
	for _, tc := range []struct{ path, contentType string }{
		{"/static/htmx.min.js", "text/javascript; charset=utf-8"},
		{"/static/dashboard.css", "text/css; charset=utf-8"},
	} {
		status, body, h := get(t, srv, tc.path)
		if status != http.StatusOK || len(body) == 0 || h.Get("Content-Type") != tc.contentType {
			t.Errorf("GET %s = %d, %d bytes, %q", tc.path, status, len(body), h.Get("Content-Type"))
		}
		if h.Get("Content-Security-Policy") != ContentSecurityPolicy {
			t.Errorf("GET %s: no CSP", tc.path)
		}
	}
	if !bytes.Contains(HTMX(), []byte("htmx")) {
		t.Error("the embedded htmx.min.js is empty")
	}
}
