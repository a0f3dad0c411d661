package mirror

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/example-org/promobot/internal/gitrepo"
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

// Fetch fetches specs from cloneURL into repo, authenticated as TokenUser
// with token, and reports whether anything changed. A failure is an *Error
// for repository ("owner/name"), terminal when a ref the specs name does
// not exist; the token never appears in it (gitrepo.Remote scrubs it).
func Fetch(ctx context.Context, repo *git.Repository, repository, cloneURL, token string, specs []gitconfig.RefSpec) (bool, error) {
	remote := gitrepo.Remote{URL: cloneURL, Auth: &githttp.BasicAuth{Username: TokenUser, Password: token}}
	updated, err := remote.Fetch(ctx, repo.Storer, gitrepo.FetchOptions{RefSpecs: specs, Force: true})
	switch {
	case err == nil:
		return updated, nil
	case errors.Is(err, git.NoMatchingRefSpecError{}):
		return false, &Error{Op: "fetch " + repository, Err: err, Terminal: true}
	default:
		return false, &Error{Op: "fetch " + repository, Err: err}
	}
}
