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

	"github.com/example-org/promobot/internal/audit/audittest"
)

// benchHistory is the history the issue sets the performance bar on:
// 20,000 commits of which 5,000 change manifests.
var benchHistory = audittest.Large{Commits: 20_000, Touching: 5_000, Repack: true, Seed: 1}

var benchRepos sync.Map // variant → path

// benchRepo generates (once, cached under the system temporary directory
// across runs) the benchmark repository, with or without a commit-graph.
func benchRepo(b *testing.B, commitGraph bool) string {
	b.Helper()
	cfg := benchHistory
	cfg.CommitGraph = commitGraph
	key := fmt.Sprintf("%+v", cfg)
	if p, ok := benchRepos.Load(key); ok {
		return p.(string)
	}
	sum := sha256.Sum256([]byte(key + "v2"))
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
// the manifest reads and the classification.
func BenchmarkAuditWalk(b *testing.B) {
	for _, v := range graphVariants {
		b.Run(v.name, func(b *testing.B) {
			path := benchRepo(b, v.graph)
			var h *History
			for b.Loop() {
				h = auditOnce(b, path, Options{NoCache: true})
			}
			b.ReportMetric(float64(len(h.Records)), "records")
		})
	}
}

// BenchmarkAuditWalkIndexed re-runs the audit with the index written by a
// previous run and nothing new to walk.
func BenchmarkAuditWalkIndexed(b *testing.B) {
	path := benchRepo(b, true)
	cache := b.TempDir()
	auditOnce(b, path, Options{CacheDir: cache})
	for b.Loop() {
		auditOnce(b, path, Options{CacheDir: cache})
	}
}

// BenchmarkGitLogNameStatus is the bar: git log --name-status limited to
// environments/ on the same repository.
func BenchmarkGitLogNameStatus(b *testing.B) {
	for _, v := range graphVariants {
		b.Run(v.name, func(b *testing.B) {
			path := benchRepo(b, v.graph)
			for b.Loop() {
				gitLogOnce(b, path)
			}
		})
	}
}

// BenchmarkAuditToGitLogRatio times both, interleaved so that load from
// other processes hits both alike, and reports the ratio of the audit walk
// to git log in wall time (the issue requires at most 2) and in CPU time.
func BenchmarkAuditToGitLogRatio(b *testing.B) {
	for _, v := range graphVariants {
		b.Run(v.name, func(b *testing.B) {
			path := benchRepo(b, v.graph)
			var audit, gitLog, auditCPU, gitCPU time.Duration
			for b.Loop() {
				c, t := processCPU(), time.Now()
				auditOnce(b, path, Options{NoCache: true})
				audit += time.Since(t)
				auditCPU += processCPU() - c
				t = time.Now()
				gitCPU += gitLogOnce(b, path)
				gitLog += time.Since(t)
			}
			n := float64(b.N)
			b.ReportMetric(float64(audit)/float64(gitLog), "audit/gitlog")
			b.ReportMetric(float64(auditCPU)/float64(gitCPU), "audit/gitlog-cpu")
			b.ReportMetric(float64(audit.Microseconds())/1000/n, "audit-ms")
			b.ReportMetric(float64(gitLog.Microseconds())/1000/n, "gitlog-ms")
		})
	}
}
