package policy

import "strings"

// FieldOwners gives a set of manifest fields to owners: a change of any of
// those fields needs Approvals distinct eligible approvals from the owners,
// whatever the environment's own count.
//
// A path is a dotted list of manifest keys, such as "validation.status";
// a segment "*" matches any one key. A path covers the field it names and
// everything under it, so "metrics.*" covers every metric and "validation"
// the whole validation block.
type FieldOwners struct {
	Paths []string
	// Owners are GitHub users ("@login") and teams ("@org/team-slug"), as
	// written in the policy.
	Owners    []string
	Approvals int
}

// Covers reports whether one of the rule's paths covers the dotted field.
func (f *FieldOwners) Covers(field string) bool {
	for _, p := range f.Paths {
		if PathCovers(p, field) {
			return true
		}
	}
	return false
}

// PathCovers reports whether the field path pattern covers the dotted field:
// each segment of pattern matches the field's segment at the same place
// ("*" matches any), and the field may go on below the pattern.
func PathCovers(pattern, field string) bool {
	ps, fs := strings.Split(pattern, "."), strings.Split(field, ".")
	if len(ps) > len(fs) {
		return false
	}
	for i, p := range ps {
		if p != "*" && p != fs[i] {
			return false
		}
	}
	return true
}
