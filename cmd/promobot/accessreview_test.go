package main

import (
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/gittest"
)

// TestAccessReviewCommand runs access-review on the shared history with a
// CODEOWNERS file whose production owners are down to one person: the gate
// is unsatisfiable, so the command exits 1, in every format.
func TestAccessReviewCommand(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	em := f.h.Fixture.Emulator
	gittest.MustCommit(t, f.h.Path, gittest.Commit{
		Branch: "main", Message: "Add CODEOWNERS\n",
		Author: gittest.Signature{Name: "Dave Admin", Email: "dave@example.com", When: f.h.Now().Add(time.Hour)},
		Files:  map[string]string{"CODEOWNERS": "/.github/ @acme/admins\n/environments/dev/ @acme/ml\n/environments/test/ @acme/ml\n/environments/prod/ @acme/risk @ghost\n"},
	})
	em.AddTeamMember("acme", "admins", "dave", "active")
	em.AddChildTeam("acme", "admins", "leads")
	em.AddTeamMember("acme", "leads", "alice", "active")
	em.AddTeamMember("acme", "ml", "alice", "active")
	em.AddTeamMember("acme", "ml", "bob", "active")
	em.AddTeamMember("acme", "risk", "carol", "active")
	em.AddTeamMember("acme", "risk", "mallory", "pending")
	for login, role := range map[string]string{"alice": "write", "bob": "write", "carol": "write", "dave": "admin"} {
		if err := em.SetPermission("acme", "models", login, role); err != nil {
			t.Fatal(err)
		}
	}

	for _, format := range []string{"text", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			res := f.run(t, t.TempDir(), append([]string{"access-review", "--format", format}, f.github...)...)
			if res.code != exitFailed {
				t.Fatalf("exit %d, want 1 (unsatisfiable prod gate)\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			for _, want := range []string{"gate-unsatisfiable", "owner-not-visible", "mallory"} {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, res.stdout)
				}
			}
			if format == "json" {
				assertSchema(t, "access-review-output.schema.json", res.stdout)
			}
		})
	}
	res := f.run(t, t.TempDir(), append([]string{"access-review", "--format", "csv"}, f.github...)...)
	if res.code != exitUsage {
		t.Errorf("--format csv: exit %d, want 2", res.code)
	}
}
