package evaluate

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// familyFieldOwners requires a change of a manifest field the policy gives
// to field owners to be approved by those owners, whatever the
// environment's own count, and never by the version's registrant: the
// validator is not the trainer.
var familyFieldOwners = RuleFamily{
	Name:        policy.FamilyFieldOwners,
	Needs:       NeedOtherPins | NeedHistory | NeedApprovals,
	Rules:       []Rule{{ID: "field-owners"}},
	stage:       stageChange,
	checkChange: (*evaluation).checkFieldOwners,
}

// ReasonRegistrant is why a review does not count for a field owner rule:
// the reviewer registered the version.
const ReasonRegistrant = "registrant"

// checkFieldOwners judges every changed manifest against each field owner
// rule whose fields it changes.
func (e *evaluation) checkFieldOwners() {
	if len(e.pol.FieldOwners) == 0 {
		return
	}
	var reviewers []*reviewer
	for _, f := range e.files {
		if f.kind == "" || f.kind == KindDecommission || f.head == nil || f.head.Manifest == nil {
			continue
		}
		changed := changedFields(e.reference(f), f.head.Manifest)
		if len(changed) == 0 {
			continue
		}
		if reviewers == nil {
			reviewers = e.reviewers()
		}
		registrants := e.registrants(f.model, f.head.Manifest.Version)
		for i := range e.pol.FieldOwners {
			rule := &e.pol.FieldOwners[i]
			owned := slices.DeleteFunc(slices.Clone(changed), func(field string) bool { return !rule.Covers(field) })
			if len(owned) > 0 {
				e.fieldOwnerRule(f, rule, owned, reviewers, registrants)
			}
		}
	}
}

// reference returns the manifest a changed manifest's fields are compared
// with: the base version for an edit, the earlier pin for a rollback, and
// for a promotion the same version as the base pins it (in the source
// environment when it is there). A version pinned nowhere before has none:
// every field it sets is new.
func (e *evaluation) reference(f *gatedFile) *manifest.Manifest {
	version := f.head.Manifest.Version
	switch f.kind {
	case KindEdit:
		return f.base.Manifest
	case KindRollback:
		if p := e.earlierPin(f.path, version); p != nil {
			return p.Manifest
		}
	}
	docs := e.pins[pinKey{f.model, version}]
	if env, ok := e.pol.Environment(f.env); ok && env.From != "" {
		source := manifest.Path(env.From, f.model)
		if i := slices.IndexFunc(docs, func(d *manifest.Document) bool { return d.Path == source }); i >= 0 {
			return docs[i].Manifest
		}
	}
	if len(docs) > 0 {
		return docs[0].Manifest
	}
	return nil
}

// changedFields lists the dotted paths of the leaf fields that differ
// between two manifests, sorted; a nil before means every field is new.
func changedFields(before, after *manifest.Manifest) []string {
	a, b := map[string]any{}, map[string]any{}
	flatten("", asTree(before), a)
	flatten("", asTree(after), b)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(union(a, b))) {
		if !reflect.DeepEqual(a[k], b[k]) {
			out = append(out, k)
		}
	}
	return out
}

// asTree returns a manifest as plain JSON values, nil for nil.
func asTree(m *manifest.Manifest) any {
	if m == nil {
		return nil
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	var v any
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	return v
}

// flatten records the leaves of v by dotted path; a list is one leaf.
func flatten(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok {
		if v != nil && prefix != "" {
			out[prefix] = v
		}
		return
	}
	for k, x := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		flatten(p, x, out)
	}
}

