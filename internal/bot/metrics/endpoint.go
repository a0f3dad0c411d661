package metrics

import "strings"

// parameters says how many path segments after a literal segment of the
// GitHub REST API are parameters. A value of -1 means all the rest (a file
// path).
var parameters = map[string]int{
	"repos":         2, // {owner}/{repo}
	"orgs":          1,
	"users":         1,
	"teams":         1,
	"installations": 1,
	"pulls":         1,
	"issues":        1,
	"reviews":       1,
	"comments":      1,
	"commits":       1,
	"check-runs":    1,
	"check-suites":  1,
	"statuses":      1,
	"collaborators": 1,
	"members":       1,
	"memberships":   1,
	"labels":        1,
	"blobs":         1,
	"trees":         1,
	"ref":           -1,
	"refs":          -1,
	"contents":      -1,
}

// Endpoint turns a GitHub API request path into a template with bounded
// cardinality, such as "/repos/{}/{}/pulls/{}/reviews", so that metrics
// count endpoints rather than pull requests. A GitHub Enterprise Server
// "/api/v3" prefix is dropped.
func Endpoint(path string) string {
	path = strings.TrimPrefix(path, "/api/v3")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var b strings.Builder
	for i := 0; i < len(segs); i++ {
		if segs[i] == "" {
			continue
		}
		b.WriteString("/")
		b.WriteString(segs[i])
		n, ok := parameters[segs[i]]
		if !ok {
			continue
		}
		if n < 0 {
			if i+1 < len(segs) {
				b.WriteString("/{}")
			}
			break
		}
		for j := 0; j < n && i+1 < len(segs); j++ {
			i++
			b.WriteString("/{}")
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}
