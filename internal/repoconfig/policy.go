package repoconfig

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/internal/yamldoc"
	"github.com/example-org/promobot/schemas"
)

// BuiltinPolicySchema is the policy schema embedded in the binary.
var BuiltinPolicySchema = schema.MustCompile("policy.schema.json", schemas.Policy)

// The bounds the binary represents, the same as the built-in schema's.
const (
	maxEnvironments = 32
	maxApprovals    = 10
)

// LoadPolicy decodes and checks a policy file. p is the path used in messages.
//
// The document is validated against BuiltinPolicySchema, the schema built into
// the binary, and against sch, the repository's schemas/policy.schema.json
// when it has one (nil otherwise). The repository's schema may only add
// constraints: what the built-in schema refuses is refused whatever the
// repository's says. The document is then decoded into the typed policy.Policy;
// anything the binary cannot represent is a positioned problem, never a
// crash. The policy is returned only when there are no problems: a broken
// policy must never be half-applied.
func LoadPolicy(p string, data []byte, sch *schema.Schema) (*policy.Policy, []diag.Problem) {
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		var ye *yamldoc.Error
		if errors.As(err, &ye) {
			return nil, []diag.Problem{ye.Problem(p)}
		}
		return nil, []diag.Problem{{File: p, Message: err.Error()}}
	}
	if problems := schema.ProblemsWithBuiltIn(p, doc, BuiltinPolicySchema, sch, schemas.PolicyPath); len(problems) > 0 {
		return nil, problems
	}
	b := builder{reader: reader{file: p, doc: doc}}
	pol := b.build(doc.Value)
	if len(b.problems) > 0 {
		diag.Sort(b.problems)
		return nil, b.problems
	}
	return pol, nil
}

type builder struct {
	reader
}

func at(path ...any) []string {
	out := make([]string, len(path))
	for i, p := range path {
		out[i] = fmt.Sprint(p)
	}
	return out
}

// maxDriftGraceMinutes bounds drift.graceMinutes: one week.
const maxDriftGraceMinutes = 7 * 24 * 60

// build decodes the document into a policy.Policy and checks what the schema
// cannot: references between environments, regular expressions, windows,
// bundles, locations.
func (b *builder) build(v any) *policy.Policy {
	root := b.object(nil, v, "apiVersion", "kind", "environments", "artifacts", "governance", "bundles", "rules",
		"fieldOwners", "riskTiers", "models", "drift", "audit")
	if root == nil {
		if v == nil {
			b.errorf(nil, "the policy is empty")
		}
		return nil
	}
	if s := b.text(at("apiVersion"), root["apiVersion"]); s != "promobot/v1" {
		b.errorf(at("apiVersion"), "apiVersion must be promobot/v1")
	}
	if s := b.text(at("kind"), root["kind"]); s != "PromotionPolicy" {
		b.errorf(at("kind"), "kind must be PromotionPolicy")
	}
	p := &policy.Policy{Rules: map[policy.Family]policy.Mode{}}
	envs := b.list(at("environments"), root["environments"])
	if len(envs) == 0 || len(envs) > maxEnvironments {
		b.errorf(at("environments"), "environments must list from 1 to %d environments", maxEnvironments)
	}
	seen := map[string]int{}
	for i, item := range envs {
		env := b.environment(at("environments", i), item, i, seen)
		p.Environments = append(p.Environments, env)
	}
	b.artifacts(root["artifacts"], p)
	p.Governance.Approvals = 1
	for _, e := range p.Environments {
		p.Governance.Approvals = max(p.Governance.Approvals, e.Approvals)
	}
	if g := b.object(at("governance"), root["governance"], "approvals"); g != nil {
		if n, ok := b.count(at("governance", "approvals"), g["approvals"], 0, maxApprovals); ok {
			p.Governance.Approvals = n
		}
	}
	if d := b.object(at("drift"), root["drift"], "graceMinutes"); d != nil {
		if n, ok := b.count(at("drift", "graceMinutes"), d["graceMinutes"], 0, maxDriftGraceMinutes); ok {
			p.Drift.GraceMinutes = n
		}
	}
	if a := b.object(at("audit"), root["audit"], "judgeFrom"); a != nil {
		if v, ok := a["judgeFrom"]; ok {
			p.Audit.JudgeFrom = b.text(at("audit", "judgeFrom"), v)
			if !judgePoint(p.Audit.JudgeFrom) {
				b.errorf(at("audit", "judgeFrom"), "audit.judgeFrom %q must be a commit hash (7 to 40 hex digits), a date (2006-01-02) or an RFC 3339 time", p.Audit.JudgeFrom)
			}
		}
	}
	inBundle := map[string]string{}
	for i, item := range b.list(at("bundles"), root["bundles"]) {
		bm := b.object(at("bundles", i), item, "name", "models")
		if bm == nil {
			b.absent(at("bundles", i), item)
			continue
		}
		bu := policy.Bundle{Name: b.text(at("bundles", i, "name"), bm["name"]), Models: b.texts(at("bundles", i, "models"), bm["models"])}
		if bu.Name == "" || len(bu.Models) < 2 {
			b.errorf(at("bundles", i), "a bundle needs a name and at least two models")
		}
		for _, m := range bu.Models {
			if other, dup := inBundle[m]; dup {
				b.errorf(at("bundles", i, "models"), "model %q is already in bundle %q", m, other)
			}
			inBundle[m] = bu.Name
		}
		p.Bundles = append(p.Bundles, bu)
	}
	b.fieldOwners(root["fieldOwners"], p)
	b.riskTiers(root["riskTiers"], root["models"], p)
	if r := b.object(at("rules"), root["rules"], familyNames()...); r != nil {
		for _, k := range sortedKeys(r) {
			m := policy.Mode(b.text(at("rules", k), r[k]))
			if m != policy.Enforce && m != policy.Warn && m != policy.Off {
				b.cannot(at("rules", k), r[k], "enforce, warn or off")
				continue
			}
			p.Rules[policy.Family(k)] = m
		}
	}
	return p
}

