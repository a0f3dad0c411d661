package validate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRunAppliesTheLocationAllowlist: validate judges every manifest's
// artifact URI by the policy's allowedLocations, as check does for a
// change, under the location family's mode. It used to call such a
// manifest valid.
func TestRunAppliesTheLocationAllowlist(t *testing.T) {
	const p = "environments/dev/elasticnet-ndx.yaml"
	const want = p + `:7:8: artifact URI "https://evil.blob.core.windows.net/models/elasticnet-ndx/2026.11.20-1/model.pkl" is refused: it is not under any allowed location (https://mlartifacts.blob.core.windows.net/models/)`
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
