package githubtest

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type issue struct {
	number                         int
	id                             int64
	title, body, user, state       string
	stateReason, closedBy          string
	labels                         []string
	comments                       []*Comment
	createdAt, updatedAt, closedAt time.Time
	pr                             *pull
}

type pull struct {
	id                                 int64
	headRef, headSHA, baseRef, baseSHA string
	draft, merged                      bool
	mergedAt                           time.Time
	mergeCommitSHA, mergedBy           string
	beforeSHA                          string // head sha before the last SyncPR that moved it
	reviews                            []*Review
}

// PullRequest is a snapshot of an emulated pull request.
type PullRequest struct {
	Number         int
	State          string // "open" or "closed"
	Title, Body    string
	User           string
	HeadRef        string
	HeadSHA        string
	BaseRef        string
	BaseSHA        string
	Draft          bool
	Labels         []string
	Merged         bool
	MergedAt       time.Time
	MergeCommitSHA string
	MergedBy       string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ClosedAt       time.Time
	Reviews        []Review
}

// NewPullRequest describes a pull request to open with OpenPR.
type NewPullRequest struct {
	// Title and Body are the pull request's title and description.
	Title, Body string
	// Head is the branch with the changes; Base the branch to merge into
	// (empty means the default branch).
	Head, Base string
	// User is the author's login.
	User string
	// Draft opens the pull request as a draft.
	Draft bool
	// Labels are label names to attach.
	Labels []string
}

func (e *Emulator) pullLocked(owner, name string, number int) (*repo, *issue, error) {
	r, err := e.repoLocked(owner, name)
	if err != nil {
		return nil, nil, err
	}
	is := r.issues[number]
	if is == nil || is.pr == nil {
		return nil, nil, fmt.Errorf("githubtest: no pull request %s#%d", r.fullName(), number)
	}
	return r, is, nil
}

// OpenPR opens a pull request from the current tips of its head and base
// branches and returns its number.
func (e *Emulator) OpenPR(owner, name string, pr NewPullRequest) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.repoLocked(owner, name)
	if err != nil {
		return 0, err
	}
	is, resp := e.openPullLocked(r, pr)
	if is == nil {
		return 0, fmt.Errorf("githubtest: open pull request: %v", resp.body)
	}
	return is.number, nil
}

func (e *Emulator) openPullLocked(r *repo, req NewPullRequest) (*issue, response) {
	if req.Base == "" {
		req.Base = r.DefaultBranch
	}
	req.Head = strings.TrimPrefix(req.Head, r.Owner+":")
	if req.Title == "" {
		return nil, validationFailed("PullRequest", "title", "missing_field", "")
	}
	baseSHA, err := r.branchTip(req.Base)
	if err != nil {
		return nil, validationFailed("PullRequest", "base", "invalid", "")
	}
	headSHA, err := r.branchTip(req.Head)
	if err != nil {
		return nil, validationFailed("PullRequest", "head", "invalid", "")
	}
	for _, other := range r.issues {
		if other.pr != nil && other.state == "open" && other.pr.headRef == req.Head && other.pr.baseRef == req.Base {
			return nil, validationFailed("PullRequest", "", "custom",
				fmt.Sprintf("A pull request already exists for %s:%s.", r.Owner, req.Head))
		}
	}
	g, err := r.open()
	if err != nil {
		return nil, errorResponse(http.StatusInternalServerError, err.Error())
	}
	commits, err := commitsBetween(g, baseSHA, headSHA)
	if err != nil || len(commits) == 0 {
		return nil, validationFailed("PullRequest", "", "custom",
			fmt.Sprintf("No commits between %s and %s", req.Base, req.Head))
	}
	now := e.now()
	e.userLocked(req.User)
	is := &issue{
		number: r.nextNumber, id: e.newID(), title: req.Title, body: req.Body, user: req.User,
		state: "open", labels: append([]string(nil), req.Labels...), createdAt: now, updatedAt: now,
		pr: &pull{id: e.newID(), headRef: req.Head, headSHA: headSHA.String(), baseRef: req.Base, baseSHA: baseSHA.String(), draft: req.Draft},
	}
	for _, l := range req.Labels {
		r.labelLocked(e, l)
	}
	r.nextNumber++
	r.issues[is.number] = is
	return is, response{}
}

// PullRequest returns a snapshot of pull request number.
func (e *Emulator) PullRequest(owner, name string, number int) (PullRequest, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, is, err := e.pullLocked(owner, name, number)
	if err != nil {
		return PullRequest{}, err
	}
	p := is.pr
	out := PullRequest{
		Number: is.number, State: is.state, Title: is.title, Body: is.body, User: is.user,
		HeadRef: p.headRef, HeadSHA: p.headSHA, BaseRef: p.baseRef, BaseSHA: p.baseSHA, Draft: p.draft,
		Labels: append([]string(nil), is.labels...), Merged: p.merged, MergedAt: p.mergedAt,
		MergeCommitSHA: p.mergeCommitSHA, MergedBy: p.mergedBy,
		CreatedAt: is.createdAt, UpdatedAt: is.updatedAt, ClosedAt: is.closedAt,
	}
	for _, rv := range p.reviews {
		out.Reviews = append(out.Reviews, *rv)
	}
	return out, nil
}

