package codeowners

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMatchPatternForms checks every pattern form GitHub documents, one
// pattern per case, against paths that must and must not match.
func TestMatchPatternForms(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		match   []string
		noMatch []string
	}{
		{
			name:    "single star matches everything",
			pattern: "*",
			match:   []string{"a", "a/b", "a/b/c.yaml", ".github/CODEOWNERS"},
		},
		{
			name:    "extension glob matches at any depth",
			pattern: "*.js",
			match:   []string{"a.js", "src/a.js", "a/b/c/.js", "dir.js/file"},
			noMatch: []string{"a.jsx", "a.js.map", "js", "src/ajs"},
		},
		{
			name:    "literal name without slash matches at any depth",
			pattern: "README.md",
			match:   []string{"README.md", "docs/README.md", "a/b/README.md", "README.md/inside"},
			noMatch: []string{"README.mdx", "xREADME.md", "readme.md", "docs/README"},
		},
		{
			name:    "trailing slash matches a directory at any depth",
			pattern: "apps/",
			match:   []string{"apps/x", "apps/x/y", "a/apps/x", "a/b/apps/c/d"},
			noMatch: []string{"apps", "a/apps", "myapps/x", "apps.go"},
		},
		{
			name:    "leading and trailing slash matches a root directory",
			pattern: "/build/logs/",
			match:   []string{"build/logs/x", "build/logs/a/b"},
			noMatch: []string{"build/logs", "x/build/logs/y", "build/logsx/y", "build/x"},
		},
		{
			name:    "middle slash anchors at the root",
			pattern: "apps/github",
			match:   []string{"apps/github", "apps/github/x/y"},
			noMatch: []string{"x/apps/github", "apps/githubx", "apps/git"},
		},
		{
			name:    "leading slash anchors a literal and covers what is below it",
			pattern: "/apps/github",
			match:   []string{"apps/github", "apps/github/index.js"},
			noMatch: []string{"apps/githubx", "x/apps/github", "apps"},
		},
		{
			name:    "leading slash single name is root only",
			pattern: "/Makefile",
			match:   []string{"Makefile", "Makefile/x"},
			noMatch: []string{"src/Makefile"},
		},
		{
			name:    "directory star matches direct children only",
			pattern: "docs/*",
			match:   []string{"docs/getting-started.md", "docs/x"},
			noMatch: []string{"docs/build-app/troubleshooting.md", "x/docs/a.md", "docs"},
		},
		{
			name:    "anchored directory star matches direct children only",
			pattern: "/docs/*",
			match:   []string{"docs/a.md"},
			noMatch: []string{"docs/a/b.md", "src/docs/a.md"},
		},
		{
			name:    "root star matches root files only",
			pattern: "/*",
			match:   []string{"a", "go.mod"},
			noMatch: []string{"a/b", "docs/x.md"},
		},
		{
			name:    "star in a segment does not cross slashes",
			pattern: "/src/*.go",
			match:   []string{"src/a.go", "src/.go", "src/x.go/y"},
			noMatch: []string{"src/x/a.go", "a.go", "src/a.gox"},
		},
		{
			name:    "star in the middle of a segment",
			pattern: "/environments/*/model-*.yaml",
			match:   []string{"environments/dev/model-a.yaml", "environments/prod/model-.yaml"},
			noMatch: []string{"environments/dev/x/model-a.yaml", "environments/model-a.yaml", "environments/dev/model-a.yml"},
		},
		{
			name:    "leading double star matches at any depth",
			pattern: "**/logs",
			match:   []string{"logs", "build/logs", "deeply/nested/logs", "a/logs/x.txt"},
			noMatch: []string{"logsx", "a/xlogs", "a/logs.txt"},
		},
		{
			name:    "trailing double star matches everything inside",
			pattern: "docs/**",
			match:   []string{"docs/a", "docs/a/b/c"},
			noMatch: []string{"docs", "x/docs/a", "docsx/a"},
		},
		{
			name:    "middle double star matches zero or more directories",
			pattern: "a/**/b",
			match:   []string{"a/b", "a/x/b", "a/x/y/b", "a/x/b/c"},
			noMatch: []string{"a/xb", "x/a/b", "a/x/bc", "a"},
		},
		{
			name:    "leading slash double star matches everything",
			pattern: "/**",
			match:   []string{"a", "a/b/c"},
		},
		{
			name:    "double star alone matches everything",
			pattern: "**",
			match:   []string{"a", "a/b/c"},
		},
		{
			name:    "double star with trailing slash reads as double star",
			pattern: "**/",
			match:   []string{"a", "a/b", "a/b/c"},
		},
		{
			name:    "trailing double star and slash reads as trailing double star",
			pattern: "/docs/**/",
			match:   []string{"docs/a", "docs/a/b"},
			noMatch: []string{"docs", "x/docs/a"},
		},
		{
			name:    "double star with extension",
			pattern: "/environments/**/*.yaml",
			match:   []string{"environments/a.yaml", "environments/prod/a.yaml", "environments/p/q/a.yaml"},
			noMatch: []string{"a.yaml", "environments/prod/a.yml", "x/environments/a.yaml"},
		},
		{
			name:    "asterisks inside a segment act as one star",
			pattern: "a**b",
			match:   []string{"ab", "axxb", "dir/axb"},
			noMatch: []string{"a/b", "ba"},
		},
		{
			name:    "three asterisks as a segment act as double star",
			pattern: "x/***/y",
			match:   []string{"x/y", "x/a/b/y"},
			noMatch: []string{"x/ay"},
		},
		{
			name:    "question mark matches one character",
			pattern: "file?.txt",
			match:   []string{"file1.txt", "a/fileé.txt", "file?.txt"},
			noMatch: []string{"file.txt", "file10.txt"},
		},
		{
			name:    "question mark does not match a slash",
			pattern: "/a?b",
			match:   []string{"axb"},
			noMatch: []string{"a/b", "ab"},
		},
		{
			name:    "escaped spaces are part of the pattern",
			pattern: `path\ with\ spaces/`,
			match:   []string{"path with spaces/x", "a/path with spaces/b"},
			noMatch: []string{"path/x", "path with/x"},
		},
		{
			name:    "escaped hash inside a pattern is literal",
			pattern: `/foo\#bar`,
			match:   []string{"foo#bar"},
			noMatch: []string{"foo", `foo\#bar`},
		},
		{
			name:    "unescaped hash inside a pattern is literal",
			pattern: "/issue#12.md",
			match:   []string{"issue#12.md"},
			noMatch: []string{"issue"},
		},
		{
			name:    "escaped star is literal",
			pattern: `\*.md`,
			match:   []string{"*.md", "a/*.md"},
			noMatch: []string{"a.md"},
		},
		{
			name:    "escaped question mark is literal",
			pattern: `/what\?`,
			match:   []string{"what?"},
			noMatch: []string{"whatx"},
		},
		{
			name:    "escaped exclamation mark is literal",
			pattern: `\!important`,
			match:   []string{"!important", "a/!important"},
			noMatch: []string{"important"},
		},
		{
			name:    "exclamation mark after the start is literal",
			pattern: "/a!b",
			match:   []string{"a!b"},
		},
		{
			name:    "doubled slash counts as one",
			pattern: "/a//b",
			match:   []string{"a/b"},
			noMatch: []string{"b"},
		},
		{
			name:    "paths are case sensitive",
			pattern: "/Docs/",
			match:   []string{"Docs/a"},
			noMatch: []string{"docs/a", "DOCS/a"},
		},
		{
			name:    "exact manifest path",
			pattern: "/environments/prod/fraud-model.yaml",
			match:   []string{"environments/prod/fraud-model.yaml"},
			noMatch: []string{"environments/prod/fraud-model.yml", "environments/prod/fraud-model.yaml.bak", "environments/staging/fraud-model.yaml"},
		},
		{
			name:    "non-ASCII names",
			pattern: "/données/*",
			match:   []string{"données/x"},
			noMatch: []string{"donnees/x"},
		},
		{
			name:    "leading slash and dot slash in the path are ignored",
			pattern: "/docs/*",
			match:   []string{"/docs/a.md", "./docs/a.md"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, warns := Parse([]byte(tt.pattern + " @owner\n"))
			if len(warns) != 0 {
				t.Fatalf("Parse(%q) warnings: %v", tt.pattern, warns)
			}
			for _, p := range tt.match {
				if _, ok := f.Match(p); !ok {
					t.Errorf("pattern %q does not match %q, want match", tt.pattern, p)
				}
			}
			for _, p := range tt.noMatch {
				if r, ok := f.Match(p); ok {
					t.Errorf("pattern %q matches %q (rule %+v), want no match", tt.pattern, p, r)
				}
			}
		})
	}
}

