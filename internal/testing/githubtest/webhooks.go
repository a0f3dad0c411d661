package githubtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// HookID is the value sent in the X-GitHub-Hook-ID header.
const HookID = "424242"

// Deliver sends a webhook delivery like GitHub does: the JSON payload signed
// with HMAC-SHA256 of secret in X-Hub-Signature-256, the event name in
// X-GitHub-Event and a fresh UUID in X-GitHub-Delivery. The caller closes the
// response body.
func Deliver(ctx context.Context, url, secret, event string, payload any) (*http.Response, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("githubtest: marshal %s payload: %w", event, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("githubtest: build delivery request: %w", err)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/githubtest")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", newUUID())
	req.Header.Set("X-GitHub-Hook-ID", HookID)
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("githubtest: deliver %s: %w", event, err)
	}
	return resp, nil
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Payload is a webhook payload in GitHub's JSON shape, with every field
// GitHub sends (including nulls). Tests may change it before delivery.
type Payload map[string]any

// Decode unmarshals the payload into v, typically a go-github event such as
// *github.PullRequestEvent.
func (p Payload) Decode(v any) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("githubtest: marshal payload: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("githubtest: decode payload: %w", err)
	}
	return nil
}

func (e *Emulator) payloadURLs() urls { return urls{api: e.baseURL + "/api/v3", html: e.baseURL} }

// envelope returns the repository, organization, installation and sender
// fields every payload carries.
func (e *Emulator) envelope(r *repo, sender string) obj {
	u := e.payloadURLs()
	out := obj{"repository": e.repoJSON(u, r), "sender": e.userJSON(u, sender)}
	for _, id := range e.sortedInstallationIDs() {
		if containsFold(e.installations[id].repos, r.fullName()) {
			out["installation"] = obj{"id": id, "node_id": nodeID("Installation", id)}
			break
		}
	}
	if owner := e.userLocked(r.Owner); owner.kind == "Organization" {
		api := u.api + "/orgs/" + owner.login
		out["organization"] = obj{
			"login": owner.login, "id": owner.id, "node_id": nodeID("Organization", owner.id), "url": api,
			"repos_url": api + "/repos", "events_url": api + "/events", "hooks_url": api + "/hooks",
			"issues_url": api + "/issues", "members_url": api + "/members{/member}",
			"public_members_url": api + "/public_members{/member}",
			"avatar_url":         fmt.Sprintf("%s/avatars/u/%d", u.html, owner.id), "description": nil,
		}
	}
	return out
}

// PullRequestEvent builds a pull_request payload (opened, synchronize,
// edited, reopened, closed, ...) from the current state. An empty sender
// means the author, or the user who merged or closed it.
func (e *Emulator) PullRequestEvent(ctx context.Context, owner, name string, number int, action, sender string) (Payload, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, is, err := e.pullLocked(owner, name, number)
	if err != nil {
		return nil, err
	}
	if sender == "" {
		sender = is.user
		if action == "closed" && is.closedBy != "" {
			sender = is.closedBy
		}
	}
	body := e.envelope(r, sender)
	body["action"], body["number"] = action, is.number
	body["pull_request"] = e.pullJSON(ctx, e.payloadURLs(), r, is, true)
	switch action {
	case "synchronize":
		body["before"], body["after"] = is.pr.beforeSHA, is.pr.headSHA
	case "edited":
		// GitHub lists the previous title, body or base here; the emulator
		// does not keep them, so tests set them when they matter.
		body["changes"] = obj{}
	}
	return Payload(body), nil
}

