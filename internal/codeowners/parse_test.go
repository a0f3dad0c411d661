package codeowners

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseWarnings(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		wantWarns []Warning
		wantRules []Rule
	}{
		{
			name: "negation is unsupported",
			file: "* @a\n!*.log @b\n",
			wantWarns: []Warning{
				{Line: 2, Column: 1, Message: "negation (!) is not supported in CODEOWNERS; line ignored"},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1, Owners: []Owner{user("@a")}}},
		},
		{
			name: "character range is unsupported",
			file: "  src/*.[ch] @a\n",
			wantWarns: []Warning{
				{Line: 1, Column: 9, Message: "character ranges ([ ]) are not supported in CODEOWNERS; line ignored"},
			},
		},
		{
			name: "closing bracket alone is unsupported",
			file: "/a]b @a\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: "character ranges ([ ]) are not supported in CODEOWNERS; line ignored"},
			},
		},
		{
			name: "escaped leading hash is unsupported",
			file: "\\#notes.md @a\n",
			wantWarns: []Warning{
				{Line: 1, Column: 1, Message: `escaping a leading "#" is not supported in CODEOWNERS; line ignored`},
			},
		},
		{
			name: "slash alone never matches",
			file: "/ @a\n",
			wantWarns: []Warning{
				{Line: 1, Column: 1, Message: `pattern "/" never matches anything (did you mean "*"?); line ignored`},
			},
		},
		{
			name: "slashes only have no segments",
			file: "// @a\n",
			wantWarns: []Warning{
				{Line: 1, Column: 1, Message: "pattern has no path segments; line ignored"},
			},
		},
		{
			name: "unfinished escape at the end of the line",
			file: "foo\\",
			wantWarns: []Warning{
				{Line: 1, Column: 4, Message: `pattern ends with an unfinished escape "\"; line ignored`},
			},
		},
		{
			name: "owner without at sign is dropped, others kept",
			file: "*.go alice @bob\n",
			wantWarns: []Warning{
				{Line: 1, Column: 6, Message: `invalid owner "alice": expected @username, @org/team-name or an email address; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*.go", Line: 1, Owners: []Owner{user("@bob")}}},
		},
		{
			name: "line with no valid owner has no owners",
			file: "/secret/ @\n",
			wantWarns: []Warning{
				{Line: 1, Column: 10, Message: `invalid owner "@": name is empty; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "/secret/", Line: 1}},
		},
		{
			name: "username starting with a hyphen",
			file: "* @-bob\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: `invalid owner "@-bob": name must start with a letter or digit; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1}},
		},
		{
			name: "username with a dot",
			file: "* @bob.smith\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: `invalid owner "@bob.smith": name has the character '.', but only letters, digits, '-' and '_' are allowed; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1}},
		},
		{
			name: "two handles run together",
			file: "* @alice@bob @carol\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: `invalid owner "@alice@bob": name has the character '@', but only letters, digits, '-' and '_' are allowed; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1, Owners: []Owner{user("@carol")}}},
		},
		{
			name: "team with an empty slug",
			file: "* @org/\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: `invalid owner "@org/": team name is empty; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1}},
		},
		{
			name: "team nested twice",
			file: "* @org/a/b\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: `invalid owner "@org/a/b": team name has the character '/', but only letters, digits, '-' and '_' are allowed; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1}},
		},
		{
			name: "team with an invalid organization",
			file: "* @_org/team\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: `invalid owner "@_org/team": organization name must start with a letter or digit; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1}},
		},
		{
			name: "email without a dot in the domain",
			file: "* a@localhost\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: `invalid owner "a@localhost": email domain must have at least two labels; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1}},
		},
		{
			name: "email with an empty local part",
			file: "* @example.com x@@y.com\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: `invalid owner "@example.com": name has the character '.', but only letters, digits, '-' and '_' are allowed; owner ignored`},
				{Line: 1, Column: 16, Message: `invalid owner "x@@y.com": email address has more than one '@'; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1}},
		},
		{
			name: "email with a bad local part and a numeric top-level domain",
			file: "* .a@b.com a@b.123 a@-b.com\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: `invalid owner ".a@b.com": email address has an invalid local part; owner ignored`},
				{Line: 1, Column: 12, Message: `invalid owner "a@b.123": email domain has an invalid top-level domain "123"; owner ignored`},
				{Line: 1, Column: 20, Message: `invalid owner "a@-b.com": email domain has an invalid label "-b"; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1}},
		},
		{
			name: "emails that strict validators reject are accepted",
			file: "* first.o'hara+ci@example.technology x_y%z@mail.example.co.uk u@xn--p1ai.xn--p1ai\n",
			wantRules: []Rule{{Pattern: "*", Line: 1, Owners: []Owner{
				email("first.o'hara+ci@example.technology"),
				email("x_y%z@mail.example.co.uk"),
				email("u@xn--p1ai.xn--p1ai"),
			}}},
		},
		{
			name:      "managed user accounts have underscores",
			file:      "* @octocat_acme\n",
			wantRules: []Rule{{Pattern: "*", Line: 1, Owners: []Owner{user("@octocat_acme")}}},
		},
		{
			name: "hash inside an owner token is not a comment",
			file: "* @a#b @c\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: `invalid owner "@a#b": name has the character '#', but only letters, digits, '-' and '_' are allowed; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "*", Line: 1, Owners: []Owner{user("@c")}}},
		},
		{
			name: "owner alone looks like a pattern",
			file: "@alice\n",
			wantWarns: []Warning{
				{Line: 1, Column: 1, Message: `pattern "@alice" looks like an owner, but a line must start with a path pattern`},
			},
			wantRules: []Rule{{Pattern: "@alice", Line: 1}},
		},
		{
			name: "invalid pattern reported before its invalid owners",
			file: "!x bob @ok\n",
			wantWarns: []Warning{
				{Line: 1, Column: 1, Message: "negation (!) is not supported in CODEOWNERS; line ignored"},
				{Line: 1, Column: 4, Message: `invalid owner "bob": expected @username, @org/team-name or an email address; owner ignored`},
			},
		},
		{
			name: "columns count characters, not bytes",
			file: "é/[x] @a\n/ü ñ\n",
			wantWarns: []Warning{
				{Line: 1, Column: 3, Message: "character ranges ([ ]) are not supported in CODEOWNERS; line ignored"},
				{Line: 2, Column: 4, Message: `invalid owner "ñ": expected @username, @org/team-name or an email address; owner ignored`},
			},
			wantRules: []Rule{{Pattern: "/ü", Line: 2}},
		},
		{
			name: "tab counts as one column",
			file: "\t[x] @a\n",
			wantWarns: []Warning{
				{Line: 1, Column: 2, Message: "character ranges ([ ]) are not supported in CODEOWNERS; line ignored"},
			},
		},
		{
			name:      "escaped bracket is a literal",
			file:      `/a\[1\] @a`,
			wantRules: []Rule{{Pattern: `/a\[1\]`, Line: 1, Owners: []Owner{user("@a")}}},
		},
		{
			name: "empty file",
			file: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, warns := Parse([]byte(tt.file))
			if diff := cmp.Diff(tt.wantWarns, warns); diff != "" {
				t.Errorf("warnings mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRules, f.Rules(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("rules mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseBadLineDoesNotDisableOthers checks that GitHub's "that line will be
// skipped" holds: every valid line around invalid ones still applies.
func TestParseBadLineDoesNotDisableOthers(t *testing.T) {
	file := `* @org/platform
!negated @x
/environments/prod/ @org/release
src/*.[ch] @c-team
/environments/prod/fraud.yaml @alice not-an-owner
\#hash @x
/docs/ @org/docs
/
`
	f, warns := Parse([]byte(file))
	var lines []int
	for _, w := range warns {
		lines = append(lines, w.Line)
	}
	if diff := cmp.Diff([]int{2, 4, 5, 6, 8}, lines); diff != "" {
		t.Errorf("warning lines mismatch (-want +got):\n%s", diff)
	}
	tests := []struct {
		path     string
		wantLine int
		owners   []Owner
	}{
		{"go.mod", 1, []Owner{team("@org/platform")}},
		{"negated", 1, []Owner{team("@org/platform")}},
		{"environments/prod/other.yaml", 3, []Owner{team("@org/release")}},
		{"src/x.c", 1, []Owner{team("@org/platform")}},
		{"environments/prod/fraud.yaml", 5, []Owner{user("@alice")}},
		{"docs/a.md", 7, []Owner{team("@org/docs")}},
	}
	for _, tt := range tests {
		r, ok := f.Match(tt.path)
		if !ok || r.Line != tt.wantLine {
			t.Errorf("Match(%q) = line %d (ok %v), want line %d", tt.path, r.Line, ok, tt.wantLine)
			continue
		}
		if diff := cmp.Diff(tt.owners, r.Owners); diff != "" {
			t.Errorf("Match(%q) owners mismatch (-want +got):\n%s", tt.path, diff)
		}
	}
}

func TestWarningString(t *testing.T) {
	w := Warning{Line: 3, Column: 7, Message: "oops"}
	if got, want := w.String(), "line 3, column 7: oops"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestOwner(t *testing.T) {
	tests := []struct {
		name     string
		owner    Owner
		wantStr  string
		wantKey  string
		wantName string
		wantKind string
	}{
		{"user", user("@Alice-B"), "@Alice-B", "@alice-b", "alice-b", "user"},
		{"team", team("@Example-Org/Platform_Team"), "@Example-Org/Platform_Team", "@example-org/platform_team", "example-org/platform_team", "team"},
		{"email", email("Bob@Example.COM"), "Bob@Example.COM", "bob@example.com", "bob@example.com", "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{tt.owner.String(), tt.owner.Key(), tt.owner.Name(), tt.owner.Kind.String()}
			want := []string{tt.wantStr, tt.wantKey, tt.wantName, tt.wantKind}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if got := OwnerKind(9).String(); got != "OwnerKind(9)" {
		t.Errorf("unknown kind String() = %q", got)
	}
}
