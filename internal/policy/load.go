package policy

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/internal/yamldoc"
	"github.com/example-org/promobot/schemas"
)

// DefaultSchema is the policy schema embedded in the binary.
var DefaultSchema = schema.MustCompile("policy.schema.json", schemas.Policy)

// Load decodes and checks a policy file. p is the path used in messages. The
// policy is returned only when there are no problems: a broken policy must
// never be half-applied.
func Load(p string, data []byte, sch *schema.Schema) (*Policy, []diag.Problem) {
	if sch == nil {
		sch = DefaultSchema
	}
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		return nil, []diag.Problem{err.(*yamldoc.Error).Problem(p)}
	}
	if problems := sch.Problems(p, doc); len(problems) > 0 {
		return nil, problems
	}
	b := builder{file: p, doc: doc}
	pol := b.build(doc.Value.(map[string]any))
	if len(b.problems) > 0 {
		return nil, b.problems
	}
	return pol, nil
}

type builder struct {
	file     string
	doc      *yamldoc.Doc
	problems []diag.Problem
}

func (b *builder) errorf(path []string, format string, args ...any) {
	line, col := b.doc.Position(path, false)
	b.problems = append(b.problems, diag.Problem{File: b.file, Line: line, Column: col, Field: strings.Join(path, "."), Message: fmt.Sprintf(format, args...)})
}

// build converts a schema-valid document and checks what the schema cannot:
// references between environments, regular expressions, windows, bundles.
func (b *builder) build(v map[string]any) *Policy {
	p := &Policy{Rules: map[Family]Mode{}}
	seen := map[string]int{}
	for i, item := range v["environments"].([]any) {
		e := item.(map[string]any)
		at := []string{"environments", fmt.Sprint(i)}
		env := Environment{
			Name:              e["name"].(string),
			From:              str(e["from"]),
			Approvals:         int(e["approvals"].(int64)),
			RequireValidation: e["requireValidation"] == true,
			RequireTicket:     e["requireTicket"] == true,
			TicketPattern:     str(e["ticketPattern"]),
			RequireSignature:  e["requireSignature"] == true,
			AutoPropose:       e["autoPropose"] == true,
			RequiredLineage:   strs(e["requiredLineage"]),
		}
		if j, dup := seen[env.Name]; dup {
			b.errorf(append(at, "name"), "environment %q is declared twice (first as environments[%d])", env.Name, j)
		}
		seen[env.Name] = i
		switch {
		case i == 0 && env.From != "":
			b.errorf(append(at, "from"), "the first environment %q is where versions are registered and cannot have from", env.Name)
		case i > 0 && env.From == "":
			b.errorf(append(at, "name"), "environment %q needs from: the environment its versions are promoted from", env.Name)
		case i > 0:
			if _, ok := seen[env.From]; !ok || env.From == env.Name {
				b.errorf(append(at, "from"), "from %q must name an environment declared before %q", env.From, env.Name)
			}
		}
		if env.TicketPattern != "" {
			re, err := regexp.Compile(`^(?:` + env.TicketPattern + `)$`)
			if err != nil {
				b.errorf(append(at, "ticketPattern"), "ticketPattern is not a valid regular expression: %v", err)
			}
			env.TicketRegexp = re
		}
		for k, w := range anys(e["freeze"]) {
			env.Freeze = append(env.Freeze, b.window(append(at, "freeze", fmt.Sprint(k)), w.(map[string]any)))
		}
		p.Environments = append(p.Environments, env)
	}
	if a, ok := v["artifacts"].(map[string]any); ok {
		p.Artifacts = Artifacts{AllowedLocations: strs(a["allowedLocations"]), AllowLocal: a["allowLocal"] == true, TrustedKeys: strs(a["trustedKeys"])}
		for i, loc := range p.Artifacts.AllowedLocations {
			b.checkLocation([]string{"artifacts", "allowedLocations", fmt.Sprint(i)}, loc, p.Artifacts.AllowLocal)
		}
	}
	p.Governance.Approvals = 1
	for _, e := range p.Environments {
		p.Governance.Approvals = max(p.Governance.Approvals, e.Approvals)
	}
	if g, ok := v["governance"].(map[string]any); ok {
		if n, ok := g["approvals"].(int64); ok {
			p.Governance.Approvals = int(n)
		}
	}
	inBundle := map[string]string{}
	for i, item := range anys(v["bundles"]) {
		bm := item.(map[string]any)
		bu := Bundle{Name: bm["name"].(string), Models: strs(bm["models"])}
		for _, m := range bu.Models {
			if other, dup := inBundle[m]; dup {
				b.errorf([]string{"bundles", fmt.Sprint(i), "models"}, "model %q is already in bundle %q", m, other)
			}
			inBundle[m] = bu.Name
		}
		p.Bundles = append(p.Bundles, bu)
	}
	if r, ok := v["rules"].(map[string]any); ok {
		for k, m := range r {
			p.Rules[Family(k)] = Mode(m.(string))
		}
	}
	return p
}

func (b *builder) window(at []string, w map[string]any) FreezeWindow {
	fw := FreezeWindow{Name: w["name"].(string), OverrideLabel: str(w["overrideLabel"])}
	fw.Start, _ = time.Parse(time.RFC3339, w["start"].(string))
	fw.End, _ = time.Parse(time.RFC3339, w["end"].(string))
	if !fw.End.After(fw.Start) {
		b.errorf(append(at, "end"), "freeze window %q ends before it starts", fw.Name)
	}
	return fw
}

// checkLocation refuses allowed locations that could never be safe prefixes.
func (b *builder) checkLocation(at []string, loc string, allowLocal bool) {
	u, err := url.Parse(loc)
	if err != nil {
		b.errorf(at, "allowed location %q is not a URL: %v", loc, err)
		return
	}
	switch {
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		b.errorf(at, "allowed location %q must not carry user-info, a query or a fragment", loc)
	case strings.Contains(u.Path, ".."):
		b.errorf(at, "allowed location %q must not contain ..", loc)
	case u.Scheme == "https" && u.Host != "":
	case (u.Scheme == "http" || u.Scheme == "file") && allowLocal:
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			b.errorf(at, "allowed location %q: plain http is only allowed on a loopback host", loc)
		}
	case u.Scheme == "http" || u.Scheme == "file":
		b.errorf(at, "allowed location %q uses %s, which needs artifacts.allowLocal: true (development only)", loc, u.Scheme)
	default:
		b.errorf(at, "allowed location %q must be an https URL", loc)
	}
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func anys(v any) []any {
	a, _ := v.([]any)
	return a
}

func strs(v any) []string {
	var out []string
	for _, x := range anys(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
