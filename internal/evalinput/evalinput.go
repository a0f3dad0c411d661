// Package evalinput turns what GitHub says about a pull request (commits,
// reviews, teams, permissions) into the rule engine's input. The bot and
// the dashboard both judge pull requests, so both build their input here.
package evalinput

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/githubapi"
)

// TeamReader lists a team's members.
type TeamReader interface {
	TeamMembers(ctx context.Context, org, slug string) ([]string, error)
}

// PermissionReader reads a person's permission on a repository: "admin",
// "maintain", "write", "triage", "read" or "none".
type PermissionReader interface {
	Permission(ctx context.Context, owner, repo, login string) (string, error)
}

// Identities maps the commit emails GitHub could attribute to the logins it
// attributed them to. Emails are GitHub's verified addresses, so a commit
// cannot claim a login by its email alone.
func Identities(commits []githubapi.Commit) map[string]string {
	out := map[string]string{}
	add := func(email, login string) {
		e := strings.ToLower(strings.TrimSpace(email))
		if e == "" || login == "" {
			return
		}
		if _, ok := out[e]; !ok {
			out[e] = login
		}
	}
	for _, c := range commits {
		add(c.AuthorEmail, c.AuthorLogin)
		add(c.CommitterEmail, c.CommitterLogin)
	}
	return out
}

// Reviews turns API reviews into the engine's, in submission order,
// leaving out pending (unsubmitted) reviews.
func Reviews(reviews []githubapi.Review) []evaluate.Review {
	out := make([]evaluate.Review, 0, len(reviews))
	for _, r := range reviews {
		if r.State == "PENDING" || r.User == "" {
			continue
		}
		out = append(out, evaluate.Review{
			ID: r.ID, User: r.User, State: evaluate.ReviewState(r.State),
			CommitID: r.CommitID, SubmittedAt: r.SubmittedAt,
		})
	}
	slices.SortStableFunc(out, func(a, b evaluate.Review) int {
		return cmp.Or(a.SubmittedAt.Compare(b.SubmittedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Teams resolves the members of every team whose approval the engine may
// count (evaluate.OwnedPaths: the owners of every gated changed file and of
// the policy file, for governance approvals), according to the base's
// CODEOWNERS, and of the policy's field owners (evaluate.FieldOwnerTeams).
// A team the installation cannot see is left out, so the engine
// reports it as unresolvable and it never counts.
func Teams(ctx context.Context, gh TeamReader, in *evaluate.Input) (map[string][]string, error) {
	out := map[string][]string{}
	if in.Owners == nil {
		return out, nil
	}
	var names []string
	seen := map[string]bool{}
	for _, p := range evaluate.OwnedPaths(in) {
		rule, ok := in.Owners.Match(p)
		if !ok {
			continue
		}
		for _, o := range rule.Owners {
			if o.Kind == codeowners.OwnerTeam && !seen[o.Name()] {
				seen[o.Name()] = true
				names = append(names, o.Name())
			}
		}
	}
	for _, name := range evaluate.FieldOwnerTeams(in) {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		org, slug, _ := strings.Cut(name, "/")
		members, err := gh.TeamMembers(ctx, org, slug)
		switch {
		case githubapi.IsNotFound(err):
			continue
		case err != nil:
			return nil, err
		}
		out[name] = members
	}
	return out, nil
}

// WritePermissions looks up whether each reviewer whose latest review approves
// or requests changes can write to the repository. Reviewers the engine
// excludes anyway (authors, committers, co-authors, bots) are not looked up.
func WritePermissions(ctx context.Context, gh PermissionReader, owner, repo string, in *evaluate.Input) (map[string]bool, error) {
	excluded := map[string]bool{strings.ToLower(in.PullRequest.Author): true}
	for _, c := range in.Commits {
		excluded[strings.ToLower(c.Author.Login)] = true
		excluded[strings.ToLower(c.Committer.Login)] = true
		for _, co := range c.CoAuthors {
			excluded[strings.ToLower(co.Login)] = true
		}
	}
	latest := map[string]evaluate.Review{}
	for _, r := range in.Reviews {
		switch r.State {
		case evaluate.Approved, evaluate.ChangesRequested, evaluate.Dismissed:
			latest[strings.ToLower(r.User)] = r
		}
	}
	var logins []string
	for k, r := range latest {
		if r.State == evaluate.Dismissed || excluded[k] || strings.HasSuffix(k, "[bot]") {
			continue
		}
		logins = append(logins, r.User)
	}
	slices.Sort(logins)
	out := make(map[string]bool, len(logins))
	for _, login := range logins {
		p, err := gh.Permission(ctx, owner, repo, login)
		switch {
		case githubapi.IsNotFound(err):
			p = "none"
		case err != nil:
			return nil, err
		}
		out[strings.ToLower(login)] = p == "admin" || p == "maintain" || p == "write"
	}
	return out, nil
}
