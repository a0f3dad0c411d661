package promote

import (
	"bytes"
	"cmp"
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/repoconfig"
)

// RollbackModel names one model to roll back.
type RollbackModel struct {
	Model string
	// ToVersion is the version to restore; empty means the version pinned
	// before the current one.
	ToVersion string
	// History is the pins of the model's manifest in the environment along
	// the base branch's first-parent history, oldest first, each with the
	// manifest's bytes at the commit that pinned it.
	History []PinRecord
}

// RollbackRequest asks to restore earlier manifests in one environment.
type RollbackRequest struct {
	// Environment is where the manifests are restored.
	Environment string
	// Models are the models asked for. A model of a bundle asked for with
	// a ToVersion brings along the other models of its bundle that the
	// environment pins (see PlanRollback).
	Models []RollbackModel
	// Ticket, when set, is the change ticket of the rollback: it replaces
	// the approval block of every restored manifest and is recorded in the
	// commit. Without it, a restored manifest keeps the approval it had.
	Ticket string
	// Rationale, when set, is written to approval.rationale of every
	// restored manifest, which keeps its own ticket unless Ticket is set.
	Rationale string
	// PullRequest, when set, asks Executor.Rollback to roll back what the
	// merged pull request with this number pinned; Environment and Models
	// are then worked out from its merge commit and must be empty.
	// PlanRollback records it as the plan's Reverts.
	PullRequest int
	// Timeline is, for the bundles rolled back to a version, the state of
	// their manifests in Environment along the base branch's first-parent
	// history, oldest first: one Snapshot per commit that changed any of
	// them. The executor fills it.
	Timeline []Snapshot
}

// Snapshot is the state of some manifests right after one commit of the
// base branch's first-parent history.
type Snapshot struct {
	// Commit is the commit and Since its committer time.
	Commit string
	Since  time.Time
	// Files holds the manifests' bytes by repository path; a path that is
	// absent had no file at Commit.
	Files map[string][]byte
}

// PlanRollback plans restoring, for each model, the exact manifest bytes
// pinned at an earlier point of the environment's history: the version
// before the current one, or ToVersion. files is the tree of the
// up-to-date base commit.
//
// A model of a bundle asked for with a ToVersion, in an environment that
// pins several models of that bundle, is not restored alone: every model of
// the bundle the environment pins goes back to its manifest at the last
// commit of Timeline where the environment pinned the asked versions
// together with the other models of the bundle.
//
// With a Ticket, each restored manifest's approval block is replaced by one
// holding the ticket; every other byte is kept.
func PlanRollback(files fs.FS, req RollbackRequest) (*Plan, error) {
	if len(req.Models) == 0 {
		return nil, usagef("name at least one model to roll back")
	}
	b, err := loadBase(files)
	if err != nil {
		return nil, err
	}
	env, err := b.environment(req.Environment)
	if err != nil {
		return nil, err
	}
	bundles, err := b.rollbackBundles(env.Name, req.Models)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Kind: Rollback, Environment: env.Name, Ticket: req.Ticket, Reverts: req.PullRequest}
	inBundle := map[string]bool{}
	for _, g := range bundles {
		moves, err := b.bundleRollbackMoves(env.Name, g, req.Timeline, req.approval())
		if err != nil {
			return nil, err
		}
		plan.Moves = append(plan.Moves, moves...)
		for _, m := range g.members {
			inBundle[m] = true
		}
	}
	for _, rm := range req.Models {
		if inBundle[rm.Model] {
			continue
		}
		move, err := b.rollbackMove(env.Name, rm, req.approval())
		if err != nil {
			return nil, err
		}
		plan.Moves = append(plan.Moves, *move)
	}
	slices.SortFunc(plan.Moves, func(a, b Move) int { return cmp.Compare(a.Model, b.Model) })
	describe(plan)
	return plan, nil
}

