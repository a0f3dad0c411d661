package githubtest

import (
	"net/http"
	"sort"
)

// handleGetApp serves GET /app: the App the JWT authenticates, owned by the
// account of its first installation (the emulator keeps no App owner).
func (e *Emulator) handleGetApp(c *call) response {
	owner := e.cfg.AppSlug
	count := len(e.installations)
	if ids := e.sortedInstallationIDs(); len(ids) > 0 {
		owner = e.installations[ids[0]].account
	}
	out := e.appJSON(c.urls, owner)
	out["installations_count"] = count
	return ok(out)
}

// handleListInstallationRepos serves GET /installation/repositories: the
// repositories an installation token may access, in name order. Only an
// installation token may ask.
func (e *Emulator) handleListInstallationRepos(c *call) response {
	if c.token == nil || c.token.installation == 0 {
		return errorResponse(http.StatusForbidden, "You must authenticate with an installation access token in order to list repositories for an installation.")
	}
	var list []*repo
	for _, full := range e.tokenRepos(c.token) {
		if r := e.repos[full]; r != nil {
			list = append(list, r)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].fullName() < list[j].fullName() })
	repos := []obj{}
	for _, r := range page(c, list) {
		repos = append(repos, e.repoJSON(c.urls, r))
	}
	return ok(obj{"total_count": len(list), "repository_selection": "selected", "repositories": repos})
}
