package gitrepo

import (
	"net/mail"
	"strings"

	"github.com/example-org/promobot/internal/evaluate"
)

// noreplyDomain is the domain of the private commit emails GitHub gives
// each user: ID+login@ or, for older accounts, login@.
const noreplyDomain = "@users.noreply.github.com"

// identities maps commit emails to GitHub logins.
type identities map[string]string

// newIdentities normalises the caller's map: emails compare
// case-insensitively and surrounding space is ignored.
func newIdentities(m map[string]string) identities {
	out := make(identities, len(m))
	for email, login := range m {
		if e := normalizeEmail(email); e != "" && strings.TrimSpace(login) != "" {
			out[e] = strings.TrimSpace(login)
		}
	}
	return out
}

func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// identity builds an Identity, mapping its email to a login through the
// explicit map first and then through GitHub's noreply address format.
// GitHub's own address, noreply@github.com, is never mapped: GitHub
// attributes it to its web-flow account, which is no person.
func (ids identities) identity(name, email string) evaluate.Identity {
	id := evaluate.Identity{Name: name, Email: email}
	e := normalizeEmail(email)
	if e == evaluate.GitHubNoReply {
		// GitHub's own address (its web-flow committer) names nobody:
		// anybody can write it into a commit.
		return id
	}
	if login, ok := ids[e]; ok {
		id.Login = login
		return id
	}
	id.Login = noreplyLogin(email)
	return id
}

// noreplyLogin returns the login of a GitHub noreply address
// (12345+login@users.noreply.github.com or login@users.noreply.github.com),
// or "" for any other address.
func noreplyLogin(email string) string {
	email = strings.TrimSpace(email)
	at := len(email) - len(noreplyDomain)
	if at < 0 || !strings.EqualFold(email[at:], noreplyDomain) {
		return ""
	}
	// The login keeps the case it was written in; logins compare
	// case-insensitively downstream.
	local := email[:at]
	if id, login, found := strings.Cut(local, "+"); found {
		if id == "" || strings.Trim(id, "0123456789") != "" {
			return ""
		}
		local = login
	}
	if !ValidLogin(local) {
		return ""
	}
	return local
}

// ValidLogin reports whether s has the shape of a GitHub user login: 1 to
// 39 letters, digits or single hyphens, not starting or ending with a
// hyphen. App bots ("name[bot]") are not user logins.
func ValidLogin(s string) bool {
	if s == "" || len(s) > 39 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// coAuthorKey is the trailer that credits co-authors on GitHub.
const coAuthorKey = "co-authored-by:"

// coAuthors returns the identities named by Co-authored-by trailers.
//
// Git only treats the last paragraph of a message as trailers, but any line
// of the form "Co-authored-by: Name <email>" is read here, anywhere in the
// message: a co-author makes a person ineligible to approve, so reading too
// many errs on the safe side, while reading too few would let a co-author
// approve their own change. Duplicates (by email) are dropped. A value that
// is not "Name <email>" or a bare address is kept as a name without email,
// so it can be reported but never maps to a login.
func (ids identities) coAuthors(message string) []evaluate.Identity {
	var out []evaluate.Identity
	seen := map[string]bool{}
	for line := range strings.Lines(message) {
		line = strings.TrimSpace(line)
		if len(line) < len(coAuthorKey) || !strings.EqualFold(line[:len(coAuthorKey)], coAuthorKey) {
			continue
		}
		value := strings.TrimSpace(line[len(coAuthorKey):])
		if value == "" {
			continue
		}
		name, email, ok := parseAddress(value)
		if !ok {
			name, email = value, ""
		}
		key := normalizeEmail(email)
		if key == "" {
			key = "name:" + name
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, ids.identity(name, email))
	}
	return out
}

// parseAddress parses "Name <email>" or a bare email address, leniently:
// names are taken as written (no RFC 822 quoting required), and the address
// must contain exactly one @ with text on both sides.
func parseAddress(s string) (name, email string, ok bool) {
	if open := strings.LastIndexByte(s, '<'); open >= 0 && strings.HasSuffix(s, ">") {
		name = strings.TrimSpace(s[:open])
		email = strings.TrimSpace(s[open+1 : len(s)-1])
		name = strings.Trim(name, `"`)
	} else if a, err := mail.ParseAddress(s); err == nil {
		name, email = a.Name, a.Address
	} else {
		email = s
	}
	local, domain, found := strings.Cut(email, "@")
	if !found || local == "" || domain == "" || strings.Contains(domain, "@") || strings.ContainsAny(email, " \t<>") {
		return "", "", false
	}
	return name, email, true
}
