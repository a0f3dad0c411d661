package evaluate

import (
	"fmt"
	"slices"

	"github.com/example-org/promobot/internal/policy"
)

// storageRules are the rule IDs whose outcome is a reading of storage by
// the caller: a failure of one of them alone may mean "not known yet".
var storageRules = []string{"artifact", "report-verified", "sbom-verified", "rollback-verified"}

// StorageRule reports whether the rule ID judges a reading of storage made
// by the caller (Input.Artifacts, Reports, SBOMs or Incumbents), so that a
// block by such rules alone, with every reading unavailable, is "retry",
// not "no".
func StorageRule(id string) bool { return slices.Contains(storageRules, id) }

// Readings returns every storage reading of in: its artifact, report, SBOM
// and incumbent outcomes, in no particular order.
func (in *Input) Readings() []ArtifactCheck {
	var out []ArtifactCheck
	for _, m := range []map[string]ArtifactCheck{in.Artifacts, in.Reports, in.SBOMs, in.Incumbents} {
		for _, c := range m {
			out = append(out, c)
		}
	}
	return out
}

// judgeReading reports the caller's reading of what (such as "validation
// report") under rule id of family fam: a reading the environment requires
// but that is missing fails closed, as does one that could not be made.
func (e *evaluation) judgeReading(c *fileCheck, fam policy.Family, id, what string, readings map[string]ArtifactCheck, field ...string) {
	f := c.f
	r, ok := readings[f.path]
	switch {
	case !ok:
		e.add(f, fam, id, StatusFail, fmt.Sprintf("could not verify the %s: %s requires it to be read and hashed before merge, and this evaluation did not read it", what, c.env.Name), field...)
	case r.Unavailable:
		e.add(f, fam, id, StatusFail, fmt.Sprintf("could not verify the %s: %s", what, r.Detail), field...)
	case !r.Verified:
		e.add(f, fam, id, StatusFail, fmt.Sprintf("%s verification failed: %s", what, r.Detail), field...)
	default:
		e.add(f, fam, id, StatusPass, fmt.Sprintf("%s verified: %s", what, r.Detail), field...)
	}
}
