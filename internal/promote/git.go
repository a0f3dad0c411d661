package promote

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/example-org/promobot/internal/gitrepo"
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