// SyncPR re-reads the tips of an open pull request's head and base branches
// after a push, the way GitHub does before sending a synchronize event, and
// returns the new head sha.
func (e *Emulator) SyncPR(owner, name string, number int) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, is, err := e.pullLocked(owner, name, number)
	if err != nil {
		return "", err
	}
	if is.state != "open" {
		return "", fmt.Errorf("githubtest: pull request %s#%d is closed", r.fullName(), number)
	}
	head, err := r.branchTip(is.pr.headRef)
	if err != nil {
		return "", err
	}
	base, err := r.branchTip(is.pr.baseRef)
	if err != nil {
		return "", err
	}
	if head.String() != is.pr.headSHA {
		is.pr.beforeSHA = is.pr.headSHA
	}
	if head.String() != is.pr.headSHA || base.String() != is.pr.baseSHA {
		is.updatedAt = e.now()
	}
	is.pr.headSHA, is.pr.baseSHA = head.String(), base.String()
	return is.pr.headSHA, nil
}

// SetPRState closes ("closed") or reopens ("open") a pull request without
// merging it.
func (e *Emulator) SetPRState(owner, name string, number int, state string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, is, err := e.pullLocked(owner, name, number)
	if err != nil {
		return err
	}
	e.setIssueStateLocked(is, state, "", "")
	return nil
}

func (e *Emulator) setIssueStateLocked(is *issue, state, reason, by string) {
	if state == is.state {
		return
	}
	now := e.now()
	is.state, is.updatedAt = state, now
	if state == "closed" {
		is.closedAt, is.closedBy = now, by
		is.stateReason = reason
		if reason == "" && is.pr == nil {
			is.stateReason = "completed"
		}
		return
	}
	is.closedAt, is.closedBy = time.Time{}, ""
	is.stateReason = ""
	if is.pr == nil {
		is.stateReason = "reopened"
	}
}

// pullJSON renders a pull request; full adds the fields only the single
// pull request endpoint returns.
func (e *Emulator) pullJSON(ctx context.Context, u urls, r *repo, is *issue, full bool) obj {
	p := is.pr
	api := r.apiURL(u)
	self := fmt.Sprintf("%s/pulls/%d", api, is.number)
	html := fmt.Sprintf("%s/pull/%d", r.htmlURL(u), is.number)
	issueURL := fmt.Sprintf("%s/issues/%d", api, is.number)
	side := func(ref, sha string) obj {
		return obj{"label": r.Owner + ":" + ref, "ref": ref, "sha": sha, "user": e.userJSON(u, r.Owner), "repo": e.repoJSON(u, r)}
	}
	out := obj{
		"url": self, "id": p.id, "node_id": nodeID("PullRequest", p.id), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issueURL,
		"commits_url": self + "/commits", "review_comments_url": self + "/comments",
		"review_comment_url": api + "/pulls/comments{/number}", "comments_url": issueURL + "/comments",
		"statuses_url": api + "/statuses/" + p.headSHA, "number": is.number, "state": is.state,
		"locked": false, "title": is.title, "user": e.userJSON(u, is.user), "body": nullableString(is.body),
		"labels": e.labelsJSON(u, r, is.labels), "milestone": nil, "active_lock_reason": nil,
		"created_at": timestamp(is.createdAt), "updated_at": timestamp(is.updatedAt),
		"closed_at": timestamp(is.closedAt), "merged_at": timestamp(p.mergedAt),
		"merge_commit_sha": nullableString(p.mergeCommitSHA), "assignee": nil, "assignees": []any{},
		"requested_reviewers": []any{}, "requested_teams": []any{},
		"head": side(p.headRef, p.headSHA), "base": side(p.baseRef, p.baseSHA),
		"_links": obj{
			"self": link(self), "html": link(html), "issue": link(issueURL), "comments": link(issueURL + "/comments"),
			"review_comments": link(self + "/comments"), "review_comment": link(api + "/pulls/comments{/number}"),
			"commits": link(self + "/commits"), "statuses": link(api + "/statuses/" + p.headSHA),
		},
		"author_association": e.authorAssociation(r, is.user), "auto_merge": nil, "draft": p.draft,
	}
	if !full {
		return out
	}
	out["merged"] = p.merged
	out["merged_by"] = e.userJSON(u, p.mergedBy)
	out["comments"] = len(is.comments)
	out["review_comments"] = 0
	out["maintainer_can_modify"] = false
	out["rebaseable"] = false
	out["mergeable"], out["mergeable_state"] = e.mergeability(r, is)
	commits, additions, deletions, changed := e.pullStats(ctx, r, p)
	out["commits"], out["additions"], out["deletions"], out["changed_files"] = commits, additions, deletions, changed
	return out
}

