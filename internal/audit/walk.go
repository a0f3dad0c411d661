package audit

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/sync/errgroup"

	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/gitrepo/objectstore"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/progress"
	"github.com/example-org/promobot/internal/yamldoc/quickyaml"
)

// CommitChanges is one commit on the walked branch with the manifest
// changes it made relative to its first parent.
type CommitChanges struct {
	// Commit is the commit hash.
	Commit string `json:"commit"`
	// Parents is the number of parents: 2 or more for a merge commit.
	Parents int `json:"parents"`
	// Author and Committer are the commit's signatures.
	Author    Person `json:"author"`
	Committer Person `json:"committer"`
	// Subject is the first line of the message.
	Subject string `json:"subject"`
	// Changes are the manifest changes, sorted by path.
	Changes []ManifestChange `json:"changes"`
}

// ManifestChange is a manifest file that differs between a commit and its
// first parent.
type ManifestChange struct {
	// Path is environments/<env>/<model>.yaml.
	Path string `json:"path"`
	// Old and New are the file before and after; nil when absent.
	Old *ManifestSnapshot `json:"old,omitempty"`
	New *ManifestSnapshot `json:"new,omitempty"`
	// Fields lists the top-level keys that changed when the version did
	// not.
	Fields []string `json:"fields,omitempty"`
}

// ManifestSnapshot is what the audit read from one version of a manifest.
type ManifestSnapshot struct {
	// Blob is the git blob hash.
	Blob string `json:"blob"`
	// Version is the pinned version, empty when unreadable.
	Version string `json:"version,omitempty"`
	// SHA256 is the pinned artifact digest.
	SHA256 string `json:"sha256,omitempty"`
	// Problem says why the file could not be read.
	Problem string `json:"problem,omitempty"`
}

// WalkStats counts what a reconstruction did, to prove the walk is lazy.
type WalkStats struct {
	// Walked is the number of commits visited.
	Walked int `json:"walked"`
	// Unchanged is how many of them left environments/ untouched.
	Unchanged int `json:"unchanged"`
	// FromGraph is how many commits were read from the commit-graph.
	FromGraph int `json:"fromGraph"`
	// Reused is the number of commits with changes taken from the index.
	Reused int `json:"reused"`
	// QuickParses and FullParses count manifests read by the fast path and
	// by the full YAML decoder.
	QuickParses int `json:"quickParses"`
	FullParses  int `json:"fullParses"`
}

// walker reads the first-parent history of a repository. One goroutine
// follows the commits and compares environments/ hashes; workers, each with
// its own object cache, diff the commits where the hash changed.
type walker struct {
	repo    *Repository
	stats   WalkStats // the commit follower's counters
	workers int
	// progress hears of every commit followed; nil is quiet.
	progress *progress.Task

	seed  maphash.Seed // of the section hashes
	mu    sync.Mutex
	blobs map[plumbing.Hash]readBlob // manifests read so far, by blob
}

// readBlob is what the walk keeps of a manifest blob it has read.
type readBlob struct {
	snapshot *ManifestSnapshot
	sums     []sectionSum // nil unless the fast path read it
}

func newWalker(repo *Repository) *walker {
	return &walker{repo: repo, seed: maphash.MakeSeed(), blobs: map[plumbing.Hash]readBlob{}, workers: max(1, runtime.GOMAXPROCS(0))}
}

// diffBatch is how many consecutive commits a worker diffs in a row.
const diffBatch = 64

// diffJob asks a worker to diff the environments/ trees of one commit.
type diffJob struct {
	seq           int // position in the walk, newest first
	commit        plumbing.Hash
	before, after plumbing.Hash
}

// diffWorker diffs environments/ trees with its own object store.
type diffWorker struct {
	w     *walker
	store *objectstore.Store
	stats WalkStats
	bufs  [4][]objectstore.TreeEntry // reused entry lists of the tree diff
	yaml  [2]quickyaml.Scratch
	keys  map[string]string // interned top-level keys
	out   []sequenced
}

type sequenced struct {
	seq int
	cc  CommitChanges
}

// node is a commit as far as the walk needs it.
type node struct {
	hash, tree, parent plumbing.Hash
	parentPos          uint32 // graph position of parent, objectstore.NoParent if unknown
}

func (w *walker) node(h plumbing.Hash, pos uint32) (node, error) {
	n := node{hash: h, parentPos: objectstore.NoParent}
	if g := w.repo.graph; g != nil {
		if pos == objectstore.NoParent {
			if p, ok := g.Lookup(h); ok {
				pos = p
			}
		}
		if pos != objectstore.NoParent {
			c, err := g.Commit(pos)
			if err != nil {
				return n, err
			}
			w.stats.FromGraph++
			n.tree = c.Tree
			if c.FirstParent != objectstore.NoParent && !w.repo.shallow[h] {
				n.parent, _ = g.Hash(c.FirstParent)
				n.parentPos = c.FirstParent
			}
			return n, nil
		}
	}
	data, err := w.repo.store.ReadType(h, objectstore.Commit)
	if err != nil {
		return n, err
	}
	n.tree, n.parent, err = objectstore.CommitTreeAndParent(data)
	if err != nil {
		c, perr := objectstore.ParseCommit(data)
		if perr != nil {
			return n, fmt.Errorf("audit: commit %s: %w", h, perr)
		}
		n.tree = c.Tree
		n.parent = plumbing.ZeroHash
		if len(c.Parents) > 0 {
			n.parent = c.Parents[0]
		}
	}
	if w.repo.shallow[h] {
		n.parent = plumbing.ZeroHash
	}
	return n, nil
}

