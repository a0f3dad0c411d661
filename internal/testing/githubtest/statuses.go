package githubtest

import (
	"net/http"
	"time"
)

// Status is a snapshot of a commit status.
type Status struct {
	ID          int64
	SHA         string
	State       string // error, failure, pending or success
	Context     string
	Description string
	TargetURL   string
	Creator     string
	CreatedAt   time.Time
}

// Statuses returns the statuses created for sha in owner/name, oldest first.
func (e *Emulator) Statuses(owner, name, sha string) []Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repos[owner+"/"+name]
	if r == nil {
		return nil
	}
	var out []Status
	for _, s := range r.statuses {
		if s.SHA == sha {
			out = append(out, *s)
		}
	}
	return out
}

func (e *Emulator) statusJSON(u urls, r *repo, s *Status) obj {
	return obj{
		"url": r.apiURL(u) + "/statuses/" + s.SHA, "avatar_url": nil, "id": s.ID,
		"node_id": nodeID("StatusContext", s.ID), "state": s.State,
		"description": nullableString(s.Description), "target_url": nullableString(s.TargetURL),
		"context": s.Context, "created_at": timestamp(s.CreatedAt), "updated_at": timestamp(s.CreatedAt),
		"creator": e.userJSON(u, s.Creator),
	}
}

func (e *Emulator) handleCreateStatus(c *call) response {
	r := c.repo()
	var req struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if err := c.decode(&req); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
	}
	switch req.State {
	case "error", "failure", "pending", "success":
	default:
		return validationFailed("Status", "state", "custom", "State is not included in the list")
	}
	sha := c.params["sha"]
	if h, err := r.resolve(sha); err != nil || h.String() != sha {
		return validationFailed("Status", "sha", "invalid", "No commit found for SHA: "+sha)
	}
	if req.Context == "" {
		req.Context = "default"
	}
	s := &Status{
		ID: e.newID(), SHA: sha, State: req.State, Context: req.Context, Description: req.Description,
		TargetURL: req.TargetURL, Creator: c.token.login, CreatedAt: e.now(),
	}
	r.statuses = append(r.statuses, s)
	return created(e.statusJSON(c.urls, r, s))
}

func (e *Emulator) handleCombinedStatus(c *call) response {
	r := c.repo()
	sha, err := r.resolve(c.params["ref"])
	if err != nil {
		return notFound()
	}
	latest := map[string]*Status{}
	var order []string
	for i := len(r.statuses) - 1; i >= 0; i-- {
		s := r.statuses[i]
		if s.SHA != sha.String() || latest[s.Context] != nil {
			continue
		}
		latest[s.Context] = s
		order = append(order, s.Context)
	}
	state := "success"
	if len(order) == 0 {
		state = "pending"
	}
	var statuses []*Status
	for _, ctx := range order {
		s := latest[ctx]
		statuses = append(statuses, s)
		switch {
		case s.State == "error" || s.State == "failure":
			state = "failure"
		case s.State == "pending" && state != "failure":
			state = "pending"
		}
	}
	out := []obj{}
	for _, s := range page(c, statuses) {
		// A combined status lists simple statuses, without their creator.
		st := e.statusJSON(c.urls, r, s)
		delete(st, "creator")
		out = append(out, st)
	}
	api := r.apiURL(c.urls)
	return ok(obj{
		"state": state, "statuses": out, "sha": sha.String(), "total_count": len(statuses),
		"repository": e.minimalRepoJSON(c.urls, r), "commit_url": api + "/commits/" + sha.String(),
		"url": api + "/commits/" + sha.String() + "/status",
	})
}
