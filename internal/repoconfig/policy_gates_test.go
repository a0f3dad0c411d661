package repoconfig

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/policy"
)

func TestPolicyLoadMetricGates(t *testing.T) {
	p, problems := LoadPolicy(policy.Path, []byte(samplePolicy(t)), nil)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	prod, _ := p.Environment("prod")
	var names []string
	for _, g := range prod.MetricGates {
		names = append(names, g.Metric)
	}
	if diff := cmp.Diff([]string{"r2", "rmse", "sharpe"}, names); diff != "" {
		t.Errorf("gates (-want +got):\n%s", diff)
	}
	rmse := prod.MetricGates[1]
	if rmse.Max == nil || *rmse.Max != 0.015 || rmse.Incumbent == nil || rmse.Incumbent.Better != policy.LowerIsBetter ||
		!rmse.Incumbent.Relative || rmse.Incumbent.Tolerance != 0.02 || !rmse.AppliesTo("elasticnet-ndx") || rmse.AppliesTo("elasticnet-ndx-threshold") {
		t.Errorf("rmse gate = %+v %+v", rmse, rmse.Incumbent)
	}
	if prod.MetricExceptionLabel != "metric-exception" || prod.RationaleMinLength != 20 {
		t.Errorf("exception label %q, rationale %d", prod.MetricExceptionLabel, prod.RationaleMinLength)
	}
	if got := rmse.Incumbent.Limit(0.0124); got < 0.012648-1e-12 || got > 0.012648+1e-12 {
		t.Errorf("limit = %v, want 0.012648", got)
	}
}

func TestPolicyRefusesBadMetricGates(t *testing.T) {
	head := "apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - name: dev\n    approvals: 0\n"
	tests := []struct {
		name, env string
		want      string
	}{
		{"max below min", "    metricGates: {r2: {min: 0.6, max: 0.5}}\n", "max 0.5 below min 0.6"},
		{"an empty gate", "    metricGates: {r2: {}}\n", "r2"},
		{"two tolerances", "    metricGates: {r2: {incumbent: {better: higher, tolerance: {absolute: 0.1, relative: 0.1}}}}\n", "tolerance"},
		{"a direction", "    metricGates: {r2: {incumbent: {better: up}}}\n", "better"},
		{"a NaN bound", "    metricGates: {r2: {min: .nan}}\n", "not a finite decimal number"},
		{"a rationale of no length", "    requireRationale: {minLength: 0}\n", "minLength"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := LoadPolicy(policy.Path, []byte(head+tt.env), nil)
			var all []string
			for _, p := range problems {
				all = append(all, p.String())
			}
			if len(problems) == 0 || !strings.Contains(strings.Join(all, "\n"), tt.want) || problems[0].Line == 0 {
				t.Errorf("problems %q, want one at a line mentioning %q", all, tt.want)
			}
		})
	}
}
