package demo

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/azuritetest"
)

// TestDemo plays the whole story with a freshly built promobot binary, as
// `make demo` does, and checks the steps that matter: the check run turns
// from "needs 2 approvals" to success, the author's approval is ignored, the
// scoring job gets the approved bytes and refuses tampered ones, and the
// audit shows who approved the prod promotion.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end demo is skipped in -short mode")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	// Skips or fails, as the policy for Azurite says, before building;
	// the demo starts its own.
	azuritetest.Require(t)

	bin := filepath.Join(t.TempDir(), "promobot")
	// The compiler settings of `make build`, which the packaging tests
	// compile with too: the build cache holds one compilation for both.
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", bin, "github.com/example-org/promobot/cmd/promobot")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := t.TempDir()
	var log bytes.Buffer
	start := time.Now()
	if err := Run(t.Context(), Options{Promobot: bin, Out: out, Dir: ".", Log: &log}); err != nil {
		t.Fatalf("demo: %v\n%s", err, log.String())
	}
	t.Logf("demo took %s", time.Since(start))
	for _, want := range []string{
		"check run on PR #4: failure: environments/prod/elasticnet-ndx.yaml: sharpe 1.25 is worse than the incumbent 2026.11.06-1's 1.33 beyond the tolerance",
		"check run on PR #4: failure: metric gates of prod are overridden: needs 2 more governance approvals from @example-org/platform-admins",
		"check run on PR #4: success: all rules pass, 2/2 approvals, 2/2 governance approvals",
		"metric gates overridden by the label metric-exception: sharpe (incumbent): candidate 1.25, bound 1.2635 (incumbent 1.33); approved by pat, paula",
		"RATIONALE",
		"resolve --download -> elasticnet-ndx 2026.11.20-1 verified",
		"resolve refuses (exit 1)",
		"remy, rita",
		"intact, 15 records",
		"resolve --require-reviewed refuses (exit 1)",
		"promobot access-review (exit",
		"findings), first: gate-depends-on-person:",
		"promobot drift (exit 1",
		"not-pinned: Job scoring-prod-2 loaded elasticnet-ndx 2026.11.06-1 in prod",
		"signed an attestation of each pin it changed",
		"no GitHub API: promobot resolve with PROMOBOT_TRUSTED_KEYS -> elasticnet-ndx 2026.11.20-1, attested (verified)",
		"refuses to load it (exit 4",
		"no GitHub API: resolve refuses (exit 1)",
		"promobot dashboard: what runs where, each model's timeline and the open promotions at http://127.0.0.1:",
		"dashboard at http://127.0.0.1:",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, log.String())
		}
	}
	for _, f := range []string{"audit.html", "audit-log.jsonl", "checks/11-pr4-success.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("demo did not write %s: %v", f, err)
		}
	}
}
