package drift_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/drift"
)

var (
	t0   = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	sha1 = strings.Repeat("1", 64)
	sha2 = strings.Repeat("2", 64)
)

// prodPins is prod's timeline of elasticnet-ndx: 1.4.0 from t0, 1.5.0
// merged a day later.
func prodPins() []audit.Pin {
	return []audit.Pin{
		{Environment: "prod", Model: "elasticnet-ndx", Version: "1.4.0", ArtifactSHA256: sha1, From: t0, Until: t0.Add(24 * time.Hour)},
		{Environment: "prod", Model: "elasticnet-ndx", Version: "1.5.0", ArtifactSHA256: sha2, From: t0.Add(24 * time.Hour)},
	}
}

func load(job, version, sha string, at time.Time) drift.Load {
	return drift.Load{Repository: "example-org/models", Environment: "prod", Model: "elasticnet-ndx", Version: version, SHA256: sha, Job: job, Time: at, Verified: true, Attestation: "verified"}
}

func TestCompare(t *testing.T) {
	merge := t0.Add(24 * time.Hour)
	now := merge.Add(6 * time.Hour)
	tests := []struct {
		name  string
		loads []drift.Load
		want  []drift.Kind
	}{
		{"the pin", []drift.Load{load("scoring-prod-1", "1.5.0", sha2, merge.Add(2*time.Hour))}, nil},
		{"the previous pin within the grace period", []drift.Load{load("scoring-prod-1", "1.4.0", sha1, merge.Add(30*time.Minute))}, nil},
		{"the previous pin after the grace period", []drift.Load{load("scoring-prod-1", "1.4.0", sha1, merge.Add(2*time.Hour))}, []drift.Kind{drift.KindNotPinned}},
		{"a version never pinned", []drift.Load{load("scoring-prod-1", "1.6.0-rc1", sha2, merge.Add(2*time.Hour))}, []drift.Kind{drift.KindNeverPinned}},
		{"another digest", []drift.Load{load("scoring-prod-1", "1.5.0", sha1, merge.Add(2*time.Hour))}, []drift.Kind{drift.KindDigestMismatch}},
		{"unverified and unattested", []drift.Load{func() drift.Load {
			l := load("scoring-prod-1", "1.5.0", sha2, merge.Add(2*time.Hour))
			l.Verified, l.Attestation = false, "none"
			return l
		}()}, []drift.Kind{drift.KindUnverified, drift.KindUnattested}},
		{"only the latest load counts", []drift.Load{
			load("scoring-prod-1", "1.4.0", sha1, merge.Add(2*time.Hour)),
			load("scoring-prod-1", "1.5.0", sha2, merge.Add(3*time.Hour)),
		}, nil},
		{"stopped reporting", []drift.Load{load("scoring-prod-1", "1.4.0", sha1, t0.Add(time.Hour))}, []drift.Kind{drift.KindStoppedReporting}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := drift.Compare(tt.loads, prodPins(), drift.Options{Now: now, Stale: 25 * time.Hour})
			var got []drift.Kind
			for _, f := range res.Findings {
				got = append(got, f.Kind)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
				for _, f := range res.Findings {
					t.Log(f.Message)
				}
			}
		})
	}
}