// bundleRollback is a bundle rolled back to the versions asked for.
type bundleRollback struct {
	bundle *policy.Bundle
	// members are the bundle's models pinned in the environment now, and
	// those asked for, sorted.
	members []string
	// versions are the versions asked for, by model.
	versions map[string]string
}

// rollbackBundles checks the names in models and returns the bundles that
// roll back to a version as a whole: those of which a model is asked for
// with a ToVersion while env pins several of their models. Every model of
// such a bundle that is asked for must then name its version.
func (b *base) rollbackBundles(env string, models []RollbackModel) ([]bundleRollback, error) {
	seen := map[string]bool{}
	var groups []*bundleRollback
	for _, rm := range models {
		if err := checkName("model", rm.Model); err != nil {
			return nil, err
		}
		if seen[rm.Model] {
			return nil, usagef("model %s is named twice", rm.Model)
		}
		seen[rm.Model] = true
		bu, ok := b.policy.BundleOf(rm.Model)
		if !ok {
			continue
		}
		i := slices.IndexFunc(groups, func(g *bundleRollback) bool { return g.bundle.Name == bu.Name })
		if i < 0 {
			g := &bundleRollback{bundle: bu, versions: map[string]string{}}
			for _, m := range bu.Models {
				cur, err := b.read(manifest.Path(env, m))
				if err != nil {
					return nil, err
				}
				if cur != nil {
					g.members = append(g.members, m)
				}
			}
			groups, i = append(groups, g), len(groups)
		}
		groups[i].versions[rm.Model] = rm.ToVersion
	}
	var out []bundleRollback
	for _, g := range groups {
		var without []string
		asked := slices.Sorted(maps.Keys(g.versions))
		for _, m := range asked {
			v := g.versions[m]
			if v == "" {
				without = append(without, m)
			} else if err := checkVersion(v); err != nil {
				return nil, err
			}
			if !slices.Contains(g.members, m) {
				g.members = append(g.members, m)
			}
		}
		slices.Sort(g.members)
		switch {
		case len(without) == len(g.versions), len(g.members) < 2:
			continue
		case len(without) > 0:
			return nil, usagef("bundle %s rolls back as a whole: name the version to restore for every model of it asked for, or for none (%s has none)", g.bundle.Name, strings.Join(without, ", "))
		}
		out = append(out, *g)
	}
	return out, nil
}