// PullRequestReviewEvent builds a pull_request_review payload (submitted,
// dismissed, edited). An empty sender means the reviewer.
func (e *Emulator) PullRequestReviewEvent(ctx context.Context, owner, name string, number int, reviewID int64, action, sender string) (Payload, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, is, err := e.pullLocked(owner, name, number)
	if err != nil {
		return nil, err
	}
	var rv *Review
	for _, candidate := range is.pr.reviews {
		if candidate.ID == reviewID {
			rv = candidate
		}
	}
	if rv == nil {
		return nil, fmt.Errorf("githubtest: no review %d on %s#%d", reviewID, r.fullName(), number)
	}
	if sender == "" {
		sender = rv.User
	}
	u := e.payloadURLs()
	body := e.envelope(r, sender)
	review := e.reviewJSON(u, r, is, rv)
	// Webhooks spell the review state in lower case ("approved"), unlike
	// the REST API ("APPROVED").
	review["state"] = strings.ToLower(rv.State)
	body["action"] = action
	body["review"] = review
	body["pull_request"] = e.pullJSON(ctx, u, r, is, false)
	if action == "edited" {
		body["changes"] = obj{}
	}
	return Payload(body), nil
}

// CheckRunEvent builds a check_run payload (for example rerequested) for a
// check run created through the API.
func (e *Emulator) CheckRunEvent(_ context.Context, owner, name string, checkRunID int64, action, sender string) (Payload, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.repoLocked(owner, name)
	if err != nil {
		return nil, err
	}
	cr := e.checkRuns[checkRunID]
	if cr == nil || cr.repo != r.fullName() {
		return nil, fmt.Errorf("githubtest: no check run %d in %s", checkRunID, r.fullName())
	}
	u := e.payloadURLs()
	run := e.checkRunJSON(u, r, cr)
	suite := e.checkSuiteJSON(u, r, cr.HeadSHA)
	// A check run's suite carries fewer members than a check_suite event's.
	for _, k := range []string{"check_runs_url", "head_commit", "latest_check_runs_count", "rerequestable", "runs_rerequestable"} {
		delete(suite, k)
	}
	run["check_suite"] = suite
	body := e.envelope(r, sender)
	body["action"], body["check_run"] = action, run
	return Payload(body), nil
}

func (e *Emulator) checkSuiteJSON(u urls, r *repo, headSHA string) obj {
	id := r.checkSuites[headSHA]
	if id == 0 {
		id = e.newID()
		r.checkSuites[headSHA] = id
	}
	var headBranch, headCommit any
	if g, err := r.open(); err == nil {
		if refs, err := g.Branches(); err == nil {
			_ = refs.ForEach(func(ref *plumbing.Reference) error {
				if headBranch == nil && ref.Hash().String() == headSHA {
					headBranch = ref.Name().Short()
				}
				return nil
			})
		}
		if cm, err := g.CommitObject(plumbing.NewHash(headSHA)); err == nil {
			headCommit = simpleCommitJSON(cm)
		}
	}
	runs := 0
	for _, cr := range e.checkRuns {
		if cr.repo == r.fullName() && cr.HeadSHA == headSHA {
			runs++
		}
	}
	now := timestamp(e.now())
	return obj{
		"id": id, "node_id": nodeID("CheckSuite", id), "head_branch": headBranch, "head_sha": headSHA,
		"status": "queued", "conclusion": nil, "url": fmt.Sprintf("%s/check-suites/%d", r.apiURL(u), id),
		"before": nil, "after": headSHA, "pull_requests": e.minimalPullsFor(u, r, headSHA),
		"app": e.appJSON(u, r.Owner), "check_runs_url": fmt.Sprintf("%s/check-suites/%d/check-runs", r.apiURL(u), id),
		"created_at": now, "updated_at": now, "latest_check_runs_count": runs, "head_commit": headCommit,
		"rerequestable": true, "runs_rerequestable": true,
	}
}

// CheckSuiteEvent builds a check_suite payload (for example requested) for
// the suite of headSHA.
func (e *Emulator) CheckSuiteEvent(_ context.Context, owner, name, headSHA, action, sender string) (Payload, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.repoLocked(owner, name)
	if err != nil {
		return nil, err
	}
	body := e.envelope(r, sender)
	body["action"], body["check_suite"] = action, e.checkSuiteJSON(e.payloadURLs(), r, headSHA)
	return Payload(body), nil
}

