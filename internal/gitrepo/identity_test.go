package gitrepo

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/evaluate"
)

func TestNoreplyLogin(t *testing.T) {
	tests := []struct {
		email, want string
	}{
		{"12345+octo-cat@users.noreply.github.com", "octo-cat"},
		{"octocat@users.noreply.github.com", "octocat"},
		{"OctoCat@Users.NoReply.GitHub.com", "OctoCat"},
		{"+octocat@users.noreply.github.com", ""},
		{"12a+octocat@users.noreply.github.com", ""},
		{"12345+@users.noreply.github.com", ""},
		{"-octocat@users.noreply.github.com", ""},
		{"octo--cat@users.noreply.github.com", ""},
		{"octo.cat@users.noreply.github.com", ""},
		{"octocat@users.noreply.github.com.evil.example", ""},
		{"octocat@evil-users.noreply.github.com", ""},
		{"noreply@github.com", ""},
		{"octocat@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			if got := noreplyLogin(tt.email); got != tt.want {
				t.Errorf("noreplyLogin(%q) = %q, want %q", tt.email, got, tt.want)
			}
		})
	}
}

func TestCoAuthors(t *testing.T) {
	ids := newIdentities(map[string]string{"Dee@Example.com": "dee"})
	tests := []struct {
		name    string
		message string
		want    []evaluate.Identity
	}{
		{name: "none", message: "Just a subject\n\nBody text.\n"},
		{
			name:    "name and address",
			message: "Subject\n\nCo-authored-by: Dee Dee <dee@example.com>\n",
			want:    []evaluate.Identity{{Name: "Dee Dee", Email: "dee@example.com", Login: "dee"}},
		},
		{
			name:    "quoted name and noreply",
			message: "Subject\n\nCo-authored-by: \"Eve, E.\" <99+eve@users.noreply.github.com>",
			want:    []evaluate.Identity{{Name: "Eve, E.", Email: "99+eve@users.noreply.github.com", Login: "eve"}},
		},
		{
			name:    "bare address",
			message: "Co-authored-by: fay@example.com",
			want:    []evaluate.Identity{{Email: "fay@example.com"}},
		},
		{
			name:    "any case, indented, CRLF, mid-message",
			message: "Subject\r\n  CO-AUTHORED-BY:   Gil <gil@example.com>  \r\n\r\nMore text\r\n",
			want:    []evaluate.Identity{{Name: "Gil", Email: "gil@example.com"}},
		},
		{
			name:    "duplicates by address",
			message: "Co-authored-by: Dee <dee@example.com>\nCo-authored-by: Dee D <DEE@example.com>\n",
			want:    []evaluate.Identity{{Name: "Dee", Email: "dee@example.com", Login: "dee"}},
		},
		{
			name:    "unparseable kept as a name",
			message: "Co-authored-by: Hal <not an address>\nCo-authored-by: \n",
			want:    []evaluate.Identity{{Name: "Hal <not an address>"}},
		},
		{
			name:    "not a trailer",
			message: "Co-authored by: Ian <ian@example.com>\nXCo-authored-by: Jo <jo@example.com>\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ids.coAuthors(tt.message)); diff != "" {
				t.Errorf("coAuthors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIdentityPrefersTheExplicitMap(t *testing.T) {
	ids := newIdentities(map[string]string{"12+kim@users.noreply.github.com": "kim-real", "": "ignored", "x@example.com": " "})
	got := ids.identity("Kim", "12+KIM@users.noreply.github.com")
	if got.Login != "kim-real" {
		t.Errorf("login = %q, want kim-real", got.Login)
	}
	if len(ids) != 1 {
		t.Errorf("identities = %v, want empty keys and logins dropped", ids)
	}
}

func FuzzCoAuthors(f *testing.F) {
	f.Add("Co-authored-by: A <a@example.com>\n")
	f.Add("Co-authored-by: <@>\nco-authored-by:x@y")
	ids := newIdentities(nil)
	f.Fuzz(func(t *testing.T, msg string) {
		for _, id := range ids.coAuthors(msg) {
			if id.Login != "" && !ValidLogin(id.Login) {
				t.Fatalf("invalid login %q from %q", id.Login, msg)
			}
		}
	})
}

func TestGitHubsOwnAddressMapsToNobody(t *testing.T) {
	// GitHub attributes noreply@github.com to its web-flow account, so the
	// bot's map carries it; it must not turn an author into that account.
	ids := newIdentities(map[string]string{"noreply@github.com": "web-flow", "99+kim@users.noreply.github.com": "kim"})
	tests := []struct {
		email string
		want  string
	}{
		{"noreply@github.com", ""},
		{" NoReply@GitHub.com ", ""},
		{"99+kim@users.noreply.github.com", "kim"},
		{"7+lee@users.noreply.github.com", "lee"},
	}
	for _, tt := range tests {
		if got := ids.identity("Someone", tt.email).Login; got != tt.want {
			t.Errorf("identity(%q).Login = %q, want %q", tt.email, got, tt.want)
		}
	}
}
