// Package accessreview answers, for a promotion repository, who can
// approve what: for each environment and for the control files, the
// CODEOWNERS owners that apply, expanded through GitHub teams to people,
// each person's permission on the repository, and findings a periodic
// access review (AC-2) acts on, such as a gate that cannot be satisfied.
//
// Review is pure: it reads a plain-data Snapshot and returns a Report.
// Gather builds the Snapshot from GitHub through a narrow interface.
// Requirements come from a list of Sources, so that new kinds of approval
// requirement join the review without changing it.
package accessreview

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/codeowners"
)

// Requirement is one approval gate: changes to Paths need Approvals
// distinct approvals from the code owners of each path.
type Requirement struct {
	// Scope is "environment" for manifests of an environment, "control"
	// for the control files (policy, CODEOWNERS, schemas, keys).
	Scope string `json:"scope"`
	// Environment names the environment; empty for control files.
	Environment string `json:"environment,omitempty"`
	// Paths are the repository paths the gate covers.
	Paths []string `json:"paths"`
	// Approvals is the number of distinct code-owner approvals needed.
	Approvals int `json:"approvals"`
	// Source says where the requirement comes from, such as
	// "policy environments[prod].approvals".
	Source string `json:"source"`
	// Production marks the environments that serve production traffic:
	// the last environments of the promotion path.
	Production bool `json:"production"`
}

// Status says whether GitHub shows an owner or a person to the App.
type Status string

// The statuses of owners and people.
const (
	// StatusActive is an owner or person GitHub shows and counts.
	StatusActive Status = "active"
	// StatusGone is an account GitHub shows but that no longer belongs to
	// the organization and has no access to the repository, or that is
	// suspended.
	StatusGone Status = "gone"
	// StatusNotVisible is a user or team GitHub answers 404 for: it may
	// not exist, or the App may not be allowed to see it.
	StatusNotVisible Status = "not-visible"
	// StatusUnresolved is an email owner: GitHub resolves it to an account
	// only through a verified public email, which the API does not show.
	StatusUnresolved Status = "unresolved"
)

// Owner is a CODEOWNERS owner as GitHub resolves it.
type Owner struct {
	// Key is the owner as compared: "@login", "@org/team" or an email.
	Key string `json:"owner"`
	// Kind is "user", "team" or "email".
	Kind string `json:"kind"`
	// Status says whether GitHub shows the owner.
	Status Status `json:"status"`
	// Members are, for a team, the active members as GitHub lists them
	// (members of child teams included); for a user, the user.
	Members []string `json:"members"`
	// Invited are, for a team, the logins invited who have not accepted.
	Invited []string `json:"invited,omitempty"`
}

// Person is one login that an owner expands to.
type Person struct {
	// Login is the GitHub login.
	Login string `json:"login"`
	// Permission is the person's permission on the repository: "admin",
	// "write", "read" or "none".
	Permission string `json:"permission"`
	// Status says whether GitHub shows the person.
	Status Status `json:"status"`
}

// CanApprove reports whether a review by the person counts as a code
// owner's approval: GitHub counts only people with write access.
func (p Person) CanApprove() bool {
	return p.Status == StatusActive && (p.Permission == "write" || p.Permission == "admin")
}

// Promotion is one change that pinned a version in an environment, for
// the maker-checker measure.
type Promotion struct {
	Environment string
	// Author is the GitHub login of the pull request's author; empty
	// when unknown.
	Author string
	Time   time.Time
}

// Snapshot is everything Review reads.
type Snapshot struct {
	// Repository is "OWNER/REPO".
	Repository string
	// CODEOWNERSPath is the CODEOWNERS file GitHub uses; empty when the
	// repository has none.
	CODEOWNERSPath string
	// CODEOWNERS is the parsed file; nil when the repository has none.
	CODEOWNERS *codeowners.File
	// Skipped are the CODEOWNERS problems GitHub skips lines or owners for.
	Skipped []codeowners.Warning
	// Requirements are the approval gates.
	Requirements []Requirement
	// Owners maps Owner.Key to what GitHub says about the owner.
	Owners map[string]Owner
	// People maps a login to what GitHub says about the person.
	People map[string]Person
	// OrganizationInvitations are logins or emails invited to the
	// repository's organization who have not accepted.
	OrganizationInvitations []string
	// Promotions are the changes of the measured window.
	Promotions []Promotion
	// Now is when the snapshot was taken.
	Now time.Time
}

