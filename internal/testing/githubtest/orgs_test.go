package githubtest

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-github/v60/github"
)

// driveOrgEndpoints calls the organization routes of orgs.go for the
// conformance test, with child teams, invitations and a gone account.
func driveOrgEndpoints(t *testing.T, app *github.Client, em *Emulator) {
	t.Helper()
	ctx := t.Context()
	em.AddChildTeam(org, "ml-owners", "ml-leads")
	em.AddTeamMember(org, "ml-leads", "erin", "active")
	em.AddTeamMember(org, "ml-leads", "frank", "pending")
	em.InviteToOrg(org, "frank", "", "bob")
	em.InviteToOrg(org, "", "grace@example.com", "bob")
	em.AddOrgMember(org, "heidi")

	members, _, err := app.Teams.ListTeamMembersBySlug(ctx, org, "ml-owners", nil)
	if err != nil {
		t.Fatalf("team members with a child team: %v", err)
	}
	var logins []string
	for _, u := range members {
		logins = append(logins, u.GetLogin())
	}
	if !slices.Contains(logins, "erin") || slices.Contains(logins, "frank") {
		t.Errorf("members of ml-owners = %v, want the child team's active member erin and not the invited frank", logins)
	}
	invs, _, err := app.Teams.ListPendingTeamInvitationsBySlug(ctx, org, "ml-leads", nil)
	if err != nil || len(invs) != 1 || invs[0].GetLogin() != "frank" {
		t.Fatalf("team invitations = %v, %v; want frank", invs, err)
	}
	orgInvs, _, err := app.Organizations.ListPendingOrgInvitations(ctx, org, nil)
	if err != nil || len(orgInvs) != 2 {
		t.Fatalf("organization invitations = %v, %v; want two", orgInvs, err)
	}
	for login, want := range map[string]bool{"heidi": true, "erin": true, "frank": false} {
		member, _, err := app.Organizations.IsMember(ctx, org, login)
		if err != nil || member != want {
			t.Errorf("IsMember(%s) = %v, %v; want %v", login, member, err, want)
		}
	}
	if _, _, err := app.Users.Get(ctx, "erin"); err != nil {
		t.Fatalf("get user: %v", err)
	}
	em.DeleteUser("erin")
	_, resp, _ := app.Users.Get(ctx, "erin")
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("get deleted user: %v, want 404", resp)
	}
}
