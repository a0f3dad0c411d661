package githubtest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/testing/gittest"
)

// maxPullFiles is GitHub's cap on the files list of a pull request.
const maxPullFiles = 3000

// maxPullCommits is GitHub's cap on the commits list of a pull request.
const maxPullCommits = 250

func (e *Emulator) handlePullFiles(c *call) response {
	r, is := c.pull()
	if is == nil {
		return notFound()
	}
	files, err := e.diffFiles(c.r.Context(), r, plumbing.NewHash(is.pr.baseSHA), plumbing.NewHash(is.pr.headSHA))
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	if len(files) > maxPullFiles {
		files = files[:maxPullFiles]
	}
	api, html := r.apiURL(c.urls), r.htmlURL(c.urls)
	out := []obj{}
	for _, f := range page(c, files) {
		entry := obj{
			"sha": f.sha, "filename": f.filename, "status": f.status,
			"additions": f.additions, "deletions": f.deletions, "changes": f.additions + f.deletions,
			"blob_url":     fmt.Sprintf("%s/blob/%s/%s", html, is.pr.headSHA, f.filename),
			"raw_url":      fmt.Sprintf("%s/raw/%s/%s", html, is.pr.headSHA, f.filename),
			"contents_url": fmt.Sprintf("%s/contents/%s?ref=%s", api, f.filename, is.pr.headSHA),
		}
		if f.patch != "" {
			entry["patch"] = f.patch
		}
		if f.previous != "" {
			entry["previous_filename"] = f.previous
		}
		out = append(out, entry)
	}
	return ok(out)
}

func (e *Emulator) handlePullCommits(c *call) response {
	r, is := c.pull()
	if is == nil {
		return notFound()
	}
	g, err := r.open()
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	commits, err := commitsBetween(g, plumbing.NewHash(is.pr.baseSHA), plumbing.NewHash(is.pr.headSHA))
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	if len(commits) > maxPullCommits {
		commits = commits[:maxPullCommits]
	}
	out := []obj{}
	for _, cm := range page(c, commits) {
		out = append(out, e.commitJSON(c.urls, r, cm))
	}
	return ok(out)
}

// commitJSON renders a commit object; author and committer carry the
// GitHub user whose email matches, or null.
func (e *Emulator) commitJSON(u urls, r *repo, cm *object.Commit) obj {
	api, html := r.apiURL(u), r.htmlURL(u)
	sha := cm.Hash.String()
	parents := []obj{}
	for _, p := range cm.ParentHashes {
		parents = append(parents, obj{"sha": p.String(), "url": api + "/commits/" + p.String(), "html_url": html + "/commit/" + p.String()})
	}
	person := func(s object.Signature) obj {
		return obj{"name": s.Name, "email": s.Email, "date": timestamp(s.When)}
	}
	reason, verified := "unsigned", false
	var signature any
	if cm.PGPSignature != "" {
		reason, signature = "unknown_key", cm.PGPSignature
	}
	return obj{
		"sha": sha, "node_id": nodeIDString("Commit", sha),
		"url": api + "/commits/" + sha, "html_url": html + "/commit/" + sha,
		"comments_url": api + "/commits/" + sha + "/comments",
		"commit": obj{
			"url": api + "/git/commits/" + sha, "author": person(cm.Author), "committer": person(cm.Committer),
			"message": cm.Message, "comment_count": 0,
			"tree":         obj{"sha": cm.TreeHash.String(), "url": api + "/git/trees/" + cm.TreeHash.String()},
			"verification": obj{"verified": verified, "reason": reason, "signature": signature, "payload": nil, "verified_at": nil},
		},
		"author":    e.userJSON(u, e.loginForEmail(cm.Author.Email)),
		"committer": e.userJSON(u, e.loginForEmail(cm.Committer.Email)),
		"parents":   parents,
	}
}

func (e *Emulator) handleCommitPulls(c *call) response {
	r := c.repo()
	g, err := r.open()
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	sha, err := resolveIn(g, c.params["commit_sha"])
	if err != nil {
		return validationFailed("Commit", "sha", "invalid", "No commit found for SHA: "+c.params["commit_sha"])
	}
	var list []*issue
	for _, is := range r.issues {
		if e.hiddenPulls[r.fullName()+"@"+sha.String()] {
			break
		}
		if is.pr != nil && e.pullContains(g, is.pr, sha) {
			list = append(list, is)
		}
	}
	sortIssues(list, "created", "desc")
	out := []obj{}
	for _, is := range page(c, list) {
		out = append(out, e.pullJSON(c.r.Context(), c.urls, r, is, false))
	}
	return ok(out)
}

// HidePullsOfCommit makes GET /repos/{owner}/{repo}/commits/{sha}/pulls
// list no pull request for commit sha of owner/name until
// RevealPullsOfCommit, as GitHub does for a while after a merge, before it
// has associated the new commit with its pull request.
func (e *Emulator) HidePullsOfCommit(owner, name, sha string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hiddenPulls[owner+"/"+name+"@"+sha] = true
}

// RevealPullsOfCommit undoes HidePullsOfCommit.
func (e *Emulator) RevealPullsOfCommit(owner, name, sha string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.hiddenPulls, owner+"/"+name+"@"+sha)
}