func (e *Emulator) mergeability(r *repo, is *issue) (any, string) {
	if is.state != "open" {
		return nil, "unknown"
	}
	g, err := r.open()
	if err != nil {
		return nil, "unknown"
	}
	base, err := r.branchTip(is.pr.baseRef)
	if err != nil {
		return nil, "unknown"
	}
	head, err := resolveIn(g, is.pr.headSHA)
	if err != nil {
		return nil, "unknown"
	}
	if _, conflicts, err := threeWayMerge(g, base, head); err != nil || len(conflicts) > 0 {
		return false, "dirty"
	}
	if is.pr.draft {
		return true, "draft"
	}
	return true, "clean"
}

func (e *Emulator) pullStats(ctx context.Context, r *repo, p *pull) (commits, additions, deletions, changed int) {
	g, err := r.open()
	if err != nil {
		return 0, 0, 0, 0
	}
	base, errB := resolveIn(g, p.baseSHA)
	head, errH := resolveIn(g, p.headSHA)
	if errB != nil || errH != nil {
		return 0, 0, 0, 0
	}
	if list, err := commitsBetween(g, base, head); err == nil {
		commits = len(list)
	}
	files, err := e.diffFiles(ctx, r, base, head)
	if err != nil {
		return commits, 0, 0, 0
	}
	for _, f := range files {
		additions += f.additions
		deletions += f.deletions
	}
	return commits, additions, deletions, len(files)
}

func (c *call) repo() *repo { return c.e.repos[c.params["owner"]+"/"+c.params["repo"]] }

func (c *call) pull() (*repo, *issue) {
	r := c.repo()
	n, err := strconv.Atoi(c.params["pull_number"])
	if err != nil {
		return r, nil
	}
	is := r.issues[n]
	if is == nil || is.pr == nil {
		return r, nil
	}
	return r, is
}

func (e *Emulator) handleListPulls(c *call) response {
	r := c.repo()
	state := c.query("state")
	if state == "" {
		state = "open"
	}
	head := c.query("head")
	var list []*issue
	for _, is := range r.issues {
		if is.pr == nil || (state != "all" && is.state != state) {
			continue
		}
		if head != "" && r.Owner+":"+is.pr.headRef != head && is.pr.headRef != head {
			continue
		}
		if base := c.query("base"); base != "" && is.pr.baseRef != base {
			continue
		}
		list = append(list, is)
	}
	sortIssues(list, c.query("sort"), c.query("direction"))
	out := []obj{}
	for _, is := range page(c, list) {
		out = append(out, e.pullJSON(c.r.Context(), c.urls, r, is, false))
	}
	return ok(out)
}

// sortIssues orders by created (default) or updated time, newest first
// unless direction is "asc", breaking ties by number.
func sortIssues(list []*issue, by, direction string) {
	key := func(is *issue) time.Time { return is.createdAt }
	if by == "updated" {
		key = func(is *issue) time.Time { return is.updatedAt }
	}
	sort.SliceStable(list, func(i, j int) bool {
		ki, kj := key(list[i]), key(list[j])
		if !ki.Equal(kj) {
			if direction == "asc" {
				return ki.Before(kj)
			}
			return ki.After(kj)
		}
		if direction == "asc" {
			return list[i].number < list[j].number
		}
		return list[i].number > list[j].number
	})
}

func (e *Emulator) handleGetPull(c *call) response {
	r, is := c.pull()
	if is == nil {
		return notFound()
	}
	return ok(e.pullJSON(c.r.Context(), c.urls, r, is, true))
}

func (e *Emulator) handleCreatePull(c *call) response {
	var req struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
		Draft bool   `json:"draft"`
	}
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	if req.Base == "" {
		return validationFailed("PullRequest", "base", "missing_field", "")
	}
	r := c.repo()
	is, resp := e.openPullLocked(r, NewPullRequest{Title: req.Title, Body: req.Body, Head: req.Head, Base: req.Base, User: c.token.login, Draft: req.Draft})
	if is == nil {
		return resp
	}
	return created(e.pullJSON(c.r.Context(), c.urls, r, is, true))
}

func (e *Emulator) handleUpdatePull(c *call) response {
	r, is := c.pull()
	if is == nil {
		return notFound()
	}
	var req struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
		Base  *string `json:"base"`
	}
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	if req.Base != nil {
		tip, err := r.branchTip(*req.Base)
		if err != nil {
			return validationFailed("PullRequest", "base", "invalid", "Proposed base branch '"+*req.Base+"' was not found")
		}
		is.pr.baseRef, is.pr.baseSHA = *req.Base, tip.String()
	}
	if req.State != nil {
		if *req.State != "open" && *req.State != "closed" {
			return validationFailed("PullRequest", "state", "invalid", "")
		}
		if is.pr.merged && *req.State == "open" {
			return validationFailed("PullRequest", "state", "invalid", "Cannot reopen a merged pull request")
		}
		e.setIssueStateLocked(is, *req.State, "", c.token.login)
	}
	if req.Title != nil {
		is.title = *req.Title
	}
	if req.Body != nil {
		is.body = *req.Body
	}
	is.updatedAt = e.now()
	return ok(e.pullJSON(c.r.Context(), c.urls, r, is, true))
}
