package validate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// checkEnvironments reports manifests whose folder names an environment the
// policy does not declare.
func checkEnvironments(docs []*manifest.Document, pol *policy.Policy) []diag.Problem {
	var out []diag.Problem
	for _, d := range docs {
		env, _, ok := manifest.EnvironmentAndModel(d.Path)
		if !ok {
			continue
		}
		if _, declared := pol.Environment(env); !declared {
			out = append(out, d.Problem(fmt.Sprintf("environment %q is not declared in %s (declared: %s)", env, policy.Path, envNames(pol)), "environment"))
		}
	}
	return out
}

func envNames(pol *policy.Policy) string {
	names := make([]string, len(pol.Environments))
	for i, e := range pol.Environments {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// CheckVersionConsistency reports a version of a model whose artifact or
// lineage differs between the environments that pin it. The first file in
// path order is taken as the reference.
func CheckVersionConsistency(docs []*manifest.Document) []diag.Problem {
	type key struct{ model, version string }
	groups := map[key][]*manifest.Document{}
	for _, d := range docs {
		m := d.Manifest
		if m == nil || m.Model == "" || m.Version == "" {
			continue
		}
		k := key{m.Model, m.Version}
		groups[k] = append(groups[k], d)
	}
	var out []diag.Problem
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		sort.Slice(g, func(i, j int) bool { return g[i].Path < g[j].Path })
		ref := g[0]
		for _, d := range g[1:] {
			m := d.Manifest
			if !manifest.SameArtifact(ref.Manifest, m) {
				out = append(out, d.Problem(fmt.Sprintf("version %s of %s has a different artifact than in %s: a version always names the same bytes", m.Version, m.Model, ref.Path), "artifact"))
			}
			if !manifest.SameLineage(ref.Manifest, m) {
				out = append(out, d.Problem(fmt.Sprintf("version %s of %s has a different lineage than in %s", m.Version, m.Model, ref.Path), "lineage"))
			}
		}
	}
	return out
}
