package evaluate

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// dependentFamilies are the families that need a decoded head manifest.
var dependentFamilies = []policy.Family{
	policy.FamilyOrder, policy.FamilyImmutability, policy.FamilyValidation, policy.FamilyTicket,
	policy.FamilyLocation, policy.FamilyLineage, policy.FamilyArtifacts,
}

// checkManifest applies the promotion rules to one changed .yaml file under
// environments/.
func (e *evaluation) checkManifest(f *gatedFile) {
	env, declared := e.pol.Environment(f.env)
	if f.model != "" || f.env != "" {
		if declared {
			e.add(f, policy.FamilyEnvironment, "environment", StatusPass,
				fmt.Sprintf("environment %s is declared in %s", f.env, policy.Path), "environment")
		} else {
			e.add(f, policy.FamilyEnvironment, "environment", StatusFail,
				fmt.Sprintf("environment %q is not declared in %s (declared: %s)", f.env, policy.Path, e.envNames()), "environment")
		}
	}
	if f.status == Removed {
		if f.model != "" {
			e.decommission(f)
		}
		return
	}
	if strings.HasSuffix(f.path, ".yml") {
		e.add(f, policy.FamilySchema, "schema", StatusFail, fmt.Sprintf("%s: manifest files must end in .yaml, not .yml", f.path))
		return
	}
	if f.head == nil {
		e.add(f, policy.FamilySchema, "schema", StatusFail,
			fmt.Sprintf("the head version of %s was not loaded, so it cannot be checked", f.path))
		return
	}
	if len(f.head.Problems) == 0 {
		e.add(f, policy.FamilySchema, "schema", StatusPass, "valid against the base schema and consistent with its path")
	}
	for _, p := range f.head.Problems {
		r := RuleResult{ID: "schema", Family: policy.FamilySchema, Status: StatusFail, Mode: e.pol.Mode(policy.FamilySchema),
			File: f.path, Line: p.Line, Column: p.Column, Message: p.Message}
		e.rules = append(e.rules, applyMode(r))
	}
	m := f.head.Manifest
	if m == nil || f.model == "" {
		if f.model != "" {
			// Whatever it holds, the file changed: do not also report its
			// bundle partners as moving alone.
			e.markMoving(f)
		}
		// Fail closed: nothing else can be checked on a file that is not a
		// manifest at a manifest path.
		for _, fam := range dependentFamilies {
			e.add(f, fam, string(fam), StatusFail, fmt.Sprintf("cannot check %s: %s is not a decodable manifest at environments/<environment>/<model>.yaml", fam, f.path))
		}
		return
	}
	var rollback *Pin
	f.kind, rollback = e.classify(f, env, declared)
	if f.kind != KindEdit {
		e.markMoving(f)
	}
	e.recordPromotion(f, env, declared, rollback)
	e.checkOrder(f, env, declared, rollback)
	e.checkImmutability(f, rollback)
	if !declared {
		for _, fam := range []policy.Family{policy.FamilyValidation, policy.FamilyTicket, policy.FamilyLineage} {
			e.add(f, fam, string(fam), StatusSkip, fmt.Sprintf("environment %q is not declared, so its %s requirement is unknown", f.env, fam))
		}
	} else {
		e.checkValidation(f, env)
		e.checkTicket(f, env)
		e.checkLineage(f, env)
	}
	e.checkLocation(f)
	e.checkArtifact(f, env, declared)
}

func (e *evaluation) envNames() string {
	names := make([]string, len(e.pol.Environments))
	for i, x := range e.pol.Environments {
		names[i] = x.Name
	}
	return strings.Join(names, ", ")
}

func (e *evaluation) markMoving(f *gatedFile) {
	if e.moving[f.env] == nil {
		e.moving[f.env] = map[string]bool{}
	}
	e.moving[f.env][f.model] = true
}

// decommission records the removal of a manifest.
func (e *evaluation) decommission(f *gatedFile) {
	f.kind = KindDecommission
	e.markMoving(f)
	p := Promotion{Model: f.model, Environment: f.env, File: f.path, Kind: KindDecommission}
	if f.base != nil && f.base.Manifest != nil {
		p.FromVersion = f.base.Manifest.Version
		p.ArtifactSHA256 = f.base.Manifest.Artifact.SHA256
		p.Metrics = compareMetrics(nil, f.base.Manifest.Metrics)
	}
	e.res.Promotions = append(e.res.Promotions, p)
}

// classify says what the change of a manifest does, and returns the earlier
// pin a rollback returns to.
func (e *evaluation) classify(f *gatedFile, env *policy.Environment, declared bool) (Kind, *Pin) {
	to := f.head.Manifest.Version
	if f.base != nil && f.base.Manifest != nil && f.base.Manifest.Version == to {
		return KindEdit, nil
	}
	if pin := e.earlierPin(f.path, to); pin != nil {
		return KindRollback, pin
	}
	if !declared || env.From == "" {
		return KindRegister, nil
	}
	return KindPromote, nil
}

