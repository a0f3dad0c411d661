package evaluate

import (
	"fmt"
	"slices"

	"github.com/example-org/promobot/internal/policy"
)

// Need names a part of the world a rule family reads besides the changed
// file and the policy.
type Need uint

// The needs of a rule family.
const (
	// NeedManifest is the decoded head manifest: a file that does not decode
	// fails the family closed.
	NeedManifest Need = 1 << iota
	// NeedOtherPins is the pins of the other environments and of the other
	// models of the tree.
	NeedOtherPins
	// NeedHistory is the pins of the file along the branch's history.
	NeedHistory
	// NeedStorage is the artifact's bytes, read by the caller.
	NeedStorage
	// NeedApprovals is the reviews, CODEOWNERS, team members and
	// permissions of a pull request.
	NeedApprovals
	// NeedLabels is the labels of a pull request.
	NeedLabels
	// NeedClock is the time of the evaluation.
	NeedClock
)

var needNames = []string{"manifest", "other pins", "history", "storage", "approvals", "labels", "clock"}

// String lists the needs, such as "manifest, history".
func (n Need) String() string {
	var out []string
	for i, name := range needNames {
		if n&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return joinAnd(out)
}

// Rule is one rule ID a family reports, and whether it applies to a pin.
type Rule struct {
	// ID is the rule's ID in results, such as "signature".
	ID string
	// Pin is true when the rule can be judged from one tree, so that
	// Deployed applies it; false when it judges only a change (its order,
	// its approvals, its freeze window, or the artifact's bytes, which are
	// the caller's to read).
	Pin bool
}

// stage says when in an evaluation a family's check runs. Within a stage,
// families run in table order.
type stage int

const (
	// stagePath judges a manifest's path.
	stagePath stage = iota + 1
	// stageDocument judges a manifest's contents against the schemas; a
	// family in it may end the file's checks.
	stageDocument
	// stagePins compares a decoded manifest with other pins.
	stagePins
	// stageRequirements applies the requirements of the manifest's declared
	// environment; in an undeclared one every family in it is skipped.
	stageRequirements
	// stageArtifact judges the manifest's artifact.
	stageArtifact
	// stageTree judges every gated file once all manifests are checked.
	stageTree
	// stageChange judges the change as a whole.
	stageChange
)

// RuleFamily is one row of the rule table: a group of rules that share a
// policy mode, declared in its own file (rule_<name>.go).
type RuleFamily struct {
	// Name is the family's key under the policy's rules.
	Name policy.Family
	// Needs is what the family reads besides the file and the policy.
	Needs Need
	// Rules are the rule IDs the family reports.
	Rules []Rule

	stage stage
	// check judges one gated file; checkChange, for stageChange, the
	// whole change.
	check       func(e *evaluation, c *fileCheck)
	checkChange func(e *evaluation)
}

// AppliesToPin reports whether some rule of the family applies to a pin.
func (f *RuleFamily) AppliesToPin() bool {
	return slices.ContainsFunc(f.Rules, func(r Rule) bool { return r.Pin })
}

// table lists the rule families in report order: the order of the summary's
// rule rows, of the policy's rules keys and of results within a file.
var table = []*RuleFamily{
	&familySchema, &familyEnvironment, &familyOrder, &familyImmutability, &familyValidation, &familyTicket,
	&familyLocation, &familyLineage, &familyBundles, &familyFreeze, &familyArtifacts,
	&familyEvidence, &familyRollbackReady, &familySBOM,
	&familyApprovals, &familyFieldOwners, &familyTiers, &familyMetrics, &familyRationale,
}

// RuleFamilies returns the rule table in report order.
func RuleFamilies() []RuleFamily {
	out := make([]RuleFamily, len(table))
	for i, f := range table {
		out[i] = *f
		out[i].Rules = slices.Clone(f.Rules)
	}
	return out
}

// Families returns the names of the rule families in report order: the
// keys the policy's rules section accepts.
func Families() []policy.Family {
	out := make([]policy.Family, len(table))
	for i, f := range table {
		out[i] = f.Name
	}
	return out
}

// DeployedRules are the rule IDs Deployed applies: every rule of the table
// that can be judged from one tree.
var DeployedRules = pinRules()

func pinRules() []string {
	var out []string
	for _, f := range table {
		for _, r := range f.Rules {
			if r.Pin {
				out = append(out, r.ID)
			}
		}
	}
	return out
}

// reportPosition returns the position of a family in report order.
func reportPosition(f policy.Family) int {
	if f == FamilyPolicy {
		return -1
	}
	if i := slices.IndexFunc(table, func(x *RuleFamily) bool { return x.Name == f }); i >= 0 {
		return i
	}
	return len(table)
}

// fileCheck is what the checks of one gated file share.
type fileCheck struct {
	f *gatedFile
	// env is the file's environment in the policy, when declared.
	env      *policy.Environment
	declared bool
	// rollback is the earlier pin a rollback returns to.
	rollback *Pin
	// done is set by a family of stageDocument when nothing else can be
	// judged of the file.
	done bool
}

func (e *evaluation) fileCheck(f *gatedFile) *fileCheck {
	env, declared := e.pol.Environment(f.env)
	return &fileCheck{f: f, env: e.tierEnvironment(f.model, env), declared: declared}
}

// runStage runs the checks of the families of stage s on one file, in table
// order. Deployed runs only the families that apply to a pin.
func (e *evaluation) runStage(s stage, c *fileCheck) {
	for _, fam := range table {
		if fam.stage != s || e.pin && !fam.AppliesToPin() {
			continue
		}
		if s == stageRequirements && !c.declared {
			e.add(c.f, fam.Name, string(fam.Name), StatusSkip, fmt.Sprintf("environment %q is not declared, so its %s requirement is unknown", c.f.env, fam.Name))
			continue
		}
		fam.check(e, c)
	}
}

// runChange runs the checks of the families that judge the whole change.
func (e *evaluation) runChange() {
	for _, fam := range table {
		if fam.stage == stageChange {
			fam.checkChange(e)
		}
	}
}

// failClosed fails every family that needs a decoded manifest, for a file
// that has none; why says what the file is instead.
func (e *evaluation) failClosed(f *gatedFile, why func(fam policy.Family) string) {
	for _, fam := range table {
		if fam.Needs&NeedManifest != 0 {
			e.add(f, fam.Name, string(fam.Name), StatusFail, why(fam.Name))
		}
	}
}