// pullContains reports whether sha is the pull request's head, its merge
// commit, or one of its commits.
func (e *Emulator) pullContains(g *git.Repository, p *pull, sha plumbing.Hash) bool {
	if p.headSHA == sha.String() || p.mergeCommitSHA == sha.String() {
		return true
	}
	commits, err := commitsBetween(g, plumbing.NewHash(p.baseSHA), plumbing.NewHash(p.headSHA))
	if err != nil {
		return false
	}
	for _, cm := range commits {
		if cm.Hash == sha {
			return true
		}
	}
	return false
}

// MergeOptions controls Merge.
type MergeOptions struct {
	// Method is "merge" (default) or "squash".
	Method string
	// User is the login performing the merge.
	User string
	// CommitTitle and CommitMessage override GitHub's default message.
	CommitTitle, CommitMessage string
	// SHA, when set, must equal the pull request's head sha.
	SHA string
}

// Merge merges an open pull request into its base branch by writing a real
// merge or squash commit into the bare repository, marks it merged and
// returns the new commit's sha.
func (e *Emulator) Merge(owner, name string, number int, opts MergeOptions) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, is, err := e.pullLocked(owner, name, number)
	if err != nil {
		return "", err
	}
	sha, resp := e.mergeLocked(r, is, opts)
	if sha == "" {
		return "", fmt.Errorf("githubtest: merge %s#%d: %d %v", r.fullName(), number, resp.status, resp.body)
	}
	return sha, nil
}

func (e *Emulator) mergeLocked(r *repo, is *issue, opts MergeOptions) (string, response) {
	notMergeable := response{status: http.StatusMethodNotAllowed, body: obj{"message": "Pull Request is not mergeable", "documentation_url": docsURL}}
	p := is.pr
	if is.state != "open" || p.draft {
		return "", notMergeable
	}
	if opts.SHA != "" && opts.SHA != p.headSHA {
		return "", response{status: http.StatusConflict, body: obj{"message": "Head branch was modified. Review and try the merge again.", "documentation_url": docsURL}}
	}
	if opts.Method == "" {
		opts.Method = "merge"
	}
	if opts.Method != "merge" && opts.Method != "squash" {
		return "", response{status: http.StatusMethodNotAllowed, body: obj{"message": "Rebase merges are not allowed on this repository.", "documentation_url": docsURL}}
	}
	g, err := r.open()
	if err != nil {
		return "", errorResponse(http.StatusInternalServerError, err.Error())
	}
	baseTip, err := r.branchTip(p.baseRef)
	if err != nil {
		return "", notMergeable
	}
	head := plumbing.NewHash(p.headSHA)
	tree, conflicts, err := threeWayMerge(g, baseTip, head)
	if err != nil || len(conflicts) > 0 {
		return "", notMergeable
	}
	now := e.now()
	committer := gittest.Signature{Name: "GitHub", Email: "noreply@github.com", When: now}
	author := gittest.Signature{Name: opts.User, Email: e.emailFor(opts.User), When: now}
	title, message := opts.CommitTitle, opts.CommitMessage
	parents := []plumbing.Hash{baseTip, head}
	if opts.Method == "squash" {
		parents = parents[:1]
		author = gittest.Signature{Name: is.user, Email: e.emailFor(is.user), When: now}
		if title == "" {
			title = fmt.Sprintf("%s (#%d)", is.title, is.number)
		}
		if message == "" {
			commits, _ := commitsBetween(g, baseTip, head)
			var lines []string
			for _, cm := range commits {
				lines = append(lines, "* "+strings.TrimSpace(cm.Message))
			}
			message = strings.Join(lines, "\n\n")
		}
	} else {
		if title == "" {
			title = fmt.Sprintf("Merge pull request #%d from %s/%s", is.number, r.Owner, p.headRef)
		}
		if message == "" {
			message = is.title
		}
	}
	full := title + "\n"
	if message != "" {
		full += "\n" + message + "\n"
	}
	commit, err := gittest.WriteCommit(g, tree, parents, full, author, committer)
	if err != nil {
		return "", errorResponse(http.StatusInternalServerError, err.Error())
	}
	ref := plumbing.NewBranchReferenceName(p.baseRef)
	old := plumbing.NewHashReference(ref, baseTip)
	if err := g.Storer.CheckAndSetReference(plumbing.NewHashReference(ref, commit), old); err != nil {
		return "", response{status: http.StatusConflict, body: obj{"message": "Base branch was modified. Review and try the merge again.", "documentation_url": docsURL}}
	}
	p.merged, p.mergedAt, p.mergeCommitSHA, p.mergedBy = true, now, commit.String(), opts.User
	p.baseSHA = baseTip.String()
	e.setIssueStateLocked(is, "closed", "", opts.User)
	return commit.String(), response{}
}

func (e *Emulator) handleMergePull(c *call) response {
	r, is := c.pull()
	if is == nil {
		return notFound()
	}
	var req struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	sha, resp := e.mergeLocked(r, is, MergeOptions{
		Method: req.MergeMethod, User: c.token.login, CommitTitle: req.CommitTitle, CommitMessage: req.CommitMessage, SHA: req.SHA,
	})
	if sha == "" {
		return resp
	}
	return ok(obj{"sha": sha, "merged": true, "message": "Pull Request successfully merged"})
}
