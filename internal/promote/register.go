package promote

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/yamldoc"
)

// RegisterRequest describes a new candidate version. Fields set here take
// precedence over the candidate file; a digest or size that contradicts the
// candidate file is an error rather than a silent override.
type RegisterRequest struct {
	// Model is the model; it may be left empty when Candidate names it.
	Model string
	// Environment, when set, must be the policy's first environment.
	Environment string
	// Candidate is an optional manifest (or partial manifest) in YAML whose
	// fields, comments and order are kept.
	Candidate []byte
	// Version is the new version id; it may be left empty when Candidate
	// names it.
	Version  string
	Artifact ArtifactFields
	Lineage  LineageFields
	// Metrics are merged into the candidate's metrics.
	Metrics map[string]float64
	Notes   string
	// Rationale, when set, is written to approval.rationale: why the
	// version is registered.
	Rationale string
	// History holds, by manifest path of Model in every environment, the
	// pins along the base branch, used to refuse a version id that was ever
	// used for other bytes.
	History map[string][]PinRecord
}

// ArtifactFields are the artifact fields of a registration; empty fields
// are taken from the candidate file.
type ArtifactFields struct {
	URI    string
	SHA256 string
	// Size is the artifact's size in bytes; nil when not given.
	Size      *int64
	Signature string
}

// LineageFields are the lineage fields of a registration; empty fields are
// taken from the candidate file.
type LineageFields struct {
	TrainingRun  string
	SourceCommit string
	// DataWindowStart and DataWindowEnd are dates (YYYY-MM-DD); both or
	// neither.
	DataWindowStart, DataWindowEnd string
	FeatureSet                     string
	DataVersion                    string
}

// PlanRegister plans writing new candidate versions into the first
// environment with validation.status pending, all in one commit (the models
// of a bundle are registered together). It refuses a version id that the
// model already uses, now or earlier in any environment, for a different
// artifact, lineage, metrics or parameters, and returns a
// *NothingToDoError when the first environment already pins every version.
func PlanRegister(files fs.FS, reqs ...RegisterRequest) (*Plan, error) {
	if len(reqs) == 0 {
		return nil, errNoVersion
	}
	b, err := loadBase(files)
	if err != nil {
		return nil, err
	}
	return b.planRegister(reqs)
}

// errNoVersion refuses a registration of nothing.
var errNoVersion = usagef("name at least one version to register")

// planRegister is PlanRegister on a loaded base.
func (b *base) planRegister(reqs []RegisterRequest) (*Plan, error) {
	if len(reqs) == 0 {
		return nil, errNoVersion
	}
	first := b.policy.First()
	plan := &Plan{Kind: Register, Environment: first.Name}
	seen := map[string]bool{}
	var unchanged []string
	for _, req := range reqs {
		m, err := b.registerMove(first.Name, req)
		var nothing *NothingToDoError
		if errors.As(err, &nothing) {
			unchanged = append(unchanged, nothing.Message)
			continue
		}
		if err != nil {
			return nil, err
		}
		if seen[m.Model] {
			return nil, usagef("model %s is registered twice in one change", m.Model)
		}
		seen[m.Model] = true
		plan.Moves = append(plan.Moves, *m)
	}
	if len(plan.Moves) == 0 {
		return nil, &NothingToDoError{Message: strings.Join(unchanged, "; ")}
	}
	slices.SortFunc(plan.Moves, func(a, b Move) int { return cmp.Compare(a.Model, b.Model) })
	describe(plan)
	return plan, nil
}

