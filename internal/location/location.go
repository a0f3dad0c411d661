// Package location decides whether an artifact URI may be fetched at all.
//
// The check is pure: it parses and normalises the URI and compares it with
// an allow-list of location prefixes without any I/O, so a refused URI never
// causes a network request or a file access. It is deliberately strict: it
// rejects anything that could make two different strings name the same
// object in a way a prefix comparison would miss (dot segments, encoded
// slashes, backslashes, user-info, queries, fragments, non-canonical hosts).
package location

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RefusedError reports that a URI is malformed, uses a forbidden construct,
// or lies outside every allowed location. Retrying cannot help.
type RefusedError struct {
	// URI is the refused URI with any query string and password removed.
	URI string
	// Reason is a short explanation, without the URI.
	Reason string
}

// Error returns a sentence naming the URI and the reason it was refused.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("artifact URI %q is refused: %s", e.URI, e.Reason)
}

// InvalidAllowedError reports that an entry of the allow-list itself is
// malformed; it is a configuration error.
type InvalidAllowedError struct {
	// Location is the offending allow-list entry.
	Location string
	// Reason explains what is wrong with it.
	Reason string
}

// Error returns a sentence naming the allow-list entry and the problem.
func (e *InvalidAllowedError) Error() string {
	return fmt.Sprintf("allowed location %q is invalid: %s", e.Location, e.Reason)
}

// parsed is a normalised URI broken into comparable parts.
type parsed struct {
	scheme   string   // lower case
	host     string   // lower case host[:port], default port removed; empty for file
	segments []string // decoded path segments, no empty segments
	dir      bool     // the path ended with "/"
	url      *url.URL // normalised URL
}

// Check parses rawURI, normalises it and verifies that it lies under one of
// the allowed location prefixes. It returns the normalised URL on success.
//
// Only https URIs are accepted, unless allowLocal is true, in which case
// file:// URIs and http:// URIs whose host is loopback (see IsLoopbackHost)
// are accepted too; they must still lie under an allowed prefix. A prefix matches when scheme and host (with port) are equal, case
// insensitively, and its path segments are a leading subset of the URI's
// path segments, compared exactly.
func Check(rawURI string, allowed []string, allowLocal bool) (*url.URL, error) {
	return NewAllowlist(allowed, allowLocal).Check(rawURI)
}

// Allowlist is an allow-list of location prefixes parsed once, for checking
// many URIs against the same list; Check(uri, allowed, allowLocal) is
// NewAllowlist(allowed, allowLocal).Check(uri).
type Allowlist struct {
	raw        []string
	entries    []parsed
	reasons    []string // why an entry is invalid; empty when it is valid
	allowLocal bool
}

// NewAllowlist parses the allowed location prefixes. An invalid entry is
// reported by Check when a URI reaches it, as Check does.
func NewAllowlist(allowed []string, allowLocal bool) Allowlist {
	l := Allowlist{raw: allowed, entries: make([]parsed, len(allowed)), reasons: make([]string, len(allowed)), allowLocal: allowLocal}
	for i, a := range allowed {
		// Allowed prefixes may use any scheme the check knows; whether the
		// URI's scheme is acceptable is decided for the URI.
		l.entries[i], l.reasons[i] = parse(a, true)
	}
	return l
}

// Check parses rawURI, normalises it and verifies that it lies under one
// of the list's prefixes, as the package's Check does.
func (l Allowlist) Check(rawURI string) (*url.URL, error) {
	p, reason := parse(rawURI, l.allowLocal)
	if reason != "" {
		return nil, &RefusedError{URI: Redact(rawURI), Reason: reason}
	}
	if len(p.segments) == 0 {
		return nil, &RefusedError{URI: Redact(rawURI), Reason: "it has no path"}
	}
	if p.dir {
		return nil, &RefusedError{URI: Redact(rawURI), Reason: "the path ends with \"/\", which names a directory, not an artifact"}
	}
	if len(l.raw) == 0 {
		return nil, &RefusedError{URI: Redact(rawURI), Reason: "no artifact locations are allowed by the policy"}
	}
	for i, ap := range l.entries {
		if l.reasons[i] != "" {
			return nil, &InvalidAllowedError{Location: Redact(l.raw[i]), Reason: l.reasons[i]}
		}
		if under(p, ap) {
			return p.url, nil
		}
	}
	return nil, &RefusedError{
		URI:    Redact(rawURI),
		Reason: fmt.Sprintf("it is not under any allowed location (%s)", strings.Join(redactAll(l.raw), ", ")),
	}
}

// under reports whether p lies at or below prefix.
func under(p, prefix parsed) bool {
	if p.scheme != prefix.scheme || p.host != prefix.host {
		return false
	}
	if len(prefix.segments) > len(p.segments) {
		return false
	}
	for i, s := range prefix.segments {
		if p.segments[i] != s {
			return false
		}
	}
	// An allowed entry without a trailing slash may name the artifact
	// itself or a directory; either way the segment comparison above is on
	// segment boundaries, so "/models" never matches "/models-evil".
	return true
}

