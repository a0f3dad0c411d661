package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/audittest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// The cache is keyed by the head: a commit pushed to the branch shows on
// the next request, and the page is not rebuilt while the head stays.
func TestDashboardCacheFollowsTheHead(t *testing.T) {
	h := audittest.BuildHistory(t)
	repo := &Repository{Owner: "acme", Name: "models", Path: h.Path, CacheDir: t.TempDir()}
	srv := server(t, Options{Gate: AllowAll, Repositories: []*Repository{repo}, Local: true})
	_, body, _ := get(t, srv, "/r/acme/models/")
	if strings.Contains(body, "9.9.9") {
		t.Fatal("9.9.9 is pinned before it is pushed")
	}
	first := repo.snap
	get(t, srv, "/r/acme/models/")
	if repo.snap != first {
		t.Error("the snapshot was rebuilt although the head did not move")
	}
	pin := audittest.Pin{Environment: "dev", Model: "forecaster", Version: "9.9.9"}
	gittest.MustCommit(t, h.Path, gittest.Commit{Branch: "main", Files: map[string]string{pin.Path(): pin.YAML()},
		Message: "Register forecaster 9.9.9\n", Author: gittest.Signature{Name: "Alice Ng", Email: "alice@example.com", When: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}})
	_, body, _ = get(t, srv, "/r/acme/models/")
	contains(t, "the matrix after a push", body, "9.9.9", `since <time datetime="2026-07-01T09:00:00Z">2026-07-01</time>`)
	_, body, _ = get(t, srv, "/r/acme/models/models/forecaster")
	contains(t, "the timeline after a push", body, "1.2.0 → 9.9.9")
}

// Drift findings flag the cell of the drifted pin and are listed on the
// findings page.
func TestDashboardDrift(t *testing.T) {
	h := audittest.BuildHistory(t)
	store := &drift.FileStore{Dir: t.TempDir()}
	now := time.Now().UTC()
	load := drift.Load{Repository: "acme/models", Environment: "prod", Model: "forecaster", Version: "0.0.1", Job: "scoring-prod", Attestation: drift.AttestationNone, Time: now.Add(-time.Hour)}
	if err := store.Append(context.Background(), load); err != nil {
		t.Fatal(err)
	}
	repo := &Repository{Owner: "acme", Name: "models", Path: h.Path, CacheDir: t.TempDir(), Drift: store}
	srv := server(t, Options{Gate: AllowAll, Repositories: []*Repository{repo}, Local: true})
	status, body, _ := get(t, srv, "/r/acme/models/")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	contains(t, "the matrix", body, `<span class="flag bad">drift</span>`)
	if strings.Contains(body, "Drift is not checked") {
		t.Error("the matrix says drift is not checked")
	}
	_, body, _ = get(t, srv, "/r/acme/models/findings")
	contains(t, "the findings", body, "scoring-prod", "0.0.1")
}

// When GitHub cannot verify the history, the pages still answer, from
// commit messages, and say why.
func TestDashboardServesUnverifiedWhenGitHubFails(t *testing.T) {
	h := audittest.BuildHistory(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message":"Bad credentials"}`)
	}))
	defer down.Close()
	apps, err := githubapi.New(githubapi.Config{BaseURL: down.URL, Token: "expired"})
	if err != nil {
		t.Fatal(err)
	}
	client, err := apps.Client()
	if err != nil {
		t.Fatal(err)
	}
	repo := &Repository{Owner: "acme", Name: "models", Path: h.Path, CacheDir: t.TempDir(), GitHub: client}
	srv := server(t, Options{Gate: AllowAll, Repositories: []*Repository{repo}, Local: true})
	status, body, _ := get(t, srv, "/r/acme/models/")
	if status != http.StatusOK {
		t.Fatalf("status %d:\n%.2000s", status, body)
	}
	contains(t, "the matrix", body, "GitHub could not verify pull requests and approvers", "1.2.0")
}