func union(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// registrants maps the lower-case logins of the registrant of a version to
// why they are one, such as "author of commit 1a2b3c4".
func (e *evaluation) registrants(model, version string) map[string]string {
	out := map[string]string{}
	for _, r := range e.in.Registrations {
		if r.Model != model || r.Version != version {
			continue
		}
		short := r.Commit[:min(7, len(r.Commit))]
		a, c := strings.ToLower(r.Author.Login), strings.ToLower(r.Committer.Login)
		switch {
		case a != "" && a == c:
			out[a] = "author and committer of commit " + short
		default:
			if a != "" {
				out[a] = "author of commit " + short
			}
			if c != "" {
				out[c] = "committer of commit " + short
			}
		}
	}
	return out
}

// fieldOwnerRule counts the approvals of one field owner rule for the owned
// fields a file changes.
func (e *evaluation) fieldOwnerRule(f *gatedFile, rule *policy.FieldOwners, owned []string, reviewers []*reviewer, registrants map[string]string) {
	members, unresolvable := e.fieldOwnerMembers(rule.Owners)
	version := f.head.Manifest.Version
	var approvers, blockers, ignored []string
	for _, r := range reviewers {
		if !members[r.key] {
			continue // not an owner: says nothing about these fields
		}
		reason := r.ineligible
		if why, ok := registrants[r.key]; ok && reason == "" {
			reason = fmt.Sprintf("%s of %s %s (%s)", ReasonRegistrant, f.model, version, why)
		}
		if reason == "" {
			switch {
			case r.state == ChangesRequested:
				blockers = append(blockers, "@"+r.login)
				continue
			case r.state == Dismissed:
				reason = ReasonDismissed
			case !r.current:
				reason = ReasonStaleCommit
			default:
				approvers = append(approvers, "@"+r.login)
				continue
			}
		}
		ignored = append(ignored, "@"+r.login+": "+reason)
	}
	fields := joinAnd(owned)
	owners := joinOr(rule.Owners)
	var b strings.Builder
	status := StatusPass
	switch missing := rule.Approvals - len(approvers); {
	case len(blockers) > 0:
		status = StatusFail
		fmt.Fprintf(&b, "%s requested changes to %s of %s (owned by %s)", joinAnd(blockers), fields, f.path, owners)
	case missing > 0:
		status = StatusFail
		fmt.Fprintf(&b, "%s changes %s, owned by %s: needs %d more %s from them", f.path, fields, owners, missing, plural(missing, "approval", "approvals"))
	default:
		fmt.Fprintf(&b, "%d/%d field owner approvals for %s of %s from %s", len(approvers), rule.Approvals, fields, f.path, owners)
	}
	var details []string
	if len(approvers) > 0 {
		details = append(details, "approved by "+strings.Join(approvers, ", "))
	}
	if len(unresolvable) > 0 {
		details = append(details, "members unknown: "+strings.Join(unresolvable, ", "))
	}
	if len(ignored) > 0 {
		details = append(details, "ignored "+strings.Join(ignored, ", "))
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, "; ") + ")")
	}
	e.add(f, policy.FamilyFieldOwners, "field-owners", status, b.String(), strings.Split(owned[0], ".")...)
}

// fieldOwnerMembers expands the owners of a field owner rule into the
// lower-case logins that may count, and the teams whose members are
// unknown.
func (e *evaluation) fieldOwnerMembers(owners []string) (map[string]bool, []string) {
	members := map[string]bool{}
	var unresolvable []string
	for _, o := range owners {
		name := strings.ToLower(strings.TrimPrefix(o, "@"))
		if !strings.Contains(name, "/") {
			members[name] = true
			continue
		}
		logins, ok := e.in.Teams[name]
		if !ok {
			unresolvable = append(unresolvable, o)
			continue
		}
		for _, l := range logins {
			members[strings.ToLower(l)] = true
		}
	}
	return members, unresolvable
}

// FieldOwnerTeams returns the teams ("org/slug", lower case) of the
// policy's field owners, whose members an evaluation of in may count, so
// that an adapter resolves them besides the CODEOWNERS teams of OwnedPaths.
func FieldOwnerTeams(in *Input) []string {
	if in.Policy == nil {
		return nil
	}
	var out []string
	for _, rule := range in.Policy.FieldOwners {
		for _, o := range rule.Owners {
			name := strings.ToLower(strings.TrimPrefix(o, "@"))
			if strings.Contains(name, "/") && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}
