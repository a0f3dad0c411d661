package promote

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/schema"
)

// maxManifestBytes bounds what the planner reads from a tree; the manifest
// loader refuses larger files anyway.
const maxManifestBytes = 1 << 20

// base is the loaded state a change is planned against.
type base struct {
	files  fs.FS
	policy *policy.Policy
	schema *schema.Schema
}

// loadBase reads the policy and the manifest schema from the base tree. A
// missing or broken policy refuses every change: nothing can be planned
// against rules that cannot be read.
func loadBase(files fs.FS) (*base, error) {
	manifestSchema, policySchema, problems := repoconfig.Schemas(files)
	pol, ps, err := repoconfig.ReadPolicy(files, policySchema)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", policy.Path, err)
	}
	problems = append(problems, ps...)
	if pol == nil || len(problems) > 0 {
		return nil, &RefusedError{Reasons: problemStrings("the base branch's policy cannot be used: ", problems)}
	}
	return &base{files: files, policy: pol, schema: manifestSchema}, nil
}

func problemStrings(prefix string, ps []diag.Problem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, prefix+p.String())
	}
	if len(out) == 0 {
		out = append(out, strings.TrimSuffix(prefix, ": "))
	}
	return out
}

// manifestFile is a manifest read from the base tree.
type manifestFile struct {
	path string
	data []byte
	doc  *manifest.Document
}

