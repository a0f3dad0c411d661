package githubtest

import (
	"net/url"
	"strings"
)

// route is one emulated endpoint. Its template uses GitHub's OpenAPI path
// parameter names; a parameter written {name*} matches one or more path
// segments so refs and file paths may contain slashes.
type route struct {
	method   string
	segments []string
	template string // "GET /repos/{owner}/{repo}/pulls", the key used by Counts
	auth     authKind
	handle   func(*call) response
}

type authKind int

const (
	authToken authKind = iota // installation or user token
	authApp                   // GitHub App JWT
	authAppOrToken
)

func newRoute(method, pattern string, auth authKind, handle func(*call) response) route {
	segs := strings.Split(strings.Trim(pattern, "/"), "/")
	return route{
		method:   method,
		segments: segs,
		template: method + " " + strings.ReplaceAll(pattern, "*}", "}"),
		auth:     auth,
		handle:   handle,
	}
}

// match reports whether the escaped path matches the route and returns the
// decoded path parameters.
func (rt route) match(method, escapedPath string) (map[string]string, bool) {
	if method != rt.method {
		return nil, false
	}
	raw := strings.Split(strings.Trim(escapedPath, "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		segs[i] = d
	}
	params := map[string]string{}
	if !matchSegments(rt.segments, segs, params) {
		return nil, false
	}
	return params, true
}

func matchSegments(pattern, segs []string, params map[string]string) bool {
	if len(pattern) == 0 {
		return len(segs) == 0
	}
	p := pattern[0]
	if !strings.HasPrefix(p, "{") {
		if len(segs) == 0 || segs[0] != p {
			return false
		}
		return matchSegments(pattern[1:], segs[1:], params)
	}
	name := strings.Trim(p, "{}")
	if greedy := strings.HasSuffix(name, "*"); greedy {
		name = strings.TrimSuffix(name, "*")
		// Prefer the longest span that still lets the rest of the pattern match.
		for n := len(segs) - len(pattern) + 1; n >= 1; n-- {
			if matchSegments(pattern[1:], segs[n:], params) {
				params[name] = strings.Join(segs[:n], "/")
				return true
			}
		}
		return false
	}
	if len(segs) == 0 || segs[0] == "" {
		return false
	}
	params[name] = segs[0]
	return matchSegments(pattern[1:], segs[1:], params)
}
