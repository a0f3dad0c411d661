package promote

import "testing"

// BenchmarkRetarget measures the text edit of one manifest.
func BenchmarkRetarget(b *testing.B) {
	src := []byte(baseFiles(b)[testNDX])
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := retarget(src, "prod", "CHG-4901"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanPromoteBundle measures planning a two-model promotion from
// an in-memory tree: policy and schema loading, decoding, editing and
// verifying both manifests.
func BenchmarkPlanPromoteBundle(b *testing.B) {
	files := baseFSFor(b)
	req := PromoteRequest{Models: []string{"elasticnet-ndx", "elasticnet-ndx-threshold"}, To: "prod", Ticket: "CHG-4901"}
	for b.Loop() {
		if _, err := PlanPromote(files, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPromoteDryRun measures a whole dry run against loopback git and
// the GitHub emulator: list and fetch the base, plan, commit in memory,
// diff, read histories and run the policy engine.
func BenchmarkPromoteDryRun(b *testing.B) {
	h := newHarness(b)
	x := h.executor()
	x.GitHub = nil // no team lookups: measure git and the engine
	req := PromoteRequest{Models: []string{"elasticnet-ndx", "elasticnet-ndx-threshold"}, To: "prod", Ticket: "CHG-4901"}
	for b.Loop() {
		if _, err := x.Promote(b.Context(), req, Options{DryRun: true}); err != nil {
			b.Fatal(err)
		}
	}
}
