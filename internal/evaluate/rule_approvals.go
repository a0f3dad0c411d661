package evaluate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/manifest"
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

// reviewer is one user's effective review state.
type reviewer struct {
	// login is as GitHub reported it on the user's latest review; key is
	// its lower-case form.
	login, key string
	// state is the latest APPROVED, CHANGES_REQUESTED or DISMISSED review;
	// a later COMMENTED review leaves it as it was.
	state ReviewState
	// current is true when the review that set state was submitted on the
	// head commit.
	current bool
	// ineligible is why the user can never count, empty when eligible.
	ineligible string
}

// ownerSet is the expansion of one CODEOWNERS rule, computed once per rule.
type ownerSet struct {
	owners []string
	// members are the lower-case logins that may count as owners.
	members map[string]bool
	// unresolvable are the owners, as written, whose members are unknown.
	unresolvable []string
}

// approvalState is precomputed once per evaluation, so that the per-file work
// is a map lookup per reviewer.
type approvalState struct {
	reviewers []*reviewer
	sets      map[int]*ownerSet // by CODEOWNERS line
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

// ineligibility maps lower-case logins to the reason they can never count:
// the pull request's author and every author, committer and co-author of its
// commits. The first reason found in that order wins.
func (e *evaluation) ineligibility() map[string]string {
	out := map[string]string{}
	set := func(login, reason string) {
		if k := strings.ToLower(login); k != "" {
			if _, ok := out[k]; !ok {
				out[k] = reason
			}
		}
	}
	set(e.in.PullRequest.Author, ReasonAuthor)
	for _, c := range e.in.Commits {
		set(c.Author.Login, ReasonAuthor)
	}
	for _, c := range e.in.Commits {
		set(c.Committer.Login, ReasonCommitter)
	}
	for _, c := range e.in.Commits {
		for _, co := range c.CoAuthors {
			set(co.Login, ReasonCoAuthor)
		}
	}
	return out
}

// reviewers folds the reviews into each user's effective state, sorted by
// lower-case login.
func (e *evaluation) reviewers() []*reviewer {
	excluded := e.ineligibility()
	head := strings.ToLower(e.in.PullRequest.HeadSHA)
	byKey := map[string]*reviewer{}
	for _, rv := range e.in.Reviews {
		k := strings.ToLower(rv.User)
		if k == "" {
			continue
		}
		r := byKey[k]
		if r == nil {
			r = &reviewer{login: rv.User, key: k}
			byKey[k] = r
		}
		switch rv.State {
		case Approved, ChangesRequested, Dismissed:
			r.login, r.state = rv.User, rv.State
			r.current = head != "" && strings.ToLower(rv.CommitID) == head
		}
	}
	out := make([]*reviewer, 0, len(byKey))
	for k, r := range byKey {
		if r.state == "" {
			continue // only comments
		}
		switch reason, ok := excluded[k]; {
		case ok:
			r.ineligible = reason
		case strings.HasSuffix(k, "[bot]"):
			r.ineligible = ReasonBot
		case e.in.WritePermission != nil && !e.in.WritePermission[k]:
			r.ineligible = ReasonNoWriteAccess
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *reviewer) int { return cmp.Compare(a.key, b.key) })
	return out
}

// ownerSet expands the owners of a CODEOWNERS rule.
func (e *evaluation) ownerSet(st *approvalState, rule codeowners.Rule) *ownerSet {
	if s, ok := st.sets[rule.Line]; ok {
		return s
	}
	s := &ownerSet{members: map[string]bool{}}
	for _, o := range rule.Owners {
		s.owners = append(s.owners, o.Value)
		switch o.Kind {
		case codeowners.OwnerUser:
			s.members[o.Name()] = true
		case codeowners.OwnerTeam:
			members, ok := e.in.Teams[o.Name()]
			if !ok {
				s.unresolvable = append(s.unresolvable, o.Value)
				continue
			}
			for _, m := range members {
				s.members[strings.ToLower(m)] = true
			}
		default:
			s.unresolvable = append(s.unresolvable, o.Value)
		}
	}
	st.sets[rule.Line] = s
	return s
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
