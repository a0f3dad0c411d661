package evaluate

import (
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// familyImmutability requires a version to hold the same artifact, lineage,
// metrics and parameters wherever it is pinned.
var familyImmutability = RuleFamily{
	Name:  policy.FamilyImmutability,
	Needs: NeedManifest | NeedOtherPins | NeedHistory,
	Rules: []Rule{{ID: "immutability", Pin: true}},
	stage: stagePins,
	check: (*evaluation).checkImmutability,
}

// checkImmutability compares the head manifest with every other pin of the
// same version: at the base, in this change, and the pin a rollback returns
// to.
func (e *evaluation) checkImmutability(c *fileCheck) {
	f, rollback := c.f, c.rollback
	m := f.head.Manifest
	if m.Version == "" {
		e.add(f, policy.FamilyImmutability, "immutability", StatusFail, "the manifest has no version", "version")
		return
	}
	type other struct {
		where string
		m     *manifest.Manifest
	}
	var others []other
	for _, d := range e.pins[pinKey{m.Model, m.Version}] {
		others = append(others, other{d.Path, d.Manifest})
	}
	for _, g := range e.headPins[pinKey{m.Model, m.Version}] {
		if g != f {
			others = append(others, other{g.path + " in this change", g.head.Manifest})
		}
	}
	if rollback != nil && rollback.Manifest != nil {
		others = append(others, other{fmt.Sprintf("%s from %s to %s", f.path, formatDate(rollback.Since), formatDate(rollback.Until)), rollback.Manifest})
	}
	failed := false
	for _, o := range others {
		diffs := manifest.ImmutableDifferences(o.m, m)
		if len(diffs) == 0 {
			continue
		}
		failed = true
		e.add(f, policy.FamilyImmutability, "immutability", StatusFail, fmt.Sprintf(
			"version %s of %s differs from its pin in %s (%s); a new artifact needs a new version",
			m.Version, m.Model, o.where, strings.Join(diffs, ", ")), diffs[0])
	}
	switch {
	case failed:
	case len(others) == 0:
		e.add(f, policy.FamilyImmutability, "immutability", StatusPass, fmt.Sprintf("version %s of %s is pinned nowhere else", m.Version, m.Model))
	default:
		e.add(f, policy.FamilyImmutability, "immutability", StatusPass, fmt.Sprintf(
			"version %s of %s has the same artifact, lineage, metrics and parameters wherever it is pinned", m.Version, m.Model))
	}
}
