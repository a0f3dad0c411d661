package evaluate

import (
	"fmt"
	"maps"
	"slices"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// Deployed applies to the manifest at path, as a tree pins it, the rules
// Evaluate would apply to it, restricted to DeployedRules (the rules the
// rule table marks as applying to a pin), with the same rule code and the
// policy's modes. It is what a consumer of the tree (a
// scoring job resolving the model it loads) asks before trusting a
// manifest that may have reached the branch without review.
//
// in.Policy is the tree's policy; in.Base holds every manifest of the tree,
// path's included; in.History holds the pins of path and of its bundle
// partners along the tree's history. Immutability compares path's manifest
// with every other pin of its version in the tree. A bundle passes when
// every other model of it is pinned in the environment by the commit that
// pinned path's version; without history for path it is skipped. The other
// fields of in are not read.
//
// The result's Rules hold only DeployedRules outcomes; Verdict is
// VerdictFail when one of them fails under its family's mode. Approvals and
// Promotions are empty.
func Deployed(in *Input, path string) *Result {
	res := &Result{Rules: []RuleResult{}, Approvals: []FileApproval{}, Promotions: []Promotion{}}
	doc := in.Base[path]
	x := *in
	x.Base = maps.Clone(in.Base)
	delete(x.Base, path)
	x.Head = map[string]*manifest.Document{path: doc}
	x.Changes = []Change{{Path: path, Status: Added}}
	e := &evaluation{in: &x, pol: in.Policy, moving: map[string]map[string]bool{}, res: res, pin: true}
	e.collect()
	if e.pol == nil {
		e.brokenPolicy()
		return e.res
	}
	if len(e.files) != 1 {
		// Not a path under environments/: nothing the rules know.
		e.rules = append(e.rules, RuleResult{ID: "schema", Family: policy.FamilySchema, Status: StatusFail, Mode: policy.Enforce, File: path,
			Message: fmt.Sprintf("%s is not a manifest path (environments/<environment>/<model>.yaml)", path)})
		e.res.Rules = e.rules
		return e.res
	}
	f := e.files[0]
	e.indexPins()
	if doc == nil {
		e.add(f, policy.FamilySchema, "schema", StatusFail, fmt.Sprintf("no manifest at %s", path))
	} else {
		e.checkManifest(f)
		e.runStage(stageTree, e.fileCheck(f))
	}
	e.rules = slices.DeleteFunc(e.rules, func(r RuleResult) bool { return !slices.Contains(DeployedRules, r.ID) })
	e.res.Promotions = []Promotion{}
	e.finish()
	if e.res.Verdict == VerdictPass {
		e.res.Title = "every rule judged from the tree passes"
	}
	return e.res
}
