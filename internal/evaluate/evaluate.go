package evaluate

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// SchemasDir is the folder of the repository's JSON Schemas, a control
// folder: the base versions are the ones used.
const SchemasDir = "schemas/"

// NoPromotionChanges is the title of a change that touches no gated file.
const NoPromotionChanges = "no promotion changes"

// gatedFile is one changed file that needs the bot's approval.
type gatedFile struct {
	path   string
	status ChangeStatus
	// control is true for CODEOWNERS, the policy, schemas and trusted keys.
	control bool
	// env is the folder under environments/, empty for other files.
	env string
	// model is set when the path has the form environments/<env>/<model>.yaml.
	model string
	// yaml is true for .yaml files under environments/, which must be
	// manifests.
	yaml       bool
	base, head *manifest.Document
	// kind is what the manifest change does; empty for other files.
	kind Kind
	// freezeOverride is set when a freeze window of env is overridden by its
	// label, which adds the governance count from the policy's owners.
	freezeOverride bool
	// metricException is set when failing metric gates of env are
	// overridden by its exception label, which adds the governance count
	// from the policy's owners.
	metricException bool
	// layout describes a change to what a gated path is (layout.go), empty
	// for a change of a regular file's content; layoutProblem says why the
	// head side is a problem, if it is.
	layout, layoutProblem string
	// after is the kind of the head entry.
	after EntryKind
}

// evaluation holds the state of one Evaluate call.
type evaluation struct {
	in    *Input
	pol   *policy.Policy
	files []*gatedFile
	// moving indexes, per environment, the models whose version changes.
	moving map[string]map[string]bool
	// pins indexes base manifests by model and version for immutability, and
	// headPins the changed head manifests.
	pins     map[pinKey][]*manifest.Document
	headPins map[pinKey][]*gatedFile
	rules    []RuleResult
	res      *Result
	// pin is set by Deployed, which judges a pinned manifest rather than a
	// change.
	pin bool
}

type pinKey struct{ model, version string }

// Evaluate applies the base policy and the CODEOWNERS approval rules to a
// change and explains the outcome. It is pure and deterministic: it reads
// only in, which it does not modify, and sorts everything it returns.
//
// Gated files are everything under environments/ and the control files:
// CODEOWNERS in any of GitHub's locations, the policy, schemas/ and the
// trusted signing keys the base policy names, plus the layout changes of
// layout.go (a gated path that becomes, or stops being, a symbolic link or a
// submodule; a change to a folder above a gated path). A change without
// gated files passes. Beyond the rules themselves, Evaluate decides that:
//   - control files, files directly under environments/ and files of an
//     undeclared environment need the governance approval count;
//   - layout changes need the governance count from the owners CODEOWNERS
//     gives to the policy file, besides the environment's count from their
//     own owners inside a declared environment;
//   - other files under environments/<env>/ need env's count and follow its
//     freeze windows, but no manifest rules apply to them;
//   - a freeze override needs both counts: the environment's from the
//     file's owners and the governance count from the policy file's owners
//     (a person counts in both only when CODEOWNERS makes them owner of
//     both);
//   - only version changes (promote, rollback, register, decommission) move a
//     bundle; an edit that keeps the version does not;
//   - a changed manifest that cannot be decoded fails every rule family that
//     needs its content, each in that family's mode;
//   - with permission data, a login missing from it has no write access;
//   - commit identities without a login are reported as a warning, because
//     their owner cannot be excluded from approving.
func Evaluate(in *Input) *Result {
	e := &evaluation{
		in:     in,
		pol:    in.Policy,
		moving: map[string]map[string]bool{},
		res:    &Result{Rules: []RuleResult{}, Approvals: []FileApproval{}, Promotions: []Promotion{}},
	}
	e.collect()
	if len(e.files) == 0 {
		e.res.Verdict = VerdictPass
		e.res.Title = NoPromotionChanges
		return e.res
	}
	if e.pol == nil {
		e.brokenPolicy()
		return e.res
	}
	e.indexPins()
	for _, f := range e.files {
		switch {
		case f.layout != "":
			e.checkLayout(f)
		case f.yaml:
			e.checkManifest(f)
		}
	}
	for _, f := range e.files {
		e.runStage(stageTree, e.fileCheck(f))
	}
	e.runChange()
	e.exceptionApprovers()
	e.finish()
	return e.res
}

// OwnedPaths returns the paths whose CODEOWNERS owners an evaluation of in
// may count, so that an adapter resolves only the teams it needs: every
// gated changed path, and the policy file, whose owners give governance
// approvals, when a layout change or a freeze override label of a changed
// environment may call for them. It reads only the changes, the policy and
// the labels of in, not the clock, so it may name more than an evaluation
// uses, never less.
func OwnedPaths(in *Input) []string {
	e := &evaluation{in: in, pol: in.Policy}
	e.collect()
	var out []string
	governance := false
	for _, f := range e.files {
		out = append(out, f.path)
		governance = governance || f.layout != "" || e.mayOverrideFreeze(f.env) || e.mayOverrideMetrics(f.env)
	}
	if governance && !slices.Contains(out, policy.Path) {
		out = append(out, policy.Path)
	}
	return out
}