// Options tune the findings.
type Options struct {
	// MakerCheckerShare is the share of an environment's promotions of the
	// window from which an author who is also an eligible approver of that
	// environment is reported; zero means 0.5.
	MakerCheckerShare float64
	// WindowDays is the length of the measured window, for the report.
	WindowDays int
}

// Report is the result of a review.
type Report struct {
	// Repository is "OWNER/REPO".
	Repository string `json:"repository"`
	// GeneratedAt is when the snapshot was taken.
	GeneratedAt time.Time `json:"generatedAt"`
	// CODEOWNERS is the path of the CODEOWNERS file GitHub uses.
	CODEOWNERS string `json:"codeowners"`
	// WindowDays and MakerCheckerShare repeat the options.
	WindowDays        int     `json:"windowDays"`
	MakerCheckerShare float64 `json:"makerCheckerShare"`
	// Gates are the requirements with who can satisfy them.
	Gates []Gate `json:"gates"`
	// People are every login reached, sorted.
	People []Person `json:"people"`
	// Findings are what to act on, most severe first.
	Findings []Finding `json:"findings"`
	// Unsatisfiable is true when some gate cannot be satisfied.
	Unsatisfiable bool `json:"unsatisfiable"`
}

// Gate is a requirement with its owners and eligible people.
type Gate struct {
	Requirement
	// Files are the covered paths with the CODEOWNERS line that applies.
	Files []FileOwners `json:"files"`
	// Eligible are the people who can approve every covered path.
	Eligible []string `json:"eligible"`
	// Invited are people invited to an owning team, not counted.
	Invited []string `json:"invited,omitempty"`
}

// FileOwners is the CODEOWNERS line that applies to one path.
type FileOwners struct {
	Path string `json:"path"`
	// Line is the 1-based CODEOWNERS line, zero when no line applies.
	Line int `json:"line"`
	// Owners are the owners the line names.
	Owners []string `json:"owners"`
	// Eligible are the people who can approve a change to the path.
	Eligible []string `json:"eligible"`
}

// Severity orders findings.
type Severity string

// The severities of findings.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityNotice  Severity = "notice"
)

// Kind names a kind of finding.
type Kind string

// The kinds of finding.
const (
	KindGateUnsatisfiable       Kind = "gate-unsatisfiable"
	KindGateDependsOnPerson     Kind = "gate-depends-on-person"
	KindOwnerWithoutWriteAccess Kind = "owner-without-write-access"
	KindOnePersonForProduction  Kind = "one-person-eligible-for-production"
	KindMakerCheckerPressure    Kind = "maker-checker-pressure"
	KindOwnerGone               Kind = "owner-gone"
	KindOwnerNotVisible         Kind = "owner-not-visible"
	KindCODEOWNERSLineSkipped   Kind = "codeowners-line-skipped"
	KindPendingInvitation       Kind = "pending-invitation"
	KindEmailOwnerUnresolved    Kind = "email-owner-unresolved"
)

const (
	severityOrder                 = "error warning notice"
	defaultMakerCheckerShare      = 0.5
	makerCheckerMinimumPromotions = 2
	scopeControl                  = "control"
	scopeEnvironment              = "environment"
	unknownAuthor                 = ""
	percent                       = 100
)

// Finding is one thing to act on.
type Finding struct {
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	// Environment and Path say where, when it applies.
	Environment string `json:"environment,omitempty"`
	Path        string `json:"path,omitempty"`
	// Owner and Person say who, when it applies.
	Owner  string `json:"owner,omitempty"`
	Person string `json:"person,omitempty"`
	// Message says what is wrong in a full sentence.
	Message string `json:"message"`
}