func user(v string) Owner  { return Owner{Kind: OwnerUser, Value: v} }
func team(v string) Owner  { return Owner{Kind: OwnerTeam, Value: v} }
func email(v string) Owner { return Owner{Kind: OwnerEmail, Value: v} }

// TestMatchRules checks precedence, ownerless rules and the rule returned.
func TestMatchRules(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		path   string
		want   Rule
		wantOK bool
	}{
		{
			name:   "last matching line wins",
			file:   "* @global\n*.js @js-owner\n",
			path:   "src/app.js",
			want:   Rule{Pattern: "*.js", Line: 2, Owners: []Owner{user("@js-owner")}},
			wantOK: true,
		},
		{
			name:   "earlier line applies when later does not match",
			file:   "* @global\n*.js @js-owner\n",
			path:   "main.go",
			want:   Rule{Pattern: "*", Line: 1, Owners: []Owner{user("@global")}},
			wantOK: true,
		},
		{
			name:   "later broad line overrides earlier specific line",
			file:   "/environments/prod/m.yaml @alice\n/environments/ @org/platform\n",
			path:   "environments/prod/m.yaml",
			want:   Rule{Pattern: "/environments/", Line: 2, Owners: []Owner{team("@org/platform")}},
			wantOK: true,
		},
		{
			name:   "line without owners makes the path unowned",
			file:   "/apps/ @octocat\n/apps/github\n",
			path:   "apps/github/index.js",
			want:   Rule{Pattern: "/apps/github", Line: 2},
			wantOK: true,
		},
		{
			name:   "sibling of an ownerless directory keeps its owner",
			file:   "/apps/ @octocat\n/apps/github\n",
			path:   "apps/main/index.js",
			want:   Rule{Pattern: "/apps/", Line: 1, Owners: []Owner{user("@octocat")}},
			wantOK: true,
		},
		{
			name: "no matching line",
			file: "README.md @docs\n",
			path: "main.go",
		},
		{
			name:   "name anywhere beats older root glob",
			file:   "/docs/* @b\nREADME.md @a\n",
			path:   "docs/README.md",
			want:   Rule{Pattern: "README.md", Line: 2, Owners: []Owner{user("@a")}},
			wantOK: true,
		},
		{
			name:   "root glob beats older name anywhere",
			file:   "README.md @a\n/docs/* @b\n",
			path:   "docs/README.md",
			want:   Rule{Pattern: "/docs/*", Line: 2, Owners: []Owner{user("@b")}},
			wantOK: true,
		},
		{
			name:   "unanchored glob beats older exact path",
			file:   "/environments/prod/m.yaml @alice\n*.yaml @yaml\n",
			path:   "environments/prod/m.yaml",
			want:   Rule{Pattern: "*.yaml", Line: 2, Owners: []Owner{user("@yaml")}},
			wantOK: true,
		},
		{
			name:   "owners of all kinds keep their order and spelling",
			file:   "*.go @Alice @Org/Team bob@Example.COM\n",
			path:   "x.go",
			want:   Rule{Pattern: "*.go", Line: 1, Owners: []Owner{user("@Alice"), team("@Org/Team"), email("bob@Example.COM")}},
			wantOK: true,
		},
		{
			name:   "duplicate owners differing in case are kept once",
			file:   "*.go @alice @ALICE @org/t @Org/T\n",
			path:   "x.go",
			want:   Rule{Pattern: "*.go", Line: 1, Owners: []Owner{user("@alice"), team("@org/t")}},
			wantOK: true,
		},
		{
			name:   "inline comment after owners",
			file:   "*.js    @js-owner #This is an inline comment.\n",
			path:   "a.js",
			want:   Rule{Pattern: "*.js", Line: 1, Owners: []Owner{user("@js-owner")}},
			wantOK: true,
		},
		{
			name:   "comments, blank lines and CRLF keep line numbers",
			file:   "# comment\r\n\r\n   \r\n\t# indented comment\r\n/x @a\r\n",
			path:   "x",
			want:   Rule{Pattern: "/x", Line: 5, Owners: []Owner{user("@a")}},
			wantOK: true,
		},
		{
			name:   "tabs separate fields",
			file:   "/x\t@a\t\t@b",
			path:   "x",
			want:   Rule{Pattern: "/x", Line: 1, Owners: []Owner{user("@a"), user("@b")}},
			wantOK: true,
		},
		{
			name:   "byte order mark is ignored",
			file:   "\ufeff/x @a\n",
			path:   "x",
			want:   Rule{Pattern: "/x", Line: 1, Owners: []Owner{user("@a")}},
			wantOK: true,
		},
		{
			name:   "indented rule",
			file:   "   /x @a\n",
			path:   "x",
			want:   Rule{Pattern: "/x", Line: 1, Owners: []Owner{user("@a")}},
			wantOK: true,
		},
		{
			name: "empty path matches nothing",
			file: "* @a\n",
			path: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, warns := Parse([]byte(tt.file))
			if len(warns) != 0 {
				t.Fatalf("Parse warnings: %v", warns)
			}
			got, ok := f.Match(tt.path)
			if ok != tt.wantOK {
				t.Fatalf("Match(%q) ok = %v, want %v", tt.path, ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Match(%q) mismatch (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

// githubDocsExample is the example file of GitHub's "About code owners" page,
// shortened and with the comments rewritten.
const githubDocsExample = `# Default owners.
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
`

func TestMatchGitHubDocsExample(t *testing.T) {
	f, warns := Parse([]byte(githubDocsExample))
	if len(warns) != 0 {
		t.Fatalf("Parse warnings: %v", warns)
	}
	tests := []struct {
		name     string
		path     string
		wantLine int
	}{
		{"default owners", "Makefile", 2},
		{"javascript anywhere", "web/app.js", 3},
		{"go files by email", "cmd/main.go", 4},
		{"team owns txt", "notes.txt", 5},
		{"logs anywhere overrides the root build logs", "build/logs/today.txt", 11},
		{"docs directory at root", "docs/build-app/troubleshooting.md", 9},
		{"apps anywhere", "lib/apps/x.rb", 8},
		{"scripts at root", "scripts/deploy.sh", 10},
		{"logs anywhere", "deeply/nested/logs/x", 11},
		{"apps at root", "apps/main.rb", 12},
		{"apps github unowned", "apps/github/x.rb", 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := f.Match(tt.path)
			if !ok || r.Line != tt.wantLine {
				t.Errorf("Match(%q) = line %d (ok %v), want line %d", tt.path, r.Line, ok, tt.wantLine)
			}
		})
	}
}

func TestMatchReturnsACopyOfOwners(t *testing.T) {
	f, _ := Parse([]byte("* @a @b\n"))
	r, _ := f.Match("x")
	r.Owners[0] = user("@mallory")
	r2, _ := f.Match("x")
	if diff := cmp.Diff([]Owner{user("@a"), user("@b")}, r2.Owners); diff != "" {
		t.Errorf("owners changed through a returned rule (-want +got):\n%s", diff)
	}
	rules := f.Rules()
	rules[0].Owners[0] = user("@mallory")
	if got := f.Rules()[0].Owners[0]; got != user("@a") {
		t.Errorf("owners changed through Rules: %v", got)
	}
}

// TestIndexAgreesWithLinearScan checks the index against trying every rule in
// reverse order on a file mixing every kind of rule.
func TestIndexAgreesWithLinearScan(t *testing.T) {
	var b strings.Builder
	for _, l := range []string{
		"* @all", "*.yaml @yaml", "/environments/ @envs", "README.md @readme",
		"/environments/prod/ @prod", "/environments/*/a.yaml @star", "docs/ @docs",
		"/environments/prod/a.yaml @pa", "**/b.yaml @b", "/environments/**/c.yaml @c",
		"/environments/prod/a.yaml/x @deep", "a.yaml @anywhere-a", "/docs/* @rootdocs",
		"environments/dev", "prod/ @prod-anywhere",
	} {
		b.WriteString(l + "\n")
	}
	f, warns := Parse([]byte(b.String()))
	if len(warns) != 0 {
		t.Fatalf("Parse warnings: %v", warns)
	}
	for _, p := range []string{
		"environments/prod/a.yaml", "environments/dev/a.yaml", "environments/dev/b.yaml",
		"environments/prod/x/c.yaml", "environments/prod/a.yaml/x/y", "docs/README.md",
		"x/docs/y", "README.md", "a.yaml", "environments/dev/x", "x/prod/y", "prod",
		"environments/prod/README.md", "q",
	} {
		got, gotOK := f.Match(p)
		want, wantOK := linearMatch(f, p)
		if gotOK != wantOK || got.Line != want.Line {
			t.Errorf("Match(%q) = line %d (%v), linear scan gives line %d (%v)", p, got.Line, gotOK, want.Line, wantOK)
		}
	}
}

// linearMatch is the obvious implementation of Match used to check the index.
func linearMatch(f *File, path string) (Rule, bool) {
	segs := splitPath(path, nil)
	if len(segs) == 0 {
		return Rule{}, false
	}
	for i := len(f.patterns) - 1; i >= 0; i-- {
		if f.patterns[i].match(segs) {
			return f.rules[i], true
		}
	}
	return Rule{}, false
}
