package validate

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/yamldoc"
)

// pin is what the cross-file checks keep of a manifest: where it is, and
// the model version it pins with the fields a version may never change
// between environments.
type pin struct {
	path     string
	valid    bool
	manifest *manifest.Manifest // Model, Version, Artifact and Lineage only
}

// pinOf keeps what the cross-file checks need of a loaded document.
func pinOf(d *manifest.Document) pin {
	m := d.Manifest
	return pin{path: d.Path, valid: d.Valid, manifest: &manifest.Manifest{Model: m.Model, Version: m.Version, Artifact: m.Artifact, Lineage: m.Lineage}}
}

// problemAt returns an error problem about a field of the manifest at p,
// reading the file again for the field's position: problems are rare, and
// keeping every document's positions would cost far more.
func problemAt(fsys fs.FS, p, message, field string) diag.Problem {
	problem := diag.Problem{File: p, Field: field, Message: message}
	data, err := yamldoc.ReadFile(fsys, p, yamldoc.DefaultLimits)
	if err != nil {
		return problem
	}
	if doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits); err == nil {
		problem.Line, problem.Column = doc.Position([]string{field}, false)
	}
	return problem
}

// checkEnvironment reports a manifest whose folder names an environment the
// policy does not declare.
func checkEnvironment(d *manifest.Document, pol *policy.Policy) []diag.Problem {
	env, _, ok := manifest.EnvironmentAndModel(d.Path)
	if !ok {
		return nil
	}
	if _, declared := pol.Environment(env); !declared {
		return []diag.Problem{d.Problem(fmt.Sprintf("environment %q is not declared in %s (declared: %s)", env, policy.Path, envNames(pol)), "environment")}
	}
	return nil
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
	pins := make([]pin, 0, len(docs))
	byPath := make(map[string]*manifest.Document, len(docs))
	for _, d := range docs {
		if d.Manifest != nil {
			pins = append(pins, pin{path: d.Path, valid: d.Valid, manifest: d.Manifest})
			byPath[d.Path] = d
		}
	}
	return checkVersions(pins, func(p pin, message, field string) diag.Problem {
		return byPath[p.path].Problem(message, field)
	})
}

// checkVersions is CheckVersionConsistency over pins; problem makes the
// problem about a field of a pin's file.
func checkVersions(pins []pin, problem func(p pin, message, field string) diag.Problem) []diag.Problem {
	type key struct{ model, version string }
	groups := map[key][]pin{}
	for _, p := range pins {
		m := p.manifest
		if m.Model == "" || m.Version == "" {
			continue
		}
		k := key{m.Model, m.Version}
		groups[k] = append(groups[k], p)
	}
	var out []diag.Problem
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		sort.Slice(g, func(i, j int) bool { return g[i].path < g[j].path })
		ref := g[0]
		for _, p := range g[1:] {
			m := p.manifest
			if !manifest.SameArtifact(ref.manifest, m) {
				out = append(out, problem(p, fmt.Sprintf("version %s of %s has a different artifact than in %s: a version always names the same bytes", m.Version, m.Model, ref.path), "artifact"))
			}
			if !manifest.SameLineage(ref.manifest, m) {
				out = append(out, problem(p, fmt.Sprintf("version %s of %s has a different lineage than in %s", m.Version, m.Model, ref.path), "lineage"))
			}
		}
	}
	return out
}
