package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Issue is a snapshot of an issue or of the issue side of a pull request.
type Issue struct {
	Number        int
	Title, Body   string
	User          string
	State         string // "open" or "closed"
	StateReason   string
	Labels        []string
	Comments      []Comment
	IsPullRequest bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ClosedAt      time.Time
}

// Comment is a snapshot of an issue or pull request comment.
type Comment struct {
	ID        int64
	User      string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Issues returns snapshots of all issues and pull requests of owner/name in
// number order.
func (e *Emulator) Issues(owner, name string) []Issue {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repos[owner+"/"+name]
	if r == nil {
		return nil
	}
	var out []Issue
	for n := 1; n < r.nextNumber; n++ {
		is := r.issues[n]
		if is == nil {
			continue
		}
		snap := Issue{
			Number: is.number, Title: is.title, Body: is.body, User: is.user, State: is.state,
			StateReason: is.stateReason, Labels: append([]string(nil), is.labels...), IsPullRequest: is.pr != nil,
			CreatedAt: is.createdAt, UpdatedAt: is.updatedAt, ClosedAt: is.closedAt,
		}
		for _, cm := range is.comments {
			snap.Comments = append(snap.Comments, *cm)
		}
		out = append(out, snap)
	}
	return out
}

func (e *Emulator) issueJSON(u urls, r *repo, is *issue) obj {
	api := fmt.Sprintf("%s/issues/%d", r.apiURL(u), is.number)
	html := fmt.Sprintf("%s/issues/%d", r.htmlURL(u), is.number)
	if is.pr != nil {
		html = fmt.Sprintf("%s/pull/%d", r.htmlURL(u), is.number)
	}
	out := obj{
		"id": is.id, "node_id": nodeID("Issue", is.id), "url": api, "repository_url": r.apiURL(u),
		"labels_url": api + "/labels{/name}", "comments_url": api + "/comments", "events_url": api + "/events",
		"timeline_url": api + "/timeline", "html_url": html, "number": is.number, "state": is.state,
		"state_reason": nullableString(is.stateReason), "title": is.title, "body": nullableString(is.body),
		"user": e.userJSON(u, is.user), "labels": e.labelsJSON(u, r, is.labels), "assignee": nil,
		"assignees": []any{}, "milestone": nil, "locked": false, "active_lock_reason": nil,
		"comments": len(is.comments), "closed_at": timestamp(is.closedAt), "created_at": timestamp(is.createdAt),
		"updated_at": timestamp(is.updatedAt), "closed_by": e.userJSON(u, is.closedBy),
		"author_association": e.authorAssociation(r, is.user),
	}
	if is.pr != nil {
		out["draft"] = is.pr.draft
		out["pull_request"] = obj{
			"url": fmt.Sprintf("%s/pulls/%d", r.apiURL(u), is.number), "html_url": html,
			"diff_url": html + ".diff", "patch_url": html + ".patch", "merged_at": timestamp(is.pr.mergedAt),
		}
	}
	return out
}

func (e *Emulator) commentJSON(u urls, r *repo, is *issue, cm *Comment) obj {
	issueAPI := fmt.Sprintf("%s/issues/%d", r.apiURL(u), is.number)
	return obj{
		"id": cm.ID, "node_id": nodeID("IssueComment", cm.ID),
		"url":      fmt.Sprintf("%s/issues/comments/%d", r.apiURL(u), cm.ID),
		"html_url": fmt.Sprintf("%s/issues/%d#issuecomment-%d", r.htmlURL(u), is.number, cm.ID),
		"body":     cm.Body, "user": e.userJSON(u, cm.User), "created_at": timestamp(cm.CreatedAt),
		"updated_at": timestamp(cm.UpdatedAt), "issue_url": issueAPI,
		"author_association": e.authorAssociation(r, cm.User),
	}
}

func (c *call) issue() (*repo, *issue) {
	r := c.repo()
	n, err := strconv.Atoi(c.params["issue_number"])
	if err != nil {
		return r, nil
	}
	return r, r.issues[n]
}

func (e *Emulator) handleListIssues(c *call) response {
	r := c.repo()
	state := c.query("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := c.query("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	var list []*issue
	for _, is := range r.issues {
		if state != "all" && is.state != state {
			continue
		}
		if creator := c.query("creator"); creator != "" && is.user != creator {
			continue
		}
		if !hasAllLabels(is.labels, want) {
			continue
		}
		list = append(list, is)
	}
	sortIssues(list, c.query("sort"), c.query("direction"))
	out := []obj{}
	for _, is := range page(c, list) {
		out = append(out, e.issueJSON(c.urls, r, is))
	}
	return ok(out)
}

func hasAllLabels(have, want []string) bool {
	for _, w := range want {
		if !containsFold(have, strings.TrimSpace(w)) {
			return false
		}
	}
	return true
}

func (e *Emulator) handleGetIssue(c *call) response {
	r, is := c.issue()
	if is == nil {
		return notFound()
	}
	return ok(e.issueJSON(c.urls, r, is))
}

func (e *Emulator) handleCreateIssue(c *call) response {
	r := c.repo()
	var req struct {
		Title  string   `json:"title"`
		Body   string   `json:"body"`
		Labels []string `json:"labels"`
	}
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	if req.Title == "" {
		return validationFailed("Issue", "title", "missing_field", "")
	}
	now := e.now()
	is := &issue{
		number: r.nextNumber, id: e.newID(), title: req.Title, body: req.Body, user: c.token.login,
		state: "open", labels: dedupeLabels(nil, req.Labels), createdAt: now, updatedAt: now,
	}
	r.nextNumber++
	r.issues[is.number] = is
	return created(e.issueJSON(c.urls, r, is))
}

func dedupeLabels(have, add []string) []string {
	out := append([]string(nil), have...)
	for _, l := range add {
		if l != "" && !containsFold(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func (e *Emulator) handleUpdateIssue(c *call) response {
	r, is := c.issue()
	if is == nil {
		return notFound()
	}
	var req struct {
		Title       *string   `json:"title"`
		Body        *string   `json:"body"`
		State       *string   `json:"state"`
		StateReason *string   `json:"state_reason"`
		Labels      *[]string `json:"labels"`
	}
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	if req.State != nil {
		if *req.State != "open" && *req.State != "closed" {
			return validationFailed("Issue", "state", "invalid", "")
		}
		reason := ""
		if req.StateReason != nil {
			reason = *req.StateReason
		}
		e.setIssueStateLocked(is, *req.State, reason, c.token.login)
	}
	if req.Title != nil {
		is.title = *req.Title
	}
	if req.Body != nil {
		is.body = *req.Body
	}
	if req.Labels != nil {
		is.labels = dedupeLabels(nil, *req.Labels)
	}
	is.updatedAt = e.now()
	return ok(e.issueJSON(c.urls, r, is))
}

func (e *Emulator) handleListLabels(c *call) response {
	r, is := c.issue()
	if is == nil {
		return notFound()
	}
	return ok(page(c, e.labelsJSON(c.urls, r, is.labels)))
}

func (e *Emulator) handleAddLabels(c *call) response {
	r, is := c.issue()
	if is == nil {
		return notFound()
	}
	var names []string
	var wrapped struct {
		Labels []string `json:"labels"`
	}
	if err := json.Unmarshal(c.body, &names); err != nil {
		if err := json.Unmarshal(c.body, &wrapped); err != nil {
			return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
		}
		names = wrapped.Labels
	}
	if len(names) == 0 {
		return validationFailed("Label", "labels", "missing_field", "")
	}
	is.labels = dedupeLabels(is.labels, names)
	is.updatedAt = e.now()
	return ok(e.labelsJSON(c.urls, r, is.labels))
}

func (e *Emulator) handleRemoveLabel(c *call) response {
	r, is := c.issue()
	if is == nil {
		return notFound()
	}
	name := c.params["name"]
	kept := is.labels[:0:0]
	for _, l := range is.labels {
		if !strings.EqualFold(l, name) {
			kept = append(kept, l)
		}
	}
	if len(kept) == len(is.labels) {
		return errorResponse(http.StatusNotFound, "Label does not exist")
	}
	is.labels = kept
	is.updatedAt = e.now()
	return ok(e.labelsJSON(c.urls, r, is.labels))
}

func (e *Emulator) handleListComments(c *call) response {
	r, is := c.issue()
	if is == nil {
		return notFound()
	}
	out := []obj{}
	for _, cm := range page(c, is.comments) {
		out = append(out, e.commentJSON(c.urls, r, is, cm))
	}
	return ok(out)
}

func (e *Emulator) handleCreateComment(c *call) response {
	r, is := c.issue()
	if is == nil {
		return notFound()
	}
	var req struct {
		Body string `json:"body"`
	}
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	if req.Body == "" {
		return validationFailed("IssueComment", "body", "missing_field", "")
	}
	now := e.now()
	cm := &Comment{ID: e.newID(), User: c.token.login, Body: req.Body, CreatedAt: now, UpdatedAt: now}
	is.comments = append(is.comments, cm)
	is.updatedAt = now
	return created(e.commentJSON(c.urls, r, is, cm))
}

func (e *Emulator) handleUpdateComment(c *call) response {
	r := c.repo()
	id, _ := strconv.ParseInt(c.params["comment_id"], 10, 64)
	var req struct {
		Body string `json:"body"`
	}
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	for _, is := range r.issues {
		for _, cm := range is.comments {
			if cm.ID == id {
				cm.Body, cm.UpdatedAt = req.Body, e.now()
				return ok(e.commentJSON(c.urls, r, is, cm))
			}
		}
	}
	return notFound()
}

func (e *Emulator) handleGetComment(c *call) response {
	r := c.repo()
	id, _ := strconv.ParseInt(c.params["comment_id"], 10, 64)
	for _, is := range r.issues {
		for _, cm := range is.comments {
			if cm.ID == id {
				return ok(e.commentJSON(c.urls, r, is, cm))
			}
		}
	}
	return notFound()
}