// environment decodes environments[i]; seen maps the names declared so far
// to their index.
func (b *builder) environment(here []string, v any, i int, seen map[string]int) policy.Environment {
	e := b.object(here, v, "name", "from", "approvals", "requireValidation", "requireTicket", "ticketPattern",
		"requiredLineage", "requireSignature", "autoPropose", "verifyArtifacts", "requireValidationReport", "requireRollbackReady",
		"requireSBOM", "freeze", "metricGates", "metricGateExceptions", "requireRationale")
	if e == nil {
		b.absent(here, v)
		return policy.Environment{}
	}
	field := func(name string) []string { return append(slices.Clone(here), name) }
	env := policy.Environment{
		Name:                    b.text(field("name"), e["name"]),
		From:                    b.text(field("from"), e["from"]),
		RequireValidation:       b.flag(field("requireValidation"), e["requireValidation"]),
		RequireTicket:           b.flag(field("requireTicket"), e["requireTicket"]),
		TicketPattern:           b.text(field("ticketPattern"), e["ticketPattern"]),
		RequireSignature:        b.flag(field("requireSignature"), e["requireSignature"]),
		AutoPropose:             b.flag(field("autoPropose"), e["autoPropose"]),
		VerifyArtifacts:         b.flag(field("verifyArtifacts"), e["verifyArtifacts"]),
		RequireValidationReport: b.flag(field("requireValidationReport"), e["requireValidationReport"]),
		RequireRollbackReady:    b.flag(field("requireRollbackReady"), e["requireRollbackReady"]),
		RequireSBOM:             b.flag(field("requireSBOM"), e["requireSBOM"]),
		RequiredLineage:         b.texts(field("requiredLineage"), e["requiredLineage"]),
	}
	if n, ok := b.count(field("approvals"), e["approvals"], 0, maxApprovals); ok {
		env.Approvals = n
	} else if e["approvals"] == nil {
		b.errorf(here, "%s: missing required field %q", fieldName(here), "approvals")
	}
	if env.Name == "" {
		b.errorf(field("name"), "%s: an environment needs a name", fieldName(here))
	}
	for k, f := range env.RequiredLineage {
		if !slices.Contains(policy.LineageFields, f) {
			b.cannot(append(field("requiredLineage"), fmt.Sprint(k)), f, "one of "+fmt.Sprint(policy.LineageFields))
		}
	}
	if j, dup := seen[env.Name]; dup {
		b.errorf(field("name"), "environment %q is declared twice (first as environments[%d])", env.Name, j)
	}
	seen[env.Name] = i
	switch {
	case i == 0 && env.From != "":
		b.errorf(field("from"), "the first environment %q is where versions are registered and cannot have from", env.Name)
	case i > 0 && env.From == "":
		b.errorf(field("name"), "environment %q needs from: the environment its versions are promoted from", env.Name)
	case i > 0:
		if _, ok := seen[env.From]; !ok || env.From == env.Name {
			b.errorf(field("from"), "from %q must name an environment declared before %q", env.From, env.Name)
		}
	}
	if env.TicketPattern != "" {
		re, err := regexp.Compile(`^(?:` + env.TicketPattern + `)$`)
		if err != nil {
			b.errorf(field("ticketPattern"), "ticketPattern is not a valid regular expression: %v", err)
		}
		env.TicketRegexp = re
	}
	for k, w := range b.list(field("freeze"), e["freeze"]) {
		env.Freeze = append(env.Freeze, b.window(append(field("freeze"), fmt.Sprint(k)), w))
	}
	b.gates(here, e, &env)
	return env
}

