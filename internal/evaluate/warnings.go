package evaluate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/policy"
)

// maxOwnersWarnings bounds how many CODEOWNERS problems are reported one by
// one; the rest are counted.
const maxOwnersWarnings = 10

// GitHubNoReply is the committer email of commits made through GitHub's web
// interface (the web-flow committer): it is GitHub itself, not a person who
// could approve. Anybody can write it as an author's email, so only as the
// committer is it exempt from the unattributed-identity warning.
const GitHubNoReply = "noreply@github.com"

// identityWarnings reports commit identities that could not be mapped to a
// GitHub login: their owner could approve the change without being
// recognised as its author, committer or co-author. An author or co-author
// whose email is exactly GitHubNoReply is reported whatever login it was
// mapped to, since the address names nobody.
func (e *evaluation) identityWarnings() {
	seen := map[string]bool{}
	var unmapped []string
	note := func(id Identity, role, sha string) {
		gitHub := strings.EqualFold(strings.TrimSpace(id.Email), GitHubNoReply)
		switch {
		case id.Name == "" && id.Email == "":
			return
		case gitHub && role == "committer":
			return
		case id.Login != "" && !gitHub:
			return
		}
		key := strings.ToLower(id.Email) + "\x00" + id.Name
		if seen[key] {
			return
		}
		seen[key] = true
		unmapped = append(unmapped, fmt.Sprintf("%s <%s> (%s of %s)", id.Name, id.Email, role, shortSHA(sha)))
	}
	for _, c := range e.in.Commits {
		note(c.Author, "author", c.SHA)
		note(c.Committer, "committer", c.SHA)
		for _, co := range c.CoAuthors {
			note(co, "co-author", c.SHA)
		}
	}
	if len(unmapped) == 0 {
		return
	}
	slices.Sort(unmapped)
	e.add(nil, policy.FamilyApprovals, "unmapped-identity", StatusWarn, fmt.Sprintf(
		"commit identities without a GitHub login cannot be excluded from approving: %s", strings.Join(unmapped, ", ")))
}

// ownersWarnings reports the problems found in the base CODEOWNERS file.
func (e *evaluation) ownersWarnings() {
	path := cmp.Or(e.in.OwnersPath, "CODEOWNERS")
	for i, w := range e.in.OwnersWarnings {
		if i == maxOwnersWarnings {
			e.rules = append(e.rules, applyMode(RuleResult{
				ID: "codeowners", Family: policy.FamilyApprovals, Status: StatusWarn, Mode: e.pol.Mode(policy.FamilyApprovals), File: path,
				Message: fmt.Sprintf("%d more problems in %s", len(e.in.OwnersWarnings)-maxOwnersWarnings, path),
			}))
			return
		}
		e.rules = append(e.rules, applyMode(RuleResult{
			ID: "codeowners", Family: policy.FamilyApprovals, Status: StatusWarn, Mode: e.pol.Mode(policy.FamilyApprovals),
			File: path, Line: w.Line, Column: w.Column, Message: w.Message,
		}))
	}
}

// shortSHA abbreviates a commit id for messages.
func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
