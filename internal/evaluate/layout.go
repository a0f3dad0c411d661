package evaluate

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// The layout of the gated paths.
//
// The gated roots are the folders environments/ and schemas/, the policy
// file, every CODEOWNERS location and the trusted keys the base policy
// names. Whoever controls what those paths are, rather than what the files
// hold, controls the gate: a PR that turns environments into a symbolic link
// to another folder removes every manifest (which the environments' owners
// may approve) and moves all later changes out of the gate. So a change is a
// layout change, which needs governance approvals and is named in the
// summary, when it is
//   - at a gated root or at any folder above a gated path (environments,
//     .github, docs, .github/keys: whatever it is, a folder is expected);
//   - or at or under a gated root, with an entry that is not a regular file
//     (a symbolic link or a submodule) on either side.
//
// An entry that is not a regular file, or that is not a folder where one is
// expected, is moreover a problem on the head side (schema family): promobot
// reads the gated paths as regular files in folders, so what such an entry
// points to is never checked.

// layoutRoots are the gated folders.
var layoutRoots = []string{manifest.Root, strings.TrimSuffix(SchemasDir, "/")}

// gatedFiles returns the gated files named by path: the policy, the
// CODEOWNERS locations and the base policy's trusted keys.
func (e *evaluation) gatedFiles() []string {
	out := append([]string{policy.Path}, codeowners.Locations...)
	if e.pol != nil {
		for _, k := range e.pol.Artifacts.TrustedKeys {
			out = append(out, path.Clean(strings.TrimPrefix(k, "/")))
		}
	}
	return out
}

// mustBeFolder reports whether p must be a folder: a gated folder, or a
// folder above a gated path.
func (e *evaluation) mustBeFolder(p string) bool {
	if slices.Contains(layoutRoots, p) {
		return true
	}
	for _, g := range append(e.gatedFiles(), layoutRoots...) {
		if strings.HasPrefix(g, p+"/") {
			return true
		}
	}
	return false
}

// underGatedRoot reports whether p is a gated file or lies under a gated
// folder.
func (e *evaluation) underGatedRoot(p string) bool {
	for _, r := range layoutRoots {
		if strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return slices.Contains(e.gatedFiles(), p)
}

// layoutOf describes a layout change, or returns "" when c is none.
// changes are all the changes, to tell a folder replaced by an entry from
// an entry added where there was nothing.
func (e *evaluation) layoutOf(c Change, changes []Change) string {
	before, after := c.Before, c.After
	irregular := c.Status != Added && before != EntryFile || c.Status != Removed && after != EntryFile
	if !e.mustBeFolder(c.Path) && !(irregular && e.underGatedRoot(c.Path)) {
		return ""
	}
	folder := func(status ChangeStatus) bool {
		return slices.ContainsFunc(changes, func(o Change) bool { return o.Status == status && strings.HasPrefix(o.Path, c.Path+"/") })
	}
	switch c.Status {
	case Added:
		if folder(Removed) {
			return fmt.Sprintf("%s is replaced by %s", c.Path, withArticle(after))
		}
		return fmt.Sprintf("%s is added as %s", c.Path, withArticle(after))
	case Removed:
		if folder(Added) {
			return fmt.Sprintf("the %s %s is replaced by a folder", noun(before), c.Path)
		}
		return fmt.Sprintf("the %s %s is removed", noun(before), c.Path)
	}
	if before != after {
		return fmt.Sprintf("%s is replaced by %s", c.Path, withArticle(after))
	}
	return fmt.Sprintf("the %s %s is changed", noun(after), c.Path)
}

// layoutProblem returns why the head side of a layout change is a problem,
// or "" when it is none: a symbolic link or a submodule at or under a gated
// path, or a file where the gate expects a folder.
func (e *evaluation) layoutProblem(c Change, layout string) string {
	switch {
	case c.Status == Removed:
		return ""
	case c.After != EntryFile:
		return fmt.Sprintf("%s; promobot reads %s/, %s, the policy and CODEOWNERS only as regular files in folders, so what it points to is never checked",
			layout, manifest.Root, SchemasDir)
	case slices.Contains(layoutRoots, c.Path) || strings.HasPrefix(policy.Path, c.Path+"/"):
		// A file at docs only means there is no docs/CODEOWNERS; a file at
		// .github or environments breaks the gate.
		return fmt.Sprintf("%s; a folder of gated files is expected there", layout)
	}
	return ""
}

func withArticle(k EntryKind) string { return "a " + noun(k) }

func noun(k EntryKind) string {
	switch k {
	case EntrySymlink:
		return "symbolic link"
	case EntrySubmodule:
		return "submodule"
	}
	return "file"
}

// checkLayout applies the rules to a layout change. Its head side, when it
// is a problem, fails the schema family; at a manifest path whose head is
// not a regular file, every family that needs a manifest fails closed too,
// as for a file that does not decode. A symbolic link replaced by a regular
// manifest gets the manifest rules.
func (e *evaluation) checkLayout(f *gatedFile) {
	if f.layoutProblem != "" {
		e.add(f, policy.FamilySchema, "layout", StatusFail, f.layoutProblem)
	}
	if !f.yaml {
		return
	}
	switch {
	case f.layoutProblem == "" && f.status != Removed:
		e.checkManifest(f)
	case f.layoutProblem != "":
		if f.model != "" {
			e.markMoving(f)
		}
		e.failClosed(f, func(fam policy.Family) string {
			return fmt.Sprintf("cannot check %s: %s is %s, not a manifest", fam, f.path, withArticle(f.after))
		})
	}
}
