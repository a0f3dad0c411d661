package sbom_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/sbom"
)

func TestIdentify(t *testing.T) {
	fixture, err := os.ReadFile("testdata/calibrator.spdx.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    string
		want    string
		wantErr string
	}{
		{name: "SPDX 2.3 fixture", data: string(fixture), want: "SPDX 2.3 JSON"},
		{name: "CycloneDX 1.5", data: `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}`, want: "CycloneDX 1.5 JSON"},
		{name: "CycloneDX 1.6", data: `{"bomFormat":"CycloneDX","specVersion":"1.6"}`, want: "CycloneDX 1.6 JSON"},
		{name: "CycloneDX 1.10 is newer than 1.5", data: `{"bomFormat":"CycloneDX","specVersion":"1.10"}`, want: "CycloneDX 1.10 JSON"},
		{name: "CycloneDX 1.4 is too old", data: `{"bomFormat":"CycloneDX","specVersion":"1.4"}`, wantErr: "CycloneDX specVersion 1.4 is older than 1.5"},
		{name: "CycloneDX without a version", data: `{"bomFormat":"CycloneDX"}`, wantErr: `specVersion "" is not a CycloneDX version`},
		{name: "another bomFormat", data: `{"bomFormat":"Other","specVersion":"1.5"}`, wantErr: `bomFormat is "Other"`},
		{name: "SPDX 2.2", data: `{"spdxVersion":"SPDX-2.2","SPDXID":"SPDXRef-DOCUMENT","documentNamespace":"x","creationInfo":{}}`, wantErr: `spdxVersion is "SPDX-2.2", want SPDX-2.3`},
		{name: "SPDX without a namespace", data: `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","creationInfo":{}}`, wantErr: "needs a documentNamespace"},
		{name: "SPDX without creationInfo", data: `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","documentNamespace":"x"}`, wantErr: "needs a creationInfo object"},
		{name: "SPDX with another SPDXID", data: `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-X","documentNamespace":"x","creationInfo":{}}`, wantErr: `SPDXID is "SPDXRef-X"`},
		{name: "both formats", data: `{"spdxVersion":"SPDX-2.3","bomFormat":"CycloneDX"}`, wantErr: "both SPDX and CycloneDX"},
		{name: "neither format", data: `{"name":"x"}`, wantErr: "neither spdxVersion nor bomFormat"},
		{name: "SPDX tag-value", data: "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n", wantErr: "not a JSON object"},
		{name: "a JSON array", data: `[]`, wantErr: "not a JSON object"},
		{name: "trailing data", data: `{"bomFormat":"CycloneDX","specVersion":"1.5"} {}`, wantErr: "data follows the JSON object"},
		{name: "empty", data: ``, wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := sbom.Identify([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, sbom.ErrUnsupported) {
					t.Fatalf("Identify = %v, %v; want an ErrUnsupported containing %q", doc, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.String(); got != tt.want {
				t.Errorf("Identify = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzIdentify requires Identify never to panic, to refuse with
// ErrUnsupported, and to accept only what names a supported format.
func FuzzIdentify(f *testing.F) {
	fixture, err := os.ReadFile("testdata/calibrator.spdx.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.5"}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"-1.7"}`))
	f.Add([]byte(`{"spdxVersion":null}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := sbom.Identify(data)
		if err != nil {
			if !errors.Is(err, sbom.ErrUnsupported) {
				t.Fatalf("error %v does not wrap ErrUnsupported", err)
			}
			return
		}
		switch doc.Format {
		case sbom.SPDX:
			if doc.Version != "2.3" {
				t.Fatalf("SPDX version %q", doc.Version)
			}
		case sbom.CycloneDX:
			if doc.Version == "" || doc.Version[0] == '0' {
				t.Fatalf("CycloneDX version %q", doc.Version)
			}
		default:
			t.Fatalf("format %q", doc.Format)
		}
	})
}
