package promote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/manifest"
)

// Git says where the GitOps repository and its remote are.
type Git struct {
	// Path is the local repository: a working tree or a bare repository.
	// Only remote-tracking references of the base branch are ever written to
	// it (by the fetch); the change's objects stay in memory.
	Path string
	// Remote names the remote; empty means "origin".
	Remote string
	// URL, when set, is used instead of the remote's configured URL, so a
	// repository without that remote (a bot's mirror) can be used.
	URL string
	// Base is the branch changes are built on and proposed to; empty means
	// the remote's default branch, or main when the remote does not say.
	Base string
	// Auth authenticates fetch and push: HTTP basic auth with a token, or an
	// SSH method. Nil uses go-git's default (the SSH agent for SSH URLs).
	Auth transport.AuthMethod
	// Author is the identity of the commits.
	Author Signature
}

// Signature is a git identity.
type Signature struct {
	Name, Email string
	// Login is the GitHub login the identity maps to, if known; it is given
	// to the policy engine as the change's author.
	Login string
}

// DefaultAuthor is used when Git.Author is empty.
var DefaultAuthor = Signature{Name: "promobot", Email: "promobot@users.noreply.github.com"}

// session is one run against the repository: the on-disk repository, an
// overlay whose writes stay in memory, and the remote's state.
type session struct {
	cfg        Git
	remote     gitrepo.Remote
	disk       *git.Repository
	overlay    *git.Repository
	reader     *gitrepo.Repo
	baseBranch string
	base       *object.Commit
	baseFS     fs.FS
	// remoteRefs are the remote's references as listed at the start.
	remoteRefs map[plumbing.ReferenceName]plumbing.Hash
}

// openSession opens the repository, lists the remote and fetches the base
// branch so that the change is planned on the remote's current tip.
// openRepository opens the repository at path exactly (a working tree or a
// bare repository, such as the bot's mirror), else the one holding path,
// as every command opens one (gitrepo.OpenGit).
func openRepository(path string) (*git.Repository, error) {
	return gitrepo.OpenGit(path)
}

func openSession(ctx context.Context, cfg Git) (*session, error) {
	if cfg.Remote == "" {
		cfg.Remote = "origin"
	}
	if cfg.Author.Name == "" || cfg.Author.Email == "" {
		cfg.Author = DefaultAuthor
	}
	disk, err := openRepository(cfg.Path)
	if err != nil {
		return nil, usagef("open git repository %s: %v", cfg.Path, err)
	}
	s := &session{cfg: cfg, disk: disk}
	s.remote = gitrepo.Remote{Name: cfg.Remote, URL: cfg.URL, Auth: cfg.Auth}
	if rc, err := disk.Remote(cfg.Remote); err == nil && s.remote.URL == "" && len(rc.Config().URLs) > 0 {
		s.remote.URL = rc.Config().URLs[0]
	}
	if s.remote.URL == "" {
		return nil, usagef("the repository at %s has no remote %q (use --remote)", cfg.Path, cfg.Remote)
	}
	if err := s.listRemote(ctx); err != nil {
		return nil, err
	}
	if err := s.fetchBase(ctx); err != nil {
		return nil, err
	}
	if s.reader, err = gitrepo.Open(cfg.Path); err != nil {
		return nil, fmt.Errorf("open repository for reading: %w", err)
	}
	s.overlay, err = gitrepo.Overlay(disk)
	if err != nil {
		return nil, fmt.Errorf("open in-memory overlay: %w", err)
	}
	return s, nil
}

func (s *session) listRemote(ctx context.Context) error {
	refs, err := s.remote.List(ctx)
	if err != nil {
		return transportError("list the references of "+s.remoteName(), err)
	}
	s.remoteRefs = map[plumbing.ReferenceName]plumbing.Hash{}
	head := ""
	for _, r := range refs {
		switch {
		case r.Name() == plumbing.HEAD && r.Type() == plumbing.SymbolicReference:
			head = r.Target().Short()
		case r.Type() == plumbing.HashReference:
			s.remoteRefs[r.Name()] = r.Hash()
		}
	}
	s.baseBranch = s.cfg.Base
	if s.baseBranch == "" {
		s.baseBranch = head
	}
	if s.baseBranch == "" {
		s.baseBranch = "main"
	}
	if _, ok := s.remoteRefs[plumbing.NewBranchReferenceName(s.baseBranch)]; !ok {
		return usagef("the remote %s has no branch %s (use --base)", s.remoteName(), s.baseBranch)
	}
	return nil
}

func (s *session) remoteName() string {
	return s.cfg.Remote + " (" + s.remote.Redacted() + ")"
}

