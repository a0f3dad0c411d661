package main

import (
	"net/url"
	"strings"
)

// commitURLBase returns the web address under which a commit id names the
// commit (https://github.com/OWNER/REPO/commit/), from --github-repo or
// else from the origin remote's URL, and the web host of the GitHub API
// root apiURL (github.com when empty). It is empty when neither names a
// repository on that host.
func commitURLBase(githubRepo, remote, apiURL string) string {
	web := "https://github.com"
	if apiURL != "" {
		u, err := url.Parse(apiURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return ""
		}
		if host := strings.TrimPrefix(u.Host, "api."); !strings.EqualFold(host, "github.com") {
			web = u.Scheme + "://" + host
		}
	}
	owner, name, ok := strings.Cut(githubRepo, "/")
	if githubRepo == "" {
		owner, name, ok = githubRepoFromURL(remote, apiURL)
	}
	if !ok || owner == "" || name == "" {
		return ""
	}
	return web + "/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/commit/"
}