// read loads the manifest at p. It returns nil, nil when the file does not
// exist, and refuses a file that is not a valid manifest.
func (b *base) read(p string) (*manifestFile, error) {
	data, err := fs.ReadFile(b.files, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if len(data) > maxManifestBytes {
		return nil, refusef("%s is %d bytes, larger than any manifest may be", p, len(data))
	}
	doc, problems := repoconfig.LoadManifest(p, data, b.schema)
	if len(problems) > 0 || doc.Manifest == nil {
		return nil, &RefusedError{Reasons: problemStrings("the base manifest is invalid: ", problems)}
	}
	return &manifestFile{path: p, data: data, doc: doc}, nil
}

// environment returns a declared environment or a usage error naming the
// declared ones.
func (b *base) environment(name string) (*policy.Environment, error) {
	if err := checkName("environment", name); err != nil {
		return nil, err
	}
	env, ok := b.policy.Environment(name)
	if !ok {
		names := make([]string, len(b.policy.Environments))
		for i, e := range b.policy.Environments {
			names[i] = e.Name
		}
		return nil, failure.NotFoundError(usagef("environment %q is not declared in %s (declared: %s)", name, policy.Path, strings.Join(names, ", ")))
	}
	return env, nil
}

// PromoteRequest asks to copy versions into an environment.
type PromoteRequest struct {
	// Models are the models to move together, in one commit.
	Models []string
	// To is the target environment.
	To string
	// Version, when set, is the version to promote, taken from whichever
	// environment pins it (the source environment first). When empty, each
	// model's version pinned in the source environment is promoted.
	Version string
	// Ticket is written to approval.ticket of every promoted manifest. The
	// source's ticket is never carried over: without Ticket, the promoted
	// manifests have no approval block.
	Ticket string
	// Rationale is written to approval.rationale of every promoted
	// manifest; like the ticket, the source's is never carried over.
	Rationale string
	// History holds, by manifest path in To, the pins along the base branch,
	// oldest first. It is optional and used only to name the rollback
	// target in the description.
	History map[string][]PinRecord
}

// PlanPromote plans copying the version pinned in the source environment
// (or Version, wherever it is pinned) of each model into To, keeping every
// byte of the source manifest except the environment value and the approval
// block. files is the tree of the up-to-date base commit. It returns a
// *NothingToDoError when To already holds exactly those bytes for every
// model.
func PlanPromote(files fs.FS, req PromoteRequest) (*Plan, error) {
	if len(req.Models) == 0 {
		return nil, usagef("name at least one model to promote")
	}
	models := slices.Clone(req.Models)
	slices.Sort(models)
	models = slices.Compact(models)
	for _, m := range models {
		if err := checkName("model", m); err != nil {
			return nil, err
		}
	}
	if req.Version != "" {
		if err := checkVersion(req.Version); err != nil {
			return nil, err
		}
	}
	b, err := loadBase(files)
	if err != nil {
		return nil, err
	}
	env, err := b.environment(req.To)
	if err != nil {
		return nil, err
	}
	if env.From == "" {
		return nil, usagef("%s is the first environment: new versions enter it with promobot register, not promote", env.Name)
	}
	plan := &Plan{Kind: Promote, Environment: env.Name, Ticket: req.Ticket}
	var unchanged []string
	for _, model := range models {
		src, err := b.source(model, env, req.Version)
		if err != nil {
			return nil, err
		}
		move, err := b.promoteMove(model, env.Name, src, manifest.Approval{Ticket: req.Ticket, Rationale: req.Rationale})
		if err != nil {
			return nil, err
		}
		if move == nil {
			unchanged = append(unchanged, fmt.Sprintf("%s %s", model, src.doc.Manifest.Version))
			continue
		}
		move.RollbackTarget = lastPin(req.History[move.Path], move.Replaces)
		plan.Moves = append(plan.Moves, *move)
	}
	if len(plan.Moves) == 0 {
		return nil, &NothingToDoError{Message: fmt.Sprintf("%s already pins %s with these exact manifests", env.Name, strings.Join(unchanged, ", "))}
	}
	describe(plan)
	return plan, nil
}

// source finds the manifest a model's version is copied from: the one in
// the source environment, or with version set, the first environment in
// policy order (the source environment first) that pins that version.
func (b *base) source(model string, env *policy.Environment, version string) (*manifestFile, error) {
	if version == "" {
		src, err := b.read(manifest.Path(env.From, model))
		if err != nil {
			return nil, err
		}
		if src == nil {
			return nil, failure.NotFoundError(refusef("%s has no version of %s to promote to %s: %s does not exist", env.From, model, env.Name, manifest.Path(env.From, model)))
		}
		return src, nil
	}
	order := []string{env.From}
	for _, e := range b.policy.Environments {
		if e.Name != env.From && e.Name != env.Name {
			order = append(order, e.Name)
		}
	}
	for _, name := range order {
		src, err := b.read(manifest.Path(name, model))
		if err != nil {
			return nil, err
		}
		if src != nil && src.doc.Manifest.Version == version {
			return src, nil
		}
	}
	return nil, failure.NotFoundError(refusef("version %s of %s is not pinned in any environment other than %s, so there is nothing to copy", version, model, env.Name))
}

// promoteMove plans the copy of src into env, or returns nil when env
// already has exactly the resulting bytes.
func (b *base) promoteMove(model, env string, src *manifestFile, approval manifest.Approval) (*Move, error) {
	target := manifest.Path(env, model)
	after, err := retargetApproval(src.data, env, approval)
	if err != nil {
		return nil, fmt.Errorf("copy %s to %s: %w", src.path, target, err)
	}
	next, problems := repoconfig.LoadManifest(target, after, b.schema)
	if next.Manifest == nil {
		return nil, fmt.Errorf("copy %s to %s: the edited manifest does not decode: %v", src.path, target, problems)
	}
	// Fail closed if the text edit changed anything but the two fields.
	want := *src.doc.Manifest
	want.Environment, want.Approval = env, approval
	if !reflect.DeepEqual(*next.Manifest, want) {
		return nil, fmt.Errorf("copy %s to %s: the edited manifest differs from the source in more than environment and approval; refusing to guess", src.path, target)
	}
	cur, err := b.read(target)
	if err != nil {
		return nil, err
	}
	m := &Move{
		Model: model, Environment: env, Path: target, Version: src.doc.Manifest.Version,
		From: src.doc.Manifest.Environment, After: after, Next: next.Manifest, Source: src.doc.Manifest,
	}
	if cur != nil {
		if bytes.Equal(cur.data, after) {
			return nil, nil
		}
		m.Before, m.Previous, m.Replaces = cur.data, cur.doc.Manifest, cur.doc.Manifest.Version
	}
	return m, nil
}

// lastPin returns the most recent pin of version, or nil.
func lastPin(pins []PinRecord, version string) *PinRecord {
	if version == "" {
		return nil
	}
	for i := len(pins) - 1; i >= 0; i-- {
		if pins[i].Version == version {
			p := pins[i]
			return &p
		}
	}
	return nil
}

// short abbreviates a commit hash for messages.
func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
