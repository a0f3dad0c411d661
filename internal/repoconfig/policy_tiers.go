package repoconfig

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/policy"
)

// fieldPathPattern is the syntax of a field owner path: dotted keys, each a
// manifest key or "*".
var fieldPathPattern = regexp.MustCompile(`^(\*|[A-Za-z0-9_-]+)(\.(\*|[A-Za-z0-9_-]+))*$`)

// ownerPattern is a GitHub user ("@login") or team ("@org/team-slug").
var ownerPattern = regexp.MustCompile(`^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?$`)

// fieldOwners decodes the fieldOwners section into p.
func (b *builder) fieldOwners(v any, p *policy.Policy) {
	for i, item := range b.list(at("fieldOwners"), v) {
		here := at("fieldOwners", i)
		m := b.object(here, item, "paths", "owners", "approvals")
		if m == nil {
			b.absent(here, item)
			continue
		}
		field := func(name string) []string { return append(slices.Clone(here), name) }
		fo := policy.FieldOwners{
			Paths:     b.texts(field("paths"), m["paths"]),
			Owners:    b.texts(field("owners"), m["owners"]),
			Approvals: 1,
		}
		if n, ok := b.count(field("approvals"), m["approvals"], 1, maxApprovals); ok {
			fo.Approvals = n
		}
		if len(fo.Paths) == 0 || len(fo.Owners) == 0 {
			b.errorf(here, "%s: field owners need at least one path and one owner", fieldName(here))
		}
		for k, path := range fo.Paths {
			if !fieldPathPattern.MatchString(path) {
				b.errorf(append(field("paths"), fmt.Sprint(k)), "%q is not a field path: write dotted manifest keys, each a key or *, such as validation.* or metrics.rmse", path)
			}
		}
		for k, o := range fo.Owners {
			if !ownerPattern.MatchString(o) {
				b.errorf(append(field("owners"), fmt.Sprint(k)), "%q is not an owner: write @login or @org/team-slug", o)
			}
		}
		p.FieldOwners = append(p.FieldOwners, fo)
	}
}

// riskTiers decodes the riskTiers and models sections into p: every tier's
// environments must be declared, and every model's tier too.
func (b *builder) riskTiers(tiers, models any, p *policy.Policy) {
	if t := b.mapping(at("riskTiers"), tiers); t != nil {
		p.RiskTiers = map[string]policy.RiskTier{}
		for _, name := range sortedKeys(t) {
			here := at("riskTiers", name)
			tm := b.object(here, t[name], "environments")
			tier := policy.RiskTier{Name: name, Environments: map[string]policy.TierEnvironment{}}
			if tm == nil {
				b.absent(here, t[name])
				continue
			}
			envs := b.mapping(append(slices.Clone(here), "environments"), tm["environments"])
			for _, env := range sortedKeys(envs) {
				tier.Environments[env] = b.tierEnvironment(append(slices.Clone(here), "environments", env), envs[env], p)
			}
			p.RiskTiers[name] = tier
		}
	}
	m := b.mapping(at("models"), models)
	if m == nil {
		return
	}
	p.Models = map[string]policy.ModelPolicy{}
	for _, model := range sortedKeys(m) {
		here := at("models", model)
		mm := b.object(here, m[model], "tier")
		if mm == nil {
			b.absent(here, m[model])
			continue
		}
		mp := policy.ModelPolicy{Tier: b.text(append(slices.Clone(here), "tier"), mm["tier"])}
		if _, ok := p.RiskTiers[mp.Tier]; !ok {
			b.errorf(append(slices.Clone(here), "tier"), "model %q: tier %q is not declared under riskTiers (declared: %s)",
				model, mp.Tier, strings.Join(sortedKeys(asAny(p.RiskTiers)), ", "))
		}
		p.Models[model] = mp
	}
}

// tierEnvironment decodes one environment's settings of a tier.
func (b *builder) tierEnvironment(here []string, v any, p *policy.Policy) policy.TierEnvironment {
	env := here[len(here)-1]
	if _, ok := p.Environment(env); !ok {
		b.problem(here, true, fmt.Sprintf("%s: environment %q is not declared under environments", fieldName(here), env))
	}
	m := b.object(here, v, "approvals", "requireValidation", "requireTicket", "requireSignature", "verifyArtifacts", "requireRationale")
	if m == nil {
		b.absent(here, v)
		return policy.TierEnvironment{}
	}
	field := func(name string) []string { return append(slices.Clone(here), name) }
	te := policy.TierEnvironment{
		RequireValidation: b.flag(field("requireValidation"), m["requireValidation"]),
		RequireTicket:     b.flag(field("requireTicket"), m["requireTicket"]),
		RequireSignature:  b.flag(field("requireSignature"), m["requireSignature"]),
		VerifyArtifacts:   b.flag(field("verifyArtifacts"), m["verifyArtifacts"]),
		// A tier's rationale requirement has the environment's shape.
		RationaleMinLength: b.requireRationale(field("requireRationale"), m["requireRationale"]),
	}
	if n, ok := b.count(field("approvals"), m["approvals"], 0, maxApprovals); ok {
		te.Approvals = &n
	}
	return te
}

func asAny(m map[string]policy.RiskTier) map[string]any {
	out := make(map[string]any, len(m))
	for k := range m {
		out[k] = nil
	}
	return out
}

// mapping returns the mapping v, whatever its keys, or nil when v is
// absent.
func (b *builder) mapping(at []string, v any) map[string]any {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		b.cannot(at, v, "a mapping")
		return nil
	}
	return m
}
