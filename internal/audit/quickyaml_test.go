package audit

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/testing/audittest"
	"github.com/example-org/promobot/internal/yamldoc"
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

var quickCases = []struct {
	name     string
	in       string
	fast     bool
	version  string
	sha256   string
	sections []string
}{
	{name: "generated manifest", in: audittest.Pin{Environment: "prod", Model: "m", Version: "1.2.3", Ticket: "CHG-1", Notes: "Fine."}.YAML(), fast: true, version: "1.2.3", sha256: audittest.ArtifactSHA256("m", "1.2.3"),
		sections: []string{"apiVersion", "approval", "artifact", "environment", "kind", "lineage", "metrics", "model", "notes", "parameters", "validation", "version"}},
	{name: "single quotes and comments", in: "# head\nversion: 'v1' # pinned\nartifact:\n  # digest\n  sha256: abc123\n", fast: true, version: "v1", sha256: "abc123", sections: []string{"artifact", "version"}},
	{name: "compact sequence", in: "version: \"v\"\nlist:\n- a\n- b\nartifact:\n  sha256: f00\n", fast: true, version: "v", sha256: "f00", sections: []string{"artifact", "list", "version"}},
	{name: "plain version read by the decoder", in: "version: 1.2.3\n", fast: false, version: "1.2.3"},
	{name: "numeric version is not a string", in: "version: 2026.11\n", fast: true, version: "", sections: []string{"version"}},
	{name: "boolean version is not a string", in: "version: true\n", fast: true, version: "", sections: []string{"version"}},
	{name: "hex prefix", in: "version: 0x1F\n", fast: false},
	{name: "binary prefix", in: "version: 0b101\n", fast: false},
	{name: "digests that start like a base prefix", in: "version: 0b96a7\nartifact:\n  sha256: 0x9fg\nother: 0o12a\n", fast: true, version: "0b96a7", sha256: "0x9fg", sections: []string{"artifact", "other", "version"}},
	{name: "underscores in a number", in: "version: 0_x1F\n", fast: false},
	{name: "exponent number", in: "version: \"v\"\ntol: 1e-05\nbig: -2.5E+99\n", fast: true, version: "v", sections: []string{"big", "tol", "version"}},
	{name: "dotted key is not a path", in: "artifact.sha256: abc\nversion: \"v\"\n", fast: true, version: "v", sha256: "", sections: []string{"artifact.sha256", "version"}},
	{name: "duplicate key", in: "version: \"a\"\nversion: \"b\"\n", fast: false},
	{name: "literal block scalar", in: "notes: |\n  version: \"x\"\n\n  # not a comment\nversion: \"v\"\n", fast: true, version: "v", sections: []string{"notes", "version"}},
	{name: "folded block scalar, stripped, nested", in: "artifact:\n  note: >- # why\n     a: b\n\n  sha256: f00\n", fast: true, sha256: "f00", sections: []string{"artifact"}},
	{name: "empty block scalar", in: "notes: |\nversion: \"v\"\n", fast: true, version: "v", sections: []string{"notes", "version"}},
	{name: "block scalar at the end", in: "version: \"v\"\nnotes: >\n  last\n\n", fast: true, version: "v", sections: []string{"notes", "version"}},
	{name: "block scalar version", in: "version: |\n  v\n", fast: false, version: "v\n"},
	{name: "block scalar keeping trailing lines", in: "notes: |+\n  a\n\nversion: \"v\"\n", fast: false, version: "v"},
	{name: "block scalar with an indentation indicator", in: "notes: |2\n   a\nversion: \"v\"\n", fast: false, version: "v"},
	{name: "block scalar after a line of spaces", in: "notes: |\n    \n  a\nversion: \"v\"\n", fast: false},
	{name: "block scalar less indented than its first line", in: "notes: |\n    a\n  b\nversion: \"v\"\n", fast: false},
	{name: "semicolons and punctuation in notes", in: "version: \"v\"\nnotes: Calibrator; moves with it (see \"x\"), 100% & more! [a] {b} *c* ~d `e` 'f' a#b?\n", fast: true, version: "v", sections: []string{"notes", "version"}},
	{name: "UTF-8 notes", in: "version: \"v\"\nnotes: Réentraînement hebdomadaire — ÷ 日本 🙂\nkind: 'café'\n", fast: true, version: "v", sections: []string{"kind", "notes", "version"}},
	{name: "UTF-8 line separator", in: "version: \"v\"\nnotes: a\u2028b\n", fast: false},
	{name: "byte-order mark inside", in: "version: \"v\"\nnotes: a\ufeffb\n", fast: false},
	{name: "invalid UTF-8", in: "version: \"v\"\nnotes: a\xffb\n", fast: false},
	{name: "comment after a space in notes", in: "version: \"v\"\nnotes: a #b\n", fast: true, version: "v", sections: []string{"notes", "version"}},
	{name: "colon and space in notes", in: "version: \"v\"\nnotes: a: b\n", fast: false},
	{name: "quote doubled in single quotes", in: "version: 'it''s'\nnotes: 'a''b' # c\n", fast: true, version: "it's", sections: []string{"notes", "version"}},
	{name: "unclosed single quotes", in: "version: 'it''\n", fast: false},
	{name: "multi-line quoted string", in: "notes: \"a\nversion: b\"\nversion: \"v\"\n", fast: false},
	{name: "anchor", in: "version: &a \"v\"\n", fast: false},
	{name: "flow artifact", in: "version: \"v\"\nartifact: {sha256: abc}\n", fast: false, version: "v", sha256: "abc"},
	{name: "escape in double quotes", in: "version: \"v\\u0031\"\n", fast: false, version: "v1"},
	{name: "tab", in: "version:\t\"v\"\n", fast: false},
	{name: "document marker", in: "---\nversion: \"v\"\n", fast: false, version: "v"},
	{name: "infinite number", in: "version: \"v\"\nx: .inf\n", fast: false},
	{name: "exponent", in: "version: \"v\"\nx: 1e999\n", fast: false},
	{name: "continuation line", in: "notes: a\n  b\nversion: \"v\"\n", fast: false, version: "v"},
	{name: "not a mapping", in: "- a\n", fast: false},
	{name: "empty", in: "# nothing\n", fast: false},
	{name: "nested mapping under a value", in: "version: \"v\"\n  x: y\n", fast: false},
	{name: "null version", in: "version:\nartifact:\n  sha256: abc\n", fast: true, sha256: "abc", sections: []string{"artifact", "version"}},
	{name: "CRLF", in: "version: \"v\"\r\n", fast: false, version: "v"},
}