// trackingRef is where a remote branch is fetched to.
func (s *session) trackingRef(branch string) plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName(s.cfg.Remote, branch)
}

func (s *session) fetchBase(ctx context.Context) error {
	spec := config.RefSpec(fmt.Sprintf("+%s:%s", plumbing.NewBranchReferenceName(s.baseBranch), s.trackingRef(s.baseBranch)))
	if _, err := s.remote.Fetch(ctx, s.disk.Storer, gitrepo.FetchOptions{RefSpecs: []config.RefSpec{spec}}); err != nil {
		return transportError("fetch "+s.baseBranch+" from "+s.remoteName(), err)
	}
	want := s.remoteRefs[plumbing.NewBranchReferenceName(s.baseBranch)]
	var err error
	s.base, err = s.disk.CommitObject(want)
	if err != nil {
		return fmt.Errorf("read the fetched base commit %s: %w", want, err)
	}
	tree, err := s.base.Tree()
	if err != nil {
		return fmt.Errorf("read the tree of %s: %w", want, err)
	}
	s.baseFS = gitrepo.TreeFS(tree)
	return nil
}

// histories returns the pins of each path along the base branch with the
// exact bytes of each pinned manifest.
func (s *session) histories(ctx context.Context, paths []string) (map[string][]PinRecord, error) {
	all, err := s.reader.Histories(ctx, paths, s.base.Hash)
	if err != nil {
		return nil, fmt.Errorf("read the history of %s: %w", strings.Join(paths, ", "), err)
	}
	out := make(map[string][]PinRecord, len(paths))
	for _, p := range paths {
		for _, pin := range all[p] {
			content, err := s.fileAt(plumbing.NewHash(pin.Commit), p)
			if err != nil {
				return nil, err
			}
			out[p] = append(out[p], PinRecord{Version: pin.Version, Commit: pin.Commit, Since: pin.Since, Content: content})
		}
	}
	return out, nil
}

// timeline returns the states of paths along the first-parent history of
// the base, oldest first: one Snapshot per commit that changed the bytes of
// any of them (the first commit of the history included).
func (s *session) timeline(ctx context.Context, paths []string) ([]Snapshot, error) {
	type step struct {
		commit *object.Commit
		blobs  []plumbing.Hash
	}
	var steps []step
	var prevRoot plumbing.Hash
	_, err := gitrepo.FirstParents(ctx, s.base.Hash, gitrepo.FirstParentWalk[*object.Commit]{
		Read: func(h plumbing.Hash) (*object.Commit, error) {
			if h == s.base.Hash {
				return s.base, nil
			}
			c, err := s.disk.CommitObject(h)
			if err != nil {
				return nil, fmt.Errorf("read the history of %s: %w", s.baseBranch, err)
			}
			return c, nil
		},
		Parent: gitrepo.FirstParent,
		Visit: func(c, _ *object.Commit, _ bool) error {
			tree, err := c.Tree()
			if err != nil {
				return fmt.Errorf("read the tree of %s: %w", short(c.Hash.String()), err)
			}
			// Most commits leave environments/ alone: same folder, same blobs.
			root, _ := tree.FindEntry(manifest.Root)
			var blobs []plumbing.Hash
			if len(steps) > 0 && root != nil && root.Hash == prevRoot {
				blobs = steps[len(steps)-1].blobs
			} else {
				blobs = make([]plumbing.Hash, len(paths))
				for i, p := range paths {
					if e, err := tree.FindEntry(p); err == nil && e.Mode.IsFile() {
						blobs[i] = e.Hash
					}
				}
			}
			prevRoot = plumbing.ZeroHash
			if root != nil {
				prevRoot = root.Hash
			}
			steps = append(steps, step{commit: c, blobs: blobs})
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	contents := map[plumbing.Hash][]byte{}
	var out []Snapshot
	var prev []plumbing.Hash
	for i := len(steps) - 1; i >= 0; i-- {
		st := steps[i]
		if prev != nil && slices.Equal(prev, st.blobs) {
			continue
		}
		prev = st.blobs
		snap := Snapshot{Commit: st.commit.Hash.String(), Since: st.commit.Committer.When.UTC(), Files: map[string][]byte{}}
		for j, h := range st.blobs {
			if h.IsZero() {
				continue
			}
			if _, ok := contents[h]; !ok {
				data, err := s.blob(h)
				if err != nil {
					return nil, fmt.Errorf("read %s at %s: %w", paths[j], short(snap.Commit), err)
				}
				contents[h] = data
			}
			snap.Files[paths[j]] = contents[h]
		}
		out = append(out, snap)
	}
	return out, nil
}

// blob reads a blob of the local repository.
func (s *session) blob(h plumbing.Hash) ([]byte, error) {
	b, err := s.disk.BlobObject(h)
	if err != nil {
		return nil, err
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, maxManifestBytes+1))
}

// fileAt reads a file of a commit.
func (s *session) fileAt(commit plumbing.Hash, p string) ([]byte, error) {
	c, err := s.disk.CommitObject(commit)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", commit, err)
	}
	f, err := c.File(p)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", p, short(commit.String()), err)
	}
	content, err := f.Contents()
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", p, short(commit.String()), err)
	}
	return []byte(content), nil
}