// collect selects, deduplicates and sorts the gated files of the change.
func (e *evaluation) collect() {
	seen := map[string]bool{}
	for _, c := range e.in.Changes {
		if seen[c.Path] {
			continue
		}
		seen[c.Path] = true
		f := &gatedFile{path: c.Path, status: c.Status, after: c.After, layout: e.layoutOf(c, e.in.Changes)}
		if f.layout != "" {
			f.layoutProblem = e.layoutProblem(c, f.layout)
		}
		switch {
		case strings.HasPrefix(c.Path, manifest.Root+"/"):
			parts := strings.Split(c.Path, "/")
			if len(parts) >= 3 {
				f.env = parts[1]
			}
			f.yaml = strings.HasSuffix(c.Path, ".yaml") || strings.HasSuffix(c.Path, ".yml")
			if env, model, ok := manifest.EnvironmentAndModel(c.Path); ok {
				f.env, f.model = env, model
			}
			f.base, f.head = e.in.Base[c.Path], e.in.Head[c.Path]
			if c.Status == Removed {
				f.head = nil
			}
		case e.isControl(c.Path):
			f.control = true
		case f.layout != "":
			// A folder above a gated path: its owners are the policy's.
		default:
			continue
		}
		e.files = append(e.files, f)
	}
	slices.SortFunc(e.files, func(a, b *gatedFile) int { return cmp.Compare(a.path, b.path) })
}

// isControl reports whether p is a control file: CODEOWNERS in any of
// GitHub's locations, the policy, the schemas, or a trusted signing key
// named by the base policy.
func (e *evaluation) isControl(p string) bool {
	if p == policy.Path || slices.Contains(codeowners.Locations, p) || strings.HasPrefix(p, SchemasDir) {
		return true
	}
	if e.pol == nil {
		return false
	}
	for _, k := range e.pol.Artifacts.TrustedKeys {
		if path.Clean(strings.TrimPrefix(k, "/")) == p {
			return true
		}
	}
	return false
}

// brokenPolicy fails every gated change closed when the base policy is
// missing or invalid.
func (e *evaluation) brokenPolicy() {
	problems := e.in.PolicyProblems
	if len(problems) == 0 {
		msg := fmt.Sprintf("the base branch has no valid policy %s; every promotion change fails closed", policy.Path)
		e.rules = append(e.rules, RuleResult{ID: "policy", Family: FamilyPolicy, Status: StatusFail, Mode: policy.Enforce, File: policy.Path, Message: msg})
		e.res.Title = msg
	} else {
		for _, p := range problems {
			e.rules = append(e.rules, RuleResult{
				ID: "policy", Family: FamilyPolicy, Status: StatusFail, Mode: policy.Enforce,
				File: cmp.Or(p.File, policy.Path), Line: p.Line, Column: p.Column,
				Message: "the base policy is invalid: " + p.Message,
			})
		}
		e.res.Title = fmt.Sprintf("the base policy %s is invalid (%s); every promotion change fails closed", policy.Path, problems[0].String())
		if len(problems) > 1 {
			e.res.Title = fmt.Sprintf("the base policy %s has %d problems (first: %s); every promotion change fails closed", policy.Path, len(problems), problems[0].String())
		}
	}
	for _, f := range e.files {
		e.rules = append(e.rules, RuleResult{
			ID: "policy", Family: FamilyPolicy, Status: StatusFail, Mode: policy.Enforce, File: f.path,
			Message: fmt.Sprintf("%s cannot be evaluated without a valid base policy", f.path),
		})
	}
	e.res.Rules = e.rules
	e.res.Verdict = VerdictFail
}

// indexPins indexes the base and head manifests by model and version.
func (e *evaluation) indexPins() {
	e.pins = make(map[pinKey][]*manifest.Document, len(e.in.Base))
	for _, d := range e.in.Base {
		if d == nil || d.Manifest == nil || d.Manifest.Model == "" || d.Manifest.Version == "" {
			continue
		}
		k := pinKey{d.Manifest.Model, d.Manifest.Version}
		e.pins[k] = append(e.pins[k], d)
	}
	for _, docs := range e.pins {
		slices.SortFunc(docs, func(a, b *manifest.Document) int { return cmp.Compare(a.Path, b.Path) })
	}
	e.headPins = map[pinKey][]*gatedFile{}
	for _, f := range e.files { // sorted by path
		if f.model != "" && f.head != nil && f.head.Manifest != nil && f.head.Manifest.Model == f.model {
			k := pinKey{f.model, f.head.Manifest.Version}
			e.headPins[k] = append(e.headPins[k], f)
		}
	}
}