func TestQuickManifest(t *testing.T) {
	for _, tc := range quickCases {
		t.Run(tc.name, func(t *testing.T) {
			v, s, sections, ok := quickManifest([]byte(tc.in))
			if ok != tc.fast {
				t.Fatalf("fast path = %v, want %v", ok, tc.fast)
			}
			info, _ := readManifest([]byte(tc.in), &quickScratch{})
			if tc.version != "" || tc.sha256 != "" || ok {
				if info.version != tc.version || info.sha256 != tc.sha256 {
					t.Errorf("readManifest = %q %q, want %q %q", info.version, info.sha256, tc.version, tc.sha256)
				}
			}
			if !ok {
				return
			}
			if v != tc.version || s != tc.sha256 {
				t.Errorf("quickManifest = %q %q, want %q %q", v, s, tc.version, tc.sha256)
			}
			if got, want := slices.Sorted(maps.Keys(sections)), tc.sections; !slices.Equal(got, want) {
				t.Errorf("sections = %v, want %v", got, want)
			}
			if want := loadManifest([]byte(tc.in)); info != want {
				t.Errorf("fast path read %+v, repoconfig.LoadManifest %+v", info, want)
			}
			checkSections(t, []byte(tc.in))
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
			got, quick := readManifest(data, &quickScratch{})
			if !quick {
				t.Error("the fast path refused the sample")
			}
			if got != want {
				t.Errorf("read %+v, repoconfig.LoadManifest %+v", got, want)
			}
			checkSections(t, data)
		})
	}
}

// checkSections holds the sections of an accepted document to the decoder's
// top-level keys.
func checkSections(t *testing.T, data []byte) {
	t.Helper()
	_, _, sections, ok := quickManifest(data)
	if !ok {
		return
	}
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		t.Fatalf("fast path accepted a document the decoder refuses: %v\n%s", err, data)
	}
	root, _ := doc.Value.(map[string]any)
	if diff := cmp.Diff(slices.Sorted(maps.Keys(root)), slices.Sorted(maps.Keys(sections))); diff != "" {
		t.Fatalf("sections differ from the decoder's keys (-decoder +fast):\n%s\n%s", diff, data)
	}
}

// FuzzQuickManifest holds both readers of the audit to repoconfig.LoadManifest:
// whenever the fast path accepts a document, the decoder accepts it too and
// reads the same version, digest and top-level keys; the fallback, which
// skips the schema, gives exactly repoconfig.LoadManifest's answer on every input.
func FuzzQuickManifest(f *testing.F) {
	for _, tc := range quickCases {
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
		got, quick := readManifest([]byte(in), &quickScratch{})
		if !quick {
			return
		}
		if want.problem != "" {
			t.Fatalf("fast path accepted a document repoconfig.LoadManifest refuses (%s):\n%q", want.problem, in)
		}
		if got != want {
			t.Fatalf("fast path read %+v, repoconfig.LoadManifest %+v:\n%q", got, want, in)
		}
		checkSections(t, []byte(in))
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
		var scratch quickScratch
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

// TestQuickTextChecksEveryByte holds the eight-bytes-at-a-time check of
// quickText to a byte-by-byte reading: every byte value at every offset of
// a word, and every pair of adjacent values straddling words.
func TestQuickTextChecksEveryByte(t *testing.T) {
	plain := func(c byte) bool { return c == '\n' || c >= 0x20 && c < 0x7f }
	for c := range 256 {
		for at := range 17 {
			buf := bytes.Repeat([]byte("a"), 17)
			buf[at] = byte(c)
			if got, want := quickText(buf), plain(byte(c)); got != want {
				t.Fatalf("byte %#x at %d: quickText = %v, want %v", c, at, got, want)
			}
		}
	}
	for c := range 128 {
		for d := range 128 {
			buf := []byte("aaaaaaa??aaaaaaa")
			buf[7], buf[8] = byte(c), byte(d)
			if got, want := quickText(buf), plain(byte(c)) && plain(byte(d)); got != want {
				t.Fatalf("bytes %#x %#x: quickText = %v, want %v", c, d, got, want)
			}
		}
	}
}

// TestSectionSumsAgreeWithSections holds the per-blob section hashes to
// the section texts they stand for, on every pair of documents the fast
// path reads.
func TestSectionSumsAgreeWithSections(t *testing.T) {
	var docs [][]byte
	for _, tc := range quickCases {
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
			_, sa, okA := summarize(a, &quickScratch{}, seed, keys)
			_, sb, okB := summarize(b, &quickScratch{}, seed, keys)
			if !okA || !okB {
				t.Fatalf("fast path refused:\n%s\n%s", a, b)
			}
			want, err := changedFields(a, b, &[2]quickScratch{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, diffSums(sa, sb)); diff != "" {
				t.Errorf("changed fields (-sections +sums):\n%s\n%s\n---\n%s", diff, a, b)
			}
		}
	}
}
