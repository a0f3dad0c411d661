package evaltest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/evaluate"
)

func TestInputChangesAndHistory(t *testing.T) {
	s := Sample("history")
	s.Head = Promote("prod", V0, Unbundled)
	s.Head["README.md"] = "changed\n"
	s.Deleted = []string{ManifestPath("dev", Calibrator)}
	in, err := Input(s)
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := []evaluate.Change{
		{Path: "README.md", Status: evaluate.Modified},
		{Path: "environments/dev/elasticnet-ndx-threshold.yaml", Status: evaluate.Removed},
		{Path: "environments/prod/lasso-spx.yaml", Status: evaluate.Modified},
	}
	if diff := cmp.Diff(wantChanges, in.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if _, ok := in.Head[ManifestPath("dev", Calibrator)]; ok {
		t.Error("a removed manifest must have no head document")
	}
	type pin struct {
		Version      string
		Since, Until time.Time
	}
	var got []pin
	for _, p := range in.History[ManifestPath("prod", Unbundled)] {
		got = append(got, pin{p.Version, p.Since, p.Until})
	}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 10, 0, 0, 0, time.UTC) }
	want := []pin{{V0, day(2), day(10)}, {V1, day(10), time.Time{}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("prod pins (-want +got):\n%s", diff)
	}
	if in.Policy == nil || in.Owners == nil || in.OwnersPath != ".github/CODEOWNERS" {
		t.Errorf("policy %v, owners %v at %q: want both from the base", in.Policy != nil, in.Owners != nil, in.OwnersPath)
	}
}

func TestIdentity(t *testing.T) {
	if diff := cmp.Diff(evaluate.Identity{Name: "mara", Email: "mara@users.noreply.github.com", Login: "mara"}, Identity("mara")); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff(evaluate.Identity{Name: "Jane Doe", Email: "jane@corp.example"}, Identity("Jane Doe <jane@corp.example>")); diff != "" {
		t.Error(diff)
	}
}
