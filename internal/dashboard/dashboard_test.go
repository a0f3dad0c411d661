package dashboard

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/testing/audittest"
)

func TestDashboardPages(t *testing.T) {
	w := newWorld(t)
	repo := &Repository{Owner: "acme", Name: "models", Path: w.history.Path, CacheDir: t.TempDir(), GitHub: w.client}
	srv := server(t, Options{Gate: AllowAll, Repositories: []*Repository{repo}, Local: true})
	tests := []struct {
		name, path string
		status     int
		want       []string
	}{
		{"matrix", "/r/acme/models/", http.StatusOK, []string{
			"<th scope=\"col\">dev</th><th scope=\"col\">test</th><th scope=\"col\">prod</th>",
			`href="/r/acme/models/models/forecaster"`, "1.2.0", "1.1.0", "1.0.0", "reviewed", "htmx-config",
		}},
		{"model timeline", "/r/acme/models/models/forecaster", http.StatusOK, []string{
			"rollback</span> in prod: 1.1.0 → 1.0.0", "edit</span> in prod: 1.0.0 (approval, notes)", "CHG-1011", "keep 1.0.0 until the retrained version passes test", "bypass", "Approvers", "bob, carol",
		}},
		{"open promotions", "/r/acme/models/pulls", http.StatusOK, []string{
			"Promote forecaster 1.2.0 to test", "1 more approval</strong> for <code>environments/test/forecaster.yaml</code> from @bob or @carol",
		}},
		{"findings", "/r/acme/models/findings", http.StatusOK, []string{"Drift is not checked", "Access review", "gate-unsatisfiable"}},
		{"unknown repository", "/r/acme/secret/", http.StatusNotFound, []string{"no such page"}},
		{"unknown model", "/r/acme/models/models/nope", http.StatusNotFound, nil},
		{"healthz", "/healthz", http.StatusOK, []string{"ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, h := get(t, srv, tc.path)
			if status != tc.status {
				t.Fatalf("GET %s = %d, want %d:\n%.2000s", tc.path, status, tc.status, body)
			}
			contains(t, tc.path, body, tc.want...)
			if got := h.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("CSP = %q", got)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" {
				t.Errorf("headers = %v", h)
			}
		})
	}
	status, _, _ := get(t, srv, "/")
	if status != http.StatusOK { // the client follows the redirect to the matrix
		t.Errorf("GET / = %d", status)
	}
}

func TestDashboardGate(t *testing.T) {
	w := newWorld(t)
	repo := &Repository{Owner: "acme", Name: "models", Path: w.history.Path, CacheDir: t.TempDir()}
	tests := []struct {
		name   string
		gate   Gate
		path   string
		status int
		want   string
	}{
		{"cannot read: as if absent", GateFunc(func(*http.Request, string, string) (Access, error) { return Access{Login: "eve"}, nil }), "/r/acme/models/", http.StatusNotFound, "no such page"},
		{"gate error fails closed", GateFunc(func(*http.Request, string, string) (Access, error) { return Access{}, errors.New("GitHub is down") }), "/r/acme/models/pulls", http.StatusServiceUnavailable, "cannot be checked"},
		{"reader, not admin: no access review", GateFunc(func(*http.Request, string, string) (Access, error) { return Access{Login: "bob", Read: true}, nil }), "/r/acme/models/findings", http.StatusOK, "shown to repository admins only"},
		{"home lists readable repositories", GateFunc(func(*http.Request, string, string) (Access, error) { return Access{Login: "bob", Read: true}, nil }), "/", http.StatusOK, `href="/r/acme/models/"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := server(t, Options{Gate: tc.gate, Repositories: []*Repository{repo}})
			status, body, _ := get(t, srv, tc.path)
			if status != tc.status {
				t.Fatalf("GET %s = %d, want %d:\n%.2000s", tc.path, status, tc.status, body)
			}
			contains(t, tc.path, body, tc.want)
		})
	}
}

// fixedAttestations answers the same status for every pin.
type fixedAttestations struct{ status, detail string }

func (f fixedAttestations) Status(context.Context, string, string, string) (string, string) {
	return f.status, f.detail
}

func TestDashboardAttestationStatus(t *testing.T) {
	h := audittest.BuildHistory(t)
	repo := &Repository{Owner: "acme", Name: "models", Path: h.Path, CacheDir: t.TempDir(),
		Attestations: fixedAttestations{"refused", `signed by "an untrusted key"`}}
	srv := server(t, Options{Gate: AllowAll, Repositories: []*Repository{repo}, Local: true})
	_, body, _ := get(t, srv, "/r/acme/models/")
	contains(t, "the matrix", body, `<span class="flag bad" title="signed by &#34;an untrusted key&#34;">refused</span>`)
	if strings.Contains(body, "Attestation status is not shown") {
		t.Error("the matrix says attestations are not shown")
	}
}
