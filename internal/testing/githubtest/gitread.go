package githubtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"

	"github.com/example-org/promobot/internal/testing/gittest"
)

// errRefNotFound reports a ref or sha that does not resolve to a commit.
var errRefNotFound = errors.New("githubtest: ref not found")

func (r *repo) open() (*git.Repository, error) {
	g, err := git.PlainOpen(r.Path)
	if err != nil {
		return nil, fmt.Errorf("githubtest: open %s: %w", r.Path, err)
	}
	return g, nil
}

// resolve turns a branch, tag, "heads/x", full ref or sha into a commit hash.
func (r *repo) resolve(ref string) (plumbing.Hash, error) {
	g, err := r.open()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return resolveIn(g, ref)
}

func resolveIn(g *git.Repository, ref string) (plumbing.Hash, error) {
	candidates := []string{ref}
	if strings.HasPrefix(ref, "heads/") || strings.HasPrefix(ref, "tags/") {
		candidates = append([]string{"refs/" + ref}, candidates...)
	}
	for _, cand := range candidates {
		h, err := g.ResolveRevision(plumbing.Revision(cand))
		if err != nil {
			continue
		}
		if _, err := g.CommitObject(*h); err == nil {
			return *h, nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("%w: %s", errRefNotFound, ref)
}

// branchTip returns the commit a branch points at.
func (r *repo) branchTip(branch string) (plumbing.Hash, error) {
	g, err := r.open()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	ref, err := g.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%w: branch %s", errRefNotFound, branch)
	}
	return ref.Hash(), nil
}

// fileChange is one entry of a pull request's file list.
type fileChange struct {
	filename, previous, status, sha, patch string
	additions, deletions                   int
}

// mergeBase returns the best common ancestor of a and b.
func mergeBase(g *git.Repository, a, b plumbing.Hash) (*object.Commit, error) {
	ca, err := g.CommitObject(a)
	if err != nil {
		return nil, fmt.Errorf("githubtest: read commit %s: %w", a, err)
	}
	cb, err := g.CommitObject(b)
	if err != nil {
		return nil, fmt.Errorf("githubtest: read commit %s: %w", b, err)
	}
	bases, err := ca.MergeBase(cb)
	if err != nil {
		return nil, fmt.Errorf("githubtest: merge base of %s and %s: %w", a, b, err)
	}
	if len(bases) == 0 {
		return nil, fmt.Errorf("githubtest: %s and %s share no history", a, b)
	}
	return bases[0], nil
}

// diffFiles computes the files changed between the merge base of base and
// head, and head, like GitHub's pull request files list (three-dot diff).
func (e *Emulator) diffFiles(ctx context.Context, r *repo, base, head plumbing.Hash) ([]fileChange, error) {
	key := r.Path + " " + base.String() + " " + head.String()
	if cached, ok := e.diffCache[key]; ok {
		return cached, nil
	}
	g, err := r.open()
	if err != nil {
		return nil, err
	}
	mb, err := mergeBase(g, base, head)
	if err != nil {
		return nil, err
	}
	headCommit, err := g.CommitObject(head)
	if err != nil {
		return nil, err
	}
	fromTree, err := mb.Tree()
	if err != nil {
		return nil, err
	}
	toTree, err := headCommit.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTreeWithOptions(ctx, fromTree, toTree, object.DefaultDiffTreeOptions)
	if err != nil {
		return nil, fmt.Errorf("githubtest: diff trees: %w", err)
	}
	out := make([]fileChange, 0, len(changes))
	for _, ch := range changes {
		fc, err := describeChange(ch)
		if err != nil {
			return nil, err
		}
		out = append(out, fc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].filename < out[j].filename })
	e.diffCache[key] = out
	return out, nil
}

func describeChange(ch *object.Change) (fileChange, error) {
	action, err := ch.Action()
	if err != nil {
		return fileChange{}, fmt.Errorf("githubtest: classify change: %w", err)
	}
	fc := fileChange{filename: ch.To.Name, sha: ch.To.TreeEntry.Hash.String()}
	switch {
	case action == merkletrie.Insert:
		fc.status = "added"
	case action == merkletrie.Delete:
		fc.status, fc.filename, fc.sha = "removed", ch.From.Name, ch.From.TreeEntry.Hash.String()
	case ch.From.Name != ch.To.Name:
		fc.status, fc.previous = "renamed", ch.From.Name
	default:
		fc.status = "modified"
	}
	patch, err := ch.Patch()
	if err != nil {
		return fileChange{}, fmt.Errorf("githubtest: patch for %s: %w", fc.filename, err)
	}
	for _, fp := range patch.FilePatches() {
		if fp.IsBinary() {
			continue
		}
		for _, chunk := range fp.Chunks() {
			n := strings.Count(chunk.Content(), "\n")
			if !strings.HasSuffix(chunk.Content(), "\n") && chunk.Content() != "" {
				n++
			}
			switch chunk.Type() {
			case diff.Add:
				fc.additions += n
			case diff.Delete:
				fc.deletions += n
			}
		}
		fc.patch = hunks(fp)
	}
	return fc, nil
}

