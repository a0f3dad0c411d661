package validate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRunAppliesTheLocationAllowlist: validate judges every manifest's
// artifact URI by the policy's allowedLocations, as check does for a
// change, under the location family's mode. It used to call such a
// manifest valid.
func TestRunAppliesTheLocationAllowlist(t *testing.T) {
	const p = "environments/dev/elasticnet-ndx.yaml"
	const want = p + `:7:8: artifact URI "https://evil.blob.core.windows.net/models/elasticnet-ndx/2026.11.20-1/model.pkl" is refused: it is not under any allowed location (https://mlartifacts.blob.core.windows.net/models/, https://mlartifacts.blob.core.windows.net/reports/)`
	tests := []struct {
		name      string
		mode      string
		wantValid bool
		want      []string
	}{
		{"enforced", "enforce", false, []string{want}},
		{"warned", "warn", true, []string{p + ":7:8: warning: " + want[len(p)+6:]}},
		{"off", "off", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := sampleRepo(t)
			edit(t, fsys, p, "https://mlartifacts.blob.core.windows.net/models/", "https://evil.blob.core.windows.net/models/")
			edit(t, fsys, ".github/promobot.yaml", "location: enforce", "location: "+tt.mode)
			res, err := Run(t.Context(), fsys, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, pr := range res.Report.Problems {
				got = append(got, pr.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if res.Report.Valid != tt.wantValid {
				t.Errorf("valid = %v, want %v", res.Report.Valid, tt.wantValid)
			}
		})
	}
}

// TestRunAppliesTheAllowlistToEvidence: the validation report and the SBOM
// obey the same allowlist, under the evidence and sbom families' modes.
func TestRunAppliesTheAllowlistToEvidence(t *testing.T) {
	const p = "environments/prod/elasticnet-ndx-threshold.yaml"
	tests := []struct {
		name, family, from, to string
		want                   string
	}{
		{name: "report", family: "evidence",
			from: "https://mlartifacts.blob.core.windows.net/reports/elasticnet-ndx-threshold/2026.11.06-1/validation.html",
			to:   "https://reports.example.org/elasticnet-ndx-threshold/2026.11.06-1/validation.html",
			want: `validation.report: artifact URI "https://reports.example.org/elasticnet-ndx-threshold/2026.11.06-1/validation.html" is refused`},
		{name: "SBOM", family: "sbom",
			from: "https://mlartifacts.blob.core.windows.net/reports/elasticnet-ndx-threshold/2026.11.06-1/sbom.spdx.json", to: "https://sboms.example.org/x.spdx.json",
			want: `sbom.uri: artifact URI "https://sboms.example.org/x.spdx.json" is refused`},
	}
	for _, tt := range tests {
		for _, mode := range []string{"enforce", "off"} {
			t.Run(tt.name+" "+mode, func(t *testing.T) {
				fsys := sampleRepo(t)
				edit(t, fsys, p, tt.from, tt.to)
				edit(t, fsys, ".github/promobot.yaml", tt.family+": enforce", tt.family+": "+mode)
				res, err := Run(t.Context(), fsys, Options{})
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, pr := range res.Report.Problems {
					found = found || strings.Contains(pr.String(), tt.want)
				}
				if found != (mode == "enforce") || res.Report.Valid != (mode == "off") {
					t.Errorf("problems %v, valid %v; want %q reported only when enforced", res.Report.Problems, res.Report.Valid, tt.want)
				}
			})
		}
	}
}
