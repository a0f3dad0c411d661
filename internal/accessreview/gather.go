package accessreview

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/githubapi"
)

// GitHub is what Gather asks GitHub. *githubapi.Client implements it. A
// user or team GitHub answers 404 for must be an error for which
// githubapi.IsNotFound holds.
type GitHub interface {
	TeamMembers(ctx context.Context, org, slug string) ([]string, error)
	TeamInvitations(ctx context.Context, org, slug string) ([]string, error)
	OrganizationInvitations(ctx context.Context, org string) ([]string, error)
	User(ctx context.Context, login string) (githubapi.Account, error)
	IsOrganizationMember(ctx context.Context, org, login string) (bool, error)
	Permission(ctx context.Context, owner, repo, login string) (string, error)
}

// Input is what Gather starts from.
type Input struct {
	// Owner and Repo name the GitHub repository.
	Owner, Repo string
	// CODEOWNERSPath and CODEOWNERS are the CODEOWNERS file GitHub uses;
	// both empty when there is none.
	CODEOWNERSPath string
	CODEOWNERS     []byte
	// Requirements are the gates to review (see Requirements).
	Requirements []Requirement
	// Promotions are the promotions of the measured window.
	Promotions []Promotion
	// Now is the time of the snapshot.
	Now time.Time
}

// Gather asks GitHub about every owner that applies to a requirement's
// paths and every person they expand to. A 404 makes an owner or a person
// not visible; any other error fails the gathering, so a review never
// reports on partial data.
func Gather(ctx context.Context, gh GitHub, in Input) (Snapshot, error) {
	s := Snapshot{
		Repository: in.Owner + "/" + in.Repo, CODEOWNERSPath: in.CODEOWNERSPath,
		Requirements: in.Requirements, Promotions: in.Promotions, Now: in.Now,
		Owners: map[string]Owner{}, People: map[string]Person{},
	}
	if in.CODEOWNERSPath != "" {
		s.CODEOWNERS, s.Skipped = codeowners.Parse(in.CODEOWNERS)
	}
	owners := map[string]codeowners.Owner{}
	if s.CODEOWNERS != nil {
		for _, req := range in.Requirements {
			for _, p := range req.Paths {
				if rule, ok := s.CODEOWNERS.Match(p); ok {
					for _, o := range rule.Owners {
						owners[o.Key()] = o
					}
				}
			}
		}
	}
	people := map[string]bool{}
	for _, key := range sortedKeys(owners) {
		o := owners[key]
		out := Owner{Key: key, Kind: o.Kind.String(), Status: StatusActive, Members: []string{}}
		switch o.Kind {
		case codeowners.OwnerEmail:
			out.Status = StatusUnresolved
		case codeowners.OwnerTeam:
			org, slug, _ := strings.Cut(o.Name(), "/")
			members, err := gh.TeamMembers(ctx, org, slug)
			if githubapi.IsNotFound(err) {
				out.Status = StatusNotVisible
				break
			}
			if err != nil {
				return Snapshot{}, err
			}
			invited, err := gh.TeamInvitations(ctx, org, slug)
			if err != nil && !githubapi.IsNotFound(err) {
				return Snapshot{}, err
			}
			out.Members, out.Invited = lower(members), lower(invited)
		case codeowners.OwnerUser:
			login := o.Name()
			out.Members = []string{login}
			status, err := userStatus(ctx, gh, in.Owner, in.Repo, login)
			if err != nil {
				return Snapshot{}, err
			}
			out.Status = status
		}
		for _, m := range out.Members {
			people[m] = true
		}
		s.Owners[key] = out
	}
	for _, login := range sortedKeys(people) {
		p := Person{Login: login, Status: StatusActive}
		perm, err := gh.Permission(ctx, in.Owner, in.Repo, login)
		switch {
		case githubapi.IsNotFound(err):
			p.Status, p.Permission = StatusNotVisible, "none"
		case err != nil:
			return Snapshot{}, err
		default:
			p.Permission = perm
		}
		if o, ok := s.Owners["@"+login]; ok && o.Status != StatusActive {
			p.Status = o.Status
		}
		s.People[login] = p
	}
	invites, err := gh.OrganizationInvitations(ctx, in.Owner)
	if err != nil && !githubapi.IsNotFound(err) {
		return Snapshot{}, err
	}
	s.OrganizationInvitations = invites
	return s, nil
}

// userStatus says whether a user owner is active, gone (suspended, or out
// of the organization without access to the repository) or not visible.
func userStatus(ctx context.Context, gh GitHub, owner, repo, login string) (Status, error) {
	acct, err := gh.User(ctx, login)
	if githubapi.IsNotFound(err) {
		return StatusNotVisible, nil
	}
	if err != nil {
		return "", err
	}
	if acct.Suspended {
		return StatusGone, nil
	}
	member, err := gh.IsOrganizationMember(ctx, owner, login)
	if err != nil && !githubapi.IsNotFound(err) {
		return "", fmt.Errorf("membership of %s: %w", login, err)
	}
	if member {
		return StatusActive, nil
	}
	perm, err := gh.Permission(ctx, owner, repo, login)
	if githubapi.IsNotFound(err) || (err == nil && perm == "none") {
		return StatusGone, nil
	}
	if err != nil {
		return "", err
	}
	return StatusActive, nil // an outside collaborator with access
}

func lower(logins []string) []string {
	out := make([]string, 0, len(logins))
	for _, l := range logins {
		out = append(out, strings.ToLower(l))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
