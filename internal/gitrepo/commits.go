package gitrepo

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/evaluate"
)

// maxChangeCommits bounds the commits of one change. GitHub itself lists at
// most 250 commits for a pull request; a larger range is refused (fail
// closed) rather than walked without end.
const maxChangeCommits = 10000

// mergeBase returns the best common ancestor of base and head. With several
// (criss-cross merges) it picks the most recent by committer time, then by
// hash, so the choice is stable. Unrelated histories are a terminal error.
func (r *Repo) mergeBase(base, head *object.Commit) (*object.Commit, error) {
	r.mu.Lock()
	bases, err := base.MergeBase(head) // walks parents through the store
	r.mu.Unlock()
	if err != nil {
		return nil, &Error{Op: fmt.Sprintf("merge base of %s and %s", base.Hash, head.Hash), Err: err}
	}
	if len(bases) == 0 {
		return nil, &Error{Op: fmt.Sprintf("merge base of %s and %s", base.Hash, head.Hash), Err: errors.New("the histories have no common commit"), Terminal: true}
	}
	slices.SortFunc(bases, func(a, b *object.Commit) int {
		if c := b.Committer.When.Compare(a.Committer.When); c != 0 {
			return c
		}
		return slices.Compare(a.Hash[:], b.Hash[:])
	})
	return bases[0], nil
}

// Flags painted on commits by changeCommits.
const (
	reachHead uint8 = 1 << iota
	reachBase
)

// changeCommits returns the commits reachable from head but not from base
// (git's base..head, what GitHub lists as a pull request's commits), oldest
// first.
//
// Commits are painted from both tips in committer-time order until every
// commit still queued is reachable from base. A commit is only ever marked
// reachable from base when it is, so clock skew can at worst list a commit
// of the base as part of the change: more identities, never fewer.
func (r *Repo) changeCommits(ctx context.Context, base, head *object.Commit) ([]*object.Commit, error) {
	flags := map[plumbing.Hash]uint8{}
	done := map[plumbing.Hash]uint8{} // flags already passed on to parents
	q := &commitQueue{}
	push := func(c *object.Commit, f uint8) {
		if flags[c.Hash]|f == flags[c.Hash] {
			return
		}
		flags[c.Hash] |= f
		heap.Push(q, c)
	}
	push(head, reachHead)
	push(base, reachBase)
	var order []*object.Commit // head-only commits as first popped
	for q.Len() > 0 && q.hasOnly(flags, reachHead) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := heap.Pop(q).(*object.Commit)
		f := flags[c.Hash]
		if done[c.Hash] == f {
			continue
		}
		if done[c.Hash] == 0 && f == reachHead {
			order = append(order, c)
			if len(order) > maxChangeCommits {
				return nil, &Error{Op: "list commits", Err: fmt.Errorf("the change has more than %d commits", maxChangeCommits), Terminal: true}
			}
		}
		done[c.Hash] = f
		for _, ph := range c.ParentHashes {
			p, err := r.commit(ph)
			if err != nil {
				return nil, err
			}
			push(p, f)
		}
	}
	var out []*object.Commit
	for _, c := range slices.Backward(order) {
		if flags[c.Hash] == reachHead {
			out = append(out, c)
		}
	}
	return out, nil
}

// commitQueue is a max-heap of commits by committer time.
type commitQueue []*object.Commit

func (q commitQueue) Len() int { return len(q) }
func (q commitQueue) Less(i, j int) bool {
	return q[i].Committer.When.After(q[j].Committer.When)
}
func (q commitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)   { *q = append(*q, x.(*object.Commit)) }
func (q *commitQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

// hasOnly reports whether some queued commit is so far reachable from
// head alone: while one is, the walk must go on.
func (q commitQueue) hasOnly(flags map[plumbing.Hash]uint8, f uint8) bool {
	for _, c := range q {
		if flags[c.Hash] == f {
			return true
		}
	}
	return false
}

// toCommits turns go-git commits into the engine's commits.
func (ids identities) toCommits(cs []*object.Commit) []evaluate.Commit {
	out := make([]evaluate.Commit, 0, len(cs))
	for _, c := range cs {
		out = append(out, evaluate.Commit{
			SHA:       c.Hash.String(),
			Author:    ids.identity(c.Author.Name, c.Author.Email),
			Committer: ids.identity(c.Committer.Name, c.Committer.Email),
			CoAuthors: ids.coAuthors(c.Message),
		})
	}
	return out
}
