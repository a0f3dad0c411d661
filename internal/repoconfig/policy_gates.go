package repoconfig

import (
	"slices"

	"github.com/example-org/promobot/internal/policy"
)

// gates decodes an environment's metricGates, metricGateExceptions and
// requireRationale into env; here is the environment's position and e its
// fields.
func (b *builder) gates(here []string, e map[string]any, env *policy.Environment) {
	field := func(name ...string) []string { return append(slices.Clone(here), name...) }
	if g, ok := e["metricGates"].(map[string]any); ok {
		for _, metric := range sortedKeys(g) {
			env.MetricGates = append(env.MetricGates, b.metricGate(field("metricGates", metric), metric, g[metric]))
		}
	} else if e["metricGates"] != nil {
		b.cannot(field("metricGates"), e["metricGates"], "a mapping")
	}
	if x := b.object(field("metricGateExceptions"), e["metricGateExceptions"], "label"); x != nil {
		env.MetricExceptionLabel = b.text(field("metricGateExceptions", "label"), x["label"])
		if env.MetricExceptionLabel == "" {
			b.errorf(field("metricGateExceptions"), "metricGateExceptions needs a label")
		}
	}
	env.RationaleMinLength = b.requireRationale(field("requireRationale"), e["requireRationale"])
}

// requireRationale decodes a requireRationale setting, of an environment or
// of a risk tier's environment, into its minimum length; zero when absent.
func (b *builder) requireRationale(here []string, v any) int {
	r := b.object(here, v, "minLength")
	if r == nil {
		return 0
	}
	if n, ok := b.count(append(slices.Clone(here), "minLength"), r["minLength"], 1, 4096); ok {
		return n
	} else if r["minLength"] == nil {
		b.errorf(here, "requireRationale needs minLength")
	}
	return 0
}

// metricGate decodes the gate of one metric.
func (b *builder) metricGate(here []string, metric string, v any) policy.MetricGate {
	field := func(name ...string) []string { return append(slices.Clone(here), name...) }
	mg := policy.MetricGate{Metric: metric}
	g := b.object(here, v, "models", "min", "max", "incumbent")
	if g == nil {
		b.absent(here, v)
		return mg
	}
	mg.Models = b.texts(field("models"), g["models"])
	mg.Min = b.number(field("min"), g["min"])
	mg.Max = b.number(field("max"), g["max"])
	if mg.Min != nil && mg.Max != nil && *mg.Min > *mg.Max {
		b.errorf(field("max"), "the gate of %s has max %g below min %g", metric, *mg.Max, *mg.Min)
	}
	if inc := b.object(field("incumbent"), g["incumbent"], "better", "tolerance"); inc != nil {
		ig := &policy.IncumbentGate{Better: policy.Direction(b.text(field("incumbent", "better"), inc["better"]))}
		if ig.Better != policy.HigherIsBetter && ig.Better != policy.LowerIsBetter {
			b.cannot(field("incumbent", "better"), inc["better"], "higher or lower")
		}
		if t := b.object(field("incumbent", "tolerance"), inc["tolerance"], "absolute", "relative"); t != nil {
			abs, rel := b.number(field("incumbent", "tolerance", "absolute"), t["absolute"]), b.number(field("incumbent", "tolerance", "relative"), t["relative"])
			switch {
			case abs != nil && rel != nil:
				b.errorf(field("incumbent", "tolerance"), "a tolerance is absolute or relative, not both")
			case abs != nil:
				ig.Tolerance = *abs
			case rel != nil:
				ig.Tolerance, ig.Relative = *rel, true
			}
			if ig.Tolerance < 0 {
				b.errorf(field("incumbent", "tolerance"), "a tolerance cannot be negative")
			}
		}
		mg.Incumbent = ig
	}
	if mg.Min == nil && mg.Max == nil && mg.Incumbent == nil {
		b.errorf(here, "the gate of %s sets none of min, max and incumbent", metric)
	}
	return mg
}

// number decodes an optional finite number; nil when absent.
func (b *builder) number(here []string, v any) *float64 {
	switch n := v.(type) {
	case nil:
		return nil
	case int64:
		f := float64(n)
		return &f
	case float64:
		return &n
	}
	b.cannot(here, v, "a number")
	return nil
}
