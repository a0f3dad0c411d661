package evaluate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/manifest"
)

// maxListed bounds how many ignored reviews a rule message names one by
// one; FileApproval.Ignored always lists them all.
const maxListed = 5

// ignoredSummary describes the ignored reviews of a file in a rule message:
// reviews by owners first, since they are the surprising ones, then
// non-owners, with long lists shortened to a count.
func ignoredSummary(ignored []IgnoredReview) string {
	nonOwners := 0
	for _, r := range ignored {
		if r.Reason == ReasonNotOwner {
			nonOwners++
		}
	}
	var owners, others []string
	for _, r := range ignored {
		switch {
		case r.Reason != ReasonNotOwner:
			owners = append(owners, "@"+r.Login+": "+r.Reason)
		case nonOwners <= maxListed:
			others = append(others, "@"+r.Login)
		}
	}
	var parts []string
	if len(owners) > maxListed {
		parts = append(parts, strings.Join(owners[:maxListed], ", "), fmt.Sprintf("%d more", len(owners)-maxListed))
	} else if len(owners) > 0 {
		parts = append(parts, strings.Join(owners, ", "))
	}
	switch {
	case nonOwners > maxListed:
		parts = append(parts, fmt.Sprintf("%d reviewers who are not owners", nonOwners))
	case nonOwners > 0:
		parts = append(parts, strings.Join(others, ", ")+": "+ReasonNotOwner)
	}
	return "ignored " + strings.Join(parts, ", ")
}

// ownersSource names the CODEOWNERS file for messages.
func (e *evaluation) ownersSource() string {
	if e.in.Owners == nil {
		return "CODEOWNERS (the base branch has none)"
	}
	return cmp.Or(e.in.OwnersPath, "CODEOWNERS")
}

func at(logins []string) []string {
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = "@" + l
	}
	return out
}

// changesRequestedTitle says who blocks a file.
func changesRequestedTitle(a FileApproval) string {
	return fmt.Sprintf("%s requested changes to %s", joinAnd(at(a.ChangesRequested)), a.File)
}

// missingTitle says what a file lacks.
func missingTitle(a FileApproval) string {
	return layoutPrefix(a) + missingPhrase(a) + " for " + a.File
}

// layoutPrefix names a layout change at the start of a title.
func layoutPrefix(a FileApproval) string {
	if a.Layout == "" {
		return ""
	}
	return a.Layout + ": "
}

func missingPhrase(a FileApproval) string {
	n := fmt.Sprintf("%d more %s", a.Missing, plural(a.Missing, "approval", "approvals"))
	resolvable := slices.DeleteFunc(slices.Clone(a.Owners), func(o string) bool { return slices.Contains(a.Unresolvable, o) })
	if len(resolvable) == 0 {
		return "needs " + n + ", but none of its owners can be resolved"
	}
	return "needs " + n + " from " + joinOr(resolvable)
}

// governanceTitle says which governance approvals a file lacks and why.
func governanceTitle(a FileApproval) string {
	why, phrase := governancePhrase(a)
	return why + ": " + phrase + " for " + a.File
}

// governancePhrase says why a file needs governance approvals and what it
// lacks.
func governancePhrase(a FileApproval) (why, phrase string) {
	g := a.Governance
	why = "the freeze of " + a.Environment + " is overridden"
	if g.Reason == GovernanceMetricException {
		why = "metric gates of " + a.Environment + " are overridden"
	}
	if g.Reason == GovernanceLayout {
		why = a.Layout
	}
	n := fmt.Sprintf("%d more governance %s", g.Missing, plural(g.Missing, "approval", "approvals"))
	resolvable := slices.DeleteFunc(slices.Clone(g.Owners), func(o string) bool { return slices.Contains(g.Unresolvable, o) })
	if len(resolvable) == 0 {
		return why, "needs " + n + ", but none of the owners of " + g.OwnersOf + " can be resolved"
	}
	return why, "needs " + n + " from " + joinOr(resolvable) + " (owners of " + g.OwnersOf + ")"
}

// approvalTitles summarises the files that lack approvals, grouping files
// that need the same from the same owners.
func approvalTitles(approvals []FileApproval) []string {
	var out []string
	type group struct {
		phrase string
		files  []string
	}
	var groups []*group
	for _, a := range approvals {
		switch {
		case len(a.ChangesRequested) > 0:
			out = append(out, changesRequestedTitle(a))
		case a.Missing > 0 && len(a.Owners) == 0:
			out = append(out, fmt.Sprintf("%s%s has no owners", layoutPrefix(a), cmp.Or(a.OwnersOf, a.File)))
		case a.Missing > 0 && a.Layout != "":
			out = append(out, missingTitle(a))
		case a.Missing > 0:
			p := missingPhrase(a)
			i := slices.IndexFunc(groups, func(g *group) bool { return g.phrase == p })
			if i < 0 {
				groups = append(groups, &group{phrase: p})
				i = len(groups) - 1
			}
			groups[i].files = append(groups[i].files, a.File)
		}
		if g := a.Governance; g != nil && g.Missing > 0 && len(a.ChangesRequested) == 0 {
			if len(g.Owners) == 0 {
				out = append(out, fmt.Sprintf("%s has no owners, so %s cannot get governance approvals", g.OwnersOf, a.File))
				continue
			}
			why, phrase := governancePhrase(a)
			p := why + ": " + phrase
			i := slices.IndexFunc(groups, func(g *group) bool { return g.phrase == p })
			if i < 0 {
				groups = append(groups, &group{phrase: p})
				i = len(groups) - 1
			}
			groups[i].files = append(groups[i].files, a.File)
		}
	}
	for _, g := range groups {
		out = append(out, g.phrase+" for "+filesPhrase(g.files))
	}
	return out
}

// filesPhrase names the files of a title: one file by its path; manifests of
// one environment (a bundle) by their model names, so that the title stays
// short; other files by the first path and a count.
func filesPhrase(files []string) string {
	if len(files) == 1 {
		return files[0]
	}
	var env string
	var models []string
	for _, f := range files {
		e, m, ok := manifestOf(f)
		if !ok || env != "" && e != env {
			models = nil
			break
		}
		env = e
		models = append(models, m)
	}
	if models != nil {
		return joinAnd(models) + " in " + env
	}
	if len(files) == 2 {
		return files[0] + " and " + files[1]
	}
	return files[0] + fmt.Sprintf(" and %d other files", len(files)-1)
}

// manifestOf splits a manifest path, environments/ENV/MODEL.yaml, into its
// environment and model.
func manifestOf(file string) (env, model string, ok bool) {
	rest, ok := strings.CutPrefix(file, manifest.Root+"/")
	if !ok {
		return "", "", false
	}
	env, name, ok := strings.Cut(rest, "/")
	model, yaml := strings.CutSuffix(name, ".yaml")
	if !ok || !yaml || env == "" || model == "" || strings.Contains(model, "/") {
		return "", "", false
	}
	return env, model, true
}

// joinAnd joins items as "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
