package githubtest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Review is a snapshot of a pull request review.
type Review struct {
	ID          int64
	User        string
	State       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING
	Body        string
	CommitID    string
	SubmittedAt time.Time
}

var reviewEvents = map[string]string{
	"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED",
}

// Review records a submitted review by login with state APPROVED,
// CHANGES_REQUESTED or COMMENTED on the pull request's current head and
// returns its id. Unlike the API it does not refuse self-approval, so tests
// can prove the bot ignores such approvals itself.
func (e *Emulator) Review(owner, name string, number int, login, state, body string) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, is, err := e.pullLocked(owner, name, number)
	if err != nil {
		return 0, err
	}
	switch state {
	case "APPROVED", "CHANGES_REQUESTED", "COMMENTED":
	default:
		return 0, fmt.Errorf("githubtest: unknown review state %q", state)
	}
	e.userLocked(login)
	rv := &Review{ID: e.newID(), User: login, State: state, Body: body, CommitID: is.pr.headSHA, SubmittedAt: e.now()}
	is.pr.reviews = append(is.pr.reviews, rv)
	return rv.ID, nil
}

// Dismiss marks review reviewID DISMISSED.
func (e *Emulator) Dismiss(owner, name string, number int, reviewID int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, is, err := e.pullLocked(owner, name, number)
	if err != nil {
		return err
	}
	for _, rv := range is.pr.reviews {
		if rv.ID == reviewID {
			rv.State = "DISMISSED"
			return nil
		}
	}
	return fmt.Errorf("githubtest: no review %d on pull request %d", reviewID, number)
}

func (e *Emulator) reviewJSON(u urls, r *repo, is *issue, rv *Review) obj {
	prHTML := fmt.Sprintf("%s/pull/%d", r.htmlURL(u), is.number)
	prAPI := fmt.Sprintf("%s/pulls/%d", r.apiURL(u), is.number)
	html := fmt.Sprintf("%s#pullrequestreview-%d", prHTML, rv.ID)
	out := obj{
		"id": rv.ID, "node_id": nodeID("PullRequestReview", rv.ID), "user": e.userJSON(u, rv.User),
		"body": rv.Body, "state": rv.State, "html_url": html, "pull_request_url": prAPI,
		"_links":    obj{"html": link(html), "pull_request": link(prAPI)},
		"commit_id": nullableString(rv.CommitID), "author_association": e.authorAssociation(r, rv.User),
	}
	if !rv.SubmittedAt.IsZero() {
		out["submitted_at"] = timestamp(rv.SubmittedAt)
	}
	return out
}

func (e *Emulator) handleListReviews(c *call) response {
	r, is := c.pull()
	if is == nil {
		return notFound()
	}
	out := []obj{}
	for _, rv := range page(c, is.pr.reviews) {
		out = append(out, e.reviewJSON(c.urls, r, is, rv))
	}
	return ok(out)
}

func (c *call) review() (*repo, *issue, *Review) {
	r, is := c.pull()
	if is == nil {
		return r, nil, nil
	}
	id, _ := strconv.ParseInt(c.params["review_id"], 10, 64)
	for _, rv := range is.pr.reviews {
		if rv.ID == id {
			return r, is, rv
		}
	}
	return r, is, nil
}

func (e *Emulator) handleGetReview(c *call) response {
	r, is, rv := c.review()
	if rv == nil {
		return notFound()
	}
	return ok(e.reviewJSON(c.urls, r, is, rv))
}

func (e *Emulator) handleCreateReview(c *call) response {
	r, is := c.pull()
	if is == nil {
		return notFound()
	}
	var req struct {
		CommitID string `json:"commit_id"`
		Body     string `json:"body"`
		Event    string `json:"event"`
	}
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	login := c.token.login
	state := "PENDING"
	if req.Event != "" {
		var known bool
		if state, known = reviewEvents[req.Event]; !known {
			return unprocessable("Unprocessable Entity", "Event must be one of APPROVE, REQUEST_CHANGES, COMMENT")
		}
	}
	if login == is.user && (state == "APPROVED" || state == "CHANGES_REQUESTED") {
		verb := map[string]string{"APPROVED": "approve", "CHANGES_REQUESTED": "request changes on"}[state]
		return unprocessable("Unprocessable Entity", "Review Can not "+verb+" your own pull request")
	}
	if (state == "CHANGES_REQUESTED" || state == "COMMENTED") && req.Body == "" {
		return unprocessable("Unprocessable Entity", "Review body is required for this event")
	}
	commitID := req.CommitID
	if commitID == "" {
		commitID = is.pr.headSHA
	}
	rv := &Review{ID: e.newID(), User: login, State: state, Body: req.Body, CommitID: commitID}
	if state != "PENDING" {
		rv.SubmittedAt = e.now()
	}
	is.pr.reviews = append(is.pr.reviews, rv)
	return ok(e.reviewJSON(c.urls, r, is, rv))
}

func (e *Emulator) handleDismissReview(c *call) response {
	r, is, rv := c.review()
	if rv == nil {
		return notFound()
	}
	if rv.State != "APPROVED" && rv.State != "CHANGES_REQUESTED" {
		return unprocessable("Unprocessable Entity", "Can not dismiss a "+map[string]string{
			"COMMENTED": "commented", "PENDING": "pending", "DISMISSED": "dismissed",
		}[rv.State]+" pull request review")
	}
	rv.State = "DISMISSED"
	return ok(e.reviewJSON(c.urls, r, is, rv))
}
