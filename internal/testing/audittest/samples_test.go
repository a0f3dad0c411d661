package audittest

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/repoconfig"
)

func readRepositorySamples(t *testing.T) Samples {
	t.Helper()
	root, err := RepositoryRoot()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSamples(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSampleRenderingChangesOnlyVersionDigestAndDates renders every sample
// manifest with another version and checks that the text differs from the
// sample only in the version, the digest and the dates, and that the result
// is a valid manifest.
func TestSampleRenderingChangesOnlyVersionDigestAndDates(t *testing.T) {
	samples := readRepositorySamples(t)
	if len(samples) < 6 {
		t.Fatalf("read %d samples, want every file under environments/", len(samples))
	}
	prepared, err := samples.prepare()
	if err != nil {
		t.Fatal(err)
	}
	dates := regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}`)
	for p, smp := range prepared {
		t.Run(p, func(t *testing.T) {
			_, model, _ := manifest.EnvironmentAndModel(p)
			const version = "2024.03.09-1"
			got := smp.render(model, version, time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC), 2)
			if got == smp.text {
				t.Fatal("rendering changed nothing")
			}
			mask := func(s, v, digest string) string {
				s = strings.ReplaceAll(s, v, "VERSION")
				s = strings.ReplaceAll(s, digest, "DIGEST")
				return dates.ReplaceAllString(s, "DATE")
			}
			if a, b := mask(smp.text, smp.version, smp.sha256), mask(got, version, ArtifactSHA256(model, version)); a != b {
				t.Errorf("rendering changed more than version, digest and dates:\n%s\n---\n%s", a, b)
			}
			if !strings.Contains(got, "dataVersion: ohlcv-2024-03-03") {
				t.Errorf("dates not moved with the release day:\n%s", got)
			}
			if _, problems := repoconfig.LoadManifest(p, []byte(got), nil); len(problems) > 0 {
				t.Errorf("rendered manifest has problems: %v", problems)
			}
		})
	}
}