// Review computes the report of a snapshot.
func Review(s Snapshot, opts Options) Report {
	share := opts.MakerCheckerShare
	if share <= 0 {
		share = defaultMakerCheckerShare
	}
	r := Report{Repository: s.Repository, GeneratedAt: s.Now, CODEOWNERS: s.CODEOWNERSPath, WindowDays: opts.WindowDays, MakerCheckerShare: share, Gates: []Gate{}, People: []Person{}, Findings: []Finding{}}
	add := func(f Finding) { r.Findings = append(r.Findings, f) }

	for _, w := range s.Skipped {
		add(Finding{Kind: KindCODEOWNERSLineSkipped, Severity: SeverityWarning, Path: fmt.Sprintf("%s:%d:%d", s.CODEOWNERSPath, w.Line, w.Column),
			Message: fmt.Sprintf("%s:%d:%d: GitHub skips this: %s.", s.CODEOWNERSPath, w.Line, w.Column, strings.TrimSuffix(w.Message, "."))})
	}
	reported := map[string]bool{} // owner and person findings reported once
	once := func(key string, f Finding) {
		if !reported[key] {
			reported[key] = true
			add(f)
		}
	}
	var production []map[string]bool
	var productionPaths int
	for _, req := range s.Requirements {
		g := Gate{Requirement: req, Files: []FileOwners{}, Eligible: []string{}}
		var common map[string]bool
		invited := map[string]bool{}
		for _, p := range req.Paths {
			fo := FileOwners{Path: p, Owners: []string{}, Eligible: []string{}}
			if s.CODEOWNERS != nil {
				if rule, ok := s.CODEOWNERS.Match(p); ok {
					fo.Line = rule.Line
					for _, o := range rule.Owners {
						fo.Owners = append(fo.Owners, o.Key())
					}
				}
			}
			eligible := map[string]bool{}
			for _, key := range fo.Owners {
				o, known := s.Owners[key]
				if !known {
					continue
				}
				switch o.Status {
				case StatusNotVisible:
					once("owner:"+key, Finding{Kind: KindOwnerNotVisible, Severity: SeverityWarning, Owner: key, Environment: req.Environment, Path: p,
						Message: fmt.Sprintf("GitHub answers 404 for %s %s: it may not exist, or the App cannot see it (it needs organization Members: read); its approvals cannot be counted.", o.Kind, key)})
					continue
				case StatusGone:
					once("owner:"+key, Finding{Kind: KindOwnerGone, Severity: SeverityWarning, Owner: key, Environment: req.Environment, Path: p,
						Message: fmt.Sprintf("%s is no longer a member of the organization and has no access to the repository, or is suspended; remove it from CODEOWNERS.", key)})
					continue
				case StatusUnresolved:
					once("owner:"+key, Finding{Kind: KindEmailOwnerUnresolved, Severity: SeverityWarning, Owner: key, Environment: req.Environment, Path: p,
						Message: fmt.Sprintf("The email owner %s cannot be resolved to an account through the API and is not counted; name the user as @login.", key)})
					continue
				}
				for _, login := range o.Invited {
					invited[login] = true
					once("invite:"+key+":"+login, Finding{Kind: KindPendingInvitation, Severity: SeverityNotice, Owner: key, Person: login, Environment: req.Environment,
						Message: fmt.Sprintf("%s is invited to %s but has not accepted; the invitation is not counted.", login, key)})
				}
				for _, login := range o.Members {
					person, ok := s.People[login]
					if !ok {
						continue
					}
					if person.Status == StatusGone || person.Status == StatusNotVisible {
						if o.Kind == "user" {
							continue // reported for the owner
						}
						once("person:"+login, Finding{Kind: KindOwnerNotVisible, Severity: SeverityWarning, Owner: key, Person: login,
							Message: fmt.Sprintf("%s, listed in %s, is not visible to the App and is not counted.", login, key)})
						continue
					}
					if !person.CanApprove() {
						once("write:"+key+":"+login, Finding{Kind: KindOwnerWithoutWriteAccess, Severity: SeverityWarning, Owner: key, Person: login, Environment: req.Environment, Path: p,
							Message: fmt.Sprintf("%s (through %s) has %s access to %s; GitHub counts a code owner's approval only with write access.", login, key, person.Permission, s.Repository)})
						continue
					}
					eligible[login] = true
				}
			}
			fo.Eligible = sortedKeys(eligible)
			g.Files = append(g.Files, fo)
			if common == nil {
				common = eligible
			} else {
				for login := range common {
					if !eligible[login] {
						delete(common, login)
					}
				}
			}
			if req.Production {
				production = append(production, eligible)
				productionPaths++
			}
			unsatisfiable := len(eligible) < req.Approvals
			if unsatisfiable {
				r.Unsatisfiable = true
				add(Finding{Kind: KindGateUnsatisfiable, Severity: SeverityError, Environment: req.Environment, Path: p,
					Message: fmt.Sprintf("%s needs %s (%s) but only %s can approve%s; no change to it can merge.", p, count(req.Approvals, "approval"), req.Source, count(len(eligible), "eligible code owner"), listed(fo.Eligible))})
			} else if req.Approvals > 0 && len(eligible) == req.Approvals {
				add(Finding{Kind: KindGateDependsOnPerson, Severity: SeverityWarning, Environment: req.Environment, Path: p, Person: strings.Join(fo.Eligible, ","),
					Message: fmt.Sprintf("%s needs %s (%s) and exactly %s can approve (%s): every one of them must be present.", p, count(req.Approvals, "approval"), req.Source, count(len(eligible), "eligible code owner"), strings.Join(fo.Eligible, ", "))})
			}
		}
		g.Eligible = sortedKeys(common)
		g.Invited = sortedKeys(invited)
		r.Gates = append(r.Gates, g)
	}

	if productionPaths > 1 {
		every := map[string]bool{}
		for login := range production[0] {
			every[login] = true
		}
		for _, set := range production[1:] {
			for login := range every {
				if !set[login] {
					delete(every, login)
				}
			}
		}
		for _, login := range sortedKeys(every) {
			add(Finding{Kind: KindOnePersonForProduction, Severity: SeverityNotice, Person: login,
				Message: fmt.Sprintf("%s is an eligible approver of every production file (%d files); one person can approve any production change.", login, productionPaths)})
		}
	}

	r.Findings = append(r.Findings, makerChecker(s, r.Gates, share)...)
	for _, inv := range s.OrganizationInvitations {
		add(Finding{Kind: KindPendingInvitation, Severity: SeverityNotice, Person: inv,
			Message: fmt.Sprintf("%s is invited to the organization but has not accepted; the invitation is not counted.", inv)})
	}

	logins := map[string]bool{}
	for _, o := range s.Owners {
		for _, m := range o.Members {
			logins[m] = true
		}
	}
	for _, login := range sortedKeys(logins) {
		if p, ok := s.People[login]; ok {
			r.People = append(r.People, p)
		}
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		return strings.Index(severityOrder, string(r.Findings[i].Severity)) < strings.Index(severityOrder, string(r.Findings[j].Severity))
	})
	return r
}