// earlierPin returns the most recent earlier pin of version at path.
func (e *evaluation) earlierPin(path, version string) *Pin {
	if version == "" {
		return nil
	}
	h := e.in.History[path]
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Version == version {
			return &h[i]
		}
	}
	return nil
}

func (e *evaluation) recordPromotion(f *gatedFile, env *policy.Environment, declared bool, rollback *Pin) {
	m := f.head.Manifest
	p := Promotion{
		Model: f.model, Environment: f.env, File: f.path, Kind: f.kind, ToVersion: m.Version,
		ArtifactSHA256: m.Artifact.SHA256, Validation: m.Validation.Status, Ticket: m.Approval.Ticket,
		RollbackOf: rollback,
	}
	if declared && f.kind == KindPromote {
		p.SourceEnvironment = env.From
	}
	var current map[string]float64
	if f.base != nil && f.base.Manifest != nil {
		p.FromVersion = f.base.Manifest.Version
		current = f.base.Manifest.Metrics
	}
	p.Metrics = compareMetrics(m.Metrics, current)
	e.res.Promotions = append(e.res.Promotions, p)
}

// compareMetrics lists the union of two metric sets, sorted by name.
func compareMetrics(next, current map[string]float64) []MetricComparison {
	names := slices.Sorted(maps.Keys(next))
	for k := range current {
		if _, ok := next[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var out []MetricComparison
	for _, n := range names {
		c := MetricComparison{Name: n}
		if v, ok := next[n]; ok {
			c.New = &v
		}
		if v, ok := current[n]; ok {
			c.Current = &v
		}
		out = append(out, c)
	}
	return out
}

// formatDate renders a pin boundary; a zero time means the pin is current.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return "now"
	}
	return t.UTC().Format(time.DateOnly)
}

// checkOrder requires a promoted version to be pinned in the source
// environment with the same artifact and lineage, unless it is a rollback.
func (e *evaluation) checkOrder(f *gatedFile, env *policy.Environment, declared bool, rollback *Pin) {
	m := f.head.Manifest
	switch {
	case f.kind == KindEdit:
		e.add(f, policy.FamilyOrder, "order", StatusSkip, fmt.Sprintf("version %s of %s is unchanged in %s", m.Version, m.Model, f.env))
		return
	case f.kind == KindRollback:
		e.add(f, policy.FamilyOrder, "rollback", StatusPass, fmt.Sprintf("rollback to %s, pinned in %s from %s to %s",
			m.Version, f.env, formatDate(rollback.Since), formatDate(rollback.Until)), "version")
		return
	case !declared:
		e.add(f, policy.FamilyOrder, "order", StatusSkip, fmt.Sprintf("environment %q is not declared, so it has no source environment", f.env))
		return
	case env.From == "":
		e.add(f, policy.FamilyOrder, "order", StatusSkip, fmt.Sprintf("%s is where versions are registered; it has no source environment", f.env))
		return
	}
	notIn := fmt.Sprintf("version %s of %s is not in %s; promote it to %s first", m.Version, m.Model, env.From, env.From)
	src := e.in.Base[manifest.Path(env.From, m.Model)]
	switch {
	case src == nil || src.Manifest == nil:
		e.add(f, policy.FamilyOrder, "order", StatusFail, notIn+fmt.Sprintf(" (%s has no manifest for %s)", env.From, m.Model), "version")
	case src.Manifest.Version != m.Version:
		e.add(f, policy.FamilyOrder, "order", StatusFail, notIn+fmt.Sprintf(" (%s pins %s)", env.From, src.Manifest.Version), "version")
	default:
		var differs []string
		if src.Manifest.Artifact.URI != m.Artifact.URI || src.Manifest.Artifact.SHA256 != m.Artifact.SHA256 {
			differs = append(differs, "artifact")
		}
		if !manifest.SameLineage(src.Manifest, m) {
			differs = append(differs, "lineage")
		}
		if len(differs) > 0 {
			e.add(f, policy.FamilyOrder, "order", StatusFail, fmt.Sprintf(
				"version %s of %s is not in %s with the same %s; promote it to %s first", m.Version, m.Model, env.From, strings.Join(differs, " and "), env.From),
				differs[0])
			return
		}
		e.add(f, policy.FamilyOrder, "order", StatusPass, fmt.Sprintf("version %s of %s is pinned in %s with the same artifact and lineage", m.Version, m.Model, env.From), "version")
	}
}

