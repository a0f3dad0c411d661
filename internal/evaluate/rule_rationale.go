package evaluate

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/example-org/promobot/internal/policy"
)

// familyRationale requires, where the environment asks for one, a rationale
// of at least the required length that the change itself wrote: one the
// base already pins, at the file's path or for the same version elsewhere,
// was copied along with the manifest and does not count.
var familyRationale = RuleFamily{
	Name:  policy.FamilyRationale,
	Needs: NeedManifest | NeedOtherPins,
	Rules: []Rule{{ID: "rationale"}},
	stage: stageRequirements,
	check: (*evaluation).checkRationale,
}

func (e *evaluation) checkRationale(c *fileCheck) {
	f, env := c.f, c.env
	m := f.head.Manifest
	r := strings.TrimSpace(m.Approval.Rationale)
	n := utf8.RuneCountInString(r)
	if env.RationaleMinLength == 0 {
		e.add(f, policy.FamilyRationale, "rationale", StatusSkip, fmt.Sprintf("%s does not require a rationale", env.Name))
		return
	}
	if r == "" {
		e.add(f, policy.FamilyRationale, "rationale", StatusFail, fmt.Sprintf(
			"approval.rationale is missing; %s requires a rationale of at least %d characters saying why the change is made (--rationale)", env.Name, env.RationaleMinLength), "approval")
		return
	}
	if n < env.RationaleMinLength {
		e.add(f, policy.FamilyRationale, "rationale", StatusFail, fmt.Sprintf(
			"approval.rationale has %d %s; %s requires at least %d", n, plural(n, "character", "characters"), env.Name, env.RationaleMinLength), "approval", "rationale")
		return
	}
	if from := e.pinnedRationale(f, r); from != "" {
		e.add(f, policy.FamilyRationale, "rationale", StatusFail, fmt.Sprintf(
			"approval.rationale is the one %s pins at the base, copied along with the manifest; write why this change is made", from), "approval", "rationale")
		return
	}
	e.add(f, policy.FamilyRationale, "rationale", StatusPass, fmt.Sprintf("rationale of %d characters", n), "approval", "rationale")
}

// pinnedRationale returns the path of a base manifest that already carries
// rationale r: the file's own base, or a pin of the same version elsewhere.
func (e *evaluation) pinnedRationale(f *gatedFile, r string) string {
	same := func(path, other string) string {
		if strings.TrimSpace(other) == r {
			return path
		}
		return ""
	}
	if f.base != nil && f.base.Manifest != nil {
		if p := same(f.path, f.base.Manifest.Approval.Rationale); p != "" {
			return p
		}
	}
	for _, d := range e.pins[pinKey{f.model, f.head.Manifest.Version}] {
		if p := same(d.Path, d.Manifest.Approval.Rationale); p != "" {
			return p
		}
	}
	return ""
}