// registerMove plans one registration into the first environment.
func (b *base) registerMove(first string, req RegisterRequest) (*Move, error) {
	if req.Environment != "" && req.Environment != first {
		if _, err := b.environment(req.Environment); err != nil {
			return nil, err
		}
		return nil, usagef("new versions are registered in %s, the first environment; %s is reached by promotion", first, req.Environment)
	}
	root, err := candidateRoot(req.Candidate)
	if err != nil {
		return nil, err
	}
	model, err := pick("model", req.Model, root, "model")
	if err != nil {
		return nil, err
	}
	if err := checkName("model", model); err != nil {
		return nil, err
	}
	version, err := pick("version", req.Version, root, "version")
	if err != nil {
		return nil, err
	}
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	if err := fillCandidate(root, model, first, version, req); err != nil {
		return nil, err
	}
	after, err := encodeNode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}})
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	p := manifest.Path(first, model)
	next, problems := repoconfig.LoadManifest(p, after, b.schema)
	if len(problems) > 0 {
		return nil, &UsageError{Message: fmt.Sprintf("the registered manifest of %s %s would be invalid:\n  %s", model, version, strings.Join(problemStrings("", problems), "\n  "))}
	}
	if err := b.checkVersionUnused(next.Manifest, req.History); err != nil {
		return nil, err
	}
	cur, err := b.read(p)
	if err != nil {
		return nil, err
	}
	m := &Move{Model: model, Environment: first, Path: p, Version: version, After: after, Next: next.Manifest}
	if cur != nil {
		if cur.doc.Manifest.Version == version {
			return nil, &NothingToDoError{Message: fmt.Sprintf("%s already pins %s %s", first, model, version)}
		}
		m.Before, m.Previous, m.Replaces = cur.data, cur.doc.Manifest, cur.doc.Manifest.Version
		m.RollbackTarget = lastPin(req.History[p], m.Replaces)
	}
	return m, nil
}

// candidateRoot parses the candidate file safely (no aliases, size and
// depth limits) and returns its mapping node, or an empty mapping.
func candidateRoot(data []byte) (*yaml.Node, error) {
	if len(data) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, nil
	}
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		return nil, usagef("candidate file: %v", err)
	}
	if doc.Root.Kind != yaml.MappingNode {
		return nil, usagef("candidate file: the manifest must be a YAML mapping")
	}
	doc.Root.Style = 0
	return doc.Root, nil
}

// pick returns the flag value or the candidate's string at key, refusing a
// contradiction.
func pick(what, flag string, root *yaml.Node, key string) (string, error) {
	_, v, _ := lookup(root, key)
	file := ""
	if v != nil && v.Kind == yaml.ScalarNode {
		file = v.Value
	}
	switch {
	case flag != "" && file != "" && flag != file:
		return "", usagef("the %s is %q but the candidate file says %q", what, flag, file)
	case flag != "":
		return flag, nil
	case file != "":
		return file, nil
	}
	return "", usagef("the %s is missing: give it as a flag or in the candidate file", what)
}

