package evaluate

import (
	"cmp"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/codeowners"
)

// reviewer is one user's effective review state.
type reviewer struct {
	// login is as GitHub reported it on the user's latest review; key is
	// its lower-case form.
	login, key string
	// state is the latest APPROVED, CHANGES_REQUESTED or DISMISSED review;
	// a later COMMENTED review leaves it as it was.
	state ReviewState
	// current is true when the review that set state was submitted on the
	// head commit.
	current bool
	// ineligible is why the user can never count, empty when eligible.
	ineligible string
}

// ownerSet is the expansion of one CODEOWNERS rule, computed once per rule.
type ownerSet struct {
	owners []string
	// members are the lower-case logins that may count as owners.
	members map[string]bool
	// unresolvable are the owners, as written, whose members are unknown.
	unresolvable []string
}

// approvalState is precomputed once per evaluation, so that the per-file work
// is a map lookup per reviewer.
type approvalState struct {
	reviewers []*reviewer
	sets      map[int]*ownerSet // by CODEOWNERS line
}

// ineligibility maps lower-case logins to the reason they can never count:
// the pull request's author and every author, committer and co-author of its
// commits. The first reason found in that order wins.
func (e *evaluation) ineligibility() map[string]string {
	out := map[string]string{}
	set := func(login, reason string) {
		if k := strings.ToLower(login); k != "" {
			if _, ok := out[k]; !ok {
				out[k] = reason
			}
		}
	}
	set(e.in.PullRequest.Author, ReasonAuthor)
	for _, c := range e.in.Commits {
		set(c.Author.Login, ReasonAuthor)
	}
	for _, c := range e.in.Commits {
		set(c.Committer.Login, ReasonCommitter)
	}
	for _, c := range e.in.Commits {
		for _, co := range c.CoAuthors {
			set(co.Login, ReasonCoAuthor)
		}
	}
	return out
}

// reviewers folds the reviews into each user's effective state, sorted by
// lower-case login.
func (e *evaluation) reviewers() []*reviewer {
	excluded := e.ineligibility()
	head := strings.ToLower(e.in.PullRequest.HeadSHA)
	byKey := map[string]*reviewer{}
	for _, rv := range e.in.Reviews {
		k := strings.ToLower(rv.User)
		if k == "" {
			continue
		}
		r := byKey[k]
		if r == nil {
			r = &reviewer{login: rv.User, key: k}
			byKey[k] = r
		}
		switch rv.State {
		case Approved, ChangesRequested, Dismissed:
			r.login, r.state = rv.User, rv.State
			r.current = head != "" && strings.ToLower(rv.CommitID) == head
		}
	}
	out := make([]*reviewer, 0, len(byKey))
	for k, r := range byKey {
		if r.state == "" {
			continue // only comments
		}
		switch reason, ok := excluded[k]; {
		case ok:
			r.ineligible = reason
		case strings.HasSuffix(k, "[bot]"):
			r.ineligible = ReasonBot
		case e.in.WritePermission != nil && !e.in.WritePermission[k]:
			r.ineligible = ReasonNoWriteAccess
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *reviewer) int { return cmp.Compare(a.key, b.key) })
	return out
}

// ownerSet expands the owners of a CODEOWNERS rule.
func (e *evaluation) ownerSet(st *approvalState, rule codeowners.Rule) *ownerSet {
	if s, ok := st.sets[rule.Line]; ok {
		return s
	}
	s := &ownerSet{members: map[string]bool{}}
	for _, o := range rule.Owners {
		s.owners = append(s.owners, o.Value)
		switch o.Kind {
		case codeowners.OwnerUser:
			s.members[o.Name()] = true
		case codeowners.OwnerTeam:
			members, ok := e.in.Teams[o.Name()]
			if !ok {
				s.unresolvable = append(s.unresolvable, o.Value)
				continue
			}
			for _, m := range members {
				s.members[strings.ToLower(m)] = true
			}
		default:
			s.unresolvable = append(s.unresolvable, o.Value)
		}
	}
	st.sets[rule.Line] = s
	return s
}
