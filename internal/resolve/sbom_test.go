package resolve

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/artifact"
)

// spdxSBOM is a small SPDX 2.3 JSON document.
const spdxSBOM = `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"withsbom",` +
	`"documentNamespace":"https://example.org/withsbom","creationInfo":{"created":"2026-11-02T09:00:00Z","creators":["Tool: test"]}}`

// addEvidence adds to the fixture the models whose SBOM or validation
// report the resolve tests judge: withsbom (a good SPDX SBOM), badsbom (a
// CycloneDX 1.4 SBOM), farsbom (an SBOM outside the allowed locations) and
// farreport (a validation report outside them).
func addEvidence(t *testing.T, f *fixture, files map[string]string, add func(env, model, version, status, extra string, data []byte)) {
	t.Helper()
	upload := func(name string, data []byte) (uri, digest string) {
		if _, err := f.blobs.UploadBuffer(t.Context(), "models", name, data, nil); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		return f.az.BlobURL("models", name), hex.EncodeToString(sum[:])
	}
	sbomBlock := func(uri, digest string) string {
		return "  dataVersion: d1\nsbom:\n  uri: " + uri + "\n  sha256: " + digest + "\n"
	}
	uri, digest := upload("withsbom/1.0.0/sbom.spdx.json", []byte(spdxSBOM))
	add("prod", "withsbom", "1.0.0", "passed", sbomBlock(uri, digest), []byte("withsbom weights"))
	uri, digest = upload("badsbom/1.0.0/sbom.cdx.json", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.4"}`))
	add("prod", "badsbom", "1.0.0", "passed", sbomBlock(uri, digest), []byte("badsbom weights"))
	add("prod", "farsbom", "1.0.0", "passed", sbomBlock("https://sboms.example.org/farsbom.json", digest), []byte("farsbom weights"))
	add("prod", "farreport", "1.0.0", "passed\n  report: https://reports.example.org/farreport.html", "  dataVersion: d1\n", []byte("farreport weights"))
}

// TestResolveEvidencePinRules: resolve applies the pin-level evidence and
// sbom rules, so a report or SBOM outside the allowed locations refuses.
func TestResolveEvidencePinRules(t *testing.T) {
	f := newFixture(t)
	off := false
	for _, tt := range []struct{ model, want string }{
		{"farsbom", `sbom.uri: artifact URI "https://sboms.example.org/farsbom.json" is refused`},
		{"farreport", `validation.report: artifact URI "https://reports.example.org/farreport.html" is refused`},
	} {
		t.Run(tt.model, func(t *testing.T) {
			_, err := f.resolve(t, "prod", tt.model, &off, "")
			var refused *RefusedError
			if !errors.As(err, &refused) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a refusal containing %q", err, tt.want)
			}
		})
	}
	if _, err := f.resolve(t, "prod", "withsbom", &off, ""); err != nil {
		t.Errorf("an SBOM under an allowed location: %v", err)
	}
}

// TestDownloadSBOM: --sbom writes the verified SBOM beside the model; an
// SBOM that is not SPDX 2.3 or CycloneDX 1.5+, or a manifest without one,
// refuses and leaves neither file behind.
func TestDownloadSBOM(t *testing.T) {
	f := newFixture(t)
	download := func(model, dir string) (*Resolution, error) {
		h, err := f.repo.Resolve("main")
		if err != nil {
			t.Fatal(err)
		}
		return Resolve(t.Context(), f.repo, Request{Environment: "prod", Model: model, Commit: h},
			Deps{Stores: func() (artifact.Resolver, error) { return f.stores, nil }, Download: filepath.Join(dir, "model.pkl"), SBOM: filepath.Join(dir, "sbom.json")})
	}
	dir := t.TempDir()
	res, err := download("withsbom", dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "sbom.json"))
	if err != nil || string(data) != spdxSBOM || res.SBOMPath != filepath.Join(dir, "sbom.json") {
		t.Fatalf("SBOM %q, %v, path %q", data, err, res.SBOMPath)
	}
	for _, tt := range []struct{ model, want string }{
		{"badsbom", "CycloneDX specVersion 1.4 is older than 1.5"},
		{"forecaster", "--sbom was given but the manifest names no SBOM"},
	} {
		t.Run(tt.model, func(t *testing.T) {
			dir := t.TempDir()
			_, err := download(tt.model, dir)
			var refused *RefusedError
			if !errors.As(err, &refused) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a refusal containing %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files left behind: %v", entries)
			}
		})
	}
}
