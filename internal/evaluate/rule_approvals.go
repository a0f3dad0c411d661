package evaluate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/policy"
)

// familyApprovals requires each gated file to be approved by its owners in
// CODEOWNERS, with the governance count where the policy's owners must
// approve too, and reports what makes owners or identities unknown.
var familyApprovals = RuleFamily{
	Name:        policy.FamilyApprovals,
	Needs:       NeedApprovals,
	Rules:       []Rule{{ID: "approvals"}, {ID: "unresolvable-owner"}, {ID: "unmapped-identity"}, {ID: "codeowners"}},
	stage:       stageChange,
	checkChange: (*evaluation).checkApprovals,
}

// checkApprovals computes the approvals of every gated file. Reviews are
// folded into one effective state per user and the owners of each
// CODEOWNERS line are expanded once, so the work per file is one map lookup
// per reviewer.
//
// A file needing no approvals (an environment with approvals: 0) passes even
// when it is unowned; an eligible owner's latest CHANGES_REQUESTED still
// blocks it. A file needing approvals with no owners fails closed.
func (e *evaluation) checkApprovals() {
	st := &approvalState{reviewers: e.reviewers(), sets: map[int]*ownerSet{}}
	for _, f := range e.files {
		a := e.fileApproval(st, f)
		e.res.Approvals = append(e.res.Approvals, a)
		e.approvalRule(f, a)
	}
	e.identityWarnings()
	e.ownersWarnings()
}

// requirement is what one file needs: count approvals from the owners of
// ownersOf, and, when governance is not empty, the governance count from
// the owners of the policy file as well.
type requirement struct {
	count      int
	basis, env string
	ownersOf   string
	governance string
}

// required returns the approval requirement of a file.
func (e *evaluation) required(f *gatedFile) requirement {
	gov := e.pol.Governance.Approvals
	r := requirement{count: gov, basis: "governance", ownersOf: f.path}
	env, declared := e.pol.Environment(f.env)
	env = e.tierEnvironment(f.model, env)
	switch {
	case f.control:
	case !declared && f.layout != "":
		// A folder above a gated path, or a folder of environments/, is
		// no one file's: the policy's owners decide.
		r.ownersOf = policy.Path
	case !declared:
	default:
		r.count, r.basis, r.env = env.Approvals, "environment", env.Name
		if f.freezeOverride {
			r.basis, r.governance = "freeze-override", GovernanceFreezeOverride
		} else if f.metricException {
			r.basis, r.governance = "metric-exception", GovernanceMetricException
		} else if f.layout != "" {
			r.governance = GovernanceLayout
		}
	}
	return r
}

// owners returns the owner set of the CODEOWNERS rule matching p, with its
// line, or nil when none matches or the matching rule names no owner.
func (e *evaluation) owners(st *approvalState, p string) (*ownerSet, int) {
	if e.in.Owners == nil {
		return nil, 0
	}
	rule, ok := e.in.Owners.Match(p)
	if !ok {
		return nil, 0
	}
	if len(rule.Owners) == 0 {
		return nil, rule.Line
	}
	return e.ownerSet(st, rule), rule.Line
}

// fileApproval counts the approvals of one file.
func (e *evaluation) fileApproval(st *approvalState, f *gatedFile) FileApproval {
	a := FileApproval{File: f.path, Owners: []string{}, Approvers: []string{}, Layout: f.layout}
	req := e.required(f)
	a.Required, a.Basis, a.Environment = req.count, req.basis, req.env
	if req.ownersOf != f.path {
		a.OwnersOf = req.ownersOf
	}
	set, line := e.owners(st, req.ownersOf)
	a.OwnersLine = line
	if set != nil {
		a.Owners = set.owners
		a.Unresolvable = set.unresolvable
	}
	var gov *ownerSet
	if req.governance != "" {
		g := &GovernanceApproval{Reason: req.governance, OwnersOf: policy.Path, Required: e.pol.Governance.Approvals, Owners: []string{}, Approvers: []string{}}
		gov, g.OwnersLine = e.owners(st, policy.Path)
		if gov != nil {
			g.Owners = gov.owners
			g.Unresolvable = gov.unresolvable
		}
		a.Governance = g
	}
	a.Ignored = make([]IgnoredReview, 0, len(st.reviewers))
	for _, r := range st.reviewers {
		owner := set != nil && set.members[r.key]
		governs := gov != nil && gov.members[r.key]
		reason := r.ineligible
		if reason == "" && !owner && !governs {
			reason = ReasonNotOwner
		}
		if reason == "" {
			switch {
			case r.state == ChangesRequested:
				reason = ReasonChangesRequested
				a.ChangesRequested = append(a.ChangesRequested, r.login)
			case r.state == Dismissed:
				reason = ReasonDismissed
			case !r.current:
				reason = ReasonStaleCommit
			default:
				if owner {
					a.Approvers = append(a.Approvers, r.login)
				}
				if governs {
					a.Governance.Approvers = append(a.Governance.Approvers, r.login)
				}
				continue
			}
		}
		a.Ignored = append(a.Ignored, IgnoredReview{Login: r.login, Reason: reason})
	}
	if len(a.Ignored) == 0 {
		a.Ignored = nil
	}
	a.Missing = max(0, a.Required-len(a.Approvers))
	if g := a.Governance; g != nil {
		g.Missing = max(0, g.Required-len(g.Approvers))
	}
	return a
}

