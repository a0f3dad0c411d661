package accessreview

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/policy"
)

// Repository is what requirement sources read: the policy and the files of
// the reviewed revision.
type Repository struct {
	// Policy is the repository's policy.
	Policy *policy.Policy
	// Files are every file's slash path in the repository.
	Files []string
	// CODEOWNERSPath is the CODEOWNERS file GitHub uses; empty if none.
	CODEOWNERSPath string
}

// Source derives approval requirements from a repository. New kinds of
// requirement (owners named by a manifest field, counts set by a risk tier)
// are new Sources appended to DefaultSources.
type Source func(Repository) []Requirement

// DefaultSources are the requirement sources promobot reviews: the
// approvals of each environment and the governance approvals of the
// control files.
var DefaultSources = []Source{EnvironmentApprovals, GovernanceApprovals}

// Requirements runs every source in order.
func Requirements(repo Repository, sources []Source) []Requirement {
	var out []Requirement
	for _, src := range sources {
		out = append(out, src(repo)...)
	}
	return out
}

// EnvironmentApprovals is one requirement per environment: its manifests
// need the environment's approvals. An environment without manifests is
// reviewed through a manifest a promotion would add, so a gate is checked
// before the first promotion needs it.
func EnvironmentApprovals(repo Repository) []Requirement {
	if repo.Policy == nil {
		return nil
	}
	var out []Requirement
	for i, env := range repo.Policy.Environments {
		dir := "environments/" + env.Name + "/"
		var paths []string
		for _, f := range repo.Files {
			if strings.HasPrefix(f, dir) && !strings.Contains(f[len(dir):], "/") && (path.Ext(f) == ".yaml" || path.Ext(f) == ".yml") {
				paths = append(paths, f)
			}
		}
		if len(paths) == 0 {
			paths = []string{dir + "new-model.yaml"}
		}
		out = append(out, Requirement{
			Scope: scopeEnvironment, Environment: env.Name, Paths: paths, Approvals: env.Approvals,
			Source:     fmt.Sprintf("policy environments[%d] (%s) approvals", i, env.Name),
			Production: len(repo.Policy.Next(env.Name)) == 0,
		})
	}
	return out
}

// GovernanceApprovals is the requirement of the control files: the policy,
// CODEOWNERS, the schemas and the trusted keys need the governance
// approvals.
func GovernanceApprovals(repo Repository) []Requirement {
	if repo.Policy == nil {
		return nil
	}
	paths := []string{policy.Path}
	if repo.CODEOWNERSPath != "" {
		paths = append(paths, repo.CODEOWNERSPath)
	}
	paths = append(paths, repo.Policy.Artifacts.TrustedKeys...)
	for _, f := range repo.Files {
		if strings.HasPrefix(f, "schemas/") && strings.HasSuffix(f, ".json") {
			paths = append(paths, f)
		}
	}
	slices.Sort(paths)
	return []Requirement{{
		Scope: scopeControl, Paths: slices.Compact(paths), Approvals: repo.Policy.Governance.Approvals,
		Source: "policy governance.approvals", Production: false,
	}}
}
