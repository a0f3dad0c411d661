package githubtest

import (
	"encoding/base64"
	"fmt"
	"time"
)

// timestamp formats t like GitHub, or returns nil for the zero time.
func timestamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func nodeID(kind string, id int64) string {
	return base64.RawStdEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d", kind, id))
}

func nodeIDString(kind, key string) string {
	return base64.RawStdEncoding.EncodeToString([]byte(kind + ":" + key))
}

// userJSON renders a simple-user, or nil for an empty login.
func (e *Emulator) userJSON(u urls, login string) any {
	if login == "" {
		return nil
	}
	usr := e.userLocked(login)
	api := u.api + "/users/" + login
	return obj{
		"login":               usr.login,
		"id":                  usr.id,
		"node_id":             nodeID(usr.kind, usr.id),
		"avatar_url":          fmt.Sprintf("%s/avatars/u/%d", u.html, usr.id),
		"gravatar_id":         "",
		"url":                 api,
		"html_url":            u.html + "/" + login,
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"type":                usr.kind,
		"site_admin":          false,
		"user_view_type":      "public",
	}
}

// repoURLTemplates are the URL fields every repository object carries, as
// suffixes of the repository's API URL.
var repoURLTemplates = [][2]string{
	{"archive_url", "/{archive_format}{/ref}"}, {"assignees_url", "/assignees{/user}"},
	{"blobs_url", "/git/blobs{/sha}"}, {"branches_url", "/branches{/branch}"},
	{"collaborators_url", "/collaborators{/collaborator}"}, {"comments_url", "/comments{/number}"},
	{"commits_url", "/commits{/sha}"}, {"compare_url", "/compare/{base}...{head}"},
	{"contents_url", "/contents/{+path}"}, {"contributors_url", "/contributors"},
	{"deployments_url", "/deployments"}, {"downloads_url", "/downloads"},
	{"events_url", "/events"}, {"forks_url", "/forks"},
	{"git_commits_url", "/git/commits{/sha}"}, {"git_refs_url", "/git/refs{/sha}"},
	{"git_tags_url", "/git/tags{/sha}"}, {"hooks_url", "/hooks"},
	{"issue_comment_url", "/issues/comments{/number}"}, {"issue_events_url", "/issues/events{/number}"},
	{"issues_url", "/issues{/number}"}, {"keys_url", "/keys{/key_id}"},
	{"labels_url", "/labels{/name}"}, {"languages_url", "/languages"},
	{"merges_url", "/merges"}, {"milestones_url", "/milestones{/number}"},
	{"notifications_url", "/notifications{?since,all,participating}"}, {"pulls_url", "/pulls{/number}"},
	{"releases_url", "/releases{/id}"}, {"stargazers_url", "/stargazers"},
	{"statuses_url", "/statuses/{sha}"}, {"subscribers_url", "/subscribers"},
	{"subscription_url", "/subscription"}, {"tags_url", "/tags"},
	{"teams_url", "/teams"}, {"trees_url", "/git/trees{/sha}"},
}

func (r *repo) apiURL(u urls) string { return u.api + "/repos/" + r.fullName() }

func (r *repo) htmlURL(u urls) string { return u.html + "/" + r.fullName() }

// repoJSON renders a repository object as GitHub nests it in pull
// requests, installation tokens and webhook payloads. GET /repos/{owner}/{repo}
// adds the counts only a full repository carries.
func (e *Emulator) repoJSON(u urls, r *repo) obj {
	api := r.apiURL(u)
	visibility := "public"
	if r.Private {
		visibility = "private"
	}
	openIssues := 0
	for _, is := range r.issues {
		if is.state == "open" {
			openIssues++
		}
	}
	out := obj{
		"id": r.id, "node_id": nodeID("Repository", r.id), "name": r.Name, "full_name": r.fullName(),
		"owner": e.userJSON(u, r.Owner), "private": r.Private, "html_url": r.htmlURL(u),
		"description": nil, "fork": false, "url": api, "clone_url": r.CloneURL,
		"git_url": r.CloneURL, "ssh_url": "git@127.0.0.1:" + r.fullName() + ".git", "svn_url": r.htmlURL(u),
		"mirror_url": nil, "homepage": nil, "language": nil, "license": nil,
		"forks": 0, "forks_count": 0, "stargazers_count": 0, "watchers_count": 0, "watchers": 0,
		"size": 0, "default_branch": r.DefaultBranch, "open_issues_count": openIssues, "open_issues": openIssues,
		"is_template": false, "topics": []string{}, "has_issues": true, "has_projects": false,
		"has_wiki": false, "has_pages": false, "has_downloads": false, "has_discussions": false,
		"archived": false, "disabled": false, "visibility": visibility,
		"pushed_at": timestamp(r.createdAt), "created_at": timestamp(r.createdAt), "updated_at": timestamp(r.createdAt),
		"allow_merge_commit": true, "allow_squash_merge": true, "allow_rebase_merge": false,
		"allow_auto_merge": false, "delete_branch_on_merge": false, "allow_forking": true,
		"web_commit_signoff_required": false, "permissions": obj{"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
	}
	for _, t := range repoURLTemplates {
		out[t[0]] = api + t[1]
	}
	return out
}

// minimalRepoJSON renders the minimal repository GitHub nests in a
// combined status: identity, owner and URLs, without settings.
func (e *Emulator) minimalRepoJSON(u urls, r *repo) obj {
	full := e.repoJSON(u, r)
	out := obj{}
	for _, k := range []string{"id", "node_id", "name", "full_name", "owner", "private", "html_url", "description", "fork", "url"} {
		out[k] = full[k]
	}
	for _, t := range repoURLTemplates {
		out[t[0]] = full[t[0]]
	}
	return out
}

func (e *Emulator) labelJSON(u urls, r *repo, l *label) obj {
	// The pull request schemas type a label's description as a plain
	// string, so send "" rather than null.
	return obj{
		"id": l.id, "node_id": nodeID("Label", l.id), "url": r.apiURL(u) + "/labels/" + l.name,
		"name": l.name, "description": l.description, "color": l.color, "default": false,
	}
}

func (e *Emulator) labelsJSON(u urls, r *repo, names []string) []obj {
	out := []obj{}
	for _, n := range names {
		out = append(out, e.labelJSON(u, r, r.labelLocked(e, n)))
	}
	return out
}

func link(href string) obj { return obj{"href": href} }

func nullableString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