type onePatch struct{ fp diff.FilePatch }

func (p onePatch) FilePatches() []diff.FilePatch { return []diff.FilePatch{p.fp} }
func (p onePatch) Message() string               { return "" }

// hunks renders the unified diff hunks of one file without the file
// headers, as GitHub's "patch" field does.
func hunks(fp diff.FilePatch) string {
	var buf bytes.Buffer
	if err := diff.NewUnifiedEncoder(&buf, diff.DefaultContextLines).Encode(onePatch{fp}); err != nil {
		return ""
	}
	text := buf.String()
	if i := strings.Index(text, "\n@@"); i >= 0 {
		return strings.TrimSuffix(text[i+1:], "\n")
	}
	return ""
}

// commitsBetween lists the commits reachable from head but not from base,
// parents before children, like GitHub's pull request commits list.
func commitsBetween(g *git.Repository, base, head plumbing.Hash) ([]*object.Commit, error) {
	excluded := map[plumbing.Hash]bool{}
	stack := []plumbing.Hash{base}
	for len(stack) > 0 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if excluded[h] || h.IsZero() {
			continue
		}
		excluded[h] = true
		c, err := g.CommitObject(h)
		if err != nil {
			return nil, fmt.Errorf("githubtest: read commit %s: %w", h, err)
		}
		stack = append(stack, c.ParentHashes...)
	}
	var out []*object.Commit
	visited := map[plumbing.Hash]bool{}
	type frame struct {
		c    *object.Commit
		next int
	}
	headCommit, err := g.CommitObject(head)
	if err != nil {
		return nil, fmt.Errorf("githubtest: read commit %s: %w", head, err)
	}
	if excluded[head] {
		return nil, nil
	}
	visited[head] = true
	frames := []*frame{{c: headCommit}}
	for len(frames) > 0 {
		f := frames[len(frames)-1]
		if f.next < len(f.c.ParentHashes) {
			p := f.c.ParentHashes[f.next]
			f.next++
			if excluded[p] || visited[p] {
				continue
			}
			visited[p] = true
			pc, err := g.CommitObject(p)
			if err != nil {
				return nil, fmt.Errorf("githubtest: read commit %s: %w", p, err)
			}
			frames = append(frames, &frame{c: pc})
			continue
		}
		out = append(out, f.c)
		frames = frames[:len(frames)-1]
	}
	return out, nil
}

// threeWayMerge merges head into baseTip path by path. A path changed on
// both sides in different ways is a conflict; content-level merging of one
// file is not attempted.
func threeWayMerge(g *git.Repository, baseTip, head plumbing.Hash) (plumbing.Hash, []string, error) {
	mb, err := mergeBase(g, baseTip, head)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	ancestor, err := gittest.ReadTree(g, mb.Hash)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	ours, err := gittest.ReadTree(g, baseTip)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	theirs, err := gittest.ReadTree(g, head)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	paths := map[string]bool{}
	for _, m := range []map[string]gittest.TreeEntry{ancestor, ours, theirs} {
		for p := range m {
			paths[p] = true
		}
	}
	merged := map[string]gittest.TreeEntry{}
	var conflicts []string
	for p := range paths {
		a, aok := ancestor[p]
		o, ook := ours[p]
		t, tok := theirs[p]
		same := func(x gittest.TreeEntry, xok bool, y gittest.TreeEntry, yok bool) bool { return xok == yok && x == y }
		var keep gittest.TreeEntry
		var keepOK bool
		switch {
		case same(o, ook, t, tok), same(t, tok, a, aok):
			keep, keepOK = o, ook
		case same(o, ook, a, aok):
			keep, keepOK = t, tok
		default:
			conflicts = append(conflicts, p)
			continue
		}
		if keepOK {
			merged[p] = keep
		}
	}
	sort.Strings(conflicts)
	if len(conflicts) > 0 {
		return plumbing.ZeroHash, conflicts, nil
	}
	tree, err := gittest.WriteTree(g, merged)
	return tree, nil, err
}
