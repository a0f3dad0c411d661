package accessreview_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/accessreview"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

const org, repoName = "example-org", "models"

// realisticCODEOWNERS is the sample repository's file with the owner
// problems an access review exists to find.
const realisticCODEOWNERS = `# Control files.
/CODEOWNERS                 @example-org/platform-admins
/.github/                   @example-org/platform-admins
/schemas/                   @example-org/platform-admins
/docs/[ab].md               @alice

/environments/dev/          @example-org/ml-engineers ml-ops@example.com
/environments/test/         @example-org/model-validators @judy
/environments/prod/         @example-org/model-risk @example-org/release-managers @ivan @example-org/secret-reviewers
`

// world builds an organization on the emulator: platform admins with a
// child team, an engineer without write access, a validator team of one
// with an invitation pending, production owners down to one person, a
// deleted user, a user who left, and a team the App cannot see.
func world(t *testing.T) accessreview.GitHub {
	t.Helper()
	f := githubtest.NewFixture(t, githubtest.Config{})
	f.AddRepo(t, org, repoName, "main")
	em := f.Emulator
	em.AddInstallation(1, org, org+"/"+repoName)
	perm := func(login, role string) {
		if err := em.SetPermission(org, repoName, login, role); err != nil {
			t.Fatal(err)
		}
	}
	em.AddTeamMember(org, "platform-admins", "alice", "active")
	em.AddTeamMember(org, "platform-admins", "bob", "active")
	em.AddChildTeam(org, "platform-admins", "security-leads")
	em.AddTeamMember(org, "security-leads", "carol", "active")
	perm("alice", "admin")
	perm("bob", "maintain")
	perm("carol", "admin")
	em.AddTeamMember(org, "ml-engineers", "dan", "active")
	em.AddTeamMember(org, "ml-engineers", "eve", "active")
	perm("dan", "write")
	perm("eve", "read")
	em.AddTeamMember(org, "model-validators", "frank", "active")
	em.AddTeamMember(org, "model-validators", "grace", "pending")
	perm("frank", "write")
	em.AddTeamMember(org, "model-risk", "heidi", "active")
	em.AddTeamMember(org, "release-managers", "heidi", "active")
	perm("heidi", "write")
	em.AddUser("ivan", "ivan@example.com")
	em.DeleteUser("ivan")
	em.AddUser("judy", "judy@example.com") // left the organization; no access
	em.InviteToOrg(org, "", "new-hire@example.com", "alice")
	tok, err := em.InstallationToken(1)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := githubapi.New(githubapi.Config{BaseURL: f.URL(), Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	c, err := apps.Client()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func realisticPolicy() *policy.Policy {
	return &policy.Policy{
		Environments: []policy.Environment{
			{Name: "dev", Approvals: 0}, {Name: "test", From: "dev", Approvals: 1}, {Name: "prod", From: "test", Approvals: 2},
		},
		Artifacts:  policy.Artifacts{TrustedKeys: []string{".github/keys/model-signing.pub"}},
		Governance: policy.Governance{Approvals: 2},
	}
}

func TestReviewAgainstGitHub(t *testing.T) {
	gh := world(t)
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	files := []string{
		".github/promobot.yaml", "CODEOWNERS", "schemas/policy.schema.json",
		"environments/dev/elasticnet-ndx.yaml", "environments/test/elasticnet-ndx.yaml",
		"environments/prod/elasticnet-ndx.yaml", "environments/prod/elasticnet-ndx-threshold.yaml",
	}
	reqs := accessreview.Requirements(accessreview.Repository{Policy: realisticPolicy(), Files: files, CODEOWNERSPath: "CODEOWNERS"}, accessreview.DefaultSources)
	promotions := []accessreview.Promotion{
		{Environment: "test", Author: "frank", Time: now.AddDate(0, 0, -3)},
		{Environment: "test", Author: "frank", Time: now.AddDate(0, 0, -10)},
		{Environment: "test", Author: "frank", Time: now.AddDate(0, 0, -20)},
		{Environment: "test", Author: "dan", Time: now.AddDate(0, 0, -30)},
	}
	snap, err := accessreview.Gather(t.Context(), gh, accessreview.Input{
		Owner: org, Repo: repoName, CODEOWNERSPath: "CODEOWNERS", CODEOWNERS: []byte(realisticCODEOWNERS),
		Requirements: reqs, Promotions: promotions, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := accessreview.Review(snap, accessreview.Options{WindowDays: 90})

	if !rep.Unsatisfiable {
		t.Errorf("the production gate has one eligible owner for two approvals, yet the report is satisfiable")
	}
	type found struct{ Kind, Subject string }
	var got []found
	for _, f := range rep.Findings {
		subject := f.Path
		if f.Person != "" {
			subject = f.Person
		} else if f.Owner != "" {
			subject = f.Owner
		}
		got = append(got, found{string(f.Kind), subject})
	}
	want := []found{
		{"gate-unsatisfiable", "environments/prod/elasticnet-ndx-threshold.yaml"},
		{"gate-unsatisfiable", "environments/prod/elasticnet-ndx.yaml"},
		{"codeowners-line-skipped", "CODEOWNERS:5:7"},
		{"email-owner-unresolved", "ml-ops@example.com"},
		{"owner-without-write-access", "eve"},
		{"owner-gone", "@judy"},
		{"gate-depends-on-person", "frank"},
		{"owner-not-visible", "@example-org/secret-reviewers"},
		{"owner-not-visible", "@ivan"},
		{"maker-checker-pressure", "frank"},
		{"pending-invitation", "grace"},
		{"one-person-eligible-for-production", "heidi"},
		{"pending-invitation", "new-hire@example.com"},
	}
	sortFound := func(s []found) {
		slices.SortFunc(s, func(a, b found) int { return strings.Compare(a.Kind+a.Subject, b.Kind+b.Subject) })
	}
	sortFound(got)
	sortFound(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
		for _, f := range rep.Findings {
			t.Log(f.Message)
		}
	}

	gate := func(scope, env string) accessreview.Gate {
		for _, g := range rep.Gates {
			if g.Scope == scope && g.Environment == env {
				return g
			}
		}
		t.Fatalf("no gate %s %s", scope, env)
		return accessreview.Gate{}
	}
	if got := gate("control", "").Eligible; !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Errorf("control files eligible = %v; want the platform admins with the child team's carol", got)
	}
	if got := gate("environment", "test").Invited; !slices.Equal(got, []string{"grace"}) {
		t.Errorf("test invited = %v, want grace (listed, not counted)", got)
	}
	if got := gate("environment", "test").Eligible; !slices.Equal(got, []string{"frank"}) {
		t.Errorf("test eligible = %v, want frank alone", got)
	}
}
