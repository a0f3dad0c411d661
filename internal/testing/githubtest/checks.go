package githubtest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// CheckRun is a snapshot of a check run.
type CheckRun struct {
	ID          int64
	Name        string
	HeadSHA     string
	Status      string
	Conclusion  string
	ExternalID  string
	DetailsURL  string
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
	StartedAt   time.Time
	CompletedAt time.Time
}

// Annotation is a check run annotation, with GitHub's JSON field names.
type Annotation struct {
	Path            string `json:"path"`
	StartLine       int    `json:"start_line"`
	EndLine         int    `json:"end_line"`
	StartColumn     *int   `json:"start_column,omitempty"`
	EndColumn       *int   `json:"end_column,omitempty"`
	AnnotationLevel string `json:"annotation_level"`
	Message         string `json:"message"`
	Title           string `json:"title,omitempty"`
	RawDetails      string `json:"raw_details,omitempty"`
}

type checkRunState struct {
	CheckRun
	repo    string // full name
	suiteID int64
}

// maxAnnotationsPerRequest is GitHub's limit on annotations in one create
// or update request.
const maxAnnotationsPerRequest = 50

// CheckRuns returns the check runs created for headSHA in owner/name, oldest
// first.
func (e *Emulator) CheckRuns(owner, name, headSHA string) []CheckRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []CheckRun
	for _, cr := range e.sortedCheckRuns() {
		if cr.repo == owner+"/"+name && cr.HeadSHA == headSHA {
			snap := cr.CheckRun
			snap.Annotations = append([]Annotation(nil), cr.Annotations...)
			out = append(out, snap)
		}
	}
	return out
}

