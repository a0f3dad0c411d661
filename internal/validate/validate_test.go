package validate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleRepo returns the repository's own sample content as an in-memory tree.
func sampleRepo(t testing.TB) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	root := "../.."
	for _, p := range []string{".github/promobot.yaml", "schemas/model-deployment.schema.json", "schemas/policy.schema.json"} {
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		fsys[p] = &fstest.MapFile{Data: data}
	}
	matches, _ := filepath.Glob(filepath.Join(root, "environments", "*", "*.yaml"))
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, m)
		fsys[filepath.ToSlash(rel)] = &fstest.MapFile{Data: data}
	}
	return fsys
}

func edit(t testing.TB, fsys fstest.MapFS, p, old, new string) {
	t.Helper()
	s := string(fsys[p].Data)
	if !strings.Contains(s, old) {
		t.Fatalf("%s lacks %q", p, old)
	}
	fsys[p] = &fstest.MapFile{Data: []byte(strings.Replace(s, old, new, 1))}
}

func TestSampleRepositoryIsValid(t *testing.T) {
	res, err := Run(t.Context(), sampleRepo(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Report.Valid || len(res.Report.Problems) != 0 {
		t.Fatalf("sample repository has problems: %v", res.Report.Problems)
	}
	if res.Report.Files != 7 || res.Manifests != 6 {
		t.Errorf("files %d manifests %d, want 7 and 6", res.Report.Files, res.Manifests)
	}
}

// brokenRepo has one problem of each repository-level kind.
func brokenRepo(t testing.TB) fstest.MapFS {
	fsys := sampleRepo(t)
	// The same version with another artifact and lineage in test than in prod.
	edit(t, fsys, "environments/test/elasticnet-ndx.yaml", `version: "2026.11.13-2"`, `version: "2026.11.06-1"`)
	// An environment the policy does not declare.
	staging := strings.ReplaceAll(string(fsys["environments/dev/elasticnet-ndx.yaml"].Data), "environment: dev", "environment: staging")
	fsys["environments/staging/elasticnet-ndx.yaml"] = &fstest.MapFile{Data: []byte(staging)}
	// A bad digest, a wrong file extension, and a file that is not YAML.
	edit(t, fsys, "environments/dev/elasticnet-ndx-threshold.yaml", "sha256: ea50", "sha256: EA50")
	fsys["environments/dev/notes.yml"] = &fstest.MapFile{Data: []byte("a: 1\n")}
	fsys["environments/prod/broken.yaml"] = &fstest.MapFile{Data: []byte("model: [unclosed\n")}
	return fsys
}

func TestGolden(t *testing.T) {
	res, err := Run(t.Context(), brokenRepo(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Valid {
		t.Fatal("broken repository reported valid")
	}
	for _, f := range []diag.Format{diag.FormatText, diag.FormatJSON, diag.FormatGitHub} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := diag.Render(&buf, f, res.Report); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "broken."+string(f)+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s output (-want +got):\n%s", f, diff)
			}
		})
	}
}

func TestPolicyProblems(t *testing.T) {
	tests := []struct {
		name string
		mut  func(fstest.MapFS)
		want string
	}{
		{"missing policy", func(f fstest.MapFS) { delete(f, ".github/promobot.yaml") },
			".github/promobot.yaml: policy file not found: every repository needs .github/promobot.yaml"},
		{"broken repository schema", func(f fstest.MapFS) {
			f["schemas/model-deployment.schema.json"] = &fstest.MapFile{Data: []byte(`{"type": 12}`)}
		}, "schemas/model-deployment.schema.json: schema does not compile: "},
		{"missing path", nil, "environments/qa: no such file or folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := sampleRepo(t)
			opts := Options{}
			if tt.mut != nil {
				tt.mut(fsys)
			} else {
				opts.Paths = []string{"environments/qa"}
			}
			res, err := Run(t.Context(), fsys, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Report.Valid || len(res.Report.Problems) == 0 || !strings.HasPrefix(res.Report.Problems[0].String(), tt.want) {
				t.Errorf("problems = %v, want one starting %q", res.Report.Problems, tt.want)
			}
		})
	}
}