// bundleRollbackMoves restores every member of g to its manifest at the
// last snapshot of timeline where env pinned the versions asked for
// together with all the other members.
func (b *base) bundleRollbackMoves(env string, g bundleRollback, timeline []Snapshot, approval manifest.Approval) ([]Move, error) {
	current := map[string]*manifestFile{}
	for _, m := range g.members {
		cur, err := b.read(manifest.Path(env, m))
		if err != nil {
			return nil, err
		}
		current[m] = cur
		var last []byte
		if len(timeline) > 0 {
			last = timeline[len(timeline)-1].Files[manifest.Path(env, m)]
		}
		if (cur == nil) != (last == nil) || (cur != nil && !bytes.Equal(cur.data, last)) {
			return nil, fmt.Errorf("the history of bundle %s in %s does not end at the base commit", g.bundle.Name, env)
		}
	}
	asked := make([]string, 0, len(g.versions))
	already := true
	for _, m := range g.members {
		if v, ok := g.versions[m]; ok {
			asked = append(asked, m+" "+v)
			already = already && current[m] != nil && current[m].doc.Manifest.Version == v
		}
	}
	if already {
		return nil, &NothingToDoError{Message: fmt.Sprintf("%s already pins %s", env, joinAnd(asked))}
	}

	versions := versionReader{}
	at, alone := -1, false
	for i := len(timeline) - 1; i >= 0 && at < 0; i-- {
		together, matches := true, true
		for _, m := range g.members {
			p := manifest.Path(env, m)
			v := versions.of(p, timeline[i].Files[p])
			if want, ok := g.versions[m]; ok && v != want {
				matches = false
			}
			together = together && v != ""
		}
		switch {
		case matches && together:
			at = i
		case matches:
			alone = true
		}
	}
	if at < 0 {
		if alone {
			var others []string
			for _, m := range g.members {
				if _, ok := g.versions[m]; !ok {
					others = append(others, m)
				}
			}
			if len(others) == 0 {
				return nil, failure.Mark(failure.NotFound, refusef("%s never pinned %s together (bundle %s) on the base branch, so there is nothing to roll back to", env, joinAnd(asked), g.bundle.Name))
			}
			return nil, refusef("%s never pinned %s together with %s (bundle %s) on the base branch, so there is nothing to roll back to",
				env, joinAnd(asked), joinAnd(others), g.bundle.Name)
		}
		return nil, failure.Mark(failure.NotFound, refusef("%s never pinned %s on the base branch, so there is nothing to roll back to", env, joinAnd(asked)))
	}

	var moves []Move
	for _, m := range g.members {
		p := manifest.Path(env, m)
		restored := writtenBy(timeline, at, p, versions)
		after, next, err := b.restore(p, env, restored, approval)
		if err != nil {
			return nil, err
		}
		cur := current[m]
		if cur != nil && bytes.Equal(cur.data, after) {
			continue
		}
		mv := Move{Model: m, Environment: env, Path: p, Version: restored.Version, After: after, Next: next, Restored: restored}
		if cur != nil {
			mv.Before, mv.Previous, mv.Replaces = cur.data, cur.doc.Manifest, cur.doc.Manifest.Version
			mv.RollbackTarget = pinnedSince(timeline, p, versions)
		}
		moves = append(moves, mv)
	}
	if len(moves) == 0 {
		return nil, &NothingToDoError{Message: fmt.Sprintf("%s already holds the manifests of bundle %s as of commit %s", env, g.bundle.Name, short(timeline[at].Commit))}
	}
	return moves, nil
}

// versionReader reads the version of manifest bytes, remembering each
// answer: a timeline repeats the same bytes many times.
type versionReader map[string]string

// of returns the version data pins, empty when data is nil or not a
// manifest.
func (r versionReader) of(p string, data []byte) string {
	if data == nil {
		return ""
	}
	if v, ok := r[string(data)]; ok {
		return v
	}
	v := ""
	if doc, _ := repoconfig.LoadManifest(p, data, nil); doc.Manifest != nil {
		v = doc.Manifest.Version
	}
	r[string(data)] = v
	return v
}

// writtenBy returns the pin of the bytes p holds at timeline[at]: the
// earliest snapshot of the run of snapshots up to at holding those same
// bytes.
func writtenBy(timeline []Snapshot, at int, p string, versions versionReader) *PinRecord {
	data := timeline[at].Files[p]
	first := at
	for first > 0 && bytes.Equal(timeline[first-1].Files[p], data) {
		first--
	}
	s := timeline[first]
	return &PinRecord{Version: versions.of(p, data), Commit: s.Commit, Since: s.Since, Content: data}
}

// pinnedSince returns the pin of the version p holds at the end of
// timeline: the earliest snapshot of the last run pinning that version,
// with its bytes then. Nil when p pins nothing.
func pinnedSince(timeline []Snapshot, p string, versions versionReader) *PinRecord {
	last := len(timeline) - 1
	v := versions.of(p, timeline[last].Files[p])
	if v == "" {
		return nil
	}
	first := last
	for first > 0 && versions.of(p, timeline[first-1].Files[p]) == v {
		first--
	}
	s := timeline[first]
	return &PinRecord{Version: v, Commit: s.Commit, Since: s.Since, Content: s.Files[p]}
}