// makerChecker reports eligible approvers of an environment who authored
// at least share of its promotions in the window.
func makerChecker(s Snapshot, gates []Gate, share float64) []Finding {
	eligible := map[string]map[string]bool{}
	for _, g := range gates {
		if g.Scope != scopeEnvironment {
			continue
		}
		set := map[string]bool{}
		for _, f := range g.Files {
			for _, login := range f.Eligible {
				set[login] = true
			}
		}
		eligible[g.Environment] = set
	}
	total := map[string]int{}
	by := map[string]map[string]int{}
	for _, p := range s.Promotions {
		total[p.Environment]++
		if p.Author == unknownAuthor {
			continue
		}
		if by[p.Environment] == nil {
			by[p.Environment] = map[string]int{}
		}
		by[p.Environment][p.Author]++
	}
	var out []Finding
	for _, env := range sortedKeys(total) {
		n := total[env]
		if n < makerCheckerMinimumPromotions {
			continue
		}
		for _, author := range sortedKeys(by[env]) {
			k := by[env][author]
			if !eligible[env][author] || float64(k) < share*float64(n) {
				continue
			}
			out = append(out, Finding{Kind: KindMakerCheckerPressure, Severity: SeverityWarning, Environment: env, Person: author,
				Message: fmt.Sprintf("%s authored %d of the %d promotions into %s in the window (%.0f%%) and is also an eligible approver there; the other approvers review most of their changes.", author, k, n, env, percent*float64(k)/float64(n))})
		}
	}
	return out
}

// count returns "1 approval" or "2 approvals".
func count(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func listed(logins []string) string {
	if len(logins) == 0 {
		return ""
	}
	return " (" + strings.Join(logins, ", ") + ")"
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
