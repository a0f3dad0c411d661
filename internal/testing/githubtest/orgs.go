package githubtest

// Organizations as the access review reads them: child teams, whose members
// GitHub lists as members of the parent; pending invitations to a team or
// to the organization; organization membership; accounts that are gone.

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// orgState is the organization state kept apart from the core of the
// emulator: created on first use, guarded by Emulator.mu.
type orgState struct {
	parents     map[string]string          // lower "org/child" → lower "org/parent"
	members     map[string]map[string]bool // lower org → explicit member logins
	invitations map[string][]orgInvitation // lower org → pending invitations
	gone        map[string]bool            // logins GitHub no longer shows
}

type orgInvitation struct {
	id      int64
	login   string
	email   string
	inviter string
	teams   int
}

func (e *Emulator) orgsLocked() *orgState {
	if e.orgs == nil {
		e.orgs = &orgState{
			parents: map[string]string{}, members: map[string]map[string]bool{},
			invitations: map[string][]orgInvitation{}, gone: map[string]bool{},
		}
	}
	return e.orgs
}

// AddChildTeam makes team org/child a child of team org/parent, creating
// both. GitHub lists the members of child teams, at any depth, among the
// members of the parent.
func (e *Emulator) AddChildTeam(org, parent, child string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, c := e.teamLocked(org, parent), e.teamLocked(org, child)
	e.orgsLocked().parents[teamKey(c)] = teamKey(p)
}

// AddOrgMember makes login a member of org without putting it in a team.
func (e *Emulator) AddOrgMember(org, login string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.userLocked(login)
	o := e.orgsLocked()
	k := strings.ToLower(org)
	if o.members[k] == nil {
		o.members[k] = map[string]bool{}
	}
	o.members[k][login] = true
}

// RemoveOrgMember removes login from org and from every team of org, as
// GitHub does when someone leaves an organization. The account stays.
func (e *Emulator) RemoveOrgMember(org, login string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.orgsLocked().members[strings.ToLower(org)], login)
	for _, t := range e.teams {
		if strings.EqualFold(t.org, org) {
			delete(t.members, login)
		}
	}
}

// InviteToOrg records a pending invitation of login (or, when login is
// empty, of email) to org by inviter.
func (e *Emulator) InviteToOrg(org, login, email, inviter string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if login != "" {
		e.userLocked(login)
	}
	e.userLocked(inviter)
	o := e.orgsLocked()
	k := strings.ToLower(org)
	o.invitations[k] = append(o.invitations[k], orgInvitation{id: e.newID(), login: login, email: email, inviter: inviter})
}

// DeleteUser makes an account gone, as a deleted or renamed account is:
// GitHub answers 404 for it, and it leaves every team and repository.
func (e *Emulator) DeleteUser(login string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.orgsLocked().gone[login] = true
	for _, t := range e.teams {
		delete(t.members, login)
	}
	for _, r := range e.repos {
		delete(r.collaborators, login)
	}
	for _, m := range e.orgsLocked().members {
		delete(m, login)
	}
}

func teamKey(t *team) string { return strings.ToLower(t.org + "/" + t.slug) }

// teamMembersLocked returns the members of t and of its child teams at any
// depth; an active membership anywhere wins over a pending one.
func (e *Emulator) teamMembersLocked(t *team) map[string]teamMember {
	out := map[string]teamMember{}
	o := e.orgsLocked()
	var add func(t *team, depth int)
	add = func(t *team, depth int) {
		if depth > 32 {
			return
		}
		for login, m := range t.members {
			if prev, seen := out[login]; !seen || prev.state != "active" {
				out[login] = m
			}
		}
		for child, parent := range o.parents {
			if parent == teamKey(t) {
				if c := e.teams[child]; c != nil {
					add(c, depth+1)
				}
			}
		}
	}
	add(t, 0)
	return out
}

// isOrgMemberLocked reports whether login belongs to org: explicitly or
// through an active team membership.
func (e *Emulator) isOrgMemberLocked(org, login string) bool {
	return e.orgsLocked().members[strings.ToLower(org)][login] || e.isOrgMember(org, login)
}

func (e *Emulator) handleTeamInvitations(c *call) response {
	t := c.team()
	if t == nil {
		return notFound()
	}
	var logins []string
	for login, m := range t.members {
		if m.state == "pending" {
			logins = append(logins, login)
		}
	}
	sort.Slice(logins, func(i, j int) bool { return e.userLocked(logins[i]).id < e.userLocked(logins[j]).id })
	out := []any{}
	for _, login := range page(c, logins) {
		out = append(out, e.invitationJSON(c, orgInvitation{id: e.userLocked(login).id, login: login, inviter: t.org, teams: 1}))
	}
	return ok(out)
}

func (e *Emulator) handleOrgInvitations(c *call) response {
	org := c.params["org"]
	if !e.knownOrgLocked(org) {
		return notFound()
	}
	invs := e.orgsLocked().invitations[strings.ToLower(org)]
	out := []any{}
	for _, inv := range page(c, invs) {
		out = append(out, e.invitationJSON(c, inv))
	}
	return ok(out)
}

func (e *Emulator) knownOrgLocked(org string) bool {
	u, ok := e.users[org]
	return ok && u.kind == "Organization"
}

func (e *Emulator) invitationJSON(c *call, inv orgInvitation) obj {
	var login, email any
	if inv.login != "" {
		login = inv.login
		email = e.emailFor(inv.login)
	}
	if inv.email != "" {
		email = inv.email
	}
	return obj{
		"id":                   inv.id,
		"node_id":              nodeID("OrganizationInvitation", inv.id),
		"login":                login,
		"email":                email,
		"role":                 "direct_member",
		"created_at":           e.now().UTC().Format("2006-01-02T15:04:05Z"),
		"failed_at":            nil,
		"failed_reason":        nil,
		"inviter":              e.userJSON(c.urls, inv.inviter),
		"team_count":           inv.teams,
		"invitation_teams_url": fmt.Sprintf("%s/organizations/%d/invitations/%d/teams", c.urls.api, inv.id, inv.id),
	}
}

func (e *Emulator) handleGetUser(c *call) response {
	login := c.params["username"]
	u, known := e.users[login]
	if !known || e.orgsLocked().gone[login] {
		return notFound()
	}
	out := e.userJSON(c.urls, u.login).(obj)
	extra := obj{
		"name": nil, "company": nil, "blog": "", "location": nil, "email": nil, "hireable": nil, "bio": nil,
		"twitter_username": nil, "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
	}
	for k, v := range extra {
		out[k] = v
	}
	return ok(out)
}

func (e *Emulator) handleOrgMember(c *call) response {
	org, login := c.params["org"], c.params["username"]
	if !e.knownOrgLocked(org) || e.orgsLocked().gone[login] || !e.isOrgMemberLocked(org, login) {
		return response{status: http.StatusNotFound}
	}
	return response{status: http.StatusNoContent}
}