func (e *Emulator) sortedCheckRuns() []*checkRunState {
	list := make([]*checkRunState, 0, len(e.checkRuns))
	for _, cr := range e.checkRuns {
		list = append(list, cr)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list
}

func (e *Emulator) appJSON(u urls, owner string) obj {
	return obj{
		"id": e.cfg.AppID, "slug": e.cfg.AppSlug, "node_id": nodeID("Integration", e.cfg.AppID),
		"client_id": "Iv1." + strconv.FormatInt(e.cfg.AppID, 16), "owner": e.userJSON(u, owner),
		"name": e.cfg.AppSlug, "description": nil, "external_url": u.html, "html_url": u.html + "/apps/" + e.cfg.AppSlug,
		"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
		"permissions": appPermissions(), "events": []string{"check_run", "check_suite", "pull_request", "pull_request_review", "push"},
	}
}

// minimalPullsFor renders the open pull requests whose head is sha, as
// check runs and check suites list them.
func (e *Emulator) minimalPullsFor(u urls, r *repo, sha string) []obj {
	out := []obj{}
	var numbers []int
	for n, is := range r.issues {
		if is.pr != nil && is.state == "open" && is.pr.headSHA == sha {
			numbers = append(numbers, n)
		}
	}
	sort.Ints(numbers)
	repoRef := obj{"id": r.id, "url": r.apiURL(u), "name": r.Name}
	for _, n := range numbers {
		p := r.issues[n].pr
		out = append(out, obj{
			"id": p.id, "number": n, "url": fmt.Sprintf("%s/pulls/%d", r.apiURL(u), n),
			"head": obj{"ref": p.headRef, "sha": p.headSHA, "repo": repoRef},
			"base": obj{"ref": p.baseRef, "sha": p.baseSHA, "repo": repoRef},
		})
	}
	return out
}

func (e *Emulator) checkRunJSON(u urls, r *repo, cr *checkRunState) obj {
	self := fmt.Sprintf("%s/check-runs/%d", r.apiURL(u), cr.ID)
	details := cr.DetailsURL
	if details == "" {
		// GitHub falls back to the App's homepage.
		details = u.html + "/apps/" + e.cfg.AppSlug
	}
	return obj{
		"id": cr.ID, "head_sha": cr.HeadSHA, "node_id": nodeID("CheckRun", cr.ID),
		"external_id": cr.ExternalID, "url": self, "html_url": fmt.Sprintf("%s/runs/%d", r.htmlURL(u), cr.ID),
		"details_url": details, "status": cr.Status, "conclusion": nullableString(cr.Conclusion),
		"started_at": timestamp(cr.StartedAt), "completed_at": timestamp(cr.CompletedAt),
		"output": obj{
			"title": nullableString(cr.Title), "summary": nullableString(cr.Summary), "text": nullableString(cr.Text),
			"annotations_count": len(cr.Annotations), "annotations_url": self + "/annotations",
		},
		"name": cr.Name, "check_suite": obj{"id": cr.suiteID}, "app": e.appJSON(u, r.Owner),
		"pull_requests": e.minimalPullsFor(u, r, cr.HeadSHA),
	}
}

type checkRunRequest struct {
	Name        *string    `json:"name"`
	HeadSHA     string     `json:"head_sha"`
	DetailsURL  *string    `json:"details_url"`
	ExternalID  *string    `json:"external_id"`
	Status      *string    `json:"status"`
	Conclusion  *string    `json:"conclusion"`
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	Output      *struct {
		Title       *string      `json:"title"`
		Summary     *string      `json:"summary"`
		Text        *string      `json:"text"`
		Annotations []Annotation `json:"annotations"`
	} `json:"output"`
}

var checkConclusions = map[string]bool{
	"action_required": true, "cancelled": true, "failure": true, "neutral": true,
	"success": true, "skipped": true, "stale": true, "timed_out": true,
}

// apply validates req and applies it to cr.
func (e *Emulator) applyCheckRun(cr *checkRunState, req *checkRunRequest) response {
	if req.Name != nil {
		cr.Name = *req.Name
	}
	if req.DetailsURL != nil {
		cr.DetailsURL = *req.DetailsURL
	}
	if req.ExternalID != nil {
		cr.ExternalID = *req.ExternalID
	}
	if req.StartedAt != nil {
		cr.StartedAt = req.StartedAt.UTC()
	}
	if req.Status != nil {
		switch *req.Status {
		case "queued", "in_progress", "completed", "waiting", "requested", "pending":
			cr.Status = *req.Status
		default:
			return validationFailed("CheckRun", "status", "invalid", "")
		}
	}
	if req.Conclusion != nil {
		if !checkConclusions[*req.Conclusion] {
			return validationFailed("CheckRun", "conclusion", "invalid", "")
		}
		cr.Conclusion, cr.Status = *req.Conclusion, "completed"
		if cr.CompletedAt.IsZero() {
			cr.CompletedAt = e.now()
		}
	}
	if req.CompletedAt != nil {
		cr.CompletedAt = req.CompletedAt.UTC()
	}
	if cr.Status == "completed" && cr.Conclusion == "" {
		return unprocessable("Invalid request.", "conclusion is required when status is completed")
	}
	if o := req.Output; o != nil {
		if o.Title == nil || o.Summary == nil {
			return unprocessable("Invalid request.", "output requires title and summary")
		}
		if len(o.Annotations) > maxAnnotationsPerRequest {
			return validationFailed("CheckRun", "annotations", "too_many",
				fmt.Sprintf("Only %d annotations may be submitted per request", maxAnnotationsPerRequest))
		}
		for _, a := range o.Annotations {
			if a.Path == "" || a.StartLine == 0 || a.EndLine == 0 || a.AnnotationLevel == "" || a.Message == "" {
				return unprocessable("Invalid request.", "annotations require path, start_line, end_line, annotation_level and message")
			}
		}
		cr.Title, cr.Summary = *o.Title, *o.Summary
		if o.Text != nil {
			cr.Text = *o.Text
		}
		cr.Annotations = append(cr.Annotations, o.Annotations...)
	}
	return response{}
}

func (e *Emulator) handleCreateCheckRun(c *call) response {
	r := c.repo()
	var req checkRunRequest
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	if req.Name == nil || *req.Name == "" {
		return validationFailed("CheckRun", "name", "missing_field", "")
	}
	g, err := r.open()
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	if len(req.HeadSHA) != 40 {
		return validationFailed("CheckRun", "head_sha", "invalid", "No commit found for SHA: "+req.HeadSHA)
	}
	if _, err := resolveIn(g, req.HeadSHA); err != nil {
		return validationFailed("CheckRun", "head_sha", "invalid", "No commit found for SHA: "+req.HeadSHA)
	}
	suite := r.checkSuites[req.HeadSHA]
	if suite == 0 {
		suite = e.newID()
		r.checkSuites[req.HeadSHA] = suite
	}
	cr := &checkRunState{CheckRun: CheckRun{ID: e.newID(), HeadSHA: req.HeadSHA, Status: "queued"}, repo: r.fullName(), suiteID: suite}
	if req.Status == nil && req.Conclusion == nil {
		cr.StartedAt = e.now()
	}
	if resp := e.applyCheckRun(cr, &req); resp.status != 0 {
		return resp
	}
	if cr.StartedAt.IsZero() {
		cr.StartedAt = e.now()
	}
	e.checkRuns[cr.ID] = cr
	return created(e.checkRunJSON(c.urls, r, cr))
}

func (c *call) checkRun() (*repo, *checkRunState) {
	r := c.repo()
	id, _ := strconv.ParseInt(c.params["check_run_id"], 10, 64)
	cr := c.e.checkRuns[id]
	if cr == nil || cr.repo != r.fullName() {
		return r, nil
	}
	return r, cr
}

func (e *Emulator) handleUpdateCheckRun(c *call) response {
	r, cr := c.checkRun()
	if cr == nil {
		return notFound()
	}
	var req checkRunRequest
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	updated := cr.CheckRun
	updated.Annotations = append([]Annotation(nil), cr.Annotations...)
	candidate := &checkRunState{CheckRun: updated, repo: cr.repo, suiteID: cr.suiteID}
	if resp := e.applyCheckRun(candidate, &req); resp.status != 0 {
		return resp
	}
	*cr = *candidate
	return ok(e.checkRunJSON(c.urls, r, cr))
}

func (e *Emulator) handleGetCheckRun(c *call) response {
	r, cr := c.checkRun()
	if cr == nil {
		return notFound()
	}
	return ok(e.checkRunJSON(c.urls, r, cr))
}

func (e *Emulator) handleListCheckRunAnnotations(c *call) response {
	r, cr := c.checkRun()
	if cr == nil {
		return notFound()
	}
	out := []obj{}
	for _, a := range page(c, cr.Annotations) {
		out = append(out, obj{
			"path": a.Path, "blob_href": fmt.Sprintf("%s/blob/%s/%s", r.htmlURL(c.urls), cr.HeadSHA, a.Path),
			"start_line": a.StartLine, "end_line": a.EndLine, "start_column": a.StartColumn, "end_column": a.EndColumn,
			"annotation_level": a.AnnotationLevel, "title": nullableString(a.Title), "message": a.Message,
			"raw_details": nullableString(a.RawDetails),
		})
	}
	return ok(out)
}

func (e *Emulator) handleListCheckRunsForRef(c *call) response {
	r := c.repo()
	sha, err := r.resolve(c.params["ref"])
	if err != nil {
		return validationFailed("Commit", "ref", "invalid", "No commit found for SHA: "+c.params["ref"])
	}
	filter := c.query("filter")
	latest := map[string]int64{}
	var list []*checkRunState
	for _, cr := range e.sortedCheckRuns() {
		if cr.repo != r.fullName() || cr.HeadSHA != sha.String() {
			continue
		}
		if name := c.query("check_name"); name != "" && cr.Name != name {
			continue
		}
		if status := c.query("status"); status != "" && cr.Status != status {
			continue
		}
		latest[cr.Name] = cr.ID
		list = append(list, cr)
	}
	if filter != "all" {
		kept := list[:0]
		for _, cr := range list {
			if latest[cr.Name] == cr.ID {
				kept = append(kept, cr)
			}
		}
		list = kept
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].ID > list[j].ID })
	runs := []obj{}
	for _, cr := range page(c, list) {
		runs = append(runs, e.checkRunJSON(c.urls, r, cr))
	}
	return ok(obj{"total_count": len(list), "check_runs": runs})
}
