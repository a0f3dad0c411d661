package mirror

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// The local copies of repositories: where they live, how they are created
// and how they are fetched. The mirrors use them, and so do the bot's
// workspaces, so both validate names and keep tokens out of errors alike.

var namePart = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// validPart reports whether s can name an owner or a repository on disk:
// GitHub's characters, and not "." or "..".
func validPart(s string) bool { return namePart.MatchString(s) && s != "." && s != ".." }

// LocalPath returns where the local copy of repository ("owner/name"),
// cloned from cloneURL, lives under dir: dir/<host>/<owner>/<name>, lower
// case. It fails with a terminal *Error when cloneURL is not a plain
// http(s) URL or the repository's name could escape dir.
func LocalPath(dir, repository, cloneURL string) (string, error) {
	u, err := url.Parse(cloneURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", &Error{Op: "mirror " + repository, Err: fmt.Errorf("clone URL %q is not a plain http(s) URL", cloneURL), Terminal: true}
	}
	owner, name, ok := strings.Cut(repository, "/")
	if !ok || !validPart(owner) || !validPart(name) {
		return "", &Error{Op: "mirror", Err: fmt.Errorf("invalid repository name %q", repository), Terminal: true}
	}
	host := strings.NewReplacer(":", "_").Replace(strings.ToLower(u.Host))
	return filepath.Join(dir, host, strings.ToLower(owner), strings.ToLower(name)), nil
}

// OpenOrInit opens the repository at path, or creates it, bare or with an
// (empty) working tree, with an "origin" remote at cloneURL.
func OpenOrInit(path, cloneURL string, bare bool) (*git.Repository, error) {
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
	if _, err := repo.CreateRemote(&gitconfig.RemoteConfig{Name: git.DefaultRemoteName, URLs: []string{cloneURL}}); err != nil {
		return nil, err
	}
	return repo, nil
}

// Fetch fetches specs from cloneURL into repo, authenticated as TokenUser
// with token, and reports whether anything changed. A failure is an *Error
// for repository ("owner/name"), terminal when a ref the specs name does
// not exist; the token never appears in it.
func Fetch(ctx context.Context, repo *git.Repository, repository, cloneURL, token string, specs []gitconfig.RefSpec) (bool, error) {
	err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: git.DefaultRemoteName,
		RemoteURL:  cloneURL,
		RefSpecs:   specs,
		Auth:       &githttp.BasicAuth{Username: TokenUser, Password: token},
		Tags:       git.NoTags,
		Force:      true,
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, git.NoErrAlreadyUpToDate):
		return false, nil
	case errors.Is(err, git.NoMatchingRefSpecError{}):
		return false, &Error{Op: "fetch " + repository, Err: err, Terminal: true}
	default:
		return false, &Error{Op: "fetch " + repository, Err: scrub(err, token)}
	}
}

// scrub removes the token from an error message, should a library ever
// echo it.
func scrub(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "<token>"))
}
