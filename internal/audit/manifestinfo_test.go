package audit

import (
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/testing/audittest"
	"github.com/example-org/promobot/internal/yamldoc/quickyaml"
)

// loadManifest reads version and digest with repoconfig.LoadManifest, schema and
// all: the reference both readers of the audit are held to.
func loadManifest(data []byte) manifestInfo {
	doc, problems := repoconfig.LoadManifest("", data, nil)
	if doc.Manifest == nil {
		p := problems[0]
		return manifestInfo{problem: fmt.Sprintf("manifest cannot be decoded: %d:%d: %s", p.Line, p.Column, p.Message)}
	}
	return manifestInfo{version: doc.Manifest.Version, sha256: doc.Manifest.Artifact.SHA256}
}

// readCases are documents the audit reads through the shared fast reader
// (fast) or its fallback; the fast reader's own cases are in
// internal/yamldoc/quickyaml.
var readCases = []struct {
	name    string
	in      string
	fast    bool
	version string
	sha256  string
}{
	{name: "generated manifest", in: audittest.Pin{Environment: "prod", Model: "m", Version: "1.2.3", Ticket: "CHG-1", Notes: "Fine."}.YAML(), fast: true, version: "1.2.3", sha256: audittest.ArtifactSHA256("m", "1.2.3")},
	{name: "single quotes and comments", in: "# head\nversion: 'v1' # pinned\nartifact:\n  # digest\n  sha256: abc123\n", fast: true, version: "v1", sha256: "abc123"},
	{name: "literal block scalar", in: "notes: |\n  version: \"x\"\n\n  # not a comment\nversion: \"v\"\n", fast: true, version: "v"},
	{name: "numeric version is not a string", in: "version: 2026.11\n", fast: true},
	{name: "null version", in: "version:\nartifact:\n  sha256: abc\n", fast: true, sha256: "abc"},
	{name: "plain version read by the decoder", in: "version: 1.2.3\n", version: "1.2.3"},
	{name: "block scalar version", in: "version: |\n  v\n", version: "v\n"},
	{name: "flow artifact", in: "version: \"v\"\nartifact: {sha256: abc}\n", version: "v", sha256: "abc"},
	{name: "escape in double quotes", in: "version: \"v\\u0031\"\n", version: "v1"},
	{name: "document marker", in: "---\nversion: \"v\"\n", version: "v"},
	{name: "CRLF", in: "version: \"v\"\r\n", version: "v"},
	{name: "not a mapping", in: "- a\n"},
	{name: "empty", in: "# nothing\n"},
}

func TestReadManifest(t *testing.T) {
	for _, tc := range readCases {
		t.Run(tc.name, func(t *testing.T) {
			info, quick := readManifest([]byte(tc.in), &quickyaml.Scratch{})
			if quick != tc.fast {
				t.Fatalf("fast path = %v, want %v", quick, tc.fast)
			}
			want := loadManifest([]byte(tc.in))
			if info != want {
				t.Errorf("readManifest = %+v, repoconfig.LoadManifest %+v", info, want)
			}
			if want.problem == "" && (info.version != tc.version || info.sha256 != tc.sha256) {
				t.Errorf("readManifest = %q %q, want %q %q", info.version, info.sha256, tc.version, tc.sha256)
			}
		})
	}
}

// TestQuickManifestReadsTheSamples reads every sample manifest of the
// repository through the fast path, with the answers of repoconfig.LoadManifest. (The
// walk tests check that the generated histories' renderings of them stay on
// the fast path too.)
func TestQuickManifestReadsTheSamples(t *testing.T) {
	root, err := audittest.RepositoryRoot()
	if err != nil {
		t.Fatal(err)
	}
	samples, err := filepath.Glob(filepath.Join(root, manifest.Root, "*", "*.yaml"))
	if err != nil || len(samples) == 0 {
		t.Fatalf("no sample manifests: %v", err)
	}
	for _, p := range samples {
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			want := loadManifest(data)
			if want.problem != "" || want.version == "" || want.sha256 == "" {
				t.Fatalf("repoconfig.LoadManifest reads %+v", want)
			}
			got, quick := readManifest(data, &quickyaml.Scratch{})
			if !quick {
				t.Error("the fast path refused the sample")
			}
			if got != want {
				t.Errorf("read %+v, repoconfig.LoadManifest %+v", got, want)
			}
		})
	}
}