// parse validates and normalises raw. It returns a non-empty reason when raw
// is unacceptable.
func parse(raw string, allowLocal bool) (parsed, string) {
	if raw == "" {
		return parsed{}, "it is empty"
	}
	if !utf8.ValidString(raw) {
		return parsed{}, "it is not valid UTF-8"
	}
	for _, r := range raw {
		switch {
		case r == '\\':
			return parsed{}, "it contains a backslash"
		case r <= 0x20 || r == 0x7f:
			return parsed{}, "it contains a space or control character"
		case r > 0x7e:
			return parsed{}, "it contains a non-ASCII character; percent-encode it"
		case r == '?':
			return parsed{}, "it has a query string, which is not allowed (credentials such as SAS tokens are configured separately)"
		case r == '#':
			return parsed{}, "it has a fragment, which is not allowed"
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return parsed{}, fmt.Sprintf("it cannot be parsed as a URL (%v)", err)
	}
	if u.Scheme == "" {
		return parsed{}, "it has no scheme; use https://"
	}
	if hint := azureSchemeHint(u); hint != "" {
		return parsed{}, hint
	}
	if u.User != nil || strings.Contains(u.Host, "@") {
		return parsed{}, "it contains user information (user@ or user:password@), which is not allowed"
	}
	scheme := strings.ToLower(u.Scheme)
	p := parsed{scheme: scheme}
	switch scheme {
	case "https":
	case "http":
		if !allowLocal {
			return parsed{}, "plain http is not allowed; use https"
		}
	case "file":
		if !allowLocal {
			return parsed{}, "local file URIs are not allowed by the policy"
		}
	default:
		return parsed{}, fmt.Sprintf("the scheme %q is not supported; use https", u.Scheme)
	}
	if u.Opaque != "" {
		return parsed{}, "it is not a hierarchical URL (expected scheme://host/path)"
	}
	if !strings.HasPrefix(raw[len(u.Scheme):], "://") {
		return parsed{}, "it must start with " + scheme + "://"
	}

	host, reason := normaliseHost(scheme, u)
	if reason != "" {
		return parsed{}, reason
	}
	p.host = host

	segments, dir, reason := splitPath(u.EscapedPath())
	if reason != "" {
		return parsed{}, reason
	}
	p.segments, p.dir = segments, dir

	out := &url.URL{Scheme: scheme, Host: host, Path: "/" + strings.Join(segments, "/")}
	if dir && len(segments) > 0 {
		out.Path += "/"
	}
	// Keep the original escaping when it differs from Go's default, so the
	// normalised URL names exactly the same object.
	if esc := u.EscapedPath(); esc != out.EscapedPath() && pathEqual(esc, out.Path) {
		out.RawPath = esc
	}
	p.url = out
	return p, ""
}

// pathEqual reports whether the escaped path esc decodes to plain.
func pathEqual(esc, plain string) bool {
	d, err := url.PathUnescape(esc)
	return err == nil && d == plain
}

// normaliseHost returns the lower-case host[:port] of u without a default
// port, or a reason why it is unacceptable for scheme.
func normaliseHost(scheme string, u *url.URL) (string, string) {
	if scheme == "file" {
		if u.Host != "" {
			return "", "a file URI must have an empty host (file:///absolute/path)"
		}
		return "", ""
	}
	if u.Host == "" {
		return "", "it has no host"
	}
	name := strings.ToLower(u.Hostname())
	port := u.Port()
	if name == "" {
		return "", "it has no host"
	}
	if strings.HasSuffix(u.Host, ":") {
		return "", "it has an empty port"
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return "", fmt.Sprintf("the port %q is not a valid port number", port)
		}
	}
	if strings.Contains(name, "%") {
		return "", "the host contains a percent-encoded character or IPv6 zone"
	}
	ip := net.ParseIP(name)
	if ip == nil {
		if reason := checkDNSName(name); reason != "" {
			return "", reason
		}
	} else if strings.Contains(name, ":") != strings.HasPrefix(u.Host, "[") {
		return "", "an IPv6 host must be written in brackets"
	}
	if scheme == "http" && !IsLoopbackHost(name) {
		return "", "plain http is only allowed to a loopback host (an address in 127.0.0.0/8, ::1 or localhost)"
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if ip != nil {
		name = ip.String()
		if ip.To4() == nil {
			name = "[" + name + "]"
		}
	}
	if port != "" {
		return name + ":" + port, ""
	}
	return name, ""
}

// checkDNSName returns a reason when name is not a plain lower-case DNS name.
func checkDNSName(name string) string {
	if strings.HasSuffix(name, ".") {
		return "the host ends with a dot"
	}
	labels := strings.Split(name, ".")
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		return "the host looks like an IP address in a non-canonical form"
	}
	for _, label := range labels {
		if label == "" {
			return "the host has an empty label"
		}
		if len(label) > 63 {
			return "the host has a label longer than 63 characters"
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "a host label starts or ends with a hyphen"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Sprintf("the host contains the character %q", c)
			}
		}
	}
	return ""
}