func headCommitJSON(u urls, r *repo, cm *object.Commit, login string) obj {
	return obj{
		"id": cm.Hash.String(), "tree_id": cm.TreeHash.String(), "distinct": true, "message": cm.Message,
		"timestamp": timestamp(cm.Committer.When), "url": r.htmlURL(u) + "/commit/" + cm.Hash.String(),
		"author":    obj{"name": cm.Author.Name, "email": cm.Author.Email, "username": nullableString(login)},
		"committer": obj{"name": cm.Committer.Name, "email": cm.Committer.Email},
		"added":     []string{}, "removed": []string{}, "modified": []string{},
	}
}

// simpleCommitJSON renders the simple commit of merge group and check
// suite payloads.
func simpleCommitJSON(cm *object.Commit) obj {
	return obj{
		"id": cm.Hash.String(), "tree_id": cm.TreeHash.String(), "message": cm.Message,
		"timestamp": timestamp(cm.Committer.When),
		"author":    obj{"name": cm.Author.Name, "email": cm.Author.Email},
		"committer": obj{"name": cm.Committer.Name, "email": cm.Committer.Email},
	}
}

// PushEvent builds a push payload for ref (for example "refs/heads/main")
// moving from before (all zeros for a new branch) to after, pushed by
// pusher.
func (e *Emulator) PushEvent(_ context.Context, owner, name, ref, before, after, pusher string) (Payload, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.repoLocked(owner, name)
	if err != nil {
		return nil, err
	}
	g, err := r.open()
	if err != nil {
		return nil, err
	}
	afterHash, err := resolveIn(g, after)
	if err != nil {
		return nil, err
	}
	u := e.payloadURLs()
	var base plumbing.Hash // zero for a new branch: every commit is new
	if strings.Trim(before, "0") != "" {
		base = plumbing.NewHash(before)
	}
	commits, err := commitsBetween(g, base, afterHash)
	if err != nil {
		return nil, err
	}
	list := []obj{}
	for _, cm := range commits {
		list = append(list, headCommitJSON(u, r, cm, e.loginForEmail(cm.Author.Email)))
	}
	head, err := g.CommitObject(afterHash)
	if err != nil {
		return nil, err
	}
	body := e.envelope(r, pusher)
	body["ref"], body["before"], body["after"] = ref, before, afterHash.String()
	body["created"], body["deleted"], body["forced"] = strings.Trim(before, "0") == "", false, false
	body["base_ref"], body["compare"] = nil, fmt.Sprintf("%s/compare/%s...%s", r.htmlURL(u), before, afterHash)
	body["commits"], body["head_commit"] = list, headCommitJSON(u, r, head, e.loginForEmail(head.Author.Email))
	body["pusher"] = obj{"name": pusher, "email": e.emailFor(pusher)}
	return Payload(body), nil
}

// MergeGroupEvent builds a merge_group checks_requested payload for a merge
// queue commit headSHA on headRef (for example
// "refs/heads/gh-readonly-queue/main/pr-1-<sha>") targeting baseRef.
func (e *Emulator) MergeGroupEvent(_ context.Context, owner, name, headSHA, headRef, baseRef, sender string) (Payload, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.repoLocked(owner, name)
	if err != nil {
		return nil, err
	}
	g, err := r.open()
	if err != nil {
		return nil, err
	}
	head, err := g.CommitObject(plumbing.NewHash(headSHA))
	if err != nil {
		return nil, fmt.Errorf("githubtest: merge group head %s: %w", headSHA, err)
	}
	baseSHA, err := resolveIn(g, baseRef)
	if err != nil {
		return nil, err
	}
	body := e.envelope(r, sender)
	body["action"] = "checks_requested"
	body["merge_group"] = obj{
		"head_sha": headSHA, "head_ref": headRef, "base_sha": baseSHA.String(), "base_ref": baseRef,
		"head_commit": simpleCommitJSON(head),
	}
	return Payload(body), nil
}
