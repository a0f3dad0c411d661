package evaluate

import (
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/policy"
)

// familySchema requires a manifest to be valid against the base schemas and
// consistent with its path, and a gated path to stay a regular file
// (layout.go).
var familySchema = RuleFamily{
	Name:  policy.FamilySchema,
	Rules: []Rule{{ID: "schema", Pin: true}, {ID: "layout"}},
	stage: stageDocument,
	check: (*evaluation).checkSchema,
}

// checkSchema reports the problems loading found in the head manifest. A
// file that is not a .yaml file, or whose head was not loaded, ends the
// file's checks.
func (e *evaluation) checkSchema(c *fileCheck) {
	f := c.f
	if strings.HasSuffix(f.path, ".yml") {
		e.add(f, policy.FamilySchema, "schema", StatusFail, fmt.Sprintf("%s: manifest files must end in .yaml, not .yml", f.path))
		c.done = true
		return
	}
	if f.head == nil {
		e.add(f, policy.FamilySchema, "schema", StatusFail,
			fmt.Sprintf("the head version of %s was not loaded, so it cannot be checked", f.path))
		c.done = true
		return
	}
	if len(f.head.Problems) == 0 {
		e.add(f, policy.FamilySchema, "schema", StatusPass, "valid against the base schema and consistent with its path")
	}
	for _, p := range f.head.Problems {
		r := RuleResult{ID: "schema", Family: policy.FamilySchema, Status: StatusFail, Mode: e.pol.Mode(policy.FamilySchema),
			File: f.path, Line: p.Line, Column: p.Column, Message: p.Message}
		e.rules = append(e.rules, applyMode(r))
	}
}
