package artifactcheck

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/testing/azuritetest"
)

func hexDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestVerifyEvidenceAzurite reads validation reports, SBOMs and rollback
// targets from a real Azurite and records what the engine's evidence, sbom
// and rollbackReady families judge.
func TestVerifyEvidenceAzurite(t *testing.T) {
	az := azuritetest.Start(t)
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	const container = "models"
	if _, err := client.CreateContainer(t.Context(), container, nil); err != nil {
		t.Fatal(err)
	}
	spdx, err := os.ReadFile("../sbom/testdata/calibrator.spdx.json")
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[string][]byte{
		"m/2/report.html":   []byte("<p>validated</p>"),
		"m/2/sbom.json":     spdx,
		"m/2/old-cdx.json":  []byte(`{"bomFormat":"CycloneDX","specVersion":"1.4"}`),
		"m/1/model.pkl":     []byte("incumbent bytes"),
		"m/2/model.pkl":     []byte("candidate bytes"),
		"m/2/tampered.html": []byte("tampered"),
	}
	for name, data := range blobs {
		if _, err := client.UploadBuffer(t.Context(), container, name, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	url := func(name string) string { return az.BlobURL(container, name) }
	store, err := artifact.NewBlobStore(artifact.Credentials{ConnectionString: az.ConnectionString}, &artifact.BlobStoreOptions{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	stores := func() (artifact.Resolver, error) { return Stores(store), nil }
	pol := &policy.Policy{
		Environments: []policy.Environment{{Name: "dev"}, {Name: "prod", From: "dev", VerifyArtifacts: true, RequireRollbackReady: true}},
		Artifacts:    policy.Artifacts{AllowedLocations: []string{az.Endpoint + "/" + container + "/"}, AllowLocal: true},
	}
	const p = "environments/prod/m.yaml"
	manifestOf := func(version, model string, edit func(*manifest.Manifest)) *manifest.Document {
		m := &manifest.Manifest{Model: "m", Environment: "prod", Version: version,
			Artifact: manifest.Artifact{URI: url(model), SHA256: hexDigest(blobs[model])}}
		if edit != nil {
			edit(m)
		}
		return &manifest.Document{Path: p, Valid: true, Manifest: m}
	}
	tests := []struct {
		name                           string
		head                           func(*manifest.Manifest)
		base                           *manifest.Document
		wantReport, wantSBOM, wantPrev string
	}{
		{
			name: "every reading verifies",
			head: func(m *manifest.Manifest) {
				m.Validation = manifest.Validation{Report: url("m/2/report.html"), ReportSHA256: hexDigest(blobs["m/2/report.html"])}
				m.SBOM = &manifest.SBOM{URI: url("m/2/sbom.json"), SHA256: hexDigest(spdx)}
			},
			base:       manifestOf("1", "m/1/model.pkl", nil),
			wantReport: "verified: sha256", wantSBOM: "verified: sha256 " + hexDigest(spdx)[:12] + " verified", wantPrev: "verified: sha256",
		},
		{
			name: "a report whose digest differs, an old CycloneDX, a rollback target that is gone",
			head: func(m *manifest.Manifest) {
				m.Validation = manifest.Validation{Report: url("m/2/tampered.html"), ReportSHA256: hexDigest(blobs["m/2/report.html"])}
				m.SBOM = &manifest.SBOM{URI: url("m/2/old-cdx.json"), SHA256: hexDigest(blobs["m/2/old-cdx.json"])}
			},
			base:       manifestOf("1", "m/0/model.pkl", nil),
			wantReport: "tampered.html: the artifact's sha256 is", wantSBOM: "CycloneDX specVersion 1.4 is older than 1.5", wantPrev: "model.pkl: the artifact does not exist",
		},
		{
			name: "a first pin has no rollback target to read",
			head: func(m *manifest.Manifest) {
				m.SBOM = &manifest.SBOM{URI: url("m/2/sbom.json"), SHA256: hexDigest(spdx)}
			},
			wantSBOM: "SPDX 2.3 JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &evaluate.Input{Policy: pol, Head: map[string]*manifest.Document{p: manifestOf("2", "m/2/model.pkl", tt.head)},
				Base: map[string]*manifest.Document{}}
			if tt.base != nil {
				in.Base[p] = tt.base
			}
			if err := VerifyInput(t.Context(), in, fstest.MapFS{}, stores, false); err != nil {
				t.Fatal(err)
			}
			if a := in.Artifacts[p]; !a.Verified {
				t.Errorf("artifact = %+v, want verified", a)
			}
			check := func(what string, got map[string]evaluate.ArtifactCheck, want string) {
				t.Helper()
				c, ok := got[p]
				switch {
				case want == "" && ok:
					t.Errorf("%s was read: %+v", what, c)
				case want == "":
				case !ok:
					t.Errorf("%s was not read", what)
				case !strings.Contains(render(c), want):
					t.Errorf("%s = %q, want it to contain %q", what, render(c), want)
				}
			}
			check("report", in.Reports, tt.wantReport)
			check("SBOM", in.SBOMs, tt.wantSBOM)
			check("rollback target", in.Incumbents, tt.wantPrev)
		})
	}
}

// render is a reading as the evidence rules word it.
func render(c evaluate.ArtifactCheck) string {
	switch {
	case c.Unavailable:
		return "unavailable: " + c.Detail
	case c.Verified:
		return "verified: " + c.Detail
	}
	return "failed: " + c.Detail
}

// TestVerifyEvidenceWithoutStorage records every wanted reading as
// unavailable without credentials, so the rules fail closed.
func TestVerifyEvidenceWithoutStorage(t *testing.T) {
	const loc = "https://acct.blob.core.windows.net/models/"
	pol := &policy.Policy{
		Environments: []policy.Environment{{Name: "prod", VerifyArtifacts: true, RequireRollbackReady: true}},
		Artifacts:    policy.Artifacts{AllowedLocations: []string{loc}},
	}
	const p = "environments/prod/m.yaml"
	digest := strings.Repeat("a", 64)
	head := &manifest.Manifest{Model: "m", Environment: "prod", Version: "2", Artifact: manifest.Artifact{URI: loc + "2", SHA256: digest},
		Validation: manifest.Validation{Report: loc + "r", ReportSHA256: digest}, SBOM: &manifest.SBOM{URI: loc + "s", SHA256: digest}}
	base := &manifest.Manifest{Model: "m", Environment: "prod", Version: "1", Artifact: manifest.Artifact{URI: loc + "1", SHA256: digest}}
	in := &evaluate.Input{Policy: pol, Head: map[string]*manifest.Document{p: {Manifest: head}}, Base: map[string]*manifest.Document{p: {Manifest: base}}}
	calls := 0
	stores := func() (artifact.Resolver, error) {
		calls++
		return nil, &NoCredentialsError{Err: errors.New("no credential source")}
	}
	if err := VerifyInput(t.Context(), in, fstest.MapFS{}, stores, false); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("storage was opened %d times, want once", calls)
	}
	for what, m := range map[string]map[string]evaluate.ArtifactCheck{"report": in.Reports, "SBOM": in.SBOMs, "rollback target": in.Incumbents} {
		if c := m[p]; !c.Unavailable || !c.NoCredentials {
			t.Errorf("%s = %+v, want unavailable without credentials", what, c)
		}
	}
}
