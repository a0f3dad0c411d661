package githubtest

import (
	"context"
	"fmt"
)

// Comment adds a comment by login to issue or pull request number of
// owner/name, as POST .../issues/{number}/comments does, and returns its id.
func (e *Emulator) Comment(owner, name string, number int, login, body string) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.repoLocked(owner, name)
	if err != nil {
		return 0, err
	}
	is := r.issues[number]
	if is == nil {
		return 0, fmt.Errorf("githubtest: no issue or pull request %s#%d", r.fullName(), number)
	}
	if body == "" {
		return 0, fmt.Errorf("githubtest: a comment needs a body")
	}
	e.userLocked(login)
	now := e.now()
	cm := &Comment{ID: e.newID(), User: login, Body: body, CreatedAt: now, UpdatedAt: now}
	is.comments = append(is.comments, cm)
	is.updatedAt = now
	return cm.ID, nil
}

// reactionsJSON renders the empty reaction rollup webhooks carry.
func reactionsJSON(url string) obj {
	return obj{
		"url": url + "/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
		"confused": 0, "heart": 0, "rocket": 0, "eyes": 0,
	}
}

// IssueCommentEvent builds an issue_comment payload (created, edited,
// deleted) for comment commentID on issue or pull request number. An empty
// sender means the comment's author. For edited, the previous body is not
// kept, so changes.body.from is empty.
func (e *Emulator) IssueCommentEvent(_ context.Context, owner, name string, number int, commentID int64, action, sender string) (Payload, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.repoLocked(owner, name)
	if err != nil {
		return nil, err
	}
	is := r.issues[number]
	if is == nil {
		return nil, fmt.Errorf("githubtest: no issue or pull request %s#%d", r.fullName(), number)
	}
	var cm *Comment
	for _, c := range is.comments {
		if c.ID == commentID {
			cm = c
		}
	}
	if cm == nil {
		return nil, fmt.Errorf("githubtest: no comment %d on %s#%d", commentID, r.fullName(), number)
	}
	if sender == "" {
		sender = cm.User
	}
	u := e.payloadURLs()
	issue := e.issueJSON(u, r, is)
	// The webhook's issue carries reactions and the App that acted, and
	// not who closed it.
	delete(issue, "closed_by")
	issue["reactions"] = reactionsJSON(fmt.Sprint(issue["url"]))
	issue["performed_via_github_app"] = nil
	comment := e.commentJSON(u, r, is, cm)
	comment["reactions"] = reactionsJSON(fmt.Sprint(comment["url"]))
	comment["performed_via_github_app"] = nil
	body := e.envelope(r, sender)
	body["action"], body["issue"], body["comment"] = action, issue, comment
	if action == "edited" {
		body["changes"] = obj{"body": obj{"from": ""}}
	}
	return Payload(body), nil
}