// envTree returns the hash of the environments/ folder of a root tree, the
// zero hash when there is none.
func (w *walker) envTree(tree plumbing.Hash) (plumbing.Hash, error) {
	data, err := w.repo.store.ReadType(tree, objectstore.Tree)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	e, ok, err := objectstore.FindTreeEntry(data, manifest.Root)
	if err != nil || !ok || e.Mode != objectstore.ModeDir {
		return plumbing.ZeroHash, err
	}
	return e.Hash, nil
}

// walk follows first parents from tip and returns, oldest first, the
// commits that changed a manifest, stopping before the first commit for
// which stop is true (returned as stoppedAt; zero when the walk reached the
// root).
func (w *walker) walk(ctx context.Context, tip plumbing.Hash, stop func(plumbing.Hash) bool) (out []CommitChanges, stoppedAt plumbing.Hash, err error) {
	if stop(tip) {
		return nil, tip, nil
	}
	// Jobs go out in batches of consecutive commits, so that the worker that
	// diffs a commit has in its object cache the trees of the next older
	// one: a commit's "before" is usually the next one's "after".
	jobs := make(chan []diffJob, 64)
	g, gctx := errgroup.WithContext(ctx)
	workers := make([]*diffWorker, w.workers)
	for i := range workers {
		dw := &diffWorker{w: w, store: w.repo.store.Fork(), keys: map[string]string{}}
		workers[i] = dw
		g.Go(func() error {
			defer dw.store.Close()
			for batch := range jobs {
				for _, job := range batch {
					changes, err := dw.diffEnvironments(job.before, job.after)
					if err != nil {
						return fmt.Errorf("audit: diff %s: %w", job.commit, err)
					}
					if len(changes) == 0 {
						continue
					}
					cc, err := dw.commitChanges(job.commit, changes)
					if err != nil {
						return err
					}
					dw.out = append(dw.out, sequenced{job.seq, cc})
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(jobs)
		var batch []diffJob
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			select {
			case jobs <- batch:
				batch = make([]diffJob, 0, diffBatch)
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		var err error
		stoppedAt, err = w.follow(gctx, tip, stop, func(j diffJob) error {
			batch = append(batch, j)
			if len(batch) < diffBatch {
				return nil
			}
			return flush()
		})
		if err != nil {
			return err
		}
		return flush()
	})
	if err := g.Wait(); err != nil {
		// Drain nothing: the follower closed jobs and the workers returned.
		return nil, plumbing.ZeroHash, err
	}
	var all []sequenced
	for _, dw := range workers {
		all = append(all, dw.out...)
		w.stats.QuickParses += dw.stats.QuickParses
		w.stats.FullParses += dw.stats.FullParses
	}
	slices.SortFunc(all, func(a, b sequenced) int { return b.seq - a.seq })
	out = make([]CommitChanges, len(all))
	for i, s := range all {
		out[i] = s.cc
	}
	return out, stoppedAt, nil
}

// follow walks first parents from tip, comparing the environments/ hash of
// each commit with its parent's, and sends a job for each that differs.
func (w *walker) follow(ctx context.Context, tip plumbing.Hash, stop func(plumbing.Hash) bool, send func(diffJob) error) (stoppedAt plumbing.Hash, err error) {
	// A commit's first parent is read right after it: pass on its position
	// in the commit-graph rather than look it up again.
	var last node
	seq := 0
	return gitrepo.FirstParents(ctx, tip, gitrepo.FirstParentWalk[envNode]{
		Read: func(h plumbing.Hash) (envNode, error) {
			pos := objectstore.NoParent
			if h == last.parent {
				pos = last.parentPos
			}
			n, err := w.node(h, pos)
			if err != nil {
				return envNode{}, err
			}
			last = n
			env, err := w.envTree(n.tree)
			return envNode{n, env}, err
		},
		Parent: func(n envNode) plumbing.Hash { return n.parent },
		Stop:   stop,
		Visit: func(cur, parent envNode, _ bool) error {
			w.stats.Walked++
			w.progress.Add(1)
			defer func() { seq++ }()
			if cur.env == parent.env {
				w.stats.Unchanged++
				return nil
			}
			return send(diffJob{seq: seq, commit: cur.hash, before: parent.env, after: cur.env})
		},
	})
}

// envNode is a commit with the hash of its environments/ folder.
type envNode struct {
	node
	env plumbing.Hash
}

// commitChanges reads the commit's signatures and subject.
func (w *diffWorker) commitChanges(h plumbing.Hash, changes []ManifestChange) (CommitChanges, error) {
	data, err := w.store.ReadType(h, objectstore.Commit)
	if err != nil {
		return CommitChanges{}, err
	}
	c, err := objectstore.ParseCommit(data)
	if err != nil {
		return CommitChanges{}, fmt.Errorf("audit: commit %s: %w", h, err)
	}
	subject, _, _ := strings.Cut(strings.TrimLeft(string(c.Message), "\n"), "\n")
	return CommitChanges{
		Commit:    h.String(),
		Parents:   len(c.Parents),
		Author:    person(c.Author),
		Committer: person(c.Committer),
		Subject:   strings.TrimSpace(subject),
		Changes:   changes,
	}, nil
}

func person(line []byte) Person {
	var s object.Signature
	s.Decode(line)
	return Person{Name: s.Name, Email: s.Email, Time: s.When.UTC().Truncate(time.Second)}
}
