package audit

import (
	"maps"
	"slices"
	"testing"

	"github.com/example-org/promobot/internal/audit/audittest"
)

// slowManifest reads version and digest with the full decoder only.
func slowManifest(data []byte) (version, sha256 string, ok bool) {
	info := decodeManifest(data)
	return info.version, info.sha256, info.problem == ""
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
	{name: "dotted key is not a path", in: "artifact.sha256: abc\nversion: \"v\"\n", fast: true, version: "v", sha256: "", sections: []string{"artifact.sha256", "version"}},
	{name: "duplicate key", in: "version: \"a\"\nversion: \"b\"\n", fast: false},
	{name: "block scalar", in: "notes: |\n  version: \"x\"\nversion: \"v\"\n", fast: false, version: "v"},
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
		})
	}
}

// FuzzQuickManifest holds the fast path to the safe decoder: whenever the
// fast path accepts a document, the decoder must accept it too and read the
// same version and digest.
func FuzzQuickManifest(f *testing.F) {
	for _, tc := range quickCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, s, _, ok := quickManifest([]byte(in))
		if !ok {
			return
		}
		sv, ss, sok := slowManifest([]byte(in))
		if !sok {
			t.Fatalf("fast path accepted a document the decoder refuses:\n%s", in)
		}
		if v != sv || s != ss {
			t.Fatalf("fast path read %q %q, decoder %q %q:\n%s", v, s, sv, ss, in)
		}
	})
}
