package githubtest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

func (c *call) team() *team {
	return c.e.teams[strings.ToLower(c.params["org"]+"/"+c.params["team_slug"])]
}

func (e *Emulator) handleTeamMembership(c *call) response {
	t := c.team()
	if t == nil {
		return notFound()
	}
	m, isMember := t.members[c.params["username"]]
	if !isMember {
		return notFound()
	}
	return ok(obj{
		"url":   fmt.Sprintf("%s/organizations/%d/team/%d/memberships/%s", c.urls.api, e.userLocked(t.org).id, t.id, c.params["username"]),
		"role":  m.role,
		"state": m.state,
	})
}

func (e *Emulator) handleTeamMembers(c *call) response {
	t := c.team()
	if t == nil {
		return notFound()
	}
	role := c.query("role")
	var logins []string
	for login, m := range e.teamMembersLocked(t) {
		if m.state != "active" || (role != "" && role != "all" && role != m.role) {
			continue
		}
		logins = append(logins, login)
	}
	sort.Slice(logins, func(i, j int) bool { return e.userLocked(logins[i]).id < e.userLocked(logins[j]).id })
	out := []any{}
	for _, login := range page(c, logins) {
		out = append(out, e.userJSON(c.urls, login))
	}
	return ok(out)
}

// legacyPermission maps a role name to the permission field GitHub reports
// next to role_name.
var legacyPermission = map[string]string{
	"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none",
}

func (e *Emulator) handleCollaboratorPermission(c *call) response {
	r := c.repo()
	login := c.params["username"]
	if _, known := e.users[login]; !known || e.orgsLocked().gone[login] {
		return notFound()
	}
	role := r.collaborators[login]
	if login == r.Owner {
		role = "admin"
	}
	if role == "" {
		role = "none"
	}
	if legacyPermission[role] == "" {
		return errorResponse(http.StatusInternalServerError, "githubtest: unknown role "+role)
	}
	collab := e.userJSON(c.urls, login).(obj)
	collab["role_name"] = role
	collab["permissions"] = obj{
		"admin": role == "admin", "maintain": role == "admin" || role == "maintain",
		"push":   legacyPermission[role] == "write" || role == "admin",
		"triage": role != "read" && role != "none", "pull": role != "none",
	}
	return ok(obj{"permission": legacyPermission[role], "role_name": role, "user": collab})
}
