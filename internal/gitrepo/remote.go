package gitrepo

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/go-git/go-git/v5/storage/transactional"

	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/progress"
)

// Talking to remotes: every clone, fetch, listing and push promobot makes
// goes through here, so that credentials are sent alike and never appear in
// an error.

// TokenUser is the basic-auth user name GitHub expects with a token (a
// personal token, GITHUB_TOKEN or an App installation token).
const TokenUser = "x-access-token"

// TokenAuth returns git HTTP credentials for a GitHub token, sent the way
// GitHub expects: user TokenUser, the token as password. An empty token
// means no credentials (nil).
func TokenAuth(token string) transport.AuthMethod {
	if token == "" {
		return nil
	}
	return &githttp.BasicAuth{Username: TokenUser, Password: token}
}

// Remote is a remote repository: the name its references are fetched
// under, its URL and the credentials sent to it.
type Remote struct {
	// Name names the remote, for example "origin"; empty means "origin".
	Name string
	// URL is where the remote is; it may hold user-info, which errors
	// never show.
	URL string
	// Auth authenticates the requests; nil sends none (or go-git's default,
	// the SSH agent, for an SSH URL).
	Auth transport.AuthMethod
}

func (r Remote) name() string {
	if r.Name == "" {
		return git.DefaultRemoteName
	}
	return r.Name
}

// bind returns a go-git remote reading and writing objects and references
// in st.
func (r Remote) bind(st storage.Storer) *git.Remote {
	return git.NewRemote(st, &config.RemoteConfig{Name: r.name(), URLs: []string{r.URL}})
}

// List returns the remote's references. The error is scrubbed of secrets.
func (r Remote) List(ctx context.Context) ([]*plumbing.Reference, error) {
	refs, err := r.bind(memory.NewStorage()).ListContext(ctx, &git.ListOptions{Auth: r.Auth})
	if err != nil {
		return nil, r.scrub(err)
	}
	return refs, nil
}

// FetchOptions says what Fetch brings in.
type FetchOptions struct {
	// RefSpecs are the references fetched and where they go.
	RefSpecs []config.RefSpec
	// Force updates references even when the update is not a fast-forward.
	Force bool
}

// Fetch fetches into st (a repository's storage, or an overlay's) what
// opts names, without tags, and reports whether anything changed. Being up
// to date is not an error. The error is scrubbed of secrets; a reference
// the specs name that the remote lacks still matches
// git.NoMatchingRefSpecError with errors.Is.
func (r Remote) Fetch(ctx context.Context, st storage.Storer, opts FetchOptions) (bool, error) {
	err := r.bind(st).FetchContext(ctx, &git.FetchOptions{
		RemoteName: r.name(),
		RefSpecs:   opts.RefSpecs,
		Auth:       r.Auth,
		Tags:       git.NoTags,
		Force:      opts.Force,
		Progress:   progress.FromContext(ctx).Writer("fetch " + location.Redact(r.URL)),
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, git.NoErrAlreadyUpToDate):
		return false, nil
	default:
		return false, r.scrub(err)
	}
}

// PushOptions says what Push sends.
type PushOptions struct {
	// RefSpecs are the objects or references pushed and where they go.
	RefSpecs []config.RefSpec
	// RequireRemoteRefs makes the push fail unless the remote's references
	// still point where these specs say ("<hash>:<ref>"): a compare and swap.
	RequireRemoteRefs []config.RefSpec
}

// Push pushes from st what opts names. Being up to date is not an error.
// The error is scrubbed of secrets.
func (r Remote) Push(ctx context.Context, st storage.Storer, opts PushOptions) error {
	err := r.bind(st).PushContext(ctx, &git.PushOptions{
		RemoteName:        r.name(),
		Auth:              r.Auth,
		RefSpecs:          opts.RefSpecs,
		RequireRemoteRefs: opts.RequireRemoteRefs,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return r.scrub(err)
	}
	return nil
}

// CloneBare makes a bare clone of the remote into dir, without tags. The
// error is scrubbed of secrets.
func (r Remote) CloneBare(ctx context.Context, dir string) (*git.Repository, error) {
	g, err := git.PlainCloneContext(ctx, dir, true, &git.CloneOptions{URL: r.URL, RemoteName: r.name(), Auth: r.Auth, Tags: git.NoTags,
		Progress: progress.FromContext(ctx).Writer("clone " + location.Redact(r.URL))})
	if err != nil {
		return nil, r.scrub(err)
	}
	return g, nil
}

// Redacted returns the remote's URL without user-info or query, for
// messages.
func (r Remote) Redacted() string { return location.Redact(r.URL) }

// scrub removes from err's message the secrets of the remote: the token or
// password of its credentials and of its URL, and the URL itself, which is
// replaced by its redacted form.
func (r Remote) scrub(err error) error {
	var secrets []string
	if b, ok := r.Auth.(*githttp.BasicAuth); ok && b.Password != "" {
		secrets = append(secrets, b.Password)
	}
	if t, ok := r.Auth.(*githttp.TokenAuth); ok && t.Token != "" {
		secrets = append(secrets, t.Token)
	}
	if u, perr := url.Parse(r.URL); perr == nil && u.User != nil {
		// The whole URL first, so that it reads redacted rather than with
		// its secret replaced; then the password, or the user name, which
		// holds the token in https://<token>@host/...
		secrets = append(secrets, r.URL)
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		} else {
			secrets = append(secrets, u.User.Username())
		}
	}
	return Scrub(err, secrets...)
}

// Scrub returns err with every one of secrets replaced by "<token>" in its
// message, should a library ever echo one. An error that holds none is
// returned as it is; one that does is replaced by an error with the
// scrubbed message that still matches, with errors.Is, what err matched,
// but no longer unwraps to it, so the secret cannot be reached.
func Scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		repl := "<token>"
		if strings.Contains(s, "://") {
			repl = location.Redact(s)
		}
		msg = strings.ReplaceAll(msg, s, repl)
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}

// scrubbedError is an error whose message had secrets removed.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }

// Is reports whether the original error matched target.
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }

// OpenOrInit opens the repository at path, or creates it, bare or with an
// (empty) working tree, with an "origin" remote at remoteURL: the local
// copies the bot fetches into.
func OpenOrInit(path, remoteURL string, bare bool) (*git.Repository, error) {
	repo, err := git.PlainOpen(path)
	if err == nil {
		return repo, nil
	}
	if !errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	repo, err = git.PlainInit(path, bare)
	if err != nil {
		return nil, err
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: git.DefaultRemoteName, URLs: []string{remoteURL}}); err != nil {
		return nil, err
	}
	return repo, nil
}

// Overlay returns the repository disk seen through an in-memory layer:
// it reads disk's objects and references, and everything written to it
// (objects, references, fetched branches) stays in memory, so a change can
// be built, compared and pushed without touching the disk.
func Overlay(disk *git.Repository) (*git.Repository, error) {
	return git.Open(transactional.NewStorage(disk.Storer, memory.NewStorage()), nil)
}
