package evaluate

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/example-org/promobot/internal/policy"
)

// checkManifest applies the rule table to one changed .yaml file under
// environments/, stage by stage. A removed manifest is a decommission; a
// file that is not a decodable manifest at a manifest path fails closed
// every family that needs one.
func (e *evaluation) checkManifest(f *gatedFile) {
	c := e.fileCheck(f)
	e.runStage(stagePath, c)
	if f.status == Removed {
		if f.model != "" {
			e.decommission(f)
		}
		return
	}
	e.runStage(stageDocument, c)
	if c.done {
		return
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
		e.failClosed(f, func(fam policy.Family) string {
			return fmt.Sprintf("cannot check %s: %s is not a decodable manifest at environments/<environment>/<model>.yaml", fam, f.path)
		})
		return
	}
	f.kind, c.rollback = e.classify(f, c.env, c.declared)
	if f.kind != KindEdit {
		e.markMoving(f)
	}
	e.recordPromotion(f, c.env, c.declared, c.rollback)
	e.runStage(stagePins, c)
	e.runStage(stageRequirements, c)
	e.runStage(stageArtifact, c)
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
		RollbackOf: rollback, Rationale: m.Approval.Rationale,
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
