package codeowners

import (
	"fmt"
	"strings"
)

// OwnerKind says whether an owner names a user, a team or an email address.
type OwnerKind uint8

const (
	// OwnerUser is a GitHub user written as "@login".
	OwnerUser OwnerKind = iota + 1
	// OwnerTeam is a GitHub team written as "@org/team-slug".
	OwnerTeam
	// OwnerEmail is an email address that GitHub resolves to a user account.
	OwnerEmail
)

// String returns "user", "team" or "email".
func (k OwnerKind) String() string {
	switch k {
	case OwnerUser:
		return "user"
	case OwnerTeam:
		return "team"
	case OwnerEmail:
		return "email"
	}
	return fmt.Sprintf("OwnerKind(%d)", uint8(k))
}

// Owner is one owner named on a CODEOWNERS line. Value keeps the text exactly
// as written, including the leading '@' of users and teams; compare owners
// with Key, because GitHub logins, team slugs and email addresses are matched
// without regard to case.
type Owner struct {
	// Kind says what Value names.
	Kind OwnerKind
	// Value is the owner as written in the file, such as "@Alice",
	// "@Example-Org/Platform" or "Alice@Example.com".
	Value string
}

// String returns the owner as written in the file.
func (o Owner) String() string { return o.Value }

// Key returns the owner in lower case, the form to compare and deduplicate
// owners with: "@alice", "@example-org/platform" or "alice@example.com".
func (o Owner) Key() string { return strings.ToLower(o.Value) }

// Name returns the owner without the leading '@' of users and teams, in lower
// case: a login, "org/team-slug" or an email address, as GitHub's API spells
// them apart from case.
func (o Owner) Name() string { return strings.TrimPrefix(o.Key(), "@") }

// parseOwner classifies one owner token. It returns a message explaining why
// the token is not an owner when it is not one.
func parseOwner(tok string) (Owner, string) {
	if name, ok := strings.CutPrefix(tok, "@"); ok {
		org, team, isTeam := strings.Cut(name, "/")
		if !isTeam {
			if why := checkLogin(name); why != "" {
				return Owner{}, fmt.Sprintf("invalid owner %q: %s", tok, why)
			}
			return Owner{Kind: OwnerUser, Value: tok}, ""
		}
		if why := checkLogin(org); why != "" {
			return Owner{}, fmt.Sprintf("invalid owner %q: organization %s", tok, why)
		}
		if why := checkTeamSlug(team); why != "" {
			return Owner{}, fmt.Sprintf("invalid owner %q: team %s", tok, why)
		}
		return Owner{Kind: OwnerTeam, Value: tok}, ""
	}
	if strings.Contains(tok, "@") {
		if why := checkEmail(tok); why != "" {
			return Owner{}, fmt.Sprintf("invalid owner %q: %s", tok, why)
		}
		return Owner{Kind: OwnerEmail, Value: tok}, ""
	}
	return Owner{}, fmt.Sprintf("invalid owner %q: expected @username, @org/team-name or an email address", tok)
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// checkLogin validates a user or organization login. GitHub logins are
// letters, digits and hyphens starting with a letter or digit; underscores are
// allowed too because managed user accounts carry an "_shortcode" suffix.
// Existence and length are GitHub's to check.
func checkLogin(s string) string {
	if s == "" {
		return "name is empty"
	}
	if !isASCIIAlnum(s[0]) {
		return "name must start with a letter or digit"
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isASCIIAlnum(c) && c != '-' && c != '_' {
			return fmt.Sprintf("name has the character %q, but only letters, digits, '-' and '_' are allowed", rune(c))
		}
	}
	return ""
}

// checkTeamSlug validates a team slug: letters, digits, '-' and '_'.
func checkTeamSlug(s string) string {
	if s == "" {
		return "name is empty"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isASCIIAlnum(c) && c != '-' && c != '_' {
			return fmt.Sprintf("name has the character %q, but only letters, digits, '-' and '_' are allowed", rune(c))
		}
	}
	return ""
}

// checkEmail validates an address of the form local@domain with the unquoted
// local part of RFC 5322 (dot-atom) and a DNS domain of at least two labels.
// Top-level domains of any length are accepted, including "xn--" ones.
func checkEmail(s string) string {
	local, domain, _ := strings.Cut(s, "@")
	if local == "" {
		return "email address has an empty local part"
	}
	if strings.Contains(domain, "@") {
		return "email address has more than one '@'"
	}
	if !isDotAtom(local) {
		return "email address has an invalid local part"
	}
	if !strings.Contains(domain, ".") {
		return "email domain must have at least two labels"
	}
	var tld string
	for rest := domain; ; {
		label, after, more := strings.Cut(rest, ".")
		if !isDomainLabel(label) {
			return fmt.Sprintf("email domain has an invalid label %q", label)
		}
		if !more {
			tld = label
			break
		}
		rest = after
	}
	if len(tld) < 2 || isAllDigits(tld) {
		return fmt.Sprintf("email domain has an invalid top-level domain %q", tld)
	}
	return ""
}

// isDotAtom reports whether s is dot-separated runs of RFC 5322 atext.
func isDotAtom(s string) bool {
	prevDot := true // no leading dot
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if prevDot {
				return false
			}
			prevDot = true
			continue
		}
		if !isASCIIAlnum(c) && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", rune(c)) {
			return false
		}
		prevDot = false
	}
	return !prevDot
}

func isDomainLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !isASCIIAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