// IsLoopbackHost reports whether host, a URL's host name without port or
// brackets, is loopback: an IP literal in 127.0.0.0/8, the IPv6 literal ::1,
// or the name localhost (in any case). It is the one definition of loopback
// used wherever plain http is allowed for development (the policy's
// allowedLocations and the artifact URIs checked against them). Other
// spellings of an address (127.1, 0x7f.0.0.1, an IPv4-mapped IPv6 address)
// are not loopback: they are refused as non-canonical or as not loopback.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if strings.Contains(host, ":") {
		ip := net.ParseIP(host)
		return ip != nil && ip.To4() == nil && ip.Equal(net.IPv6loopback)
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.To4() != nil && ip.To4()[0] == 127
}

// CheckAllowed reports whether raw is acceptable as an entry of the policy's
// allowedLocations: a URL Check can compare URIs with, whose scheme the
// policy permits (https always; http on a loopback host and file only with
// allowLocal). The error is an *InvalidAllowedError. A policy whose entries
// pass CheckAllowed never makes Check fail with InvalidAllowedError.
func CheckAllowed(raw string, allowLocal bool) error {
	p, reason := parse(raw, true)
	switch {
	case reason != "":
	case (p.scheme == "http" || p.scheme == "file") && !allowLocal:
		reason = fmt.Sprintf("it uses %s, which needs artifacts.allowLocal: true (development only)", p.scheme)
	}
	if reason != "" {
		return &InvalidAllowedError{Location: Redact(raw), Reason: reason}
	}
	return nil
}

// splitPath splits an escaped absolute path into decoded segments. It
// reports whether the path ended with a slash, or a reason to refuse it.
func splitPath(esc string) ([]string, bool, string) {
	if esc == "" {
		return nil, false, ""
	}
	if !strings.HasPrefix(esc, "/") {
		return nil, false, "the path is not absolute"
	}
	parts := strings.Split(esc[1:], "/")
	dir := false
	if parts[len(parts)-1] == "" {
		dir = true
		parts = parts[:len(parts)-1]
	}
	segments := make([]string, 0, len(parts))
	for _, part := range parts {
		if part == "" {
			return nil, false, "the path contains an empty segment (\"//\")"
		}
		seg, err := url.PathUnescape(part)
		if err != nil {
			return nil, false, "the path contains an invalid percent-encoding"
		}
		switch {
		case seg == "." || seg == "..":
			return nil, false, "the path contains a \".\" or \"..\" segment"
		case strings.ContainsAny(seg, "/\\"):
			return nil, false, "the path contains an encoded slash or backslash"
		case strings.ContainsFunc(seg, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return nil, false, "the path contains an encoded control character"
		case !utf8.ValidString(seg):
			return nil, false, "the path contains an encoded sequence that is not valid UTF-8"
		}
		segments = append(segments, seg)
	}
	return segments, dir, ""
}

// Redact returns raw without anything that may hold a secret (a query
// string such as a SAS token, user-info), shortened to a few hundred
// characters, so that a URI can be shown in messages and logs.
func Redact(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i] + "?REDACTED"
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
			raw = raw[:i+3] + "REDACTED@" + rest[at+1:]
		}
	}
	const maxLen = 300
	if len(raw) > maxLen {
		raw = raw[:maxLen] + "..."
	}
	return raw
}

func redactAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = Redact(s)
	}
	return out
}

// azureSchemeHint explains, for the Azure schemes of Hadoop, Spark and Azure
// Machine Learning (wasb, wasbs, abfs, abfss, azureml), that the artifact
// must be named by its blob URL, and shows that URL when it can be derived.
// It returns "" for any other scheme.
func azureSchemeHint(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "wasb", "wasbs", "abfs", "abfss", "azureml":
	default:
		return ""
	}
	const form = "https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH"
	account, _, _ := strings.Cut(u.Hostname(), ".")
	if scheme != "azureml" && u.User != nil && u.User.Username() != "" && account != "" {
		return fmt.Sprintf("the scheme %q is not supported; name the blob by its https URL, here https://%s.blob.core.windows.net/%s%s (the form %s)",
			u.Scheme, account, u.User.Username(), u.EscapedPath(), form)
	}
	return fmt.Sprintf("the scheme %q is not supported; name the blob by its https URL, of the form %s", u.Scheme, form)
}
