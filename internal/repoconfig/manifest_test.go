package repoconfig

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/manifest"
)

const testPath = "environments/prod/elasticnet-ndx.yaml"

func goodManifest(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestManifestLoadGood(t *testing.T) {
	doc, problems := LoadManifest(testPath, []byte(goodManifest(t)), nil)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	if !doc.Valid {
		t.Fatal("Valid = false")
	}
	size := int64(65536)
	want := &manifest.Manifest{
		APIVersion: manifest.APIVersion, Kind: manifest.Kind, Model: "elasticnet-ndx", Environment: "prod", Version: "2026.11.06-1",
		Artifact: manifest.Artifact{
			URI:       "https://mlartifacts.blob.core.windows.net/models/elasticnet-ndx/2026.11.06-1/model.pkl",
			SHA256:    "4916c32d61687c428d5d47e5755a187211d6b75d4a277b3983a304b7ac1d743a",
			Size:      &size,
			Signature: "MEUCICTHc2cf9pXXRElTUCuM3/Layj5rv402wKwtVopOhs0vAiEAk8hobZLopzuose5VkiED0MzRiv4XeiT2BKt7AM9H750=",
		},
		Lineage: manifest.Lineage{
			TrainingRun: "azureml-run-5e9d14", SourceCommit: "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
			DataWindow: &manifest.DataWindow{Start: "2021-10-25", End: "2026-10-31"}, FeatureSet: "ndx-features-v12", DataVersion: "ohlcv-2026-10-31",
		},
		Metrics:    map[string]float64{"rmse": 0.0124, "mae": 0.0091, "r2": 0.61, "sharpe": 1.33},
		Parameters: map[string]any{"alpha": 0.1, "l1_ratio": 0.5, "max_iter": int64(5000)},
		Validation: manifest.Validation{Status: manifest.ValidationPassed, Report: "https://mlartifacts.blob.core.windows.net/reports/elasticnet-ndx/2026.11.06-1/validation.html", ValidatedAt: "2026-11-09T15:05:44Z"},
		Approval:   manifest.Approval{Ticket: "CHG-4790"},
		Notes:      "Weekly retrain of the Nasdaq-100 next-day return forecaster.",
	}
	if diff := cmp.Diff(want, doc.Manifest); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
	if line, col := doc.Position("artifact", "sha256"); line != 8 || col != 11 {
		t.Errorf("Position(artifact.sha256) = %d:%d, want 8:11", line, col)
	}
}

// TestLoadRejections asserts the exact message and position of every kind of
// rejection the loader makes.
func TestManifestLoadRejections(t *testing.T) {
	good := goodManifest(t)
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("testdata/good.yaml lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct {
		name string
		path string // default testPath
		data string
		want []string
	}{
		{"duplicate key", "", edit("kind: ModelDeployment", "kind: ModelDeployment\nmodel: x"),
			[]string{testPath + ":4:1: duplicate key \"model\" (first defined at line 3)"}},
		{"anchor", "", "a: &x 1\nb: *x\n", []string{testPath + ":1:4: anchor &x is not allowed: write the value out in full"}},
		{"alias without anchor", "", "a: *x\n", []string{testPath + ":1:1: invalid YAML: unknown anchor 'x' referenced"}},
		{"merge key", "", "a: 1\n<<: {b: 2}\n", []string{testPath + ":2:1: merge keys (<<) are not allowed"}},
		{"custom tag", "", "a: !!binary aGVsbG8=\n", []string{testPath + ":1:4: tag !!binary is not allowed"}},
		{"not utf-8", "", "a: b\nc: \xff\n", []string{testPath + ":2:4: file is not valid UTF-8"}},
		{"too large", "", "a: " + strings.Repeat("x", 1<<20) + "\n", []string{testPath + ": file is 1048580 bytes, larger than the limit of 1048576 bytes"}},
		{"too many keys", "", manyKeys(600), []string{testPath + ":1:1: mapping has 600 keys, more than the limit of 512"}},
		{"too deep", "", strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n", []string{testPath + ":1:34: document is nested deeper than 32 levels"}},
		{"two documents", "", "a: 1\n---\nb: 2\n", []string{testPath + ":2:1: file holds more than one YAML document"}},
		{"empty", "", "", []string{testPath + ":1:1: file is empty"}},
		{"syntax", "", "a: b: c\n", []string{testPath + ":1:1: invalid YAML: mapping values are not allowed in this context"}},
		{"not a mapping", "", "- a\n", []string{testPath + ":1:1: manifest must be a YAML mapping"}},
		{"infinite number", "", "a: .inf\n", []string{testPath + ":1:4: number \".inf\" is not a finite decimal number"}},
		{"NaN metric", "", edit("  rmse: 0.0124", "  rmse: .nan"), []string{testPath + ":18:9: number \".nan\" is not a finite decimal number"}},
		{"infinite metric", "", edit("  sharpe: 1.33", "  sharpe: -.Inf"), []string{testPath + ":21:11: number \"-.Inf\" is not a finite decimal number"}},
		{"wrong apiVersion", "", edit("apiVersion: promobot/v1", "apiVersion: promobot/v2"),
			[]string{testPath + ":1:13: apiVersion: value must be \"promobot/v1\""}},
		{"bad digest", "", edit("sha256: 4916", "sha256: 4916Z"),
			[]string{testPath + ":8:11: artifact.sha256 must be 64 lower-case hexadecimal characters"}},
		{"upper-case digest", "", edit("sha256: 4916c32d", "sha256: 4916C32D"),
			[]string{testPath + ":8:11: artifact.sha256 must be 64 lower-case hexadecimal characters"}},
		{"short commit", "", edit("sourceCommit: 1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d", "sourceCommit: 1a2b3c4"),
			[]string{testPath + ":13:17: lineage.sourceCommit must be a full 40-character lower-case hexadecimal commit id"}},
		{"unknown field", "", edit("  size: 65536", "  size: 65536\n  sizee: 1"),
			[]string{testPath + ":10:3: artifact: unknown field \"sizee\""}},
		{"unknown top-level field", "", good + "owner: me\n", []string{testPath + ":33:1: unknown field \"owner\""}},
		{"missing digest", "", edit("  sha256: 4916c32d61687c428d5d47e5755a187211d6b75d4a277b3983a304b7ac1d743a\n", ""),
			[]string{testPath + ":7:3: artifact: missing required field \"sha256\""}},
		{"unquoted version", "", edit(`version: "2026.11.06-1"`, "version: 2026.11"),
			[]string{testPath + ":5:10: version: expected string, but got number (quote the value)"}},
		{"bad date", "", edit("start: 2021-10-25", "start: 2021-13-45"),
			[]string{testPath + ":14:23: lineage.dataWindow.start \"2021-13-45\" is not a date (YYYY-MM-DD)"}},
		{"bad date-time", "", edit(`validatedAt: "2026-11-09T15:05:44Z"`, `validatedAt: "yesterday"`),
			[]string{testPath + ":29:16: validation.validatedAt \"yesterday\" is not an RFC 3339 date-time (e.g. 2026-06-05T14:30:00Z)"}},
		{"bad status", "", edit("status: passed", "status: ok"),
			[]string{testPath + ":27:11: validation.status: value must be one of \"pending\", \"passed\", \"failed\""}},
		{"relative uri", "", edit("uri: https://mlartifacts.blob.core.windows.net/", "uri: models/"),
			[]string{testPath + ":7:8: artifact.uri \"models/models/elasticnet-ndx/2026.11.06-1/model.pkl\" is not an absolute URI"}},
		{"metric not a number", "", edit("rmse: 0.0124", "rmse: high"),
			[]string{testPath + ":18:9: metrics.rmse: expected number, but got string"}},
		{"negative size", "", edit("size: 65536", "size: -1"),
			[]string{testPath + ":9:9: artifact.size: must be >= 0 but found -1"}},
		{"model differs from file name", "", edit("model: elasticnet-ndx", "model: other"),
			[]string{testPath + ":3:8: model \"other\" does not match the file name \"elasticnet-ndx.yaml\""}},
		{"environment differs from folder", "", edit("environment: prod", "environment: test"),
			[]string{testPath + ":4:14: environment \"test\" does not match the folder \"prod\""}},
		{"not under environments", "models/prod/elasticnet-ndx.yaml", good,
			[]string{"models/prod/elasticnet-ndx.yaml: a manifest must live at environments/<environment>/<model>.yaml"}},
		{"several problems at once", "", edit("status: passed", "status: ok\n  colour: red"), []string{
			testPath + ":27:11: validation.status: value must be one of \"pending\", \"passed\", \"failed\"",
			testPath + ":28:3: validation: unknown field \"colour\"",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path
			if p == "" {
				p = testPath
			}
			doc, problems := LoadManifest(p, []byte(tt.data), nil)
			var got []string
			for _, pr := range problems {
				got = append(got, pr.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if doc.Valid {
				t.Error("Valid = true for a rejected file")
			}
		})
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("k")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)))
		b.WriteString(": 1\n")
	}
	return b.String()
}

func TestManifestImmutableDifferences(t *testing.T) {
	a, _ := LoadManifest(testPath, []byte(goodManifest(t)), nil)
	b, _ := LoadManifest(testPath, []byte(strings.Replace(goodManifest(t), "rmse: 0.0124", "rmse: 0.0125", 1)), nil)
	if got := manifest.ImmutableDifferences(a.Manifest, a.Manifest); len(got) != 0 {
		t.Errorf("same manifest differs in %v", got)
	}
	if diff := cmp.Diff([]string{"metrics"}, manifest.ImmutableDifferences(a.Manifest, b.Manifest)); diff != "" {
		t.Error(diff)
	}
}

// FuzzLoad checks that no input makes the loader panic or accept a document
// that does not round-trip through its own checks.
func FuzzLoadManifest(f *testing.F) {
	f.Add([]byte(goodManifest(f)))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("a: b: c"))
	f.Add([]byte("{a: 1, a: 2}"))
	f.Add([]byte("- !!binary aGVsbG8=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, problems := LoadManifest(testPath, data, nil)
		if doc == nil {
			t.Fatal("nil document")
		}
		if doc.Valid != (len(problems) == 0) {
			t.Fatalf("Valid = %v with %d problems", doc.Valid, len(problems))
		}
		if doc.Valid && (doc.Manifest.Model != "elasticnet-ndx" || doc.Manifest.Environment != "prod") {
			t.Fatalf("valid manifest with wrong path fields: %+v", doc.Manifest)
		}
		for _, p := range problems {
			if p.Message == "" || p.File != testPath {
				t.Fatalf("malformed problem %+v", p)
			}
		}
	})
}