// fillCandidate sets the fields a registration decides.
func fillCandidate(root *yaml.Node, model, env, version string, req RegisterRequest) error {
	setField(root, topLevelOrder, "apiVersion", stringNode(manifest.APIVersion))
	setField(root, topLevelOrder, "kind", stringNode(manifest.Kind))
	setField(root, topLevelOrder, "model", stringNode(model))
	setField(root, topLevelOrder, "environment", stringNode(env))
	setField(root, topLevelOrder, "version", quotedNode(version))

	art := childMapping(root, topLevelOrder, "artifact")
	if req.Artifact.URI != "" {
		setField(art, artifactOrder, "uri", stringNode(req.Artifact.URI))
	}
	if req.Artifact.SHA256 != "" {
		sum := strings.ToLower(req.Artifact.SHA256)
		if _, v, _ := lookup(art, "sha256"); v != nil && !strings.EqualFold(v.Value, sum) {
			return usagef("the artifact's sha256 is %s but the candidate file says %s", sum, v.Value)
		}
		setField(art, artifactOrder, "sha256", stringNode(sum))
	}
	if req.Artifact.Size != nil {
		if _, v, _ := lookup(art, "size"); v != nil && v.Value != strconv.FormatInt(*req.Artifact.Size, 10) {
			return usagef("the artifact's size is %d bytes but the candidate file says %s", *req.Artifact.Size, v.Value)
		}
		setField(art, artifactOrder, "size", intNode(*req.Artifact.Size))
	}
	if req.Artifact.Signature != "" {
		setField(art, artifactOrder, "signature", stringNode(req.Artifact.Signature))
	}

	l := req.Lineage
	if (l.DataWindowStart == "") != (l.DataWindowEnd == "") {
		return usagef("the data window needs both a start and an end date")
	}
	if l != (LineageFields{}) || hasKey(root, "lineage") {
		lin := childMapping(root, topLevelOrder, "lineage")
		for _, f := range []struct{ key, value string }{
			{"trainingRun", l.TrainingRun}, {"sourceCommit", l.SourceCommit},
			{"featureSet", l.FeatureSet}, {"dataVersion", l.DataVersion},
		} {
			if f.value != "" {
				setField(lin, lineageOrder, f.key, stringNode(f.value))
			}
		}
		if l.DataWindowStart != "" {
			w := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Content: []*yaml.Node{
				stringNode("start"), stringNode(l.DataWindowStart), stringNode("end"), stringNode(l.DataWindowEnd),
			}}
			setField(lin, lineageOrder, "dataWindow", w)
		}
	}

	if len(req.Metrics) > 0 {
		met := childMapping(root, topLevelOrder, "metrics")
		for _, k := range slices.Sorted(maps.Keys(req.Metrics)) {
			// No tag: the plain number reads back as the same value.
			v := &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatFloat(req.Metrics[k], 'g', -1, 64)}
			setField(met, nil, k, v)
		}
	}
	// A new version has not been validated yet, whatever the file says, and
	// a change ticket belongs to a promotion, not to a registration.
	setField(root, topLevelOrder, "validation", &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		stringNode("status"), stringNode(string(manifest.ValidationPending)),
	}})
	deleteField(root, "approval")
	if req.Rationale != "" {
		setField(root, topLevelOrder, "approval", &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			stringNode("rationale"), stringNode(req.Rationale),
		}})
	}
	if req.Notes != "" {
		setField(root, topLevelOrder, "notes", stringNode(req.Notes))
	}
	return nil
}

func hasKey(m *yaml.Node, key string) bool {
	k, _, _ := lookup(m, key)
	return k != nil
}

// checkVersionUnused refuses a version id the model already uses for other
// bytes: in any environment now, or at any earlier pin in the history.
func (b *base) checkVersionUnused(next *manifest.Manifest, history map[string][]PinRecord) error {
	type use struct {
		where string
		m     *manifest.Manifest
	}
	var uses []use
	for _, env := range b.policy.Environments {
		p := manifest.Path(env.Name, next.Model)
		cur, err := b.read(p)
		if err != nil {
			// An unreadable manifest elsewhere does not stop a registration;
			// the policy check reports it on its own change.
			continue
		}
		if cur != nil && cur.doc.Manifest.Version == next.Version {
			uses = append(uses, use{"pinned in " + env.Name, cur.doc.Manifest})
		}
	}
	for _, p := range slices.Sorted(maps.Keys(history)) {
		for _, pin := range history[p] {
			if pin.Version != next.Version {
				continue
			}
			doc, _ := repoconfig.LoadManifest(p, pin.Content, b.schema)
			if doc.Manifest != nil {
				uses = append(uses, use{fmt.Sprintf("pinned at %s by commit %s", p, short(pin.Commit)), doc.Manifest})
			}
		}
	}
	for _, u := range uses {
		if diffs := manifest.ImmutableDifferences(u.m, next); len(diffs) > 0 {
			return refusef("version %s of %s already exists (%s) with a different %s; a version id names one set of bytes forever, so register these under a new version",
				next.Version, next.Model, u.where, strings.Join(diffs, ", "))
		}
	}
	return nil
}
