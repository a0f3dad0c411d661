package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/schemas"
)

// trustedFiles are what a change is judged by, read from the base.
type trustedFiles struct {
	manifestSchema *schema.Schema
	policy         *policy.Policy
	policyProblems []diag.Problem
	owners         *codeowners.File
	ownersPath     string
	ownersWarnings []codeowners.Warning
}

// ownersEntry is a cached parse of one CODEOWNERS blob.
type ownersEntry struct {
	file     *codeowners.File
	warnings []codeowners.Warning
}

// readTrusted reads the schemas, the policy and CODEOWNERS from root.
//
// A broken schema or policy fails closed: the policy is then nil and every
// problem is in policyProblems, so the engine blocks gated changes rather
// than judging them by rules other than the ones the base meant to apply.
func (r *Repo) readTrusted(root *object.Tree) (*trustedFiles, error) {
	fsys := r.treeFS(root)
	// repoconfig.Schemas falls back to the built-in schemas for any file it
	// cannot read; only absence may do that, so read errors stop here.
	for _, p := range []string{schemas.ModelDeploymentPath, schemas.PolicyPath} {
		if _, err := fs.Stat(fsys, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{Op: "read " + p, Err: err}
		}
	}
	t := &trustedFiles{}
	manifestSchema, policySchema, problems := repoconfig.Schemas(fsys)
	t.manifestSchema = manifestSchema
	t.policyProblems = problems
	// A base without a policy has a nil policy and no problems: the engine
	// fails closed on it and says the policy is missing, not broken.
	_, err := fs.Stat(fsys, policy.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, &Error{Op: "read " + policy.Path, Err: err}
	default:
		pol, ps, err := repoconfig.ReadPolicy(fsys, policySchema)
		if err != nil {
			return nil, &Error{Op: "read " + policy.Path, Err: err}
		}
		t.policyProblems = append(t.policyProblems, ps...)
		if !diag.HasErrors(t.policyProblems) {
			t.policy = pol
		}
	}
	if err := r.readOwners(root, t); err != nil {
		return nil, err
	}
	return t, nil
}

// errOwnersTooLarge stops codeowners.Find before a file GitHub would ignore
// is read.
var errOwnersTooLarge = errors.New("too large")

// readOwners finds and parses CODEOWNERS the way GitHub does: the first of
// codeowners.Locations that exists, ignored when it is 3 MB or more.
func (r *Repo) readOwners(root *object.Tree, t *trustedFiles) error {
	var blob plumbing.Hash
	var found string
	var size int64
	var cached *ownersEntry
	p, data, err := codeowners.Find(func(p string) ([]byte, bool, error) {
		e, ok, err := r.lookup(root, p)
		if err != nil || !ok || !isRegular(e.Mode) {
			return nil, false, err
		}
		found, blob = p, e.Hash
		if d, ok := r.owners.get(blob); ok {
			cached = &d
			return nil, true, nil // parsed before; contents not needed
		}
		data, err := r.readBlob(e.Hash, codeowners.MaxFileSize-1)
		var tooBig *tooLargeError
		if errors.As(err, &tooBig) {
			size = tooBig.size
			return nil, false, errOwnersTooLarge
		}
		return data, err == nil, err
	})
	switch {
	case errors.Is(err, codeowners.ErrNotFound):
		return nil
	case errors.Is(err, errOwnersTooLarge):
		t.ownersPath = found
		t.ownersWarnings = []codeowners.Warning{{Message: fmt.Sprintf(
			"%s is %d bytes; GitHub ignores CODEOWNERS files of 3 MB or more, so nothing is owned", found, size)}}
		return nil
	case err != nil:
		return &Error{Op: "read CODEOWNERS", Err: err}
	}
	t.ownersPath = p
	var entry ownersEntry
	if cached != nil {
		entry = *cached
	} else {
		f, warns := codeowners.Parse(data)
		entry = ownersEntry{file: f, warnings: warns}
		r.owners.put(blob, entry)
	}
	t.owners, t.ownersWarnings = entry.file, entry.warnings
	return nil
}
