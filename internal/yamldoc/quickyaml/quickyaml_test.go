package quickyaml

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/testing/audittest"
	"github.com/example-org/promobot/internal/yamldoc"
)

// cases are documents with what the reader makes of them: fast is whether
// Manifest reads it, values whether Decode does too (it leaves block
// scalars to the decoder).
var cases = []struct {
	name     string
	in       string
	fast     bool
	values   bool
	version  string
	sha256   string
	sections []string
}{
	{name: "generated manifest", in: audittest.Pin{Environment: "prod", Model: "m", Version: "1.2.3", Ticket: "CHG-1", Notes: "Fine."}.YAML(), fast: true, values: true, version: "1.2.3", sha256: audittest.ArtifactSHA256("m", "1.2.3"),
		sections: []string{"apiVersion", "approval", "artifact", "environment", "kind", "lineage", "metrics", "model", "notes", "parameters", "validation", "version"}},
	{name: "single quotes and comments", in: "# head\nversion: 'v1' # pinned\nartifact:\n  # digest\n  sha256: abc123\n", fast: true, values: true, version: "v1", sha256: "abc123", sections: []string{"artifact", "version"}},
	{name: "compact sequence", in: "version: \"v\"\nlist:\n- a\n- b\nartifact:\n  sha256: f00\n", fast: true, values: true, version: "v", sha256: "f00", sections: []string{"artifact", "list", "version"}},
	{name: "indented sequence of mixed scalars and flows", in: "list:\n  - a\n  - 1\n  - 2.5\n  - true\n  - null\n  - [x, 2]\n  - {k: v}\nafter: 1\n", fast: true, values: true, sections: []string{"after", "list"}},
	{name: "nested mappings and nulls", in: "a:\n  b:\n    c: 1\n  d:\n  e: x~\nf:\n", fast: true, values: true, sections: []string{"a", "f"}},
	{name: "empty flow collections", in: "a: []\nb: {}\nc: {start: 2021-10-25, end: 2026-10-31}\n", fast: true, values: true, sections: []string{"a", "b", "c"}},
	{name: "numbers", in: "a: 0123\nb: 09\nc: -0\nd: 1.50\ne: 12345678901234\nf: -7e3\n", fast: true, values: true, sections: []string{"a", "b", "c", "d", "e", "f"}},
	{name: "booleans and nulls", in: "a: True\nb: FALSE\nc: Null\nd: null # none\n", fast: true, values: true, sections: []string{"a", "b", "c", "d"}},
	{name: "plain version read by the decoder", in: "version: 1.2.3\n", fast: false, version: "1.2.3"},
	{name: "numeric version is not a string", in: "version: 2026.11\n", fast: true, values: true, version: "", sections: []string{"version"}},
	{name: "boolean version is not a string", in: "version: true\n", fast: true, values: true, version: "", sections: []string{"version"}},
	{name: "hex prefix", in: "version: 0x1F\n", fast: false},
	{name: "binary prefix", in: "version: 0b101\n", fast: false},
	{name: "digests that start like a base prefix", in: "version: 0b96a7\nartifact:\n  sha256: 0x9fg\nother: 0o12a\n", fast: true, values: true, version: "0b96a7", sha256: "0x9fg", sections: []string{"artifact", "other", "version"}},
	{name: "underscores in a number", in: "version: 0_x1F\n", fast: false},
	{name: "exponent number", in: "version: \"v\"\ntol: 1e-05\nbig: -2.5E+99\n", fast: true, values: true, version: "v", sections: []string{"big", "tol", "version"}},
	{name: "dotted key is not a path", in: "artifact.sha256: abc\nversion: \"v\"\n", fast: true, values: true, version: "v", sha256: "", sections: []string{"artifact.sha256", "version"}},
	{name: "duplicate key", in: "version: \"a\"\nversion: \"b\"\n", fast: false},
	{name: "duplicate nested key", in: "a:\n  b: 1\n  b: 2\n", fast: false},
	{name: "literal block scalar", in: "notes: |\n  version: \"x\"\n\n  # not a comment\nversion: \"v\"\n", fast: true, version: "v", sections: []string{"notes", "version"}},
	{name: "folded block scalar, stripped, nested", in: "artifact:\n  note: >- # why\n     a: b\n\n  sha256: f00\n", fast: true, sha256: "f00", sections: []string{"artifact"}},
	{name: "empty block scalar", in: "notes: |\nversion: \"v\"\n", fast: true, version: "v", sections: []string{"notes", "version"}},
	{name: "block scalar at the end", in: "version: \"v\"\nnotes: >\n  last\n\n", fast: true, version: "v", sections: []string{"notes", "version"}},
	{name: "block scalar version", in: "version: |\n  v\n", fast: false, version: "v\n"},
	{name: "block scalar keeping trailing lines", in: "notes: |+\n  a\n\nversion: \"v\"\n", fast: false, version: "v"},
	{name: "block scalar with an indentation indicator", in: "notes: |2\n   a\nversion: \"v\"\n", fast: false, version: "v"},
	{name: "block scalar after a line of spaces", in: "notes: |\n    \n  a\nversion: \"v\"\n", fast: false},
	{name: "block scalar less indented than its first line", in: "notes: |\n    a\n  b\nversion: \"v\"\n", fast: false},
	{name: "semicolons and punctuation in notes", in: "version: \"v\"\nnotes: Calibrator; moves with it (see \"x\"), 100% & more! [a] {b} *c* ~d `e` 'f' a#b?\n", fast: true, values: true, version: "v", sections: []string{"notes", "version"}},
	{name: "UTF-8 notes", in: "version: \"v\"\nnotes: Réentraînement hebdomadaire — ÷ 日本 🙂\nkind: 'café'\n", fast: true, values: true, version: "v", sections: []string{"kind", "notes", "version"}},
	{name: "UTF-8 line separator", in: "version: \"v\"\nnotes: a\u2028b\n", fast: false},
	{name: "byte-order mark inside", in: "version: \"v\"\nnotes: a\ufeffb\n", fast: false},
	{name: "invalid UTF-8", in: "version: \"v\"\nnotes: a\xffb\n", fast: false},
	{name: "comment after a space in notes", in: "version: \"v\"\nnotes: a #b\n", fast: true, values: true, version: "v", sections: []string{"notes", "version"}},
	{name: "colon and space in notes", in: "version: \"v\"\nnotes: a: b\n", fast: false},
	{name: "quote doubled in single quotes", in: "version: 'it''s'\nnotes: 'a''b' # c\n", fast: true, values: true, version: "it's", sections: []string{"notes", "version"}},
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
	{name: "null version", in: "version:\nartifact:\n  sha256: abc\n", fast: true, values: true, sha256: "abc", sections: []string{"artifact", "version"}},
	{name: "CRLF", in: "version: \"v\"\r\n", fast: false, version: "v"},
}