// window decodes one freeze window.
func (b *builder) window(here []string, v any) policy.FreezeWindow {
	w := b.object(here, v, "name", "start", "end", "overrideLabel")
	if w == nil {
		b.absent(here, v)
		return policy.FreezeWindow{}
	}
	field := func(name string) []string { return append(slices.Clone(here), name) }
	fw := policy.FreezeWindow{Name: b.text(field("name"), w["name"]), OverrideLabel: b.text(field("overrideLabel"), w["overrideLabel"])}
	var startOK, endOK bool
	fw.Start, startOK = b.instant(field("start"), w["start"])
	fw.End, endOK = b.instant(field("end"), w["end"])
	if startOK && endOK && !fw.End.After(fw.Start) {
		b.errorf(field("end"), "freeze window %q ends before it starts", fw.Name)
	}
	return fw
}

// instant decodes a required RFC 3339 date-time.
func (b *builder) instant(here []string, v any) (time.Time, bool) {
	s := b.text(here, v)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		b.cannot(here, v, "an RFC 3339 date-time such as 2026-12-23T00:00:00Z")
		return time.Time{}, false
	}
	return t, true
}

// artifacts decodes the artifacts section into p.
func (b *builder) artifacts(v any, p *policy.Policy) {
	a := b.object(at("artifacts"), v, "allowedLocations", "allowLocal", "trustedKeys")
	if a == nil {
		return
	}
	p.Artifacts = policy.Artifacts{
		AllowedLocations: b.texts(at("artifacts", "allowedLocations"), a["allowedLocations"]),
		AllowLocal:       b.flag(at("artifacts", "allowLocal"), a["allowLocal"]),
		TrustedKeys:      b.texts(at("artifacts", "trustedKeys"), a["trustedKeys"]),
	}
	for i, loc := range p.Artifacts.AllowedLocations {
		// The same check the artifact location rule applies, so that a
		// policy that loads never holds a location no URI can be under.
		if err := location.CheckAllowed(loc, p.Artifacts.AllowLocal); err != nil {
			b.errorf(at("artifacts", "allowedLocations", i), "%v", err)
		}
	}
}

// absent reports a list item that is null where a mapping is needed
// (object has already reported one of another type).
func (b *builder) absent(here []string, v any) {
	if v == nil {
		b.cannot(here, v, "a mapping")
	}
}

// familyNames returns the rule families of the rule table, the keys the
// policy's rules accept.
func familyNames() []string {
	families := evaluate.Families()
	out := make([]string, len(families))
	for i, f := range families {
		out[i] = string(f)
	}
	return out
}

// judgeHash is an abbreviated or full commit hash.
var judgeHash = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// judgePoint reports whether s names a commit by hash, a date or an RFC
// 3339 time, as audit.judgeFrom must.
func judgePoint(s string) bool {
	if judgeHash.MatchString(s) {
		return true
	}
	if _, err := time.Parse(time.DateOnly, s); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}
