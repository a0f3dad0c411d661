package dashboard

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/audittest"
)

// benchModels and benchEnvironments are the size the dashboard must serve
// quickly: a first render under 300 ms from a local mirror, under 20 ms
// from the cache.
const (
	benchModels       = 500
	benchEnvironments = 3
)

// benchRepository generates a history pinning benchModels models in dev,
// test and prod.
func benchRepository(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "repo.git")
	start := time.Now()
	if err := audittest.GenerateLarge(path, audittest.Large{Commits: 1500, Touching: 1500, Models: benchModels, SourceFiles: 50, Seed: 26}); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated in %s", time.Since(start).Round(time.Millisecond))
	return path
}

// render serves the matrix page once and checks it.
func render(b *testing.B, s *Server) {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/r/acme/models/", nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %.500s", rec.Code, rec.Body.String())
	}
}

func newBenchServer(b *testing.B, path, cacheDir string) *Server {
	b.Helper()
	s, err := New(Options{Gate: AllowAll, Local: true, Repositories: []*Repository{{Owner: "acme", Name: "models", Path: path, CacheDir: cacheDir}}})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkDashboard measures the matrix page of 500 models in 3
// environments, 1,500 promotions deep:
//
//   - cold: a freshly started server (nothing in its caches) over a mirror
//     whose audit index is up to date, as the audit leaves it beside the
//     mirror; the budget is 300 ms.
//   - cold-unindexed: the same without the audit index: the whole history is
//     walked first (reported, no budget).
//   - cached: a server that rendered the page for the same head before; the
//     budget is 20 ms.
func BenchmarkDashboard(b *testing.B) {
	path := benchRepository(b)
	index := b.TempDir()
	s := newBenchServer(b, path, index)
	render(b, s)
	snap := s.opts.Repositories[0].snap
	if len(snap.Models) != benchModels || len(snap.Environments) != benchEnvironments {
		b.Fatalf("the history pins %d models in %d environments, want %d in %d", len(snap.Models), len(snap.Environments), benchModels, benchEnvironments)
	}
	for _, m := range snap.Models {
		if len(snap.Pins[m]) != benchEnvironments {
			b.Fatalf("model %s is pinned in %d environments", m, len(snap.Pins[m]))
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			render(b, newBenchServer(b, path, index))
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	})
	b.Run("cold-unindexed", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			cold := newBenchServer(b, path, b.TempDir())
			b.StartTimer()
			render(b, cold)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			render(b, s)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	})
}