// decoded reads version and digest with yamldoc, the decoder both readers
// are held to.
func decoded(t testing.TB, data []byte) (version, sha256 string, root map[string]any) {
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		return "", "", nil
	}
	root, _ = doc.Value.(map[string]any)
	version, _ = root["version"].(string)
	if a, ok := root["artifact"].(map[string]any); ok {
		sha256, _ = a["sha256"].(string)
	}
	return version, sha256, root
}

func TestReaders(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, s, sections, ok := Manifest([]byte(tc.in), true, &Scratch{})
			if ok != tc.fast {
				t.Fatalf("Manifest ok = %v, want %v", ok, tc.fast)
			}
			if _, ok := Decode([]byte(tc.in), &Scratch{}); ok != tc.values {
				t.Fatalf("Decode ok = %v, want %v", ok, tc.values)
			}
			if wv, ws, _ := decoded(t, []byte(tc.in)); (tc.version != "" || tc.sha256 != "" || ok) && (wv != tc.version || ws != tc.sha256) {
				t.Errorf("the decoder reads %q %q, the case says %q %q", wv, ws, tc.version, tc.sha256)
			}
			if !ok {
				return
			}
			if v != tc.version || s != tc.sha256 {
				t.Errorf("Manifest = %q %q, want %q %q", v, s, tc.version, tc.sha256)
			}
			var keys []string
			for _, sec := range sections {
				keys = append(keys, string(sec.Key))
			}
			if got, want := slices.Sorted(slices.Values(keys)), tc.sections; !slices.Equal(got, want) {
				t.Errorf("sections = %v, want %v", got, want)
			}
			holdToDecoder(t, []byte(tc.in), &Scratch{})
		})
	}
}

// samples returns the repository's sample manifests.
func samples(t testing.TB) map[string][]byte {
	root, err := audittest.RepositoryRoot()
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(root, manifest.Root, "*", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no sample manifests: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p)] = data
	}
	return out
}

