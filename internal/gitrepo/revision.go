package gitrepo

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// revisionSource is what resolving a revision reads; *git.Repository
// implements it.
type revisionSource interface {
	Reference(name plumbing.ReferenceName, resolved bool) (*plumbing.Reference, error)
	ResolveRevision(rev plumbing.Revision) (*plumbing.Hash, error)
	CommitObject(h plumbing.Hash) (*object.Commit, error)
	TagObject(h plumbing.Hash) (*object.Tag, error)
}

// refRules are git's rules for what a name means, in git's order (see
// gitrevisions(7)): a name is first looked up as a reference, and only
// then as an abbreviated object name.
var refRules = []string{"%s", "refs/%s", "refs/tags/%s", "refs/heads/%s", "refs/remotes/%s", "refs/remotes/%s/HEAD"}

// minAbbreviation is the shortest abbreviated object name git accepts.
const minAbbreviation = 4

// ResolveRevision resolves rev in repo as git rev-parse does: a full
// 40-digit hash names that object; any other name is looked up as
// $GIT_DIR/<name> (HEAD), refs/<name>, refs/tags/<name>,
// refs/heads/<name>, refs/remotes/<name> and refs/remotes/<name>/HEAD, in
// that order; and only a name no reference matches is taken as an
// abbreviated hash (at least 4 digits) naming exactly one commit. So a
// branch named "cafe" means the branch, never commit cafe12…. Suffixes
// (main~1, v1.2^2, HEAD^{commit}) apply to what the name resolved to. An
// annotated tag is peeled to its commit.
//
// It returns the commit and the reference the name matched (empty when it
// was a hash or carried a suffix). Every command resolves --ref, --base
// and --head through it (Repo.Resolve is the same function); the error is
// terminal.
func ResolveRevision(repo *git.Repository, rev string) (plumbing.Hash, plumbing.ReferenceName, error) {
	return resolveRevision(repo, hashesWithPrefix(repo), rev)
}

// prefixLookup lists the objects whose hash starts with prefix; nil when
// the storage cannot.
type prefixLookup func(prefix []byte) ([]plumbing.Hash, error)

func hashesWithPrefix(repo *git.Repository) prefixLookup {
	if s, ok := repo.Storer.(interface {
		HashesWithPrefix(prefix []byte) ([]plumbing.Hash, error)
	}); ok {
		return s.HashesWithPrefix
	}
	return nil
}

func resolveRevision(src revisionSource, prefixes prefixLookup, rev string) (plumbing.Hash, plumbing.ReferenceName, error) {
	fail := func(err error) (plumbing.Hash, plumbing.ReferenceName, error) {
		return plumbing.ZeroHash, "", &Error{Op: fmt.Sprintf("resolve revision %q", rev), Err: err, Terminal: true}
	}
	if rev == "" {
		return fail(errors.New("empty revision"))
	}
	name, suffix := splitRevision(rev)
	if name == "" || name == "@" {
		name = "HEAD" // git reads "@" and a bare suffix (@{-1} aside) as HEAD
	}
	var (
		h   plumbing.Hash
		ref plumbing.ReferenceName
	)
	if plumbing.IsHash(name) {
		h = plumbing.NewHash(name)
	} else {
		found, err := lookUpRef(src, name)
		if err != nil {
			return fail(err)
		}
		if found != nil {
			h, ref = found.Hash(), found.Name()
		} else if h, err = abbreviated(src, prefixes, name); err != nil {
			return fail(err)
		}
	}
	if suffix != "" {
		got, err := src.ResolveRevision(plumbing.Revision(h.String() + suffix))
		if err != nil {
			return fail(err)
		}
		h, ref = *got, ""
	}
	h, err := peel(src, h)
	if err != nil {
		return fail(err)
	}
	return h, ref, nil
}

// splitRevision cuts rev into the name and the suffixes applied to it
// (~n, ^n, ^{type}, @{…}, :path). A reference name can hold none of these.
func splitRevision(rev string) (name, suffix string) {
	i := strings.IndexAny(rev, "~^:")
	if j := strings.Index(rev, "@{"); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if i < 0 {
		return rev, ""
	}
	return rev[:i], rev[i:]
}

// lookUpRef applies git's reference rules to name; nil when none matches.
func lookUpRef(src revisionSource, name string) (*plumbing.Reference, error) {
	for _, rule := range refRules {
		full := plumbing.ReferenceName(fmt.Sprintf(rule, name))
		if rule == "%s" && !pseudoRef(name) && !strings.HasPrefix(name, "refs/") {
			// $GIT_DIR/<name> holds HEAD, FETCH_HEAD and the like, and the
			// full names under refs/; any other name is no file there.
			continue
		}
		r, err := src.Reference(full, true)
		switch {
		case err == nil:
			return r, nil
		case errors.Is(err, plumbing.ErrReferenceNotFound):
		default:
			return nil, fmt.Errorf("read reference %s: %w", full, err)
		}
	}
	return nil, nil
}

// pseudoRef reports whether name is spelled like HEAD, FETCH_HEAD or
// ORIG_HEAD: upper-case letters and underscores, ending in HEAD.
func pseudoRef(name string) bool {
	return strings.HasSuffix(name, "HEAD") && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == ""
}

// abbreviated resolves an abbreviated hash that names exactly one commit
// (or a tag of one).
func abbreviated(src revisionSource, prefixes prefixLookup, name string) (plumbing.Hash, error) {
	if len(name) < minAbbreviation || len(name) > 2*len(plumbing.ZeroHash) || !isHex(name) {
		return plumbing.ZeroHash, fmt.Errorf("no branch, tag or other reference is named %q", name)
	}
	name = strings.ToLower(name)
	if prefixes == nil {
		// A storage that cannot list by prefix: go-git picks a commit.
		h, err := src.ResolveRevision(plumbing.Revision(name))
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("unknown revision %q: %w", name, err)
		}
		return *h, nil
	}
	even, err := hex.DecodeString(name[:len(name)&^1])
	if err != nil {
		return plumbing.ZeroHash, err
	}
	candidates, err := prefixes(even)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("look up %q: %w", name, err)
	}
	var found []plumbing.Hash
	for _, c := range candidates {
		if !strings.HasPrefix(c.String(), name) {
			continue
		}
		if _, err := peel(src, c); err == nil {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return plumbing.ZeroHash, fmt.Errorf("no reference is named %q and no commit's hash starts with it", name)
	case 1:
		return found[0], nil
	default:
		return plumbing.ZeroHash, fmt.Errorf("ambiguous revision %q: %d commits' hashes start with it; give more digits", name, len(found))
	}
}

// peel follows annotated tags to the commit they name; anything else that
// is not a commit is an error.
func peel(src revisionSource, h plumbing.Hash) (plumbing.Hash, error) {
	for range 16 {
		if _, err := src.CommitObject(h); err == nil {
			return h, nil
		}
		tag, err := src.TagObject(h)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%s is not a commit", h)
		}
		h = tag.Target
	}
	return plumbing.ZeroHash, fmt.Errorf("%s: too many nested tags", h)
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