func TestOversizedFileIsNotRead(t *testing.T) {
	fsys := sampleRepo(t)
	fsys["environments/dev/huge.yaml"] = &fstest.MapFile{Data: bytes.Repeat([]byte("#"), 2<<20)}
	res, err := Run(t.Context(), fsys, Options{Paths: []string{"environments/dev/huge.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"environments/dev/huge.yaml: file is 2097152 bytes, larger than the limit of 1048576 bytes"}
	var got []string
	for _, p := range res.Report.Problems {
		got = append(got, p.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

// TestVerifySeesEveryValidManifest checks that Verify still receives each
// valid manifest, whole and with positions, although Run keeps no
// documents.
func TestVerifySeesEveryValidManifest(t *testing.T) {
	fsys := sampleRepo(t)
	fsys["environments/prod/broken.yaml"] = &fstest.MapFile{Data: []byte("model: [unclosed\n")}
	var seen []string
	verify := func(_ context.Context, d *manifest.Document, pol *policy.Policy) []diag.Problem {
		if d.Manifest == nil || d.Manifest.Artifact.SHA256 == "" || d.Manifest.Notes == "" || pol == nil {
			t.Errorf("%s: verify got a partial document: %+v", d.Path, d.Manifest)
		}
		seen = append(seen, d.Path)
		return []diag.Problem{d.Problem("checked", "artifact", "sha256")}
	}
	res, err := Run(t.Context(), fsys, Options{Verify: verify})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"environments/dev/elasticnet-ndx-threshold.yaml", "environments/dev/elasticnet-ndx.yaml",
		"environments/prod/elasticnet-ndx-threshold.yaml", "environments/prod/elasticnet-ndx.yaml",
		"environments/test/elasticnet-ndx-threshold.yaml", "environments/test/elasticnet-ndx.yaml",
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("verified (-want +got):\n%s", diff)
	}
	var checked []string
	for _, p := range res.Report.Problems {
		if p.Message == "checked" {
			checked = append(checked, p.String())
		}
	}
	if len(checked) != len(want) || checked[0] != "environments/dev/elasticnet-ndx-threshold.yaml:8:11: checked" {
		t.Errorf("verify problems = %v", checked)
	}
}

// corpus builds a repository of n manifests spread over the sample's
// environments, each a distinct model, taking every sample manifest in
// turn as it is apart from the model's name: the benchmark reads the
// repository's own kind of data, not text chosen to be fast.
func corpus(b testing.TB, n int) fstest.MapFS {
	fsys := sampleRepo(b)
	var templates []string
	for _, p := range slices.Sorted(maps.Keys(fsys)) {
		if strings.HasPrefix(p, "environments/") {
			templates = append(templates, p)
		}
	}
	for i := range n {
		p := templates[i%len(templates)]
		env, file := path.Split(p)
		model := fmt.Sprintf("model-%05d", i)
		s := strings.ReplaceAll(string(fsys[p].Data), strings.TrimSuffix(file, ".yaml"), model)
		fsys[env+model+".yaml"] = &fstest.MapFile{Data: []byte(s)}
	}
	return fsys
}

// benchSizes are the repository sizes the issue sets bars on: 10,000
// manifests validated in under a second on two cores, 50,000 with a peak
// live heap under 150 MiB.
var benchSizes = []int{10_000, 50_000}

// BenchmarkValidate validates generated repositories of manifests on disk,
// as `promobot validate` reads them, and reports the throughput and the
// peak live heap of one run.
func BenchmarkValidate(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%d", n), func(b *testing.B) {
			fsys := os.DirFS(corpusDir(b, n))
			run := func() {
				res, err := Run(b.Context(), fsys, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if !res.Report.Valid || res.Manifests != n+6 {
					b.Fatalf("%d manifests, problems %v", res.Manifests, res.Report.Problems[:min(len(res.Report.Problems), 1)])
				}
			}
			peak := peakLiveHeap(run)
			cpu := processCPU()
			for b.Loop() {
				run()
			}
			cpu = processCPU() - cpu
			b.ReportMetric(float64(n+6)*float64(b.N)/b.Elapsed().Seconds(), "manifests/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-MiB")
			// CPU time says what the run costs when other processes share
			// the machine: on two idle cores the wall time is about half.
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// peakLiveHeap runs fn and returns the largest live heap (runtime/metrics'
// /gc/heap/live:bytes: the bytes the last collection found reachable) seen
// while it ran. The collector runs far more often than usual meanwhile, so
// that the live heap is measured every few percent of growth.
func peakLiveHeap(fn func()) uint64 {
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
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

// corpusDir writes, once and cached under the system temporary directory
// across runs, the sample repository plus n generated manifests.
func corpusDir(b *testing.B, n int) string {
	b.Helper()
	fsys := corpus(b, n)
	h := sha256.New()
	for _, p := range slices.Sorted(maps.Keys(fsys)) {
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(fsys[p].Data))
		h.Write(fsys[p].Data)
	}
	dir := filepath.Join(os.TempDir(), "promobot-validate-bench", fmt.Sprintf("%d-%x", n, h.Sum(nil)[:6]))
	done := filepath.Join(dir, ".written")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	_ = os.RemoveAll(dir)
	for p, f := range fsys {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, f.Data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// TestIrregularEntriesAreProblems writes the sample repository to disk and
// puts symbolic links and submodules where the gate reads files: each is a
// problem, and what a link points to is never validated in its place.
func TestIrregularEntriesAreProblems(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, root string)
		want string
	}{
		{
			name: "a manifest that is a symbolic link to a valid one",
			edit: func(t *testing.T, root string) {
				p := filepath.Join(root, "environments", "prod", "elasticnet-ndx.yaml")
				if err := os.Rename(p, filepath.Join(root, "store.yaml")); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.Join("..", "..", "store.yaml"), p); err != nil {
					t.Fatal(err)
				}
			},
			want: "environments/prod/elasticnet-ndx.yaml: environments/prod/elasticnet-ndx.yaml is a symbolic link",
		},
		{
			name: "the environments folder is a symbolic link",
			edit: func(t *testing.T, root string) {
				if err := os.Rename(filepath.Join(root, "environments"), filepath.Join(root, "live")); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("live", filepath.Join(root, "environments")); err != nil {
					t.Fatal(err)
				}
			},
			want: "environments: environments is a symbolic link",
		},
		{
			name: "the policy is a symbolic link",
			edit: func(t *testing.T, root string) {
				p := filepath.Join(root, ".github", "promobot.yaml")
				if err := os.Rename(p, filepath.Join(root, "policy.yaml")); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.Join("..", "policy.yaml"), p); err != nil {
					t.Fatal(err)
				}
			},
			want: ".github/promobot.yaml: .github/promobot.yaml is a symbolic link",
		},
		{
			name: "a submodule in an environment",
			edit: func(t *testing.T, root string) {
				dir := filepath.Join(root, "environments", "prod", "vendored")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, ".git"), []byte("gitdir: ../../../.git/modules/vendored\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: "environments/prod/vendored: environments/prod/vendored is a submodule or a nested repository",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for p, f := range sampleRepo(t) {
				full := filepath.Join(root, filepath.FromSlash(p))
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tt.edit(t, root)
			res, err := Run(t.Context(), os.DirFS(root), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range res.Report.Problems {
				got = append(got, p.String())
			}
			found := false
			for _, g := range got {
				found = found || strings.HasPrefix(g, tt.want)
			}
			if res.Report.Valid || !found {
				t.Errorf("valid %v, problems:\n%s\nwant one starting with %q", res.Report.Valid, strings.Join(got, "\n"), tt.want)
			}
		})
	}
}