// approvalRule records the approvals outcome of a file as a rule.
func (e *evaluation) approvalRule(f *gatedFile, a FileApproval) {
	var b strings.Builder
	g := a.Governance
	switch {
	case len(a.ChangesRequested) > 0:
		b.WriteString(changesRequestedTitle(a))
	case a.Missing > 0 && len(a.Owners) == 0:
		fmt.Fprintf(&b, "%s has no owners in %s; %d %s needed, so the change fails closed",
			cmp.Or(a.OwnersOf, a.File), e.ownersSource(), a.Required, plural(a.Required, "approval is", "approvals are"))
	case a.Missing > 0:
		b.WriteString(missingTitle(a))
	case g != nil && g.Missing > 0 && len(g.Owners) == 0:
		fmt.Fprintf(&b, "%s has no owners in %s; %d governance %s needed for %s, so the change fails closed",
			g.OwnersOf, e.ownersSource(), g.Required, plural(g.Required, "approval is", "approvals are"), a.File)
	case g != nil && g.Missing > 0:
		b.WriteString(governanceTitle(a))
	case a.Required == 0 && len(a.Owners) == 0:
		fmt.Fprintf(&b, "no approvals needed for %s (it has no owners in %s)", a.File, e.ownersSource())
	case a.Required == 0:
		fmt.Fprintf(&b, "no approvals needed for %s", a.File)
	case a.OwnersOf != "":
		fmt.Fprintf(&b, "%d/%d approvals from owners of %s for %s", len(a.Approvers), a.Required, a.OwnersOf, a.File)
	default:
		fmt.Fprintf(&b, "%d/%d approvals from owners of %s", len(a.Approvers), a.Required, a.File)
	}
	var details []string
	if a.Layout != "" && g == nil {
		details = append(details, a.Layout+": governance approvals")
	}
	if len(a.Owners) > 0 && (a.Required > 0 || len(a.Approvers) > 0) {
		details = append(details, fmt.Sprintf("%d/%d counted", len(a.Approvers), a.Required))
		if len(a.Approvers) > 0 {
			details = append(details, "approved by "+strings.Join(at(a.Approvers), ", "))
		}
	}
	if f.control {
		details = append(details, "control file: governance approvals, evaluated with the base version")
	}
	if g != nil {
		why := "freeze override"
		if g.Reason == GovernanceMetricException {
			why = "metric gate exception"
		}
		if g.Reason == GovernanceLayout {
			why = a.Layout
		}
		d := fmt.Sprintf("%s: also %d/%d governance approvals from owners of %s", why, len(g.Approvers), g.Required, g.OwnersOf)
		if len(g.Approvers) > 0 {
			d += ", by " + strings.Join(at(g.Approvers), ", ")
		}
		details = append(details, d)
	}
	if len(a.Ignored) > 0 {
		details = append(details, ignoredSummary(a.Ignored))
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, "; ") + ")")
	}
	status := StatusPass
	if !a.Satisfied() {
		status = StatusFail
	}
	e.add(f, policy.FamilyApprovals, "approvals", status, b.String())
	unresolvable := slices.Clone(a.Unresolvable)
	if g != nil {
		for _, o := range g.Unresolvable {
			if !slices.Contains(unresolvable, o) {
				unresolvable = append(unresolvable, o)
			}
		}
	}
	if len(unresolvable) > 0 {
		why := make([]string, len(unresolvable))
		for i, o := range unresolvable {
			if strings.HasPrefix(o, "@") {
				why[i] = o + " (team membership unknown)"
			} else {
				why[i] = o + " (an email owner cannot be resolved to a login)"
			}
		}
		e.add(f, policy.FamilyApprovals, "unresolvable-owner", StatusWarn, fmt.Sprintf(
			"owners of %s that can never count: %s", f.path, strings.Join(why, ", ")))
	}
}