// commit writes the plan's files on top of the base as one commit in the
// in-memory overlay and returns it. Nothing reaches the disk.
func (s *session) commit(plan *Plan, now time.Time) (*object.Commit, error) {
	st := s.overlay.Storer
	baseTree, err := s.base.Tree()
	if err != nil {
		return nil, err
	}
	tree, err := writeTree(st, baseTree, plan.Files())
	if err != nil {
		return nil, fmt.Errorf("write tree: %w", err)
	}
	sig := object.Signature{Name: s.cfg.Author.Name, Email: s.cfg.Author.Email, When: now}
	c := &object.Commit{Author: sig, Committer: sig, Message: plan.CommitMessage, TreeHash: tree, ParentHashes: []plumbing.Hash{s.base.Hash}}
	obj := st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return nil, fmt.Errorf("encode commit: %w", err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		return nil, fmt.Errorf("store commit: %w", err)
	}
	return s.overlay.CommitObject(h)
}

// writeTree stores t with files (slash paths) written over it and returns
// the new root tree's hash.
func writeTree(st storer.EncodedObjectStorer, t *object.Tree, files map[string][]byte) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if t != nil {
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	sub := map[string]map[string][]byte{}
	for p, content := range files {
		head, rest, nested := strings.Cut(p, "/")
		if nested {
			if sub[head] == nil {
				sub[head] = map[string][]byte{}
			}
			sub[head][rest] = content
			continue
		}
		h, err := writeBlob(st, content)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		mode := filemode.Regular
		if old, ok := entries[head]; ok && old.Mode == filemode.Executable {
			mode = old.Mode
		}
		entries[head] = object.TreeEntry{Name: head, Mode: mode, Hash: h}
	}
	for dir, inner := range sub {
		var child *object.Tree
		if old, ok := entries[dir]; ok {
			if old.Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%s is a file, not a folder", dir)
			}
			var err error
			if child, err = object.GetTree(st, old.Hash); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		h, err := writeTree(st, child, inner)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries[dir] = object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: h}
	}
	list := make([]object.TreeEntry, 0, len(entries))
	for _, e := range entries {
		list = append(list, e)
	}
	// Git orders entries by name, comparing a folder as if it ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(list, func(i, j int) bool { return key(list[i]) < key(list[j]) })
	obj := st.NewEncodedObject()
	if err := (&object.Tree{Entries: list}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

func writeBlob(st storer.EncodedObjectStorer, content []byte) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(content)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// diff renders the change as a unified diff.
func (s *session) diff(c *object.Commit) (string, error) {
	base, err := s.overlay.CommitObject(s.base.Hash)
	if err != nil {
		return "", err
	}
	patch, err := base.Patch(c)
	if err != nil {
		return "", fmt.Errorf("diff: %w", err)
	}
	return patch.String(), nil
}

// pushResult says what publishing the commit did.
type pushResult struct {
	commit plumbing.Hash
	// pushed is false when the branch already held an equivalent commit.
	pushed bool
	// replaced is the earlier promobot commit the branch was moved from.
	replaced plumbing.Hash
}

// publish pushes c to the branch. An existing branch whose tip is an
// equivalent promobot commit (same tree, same base) is left alone; one whose
// tip promobot made earlier is replaced, but only if it still holds that
// tip when the push lands; anything else must fast-forward, which fails
// when someone else committed to the branch.
func (s *session) publish(ctx context.Context, branch string, c *object.Commit) (*pushResult, error) {
	ref := plumbing.NewBranchReferenceName(branch)
	spec := config.RefSpec(fmt.Sprintf("%s:%s", c.Hash, ref))
	opts := gitrepo.PushOptions{RefSpecs: []config.RefSpec{spec}}
	res := &pushResult{commit: c.Hash, pushed: true}
	if old, ok := s.remoteRefs[ref]; ok {
		tip, err := s.fetchBranch(ctx, branch, old)
		if err != nil {
			return nil, err
		}
		if tip.TreeHash == c.TreeHash && len(tip.ParentHashes) == 1 && tip.ParentHashes[0] == s.base.Hash && isPromobotCommit(tip) {
			return &pushResult{commit: tip.Hash}, nil
		}
		if isPromobotCommit(tip) {
			opts.RefSpecs = []config.RefSpec{"+" + spec}
			opts.RequireRemoteRefs = []config.RefSpec{config.RefSpec(fmt.Sprintf("%s:%s", old, ref))}
			res.replaced = old
		}
	}
	if err := s.remote.Push(ctx, s.overlay.Storer, opts); err != nil {
		return nil, pushError(branch, s.remoteName(), err)
	}
	return res, nil
}

// fetchBranch fetches an existing remote branch into the overlay only.
func (s *session) fetchBranch(ctx context.Context, branch string, tip plumbing.Hash) (*object.Commit, error) {
	spec := config.RefSpec(fmt.Sprintf("+%s:%s", plumbing.NewBranchReferenceName(branch), s.trackingRef(branch)))
	if _, err := s.remote.Fetch(ctx, s.overlay.Storer, gitrepo.FetchOptions{RefSpecs: []config.RefSpec{spec}}); err != nil {
		return nil, transportError("fetch the existing branch "+branch, err)
	}
	c, err := s.overlay.CommitObject(tip)
	if err != nil {
		return nil, fmt.Errorf("read the tip of the existing branch %s: %w", branch, err)
	}
	return c, nil
}

// isPromobotCommit reports whether promobot made c: one parent and the
// action trailer.
func isPromobotCommit(c *object.Commit) bool {
	if len(c.ParentHashes) != 1 {
		return false
	}
	for _, line := range strings.Split(c.Message, "\n") {
		if strings.HasPrefix(line, TrailerAction+": ") {
			return true
		}
	}
	return false
}

// PushRejectedError says the remote did not accept the branch. Retrying
// helps once the cause is gone: fetch, look at the branch, run again.
type PushRejectedError struct {
	Branch, Remote string
	// Reason is "non-fast-forward" when the branch holds commits this push
	// does not contain, or the remote's own reason.
	Reason string
	Err    error
}

// Error explains the rejection and what to do.
func (e *PushRejectedError) Error() string {
	if e.Reason == "non-fast-forward" {
		return fmt.Sprintf("push to %s rejected: branch %s is not a fast-forward (it has commits promobot did not make, or it moved since it was read); nothing was changed locally; look at the branch, delete or merge it, and run the command again", e.Remote, e.Branch)
	}
	return fmt.Sprintf("push to %s rejected: branch %s: %s; nothing was changed locally", e.Remote, e.Branch, e.Reason)
}

// Unwrap returns the cause.
func (e *PushRejectedError) Unwrap() error { return e.Err }

func pushError(branch, remote string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "non-fast-forward"), strings.Contains(msg, "fetch first"), strings.Contains(msg, "required to be"):
		return &PushRejectedError{Branch: branch, Remote: remote, Reason: "non-fast-forward", Err: err}
	case strings.Contains(msg, "command error on"):
		reason := msg[strings.LastIndex(msg, ": ")+2:]
		return &PushRejectedError{Branch: branch, Remote: remote, Reason: reason, Err: err}
	}
	return transportError("push "+branch+" to "+remote, err)
}

// TransportError is a failure to talk to the remote. Authentication
// failures and an unknown repository are terminal (see IsTerminal);
// network failures may pass.
type TransportError struct {
	Op  string
	Err error
}

// Error says what failed.
func (e *TransportError) Error() string {
	hint := ""
	switch {
	case errors.Is(e.Err, transport.ErrAuthenticationRequired), errors.Is(e.Err, transport.ErrAuthorizationFailed):
		hint = " (set GITHUB_TOKEN, or SSH credentials for an SSH remote)"
	case errors.Is(e.Err, transport.ErrRepositoryNotFound):
		hint = " (check the remote URL and that the credentials can read it)"
	}
	return fmt.Sprintf("git: %s: %v%s", e.Op, e.Err, hint)
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// terminal reports whether the remote refused the credentials or does not
// know the repository, which retrying does not change.
func (e *TransportError) terminal() bool {
	return errors.Is(e.Err, transport.ErrAuthenticationRequired) || errors.Is(e.Err, transport.ErrAuthorizationFailed) ||
		errors.Is(e.Err, transport.ErrRepositoryNotFound)
}

func transportError(op string, err error) error { return &TransportError{Op: op, Err: err} }