// rollbackMove plans restoring one model on its own, from its pins.
func (b *base) rollbackMove(env string, rm RollbackModel, approval manifest.Approval) (*Move, error) {
	p := manifest.Path(env, rm.Model)
	cur, err := b.read(p)
	if err != nil {
		return nil, err
	}
	current := ""
	if cur != nil {
		current = cur.doc.Manifest.Version
	}
	var target *PinRecord
	switch {
	case rm.ToVersion != "":
		if err := checkVersion(rm.ToVersion); err != nil {
			return nil, err
		}
		if rm.ToVersion == current {
			return nil, &NothingToDoError{Message: fmt.Sprintf("%s already pins %s %s", env, rm.Model, current)}
		}
		target = lastPin(rm.History, rm.ToVersion)
		if target == nil {
			return nil, failure.Mark(failure.NotFound, refusef("%s never pinned %s %s on the base branch, so there is nothing to roll back to", env, rm.Model, rm.ToVersion))
		}
	default:
		for i := len(rm.History) - 1; i >= 0; i-- {
			if rm.History[i].Version != current && rm.History[i].Version != "" {
				pin := rm.History[i]
				target = &pin
				break
			}
		}
		if target == nil {
			return nil, refusef("%s has no version of %s pinned before %s on the base branch, so there is nothing to roll back to", env, rm.Model, cmp.Or(current, "now"))
		}
	}
	after, next, err := b.restore(p, env, target, approval)
	if err != nil {
		return nil, err
	}
	m := &Move{
		Model: rm.Model, Environment: env, Path: p, Version: target.Version, After: after,
		Next: next, Restored: target,
	}
	if cur != nil {
		if bytes.Equal(cur.data, after) {
			return nil, &NothingToDoError{Message: fmt.Sprintf("%s already holds the manifest of %s %s pinned by %s", p, rm.Model, target.Version, short(target.Commit))}
		}
		m.Before, m.Previous, m.Replaces = cur.data, cur.doc.Manifest, current
		m.RollbackTarget = lastPin(rm.History, current)
	}
	return m, nil
}

// restore returns the bytes to write back at p from the pin, and their
// decoded manifest: the pinned bytes exactly, or with an approval, the
// pinned bytes with the approval block replaced by one holding its ticket
// (the pinned ticket when it has none) and rationale. It fails closed when
// that edit would change anything else.
func (b *base) restore(p, env string, pin *PinRecord, approval manifest.Approval) ([]byte, *manifest.Manifest, error) {
	pinned, problems := repoconfig.LoadManifest(p, pin.Content, b.schema)
	if pinned.Manifest == nil {
		return nil, nil, refusef("the manifest pinned by %s cannot be restored: %v", short(pin.Commit), problems)
	}
	if approval.IsZero() {
		return pin.Content, pinned.Manifest, nil
	}
	if approval.Ticket == "" {
		approval.Ticket = pinned.Manifest.Approval.Ticket
	}
	after, err := retargetApproval(pin.Content, env, approval)
	if err != nil {
		return nil, nil, fmt.Errorf("set the approval of %s as pinned by %s: %w", p, short(pin.Commit), err)
	}
	edited, problems := repoconfig.LoadManifest(p, after, b.schema)
	if edited.Manifest == nil {
		return nil, nil, fmt.Errorf("set the approval of %s as pinned by %s: the edited manifest does not decode: %v", p, short(pin.Commit), problems)
	}
	want := *pinned.Manifest
	want.Environment, want.Approval = env, approval
	if !reflect.DeepEqual(*edited.Manifest, want) {
		return nil, nil, fmt.Errorf("set the approval of %s as pinned by %s: the edited manifest differs in more than its approval; refusing to guess", p, short(pin.Commit))
	}
	return after, edited.Manifest, nil
}

// approval is the approval block the request writes, zero when it keeps
// the restored manifests' own.
func (r RollbackRequest) approval() manifest.Approval {
	return manifest.Approval{Ticket: r.Ticket, Rationale: r.Rationale}
}