// FuzzReadManifest holds both readers of the audit to repoconfig.LoadManifest:
// whenever the fast path accepts a document, the decoder accepts it too and
// reads the same version and digest; the fallback, which skips the schema,
// gives exactly repoconfig.LoadManifest's answer on every input. The shared
// fast reader's own fuzz test (internal/yamldoc/quickyaml) holds it to the
// decoder's values and top-level keys.
func FuzzReadManifest(f *testing.F) {
	for _, tc := range readCases {
		f.Add(tc.in)
	}
	if root, err := audittest.RepositoryRoot(); err == nil {
		samples, _ := filepath.Glob(filepath.Join(root, manifest.Root, "*", "*.yaml"))
		for _, p := range samples {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(string(data))
			}
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		want := loadManifest([]byte(in))
		if got := decodeManifest([]byte(in)); got != want {
			t.Fatalf("fallback read %+v, repoconfig.LoadManifest %+v:\n%q", got, want, in)
		}
		got, quick := readManifest([]byte(in), &quickyaml.Scratch{})
		if !quick {
			return
		}
		if want.problem != "" {
			t.Fatalf("fast path accepted a document repoconfig.LoadManifest refuses (%s):\n%q", want.problem, in)
		}
		if got != want {
			t.Fatalf("fast path read %+v, repoconfig.LoadManifest %+v:\n%q", got, want, in)
		}
	})
}

// BenchmarkReadManifest reads the repository's sample manifests through
// the fast path and through the fallback decoder.
func BenchmarkReadManifest(b *testing.B) {
	root, err := audittest.RepositoryRoot()
	if err != nil {
		b.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(root, manifest.Root, "*", "*.yaml"))
	var docs [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, data)
	}
	b.Run("fast", func(b *testing.B) {
		var scratch quickyaml.Scratch
		for b.Loop() {
			for _, d := range docs {
				if _, quick := readManifest(d, &scratch); !quick {
					b.Fatal("fell back")
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(docs)), "ns/manifest")
	})
	b.Run("decoder", func(b *testing.B) {
		for b.Loop() {
			for _, d := range docs {
				decodeManifest(d)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(docs)), "ns/manifest")
	})
}

// TestSectionSumsAgreeWithSections holds the per-blob section hashes to
// the section texts they stand for, on every pair of documents the fast
// path reads.
func TestSectionSumsAgreeWithSections(t *testing.T) {
	var docs [][]byte
	for _, tc := range readCases {
		if tc.fast {
			docs = append(docs, []byte(tc.in))
		}
	}
	for _, s := range repositorySamples(t) {
		docs = append(docs, []byte(s))
		docs = append(docs, []byte(strings.Replace(s, "status:", "status: failed\n  was:", 1)))
	}
	seed, keys := maphash.MakeSeed(), map[string]string{}
	for _, a := range docs {
		for _, b := range docs {
			_, sa, okA := summarize(a, &quickyaml.Scratch{}, seed, keys)
			_, sb, okB := summarize(b, &quickyaml.Scratch{}, seed, keys)
			if !okA || !okB {
				t.Fatalf("fast path refused:\n%s\n%s", a, b)
			}
			want, err := changedFields(a, b, &[2]quickyaml.Scratch{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, diffSums(sa, sb)); diff != "" {
				t.Errorf("changed fields (-sections +sums):\n%s\n%s\n---\n%s", diff, a, b)
			}
		}
	}
}