// add records a rule outcome, applying the family's mode: a failure in warn
// mode becomes a warning, and everything in an off family is skipped.
func (e *evaluation) add(f *gatedFile, fam policy.Family, id string, raw Status, msg string, field ...string) {
	r := RuleResult{ID: id, Family: fam, Status: raw, Mode: e.pol.Mode(fam), Message: msg}
	if f != nil {
		r.File = f.path
		if len(field) > 0 && f.head != nil {
			r.Line, r.Column = f.head.Position(field...)
		}
	}
	e.rules = append(e.rules, applyMode(r))
}

// applyMode turns a raw outcome into the outcome under the rule's mode.
func applyMode(r RuleResult) RuleResult {
	switch r.Mode {
	case policy.Off:
		r.Status = StatusSkip
	case policy.Warn:
		if r.Status == StatusFail {
			r.Status = StatusWarn
		}
	}
	return r
}

// finish sorts the outcome and sets the verdict and title.
func (e *evaluation) finish() {
	e.res.Rules = sortRules(e.rules)
	envIndex := func(name string) int {
		if i := slices.IndexFunc(e.pol.Environments, func(x policy.Environment) bool { return x.Name == name }); i >= 0 {
			return i
		}
		return len(e.pol.Environments)
	}
	slices.SortFunc(e.res.Promotions, func(a, b Promotion) int {
		return cmp.Or(cmp.Compare(envIndex(a.Environment), envIndex(b.Environment)), cmp.Compare(a.Environment, b.Environment),
			cmp.Compare(a.Model, b.Model), cmp.Compare(a.File, b.File))
	})
	slices.SortFunc(e.res.Approvals, func(a, b FileApproval) int { return cmp.Compare(a.File, b.File) })

	e.res.Verdict = VerdictPass
	var blocking []string
	warnings := 0
	for _, r := range e.rules {
		switch r.Status {
		case StatusFail:
			e.res.Verdict = VerdictFail
			if r.Family != policy.FamilyApprovals {
				blocking = append(blocking, withFile(r))
			}
		case StatusWarn:
			warnings++
		}
	}
	if e.pol.Mode(policy.FamilyApprovals) == policy.Enforce {
		blocking = append(blocking, approvalTitles(e.res.Approvals)...)
	}
	e.res.Title = title(blocking, warnings, e.res.Approvals)
}

// sortRules orders rules by file, then family, keeping the order in which
// they were added otherwise. It sorts small keys rather than the rules.
func sortRules(rules []RuleResult) []RuleResult {
	type key struct {
		file     string
		family   int
		sequence int
	}
	keys := make([]key, len(rules))
	for i, r := range rules {
		keys[i] = key{r.File, reportPosition(r.Family), i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.family, b.family), cmp.Compare(a.sequence, b.sequence))
	})
	out := make([]RuleResult, len(rules))
	for i, k := range keys {
		out[i] = rules[k.sequence]
	}
	return out
}

// withFile returns a rule's message naming its file, for the title.
func withFile(r RuleResult) string {
	if r.File == "" || strings.Contains(r.Message, r.File) {
		return r.Message
	}
	return r.File + ": " + r.Message
}

// title summarises the outcome in one line.
func title(blocking []string, warnings int, approvals []FileApproval) string {
	if len(blocking) > 0 {
		t := blocking[0]
		if n := len(blocking) - 1; n > 0 {
			t += fmt.Sprintf(" (and %d more %s)", n, plural(n, "problem", "problems"))
		}
		return t
	}
	t := "all rules pass"
	if warnings > 0 {
		t += fmt.Sprintf(" (%d %s)", warnings, plural(warnings, "warning", "warnings"))
	}
	// Report the least satisfied file with a requirement.
	var worst *FileApproval
	for i := range approvals {
		a := &approvals[i]
		if a.Required == 0 {
			continue
		}
		if worst == nil || a.Missing > worst.Missing || a.Missing == worst.Missing && a.Required > worst.Required {
			worst = a
		}
	}
	var gov *GovernanceApproval
	for i := range approvals {
		g := approvals[i].Governance
		if g != nil && (gov == nil || g.Missing > gov.Missing) {
			gov = g
		}
	}
	switch {
	case worst != nil:
		t += fmt.Sprintf(", %d/%d approvals", min(len(worst.Approvers), worst.Required), worst.Required)
	case gov == nil:
		return t + ", no approvals needed"
	}
	if gov != nil {
		t += fmt.Sprintf(", %d/%d governance approvals", min(len(gov.Approvers), gov.Required), gov.Required)
	}
	return t
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// joinOr joins items as "a", "a or b", "a, b or c".
func joinOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