// checkImmutability compares the head manifest with every other pin of the
// same version: at the base, in this change, and the pin a rollback returns
// to.
func (e *evaluation) checkImmutability(f *gatedFile, rollback *Pin) {
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

func (e *evaluation) checkValidation(f *gatedFile, env *policy.Environment) {
	m := f.head.Manifest
	switch {
	case !env.RequireValidation:
		e.add(f, policy.FamilyValidation, "validation", StatusSkip, fmt.Sprintf("%s does not require validation", env.Name))
	case m.Validation.Status == manifest.ValidationPassed:
		e.add(f, policy.FamilyValidation, "validation", StatusPass, "validation passed")
	default:
		e.add(f, policy.FamilyValidation, "validation", StatusFail, fmt.Sprintf(
			"validation.status is %q; %s requires passed", m.Validation.Status, env.Name), "validation", "status")
	}
}

func (e *evaluation) checkTicket(f *gatedFile, env *policy.Environment) {
	t := f.head.Manifest.Approval.Ticket
	pattern := ""
	if env.TicketPattern != "" {
		pattern = " matching " + env.TicketPattern
	}
	switch {
	case !env.RequireTicket:
		e.add(f, policy.FamilyTicket, "ticket", StatusSkip, fmt.Sprintf("%s does not require a change ticket", env.Name))
	case t == "":
		e.add(f, policy.FamilyTicket, "ticket", StatusFail, fmt.Sprintf("approval.ticket is missing; %s requires a change ticket%s", env.Name, pattern), "approval")
	case !env.TicketMatches(t):
		e.add(f, policy.FamilyTicket, "ticket", StatusFail, fmt.Sprintf("approval.ticket %q does not match %s", t, env.TicketPattern), "approval", "ticket")
	default:
		e.add(f, policy.FamilyTicket, "ticket", StatusPass, fmt.Sprintf("change ticket %s", t), "approval", "ticket")
	}
}

func (e *evaluation) checkLineage(f *gatedFile, env *policy.Environment) {
	if len(env.RequiredLineage) == 0 {
		e.add(f, policy.FamilyLineage, "lineage", StatusSkip, fmt.Sprintf("%s requires no lineage fields", env.Name))
		return
	}
	var missing []string
	for _, field := range env.RequiredLineage {
		if !f.head.Manifest.Lineage.Has(field) {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		e.add(f, policy.FamilyLineage, "lineage", StatusFail, fmt.Sprintf("lineage is missing %s, required in %s", strings.Join(missing, ", "), env.Name), "lineage")
		return
	}
	e.add(f, policy.FamilyLineage, "lineage", StatusPass, fmt.Sprintf("lineage has %s", strings.Join(env.RequiredLineage, ", ")), "lineage")
}

func (e *evaluation) checkLocation(f *gatedFile) {
	a := e.pol.Artifacts
	if _, err := location.Check(f.head.Manifest.Artifact.URI, a.AllowedLocations, a.AllowLocal); err != nil {
		e.add(f, policy.FamilyLocation, "location", StatusFail, err.Error(), "artifact", "uri")
		return
	}
	e.add(f, policy.FamilyLocation, "location", StatusPass, "the artifact URI is under an allowed location", "artifact", "uri")
}

// checkArtifact reports the caller's artifact verification and the
// signature requirement.
func (e *evaluation) checkArtifact(f *gatedFile, env *policy.Environment, declared bool) {
	check, ok := e.in.Artifacts[f.path]
	switch {
	case !ok && declared && env.VerifyArtifacts:
		// The policy requires the bytes to be read before merge: an
		// evaluation that did not read them fails closed.
		e.add(f, policy.FamilyArtifacts, "artifact", StatusFail, fmt.Sprintf("could not verify artifact: %s requires the artifact to be read and hashed before merge, and this evaluation did not read it", env.Name), "artifact")
	case !ok:
		e.add(f, policy.FamilyArtifacts, "artifact", StatusSkip, "artifact not verified in this evaluation", "artifact")
	case check.Unavailable:
		e.add(f, policy.FamilyArtifacts, "artifact", StatusFail, "could not verify artifact: "+check.Detail, "artifact")
	case !check.Verified:
		e.add(f, policy.FamilyArtifacts, "artifact", StatusFail, "artifact verification failed: "+check.Detail, "artifact")
	default:
		e.add(f, policy.FamilyArtifacts, "artifact", StatusPass, "artifact verified: "+check.Detail, "artifact")
	}
	if !declared || !env.RequireSignature {
		return
	}
	if f.head.Manifest.Artifact.Signature == "" {
		e.add(f, policy.FamilyArtifacts, "signature", StatusFail, fmt.Sprintf("artifact.signature is missing; %s requires signed artifacts", env.Name), "artifact")
		return
	}
	e.add(f, policy.FamilyArtifacts, "signature", StatusPass, "artifact.signature is present", "artifact", "signature")
}