// TestReadersReadTheSamples reads every sample manifest of the repository
// through both readers, with the decoder's answers.
func TestReadersReadTheSamples(t *testing.T) {
	for name, data := range samples(t) {
		t.Run(name, func(t *testing.T) {
			if _, _, _, ok := Manifest(data, true, &Scratch{}); !ok {
				t.Error("Manifest refused the sample")
			}
			if _, ok := Decode(data, &Scratch{}); !ok {
				t.Error("Decode refused the sample")
			}
			holdToDecoder(t, data, &Scratch{})
		})
	}
}

// holdToDecoder fails when a reader accepts data and reads anything other
// than yamldoc does: the version, the digest, the top-level keys of the
// sections, and every value.
func holdToDecoder(t *testing.T, data []byte, scratch *Scratch) {
	t.Helper()
	wantVersion, wantSHA, root := decoded(t, data)
	if v, s, sections, ok := Manifest(data, true, scratch); ok {
		if root == nil {
			t.Fatalf("Manifest accepted a document the decoder refuses or does not read as a mapping:\n%q", data)
		}
		if v != wantVersion || s != wantSHA {
			t.Fatalf("Manifest read %q %q, the decoder %q %q:\n%q", v, s, wantVersion, wantSHA, data)
		}
		var keys []string
		for _, sec := range sections {
			keys = append(keys, string(sec.Key))
		}
		if diff := cmp.Diff(slices.Sorted(maps.Keys(root)), slices.Sorted(slices.Values(keys))); diff != "" {
			t.Fatalf("sections differ from the decoder's keys (-decoder +fast):\n%s\n%q", diff, data)
		}
	}
	if got, ok := Decode(data, scratch); ok {
		if root == nil {
			t.Fatalf("Decode accepted a document the decoder refuses or does not read as a mapping:\n%q", data)
		}
		if diff := cmp.Diff(root, got); diff != "" {
			t.Fatalf("Decode differs from the decoder (-decoder +fast):\n%s\n%q", diff, data)
		}
	}
}

// FuzzQuickManifest holds both readers to yamldoc: whenever one accepts a
// document, the decoder accepts it too and reads the same version, digest,
// top-level keys and values. One scratch serves every input, as in the
// audit's and validate's loops.
func FuzzQuickManifest(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.in)
	}
	for _, data := range samples(f) {
		f.Add(string(data))
	}
	var scratch Scratch
	f.Fuzz(func(t *testing.T, in string) {
		holdToDecoder(t, []byte(in), &scratch)
	})
}

// TestPrintableTextChecksEveryByte holds the eight-bytes-at-a-time check
// of printableText to a byte-by-byte reading: every byte value at every
// offset of a word, and every pair of adjacent values straddling words.
func TestPrintableTextChecksEveryByte(t *testing.T) {
	plain := func(c byte) bool { return c == '\n' || c >= 0x20 && c < 0x7f }
	for c := range 256 {
		for at := range 17 {
			buf := bytes.Repeat([]byte("a"), 17)
			buf[at] = byte(c)
			if got, want := printableText(buf), plain(byte(c)); got != want {
				t.Fatalf("byte %#x at %d: printableText = %v, want %v", c, at, got, want)
			}
		}
	}
	for c := range 128 {
		for d := range 128 {
			buf := []byte("aaaaaaa??aaaaaaa")
			buf[7], buf[8] = byte(c), byte(d)
			if got, want := printableText(buf), plain(byte(c)) && plain(byte(d)); got != want {
				t.Fatalf("bytes %#x %#x: printableText = %v, want %v", c, d, got, want)
			}
		}
	}
}

// BenchmarkDecode reads the sample manifests into plain values through
// Decode and through yamldoc.
func BenchmarkDecode(b *testing.B) {
	var docs [][]byte
	for _, d := range samples(b) {
		docs = append(docs, d)
	}
	b.Run("fast", func(b *testing.B) {
		var scratch Scratch
		for b.Loop() {
			for _, d := range docs {
				if _, ok := Decode(d, &scratch); !ok {
					b.Fatal("fell back")
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(docs)), "ns/manifest")
	})
	b.Run("decoder", func(b *testing.B) {
		for b.Loop() {
			for _, d := range docs {
				if _, err := yamldoc.Parse(d, yamldoc.DefaultLimits); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(docs)), "ns/manifest")
	})
}
