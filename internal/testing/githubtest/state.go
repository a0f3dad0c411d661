package githubtest

import (
	"fmt"
	"strings"
	"time"
)

type user struct {
	login string
	id    int64
	kind  string // "User", "Bot" or "Organization"
	email string
}

// Repo describes a repository to register with AddRepo.
type Repo struct {
	// Owner is the owning organization or user login.
	Owner string
	// Name is the repository name.
	Name string
	// DefaultBranch is the default branch; empty means "main".
	DefaultBranch string
	// Path is the bare repository's directory on disk.
	Path string
	// CloneURL is the smart-HTTP clone URL, for example from
	// gittest.Server.RepoURL.
	CloneURL string
	// Private marks the repository private.
	Private bool
}

type repo struct {
	Repo
	id            int64
	createdAt     time.Time
	nextNumber    int
	issues        map[int]*issue
	labels        map[string]*label
	collaborators map[string]string // login → role name
	statuses      []*Status
	checkSuites   map[string]int64 // head sha → suite id
}

func (r *repo) fullName() string { return r.Owner + "/" + r.Name }

type label struct {
	id          int64
	name, color string
	description string
}

type installation struct {
	id        int64
	account   string
	repos     []string // full names
	createdAt time.Time
}

type token struct {
	value        string
	installation int64    // zero for user tokens
	login        string   // acting user
	repos        []string // full names; nil means all of the installation's
	expires      time.Time
	// userToServer marks a user access token of the App from the OAuth web
	// flow: it reaches only repositories the App is installed on.
	userToServer bool
}

type team struct {
	id        int64
	org, slug string
	members   map[string]teamMember
}

type teamMember struct {
	state string // "active" or "pending"
	role  string // "member" or "maintainer"
}

// userLocked returns the user with login, registering it when unknown.
func (e *Emulator) userLocked(login string) *user {
	if u, ok := e.users[login]; ok {
		return u
	}
	kind := "User"
	if strings.HasSuffix(login, "[bot]") {
		kind = "Bot"
	}
	u := &user{login: login, id: e.newID(), kind: kind}
	e.users[login] = u
	return u
}

// AddUser registers a user with an email, so commits by that email are
// attributed to login and merges by login are authored with that email.
func (e *Emulator) AddUser(login, email string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.userLocked(login).email = email
}

// AddRepo registers a repository backed by a bare git repository.
func (e *Emulator) AddRepo(r Repo) error {
	if r.Owner == "" || r.Name == "" || r.Path == "" {
		return fmt.Errorf("githubtest: repository needs owner, name and path")
	}
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	key := r.Owner + "/" + r.Name
	if _, dup := e.repos[key]; dup {
		return fmt.Errorf("githubtest: repository %s already registered", key)
	}
	owner := e.userLocked(r.Owner)
	if owner.kind == "User" {
		owner.kind = "Organization"
	}
	e.repos[key] = &repo{
		Repo:          r,
		id:            e.newID(),
		createdAt:     e.now(),
		nextNumber:    1,
		issues:        map[int]*issue{},
		labels:        map[string]*label{},
		collaborators: map[string]string{},
		checkSuites:   map[string]int64{},
	}
	return nil
}

// AddInstallation registers an App installation on account with access to
// the repositories named "owner/name".
func (e *Emulator) AddInstallation(id int64, account string, repos ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.userLocked(account)
	e.installations[id] = &installation{id: id, account: account, repos: repos, createdAt: e.now()}
}

// AddTeam creates an empty team org/slug if it does not exist.
func (e *Emulator) AddTeam(org, slug string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.teamLocked(org, slug)
}

func (e *Emulator) teamLocked(org, slug string) *team {
	key := strings.ToLower(org + "/" + slug)
	t := e.teams[key]
	if t == nil {
		t = &team{id: e.newID(), org: org, slug: slug, members: map[string]teamMember{}}
		e.teams[key] = t
	}
	return t
}

// AddTeamMember adds login to team org/slug (creating the team) with state
// "active" or "pending" and role "member".
func (e *Emulator) AddTeamMember(org, slug, login, state string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.userLocked(login)
	e.teamLocked(org, slug).members[login] = teamMember{state: state, role: "member"}
}

// RemoveTeamMember removes login from team org/slug.
func (e *Emulator) RemoveTeamMember(org, slug, login string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.teams[strings.ToLower(org+"/"+slug)]; t != nil {
		delete(t.members, login)
	}
}

// SetPermission gives login the role admin, maintain, write, triage or read
// on repository owner/name; an empty role removes the collaborator.
func (e *Emulator) SetPermission(owner, name, login, role string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.repos[owner+"/"+name]
	if r == nil {
		return fmt.Errorf("githubtest: unknown repository %s/%s", owner, name)
	}
	e.userLocked(login)
	if role == "" {
		delete(r.collaborators, login)
		return nil
	}
	r.collaborators[login] = role
	return nil
}

func (e *Emulator) repoLocked(owner, name string) (*repo, error) {
	r := e.repos[owner+"/"+name]
	if r == nil {
		return nil, fmt.Errorf("githubtest: unknown repository %s/%s", owner, name)
	}
	return r, nil
}

// isOrgMember reports whether login is an active member of any team of org.
func (e *Emulator) isOrgMember(org, login string) bool {
	for _, t := range e.teams {
		if strings.EqualFold(t.org, org) && t.members[login].state == "active" {
			return true
		}
	}
	return false
}

func (e *Emulator) authorAssociation(r *repo, login string) string {
	switch {
	case login == r.Owner:
		return "OWNER"
	case e.isOrgMember(r.Owner, login):
		return "MEMBER"
	case r.collaborators[login] != "":
		return "COLLABORATOR"
	}
	return "NONE"
}

// loginForEmail maps a commit email to a login, or "".
func (e *Emulator) loginForEmail(email string) string {
	for _, u := range e.users {
		if u.email != "" && strings.EqualFold(u.email, email) {
			return u.login
		}
	}
	return ""
}

// emailFor returns the email of login, or GitHub's noreply address.
func (e *Emulator) emailFor(login string) string {
	u := e.userLocked(login)
	if u.email != "" {
		return u.email
	}
	return fmt.Sprintf("%d+%s@users.noreply.github.com", u.id, login)
}

func (r *repo) labelLocked(e *Emulator, name string) *label {
	key := strings.ToLower(name)
	l := r.labels[key]
	if l == nil {
		l = &label{id: e.newID(), name: name, color: "ededed"}
		r.labels[key] = l
	}
	return l
}
