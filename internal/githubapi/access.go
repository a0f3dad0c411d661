package githubapi

// The calls of the access review: who a team holds (GitHub counts the
// members of child teams as members of the parent), who is only invited,
// whether an account exists and whether it still belongs to the
// organization. Reading team members, invitations and organization
// membership needs the App's "Members: read" organization permission.

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// TeamInvitations lists the logins invited to a team who have not yet
// accepted. Invitations by email without an account have no login and are
// listed as the email address. A team the installation cannot see is an
// error for which IsNotFound holds.
func (c *Client) TeamInvitations(ctx context.Context, org, slug string) ([]string, error) {
	op := fmt.Sprintf("list pending invitations of team %s/%s", org, slug)
	var out []string
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := c.gh.Teams.ListPendingTeamInvitationsBySlug(ctx, org, slug, opts)
		out = appendInvitees(out, page)
		return resp, err
	})
	return out, err
}

// OrganizationInvitations lists the logins (or, without an account, the
// email addresses) invited to an organization who have not yet accepted.
func (c *Client) OrganizationInvitations(ctx context.Context, org string) ([]string, error) {
	op := fmt.Sprintf("list pending invitations of organization %s", org)
	var out []string
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := c.gh.Organizations.ListPendingOrgInvitations(ctx, org, opts)
		out = appendInvitees(out, page)
		return resp, err
	})
	return out, err
}

func appendInvitees(out []string, page []*github.Invitation) []string {
	for _, inv := range page {
		switch {
		case inv.GetLogin() != "":
			out = append(out, inv.GetLogin())
		case inv.GetEmail() != "":
			out = append(out, strings.ToLower(inv.GetEmail()))
		}
	}
	return out
}

// Account is what GitHub says about a login.
type Account struct {
	// Login is the login as GitHub spells it.
	Login string
	// Type is "User", "Bot" or "Organization".
	Type string
	// Suspended is true when GitHub reports the account suspended (GitHub
	// Enterprise Server reports suspended_at).
	Suspended bool
}

// User looks up an account by login. A login GitHub does not show (never
// existed, deleted, renamed, or hidden from this token) is an error for
// which IsNotFound holds.
func (c *Client) User(ctx context.Context, login string) (Account, error) {
	u, _, err := c.gh.Users.Get(ctx, login)
	if err != nil {
		return Account{}, classify(fmt.Sprintf("look up user %s", login), err)
	}
	return Account{Login: u.GetLogin(), Type: u.GetType(), Suspended: u.SuspendedAt != nil}, nil
}

// IsOrganizationMember reports whether login is a member of org, public or
// concealed. An App needs "Members: read" to see concealed members.
func (c *Client) IsOrganizationMember(ctx context.Context, org, login string) (bool, error) {
	member, _, err := c.gh.Organizations.IsMember(ctx, org, login)
	if err != nil {
		return false, classify(fmt.Sprintf("check whether %s is a member of %s", login, org), err)
	}
	return member, nil
}
