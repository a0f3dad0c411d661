package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/audittest"
)

// benchSizes are the histories the issue sets the performance bar on:
// 20,000 and 100,000 commits of which a quarter change manifests, all
// generated from the repository's own sample manifests. The 100,000-commit
// history takes a minute to generate the first time and is left out unless
// PROMOBOT_BENCH_LARGE is set, to keep `make bench` short.
var benchSizes = []struct {
	name  string
	large bool
	cfg   audittest.Large
}{
	{"20k", false, audittest.Large{Commits: 20_000, Touching: 5_000, Repack: true, Seed: 1}},
	{"100k", true, audittest.Large{Commits: 100_000, Touching: 25_000, Repack: true, Seed: 1}},
}

var benchRepos sync.Map // variant → path

// benchRepo generates (once, cached under the system temporary directory
// across runs) the benchmark repository of a size, with or without a
// commit-graph, from the sample manifests under environments/.
func benchRepo(b *testing.B, cfg audittest.Large, commitGraph bool) string {
	b.Helper()
	root, err := audittest.RepositoryRoot()
	if err != nil {
		b.Fatal(err)
	}
	if cfg.Samples, err = audittest.ReadSamples(root); err != nil {
		b.Fatal(err)
	}
	cfg.CommitGraph = commitGraph
	key := fmt.Sprintf("%+v", cfg)
	if p, ok := benchRepos.Load(key); ok {
		return p.(string)
	}
	// The suffix names the generator's version: change it whenever
	// audittest's generator changes, or an old history is reused.
	sum := sha256.Sum256([]byte(key + "v4"))
	dir := filepath.Join(os.TempDir(), "promobot-audit-bench", hex.EncodeToString(sum[:6]))
	done := filepath.Join(dir, "generated")
	if _, err := os.Stat(done); err != nil {
		_ = os.RemoveAll(dir)
		start := time.Now()
		if err := audittest.GenerateLarge(filepath.Join(dir, "repo.git"), cfg); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d commits in %s", cfg.Commits, time.Since(start).Round(time.Millisecond))
	}
	p := filepath.Join(dir, "repo.git")
	benchRepos.Store(key, p)
	return p
}

// forSizes runs fn as a sub-benchmark for each history size and
// commit-graph variant.
func forSizes(b *testing.B, fn func(b *testing.B, path string)) {
	for _, size := range benchSizes {
		if size.large && os.Getenv("PROMOBOT_BENCH_LARGE") == "" {
			continue
		}
		for _, v := range graphVariants {
			b.Run(size.name+"/"+v.name, func(b *testing.B) { fn(b, benchRepo(b, size.cfg, v.graph)) })
		}
	}
}

func auditOnce(b *testing.B, path string, opts Options) *History {
	b.Helper()
	repo, err := OpenRepository(path, RepositoryOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	h, err := Reconstruct(b.Context(), repo, opts)
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func gitLogOnce(b *testing.B, path string) (cpu time.Duration) {
	b.Helper()
	cmd := exec.Command("git", "log", "--name-status", "--", "environments/")
	cmd.Dir = path
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("git log: %v: %s", err, stderr.String())
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// processCPU returns the CPU time this process has used, every thread and
// the garbage collector included.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var graphVariants = []struct {
	name  string
	graph bool
}{{"commit-graph", true}, {"no-commit-graph", false}}

// BenchmarkAuditWalk reconstructs the whole audit with no index: the walk,
// the manifest reads and the classification. It reports how many manifest
// blobs each reader parsed: the fast path should read them all.
func BenchmarkAuditWalk(b *testing.B) {
	forSizes(b, func(b *testing.B, path string) {
		var h *History
		for b.Loop() {
			h = auditOnce(b, path, Options{NoCache: true})
		}
		b.ReportMetric(float64(len(h.Records)), "records")
		b.ReportMetric(float64(h.Stats.QuickParses), "quick-parses")
		b.ReportMetric(float64(h.Stats.FullParses), "full-parses")
	})
}

// BenchmarkAuditToGitLogRatio times a cold audit (no index: the whole walk,
// then the index written), a warm one (the index up to date) and
// git log --name-status -- environments/ on the same repository, interleaved
// so that load from other processes hits all alike. It reports the ratios of
// each audit to git log in wall time (the issue requires at most 2 cold and
// 1.5 warm) and, for the cold audit, in CPU time.
func BenchmarkAuditToGitLogRatio(b *testing.B) {
	forSizes(b, func(b *testing.B, path string) {
		var cold, warm, gitLog, coldCPU, gitCPU time.Duration
		for b.Loop() {
			cache := b.TempDir()
			c, t := processCPU(), time.Now()
			auditOnce(b, path, Options{CacheDir: cache})
			cold += time.Since(t)
			coldCPU += processCPU() - c
			t = time.Now()
			auditOnce(b, path, Options{CacheDir: cache})
			warm += time.Since(t)
			t = time.Now()
			gitCPU += gitLogOnce(b, path)
			gitLog += time.Since(t)
		}
		n := float64(b.N)
		b.ReportMetric(float64(cold)/float64(gitLog), "cold/gitlog")
		b.ReportMetric(float64(warm)/float64(gitLog), "warm/gitlog")
		b.ReportMetric(float64(coldCPU)/float64(gitCPU), "cold/gitlog-cpu")
		b.ReportMetric(float64(cold.Microseconds())/1000/n, "cold-ms")
		b.ReportMetric(float64(warm.Microseconds())/1000/n, "warm-ms")
		b.ReportMetric(float64(gitLog.Microseconds())/1000/n, "gitlog-ms")
	})
}
