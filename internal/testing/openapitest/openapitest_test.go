package openapitest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mini(t *testing.T) *Description {
	t.Helper()
	d, err := Load(filepath.Join("testdata", "mini.json"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMatch(t *testing.T) {
	d := mini(t)
	tests := []struct {
		name, method, path string
		want               string // operationId
		wantErr            string
	}{
		{name: "repository", method: "GET", path: "/repos/acme/models", want: "repos/get"},
		{name: "nested file path", method: "GET", path: "/repos/acme/models/contents/environments/prod/fraud.yaml", want: "repos/get-content"},
		{name: "root directory with trailing slash", method: "GET", path: "/repos/acme/models/contents/", want: "repos/get-content"},
		{name: "escaped slash", method: "GET", path: "/repos/acme/models/contents/a%2Fb.yaml", want: "repos/get-content"},
		{name: "ref with slashes before a literal", method: "GET", path: "/repos/acme/models/commits/feature/x/status", want: "repos/get-combined-status-for-ref"},
		{name: "ref with slashes at the end", method: "GET", path: "/repos/acme/models/commits/feature/x", want: "repos/get-commit"},
		{name: "literal beats parameter", method: "PATCH", path: "/repos/acme/models/issues/comments/5", want: "issues/update-comment"},
		{name: "parameter", method: "PATCH", path: "/repos/acme/models/issues/7", want: "issues/update"},
		{name: "lower-case method", method: "get", path: "/repos/acme/models/issues/7", want: "issues/get"},
		{name: "undocumented method", method: "DELETE", path: "/repos/acme/models/issues/7", wantErr: "openapitest: GitHub documents no operation for DELETE /repos/acme/models/issues/7"},
		{name: "undocumented path", method: "GET", path: "/repos/acme/models/hooks", wantErr: "openapitest: GitHub documents no operation for GET /repos/acme/models/hooks"},
		{name: "empty segment", method: "GET", path: "/repos/acme//contents/x", wantErr: "openapitest: GitHub documents no operation for GET /repos/acme//contents/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, err := d.Match(tt.method, tt.path)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr || op.ID != tt.want {
				t.Errorf("Match = %q, %q; want %q, %q", op.ID, gotErr, tt.want, tt.wantErr)
			}
		})
	}
}

func TestResponsePointer(t *testing.T) {
	d := mini(t)
	tests := []struct {
		name           string
		method, path   string
		status         int
		wantPointer    string
		wantDocumented bool
	}{
		{name: "inline response", method: "GET", path: "/repos/{owner}/{repo}", status: 200, wantDocumented: true,
			wantPointer: "#/paths/~1repos~1{owner}~1{repo}/get/responses/200/content/application~1json/schema"},
		{name: "application/json preferred", method: "GET", path: "/repos/{owner}/{repo}/contents/{path}", status: 200, wantDocumented: true,
			wantPointer: "#/paths/~1repos~1{owner}~1{repo}~1contents~1{path}/get/responses/200/content/application~1json/schema"},
		{name: "shared response", method: "GET", path: "/repos/{owner}/{repo}/contents/{path}", status: 404, wantDocumented: true,
			wantPointer: "#/components/responses/not_found/content/application~1json/schema"},
		{name: "no body", method: "PATCH", path: "/repos/{owner}/{repo}/issues/{issue_number}", status: 204, wantDocumented: true},
		{name: "undocumented status", method: "GET", path: "/repos/{owner}/{repo}", status: 418},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, ok := d.Operation(tt.method, tt.path)
			if !ok {
				t.Fatalf("no operation %s %s", tt.method, tt.path)
			}
			pointer, documented, err := d.ResponsePointer(op, tt.status)
			if err != nil || pointer != tt.wantPointer || documented != tt.wantDocumented {
				t.Errorf("ResponsePointer = %q, %v, %v; want %q, %v", pointer, documented, err, tt.wantPointer, tt.wantDocumented)
			}
		})
	}
}

func TestWebhookPointer(t *testing.T) {
	d := mini(t)
	got, err := d.WebhookPointer("thing-happened")
	if want := "#/x-webhooks/thing-happened/post/requestBody/content/application~1json/schema"; err != nil || got != want {
		t.Errorf("WebhookPointer = %q, %v; want %q", got, err, want)
	}
	if _, err := d.WebhookPointer("thing-vanished"); err == nil || err.Error() != `openapitest: GitHub documents no webhook "thing-vanished"` {
		t.Errorf("unknown webhook: %v", err)
	}
	if diff := cmp.Diff([]string{"thing-happened"}, d.WebhookNames()); diff != "" {
		t.Errorf("WebhookNames (-want +got):\n%s", diff)
	}
}

const validRepo = `{"name": "models", "owner": {"login": "acme", "id": 1}, "template_repository": null, "merged_by": null,
	"visibility": null, "conclusion": null, "pushed_at": "2024-06-01T09:00:00Z", "hooks_url": "http://127.0.0.1:1/repos/acme/models/hooks{/id}",
	"topics": [], "labels": [{"name": "a", "color": "ededed"}], "permissions": {"admin": false, "anything": true}, "custom": {"free": 1}}`

// repoWith returns validRepo with member set to the raw JSON value.
func repoWith(member, value string) string {
	var repo map[string]json.RawMessage
	if err := json.Unmarshal([]byte(validRepo), &repo); err != nil {
		panic(err)
	}
	repo[member] = json.RawMessage(value)
	out, err := json.Marshal(repo)
	if err != nil {
		panic(err)
	}
	return string(out)
}

func TestValidate(t *testing.T) {
	d := mini(t)
	const pointer = "#/components/schemas/repo"
	schemas, err := d.Compile(pointer, pointer)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body string
		want string // Explain output; empty for valid
	}{
		{name: "valid", body: validRepo},
		{name: "nullable composed schema holds a value", body: repoWith("template_repository", `{"login": "t", "id": 2}`)},
		{name: "nullable enum without null in its list", body: repoWith("visibility", `"private"`)},
		{name: "missing required member", body: `{"name": "models"}`,
			want: `  at "" (schema #/components/schemas/repo/required): missing properties: 'owner'`},
		{name: "wrong type", body: repoWith("topics", `"ml"`),
			want: `  at "/topics" (schema #/components/schemas/repo/properties/topics/type): expected array, but got string`},
		{name: "null where not nullable", body: repoWith("owner", `null`),
			want: `  at "/owner" (schema #/components/schemas/user/type): expected object, but got null`},
		{name: "nullable composed schema checks its value", body: repoWith("template_repository", `{"login": "t"}`),
			want: `  at "/template_repository" (schema #/components/schemas/user/required): missing properties: 'id'`},
		{name: "enum", body: repoWith("conclusion", `"neutral"`),
			want: `  at "/conclusion" (schema #/components/schemas/repo/properties/conclusion/enum): value must be one of "success", "failure", <nil>`},
		{name: "date-time format", body: repoWith("pushed_at", `"yesterday"`),
			want: `  at "/pushed_at" (schema #/components/schemas/repo/properties/pushed_at/format): 'yesterday' is not valid 'date-time'`},
		{name: "uri-template format", body: repoWith("hooks_url", `"http://x/{/id"`),
			want: `  at "/hooks_url" (schema #/components/schemas/repo/properties/hooks_url/format): 'http://x/{/id' is not valid 'uri-template'`},
		{name: "additionalProperties schema", body: repoWith("permissions", `{"admin": "yes"}`),
			want: `  at "/permissions/admin" (schema #/components/schemas/repo/properties/permissions/additionalProperties/type): expected boolean, but got string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := schemas.Validate(pointer, []byte(tt.body))
			got := ""
			if err != nil {
				got = Explain(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Explain (-want +got):\n%s", diff)
			}
		})
	}
	if err := schemas.Validate("#/components/schemas/user", []byte(`{}`)); err == nil || err.Error() != "openapitest: #/components/schemas/user was not compiled" {
		t.Errorf("uncompiled pointer: %v", err)
	}
	if err := schemas.Validate(pointer, []byte(`{`)); err == nil || !strings.HasPrefix(err.Error(), "openapitest: body is not JSON") {
		t.Errorf("bad JSON: %v", err)
	}
}

func TestUndeclared(t *testing.T) {
	d := mini(t)
	webhook, err := d.WebhookPointer("thing-happened")
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := d.Compile(webhook)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body string
		want []string
	}{
		{name: "all declared", body: `{"action": "happened", "repository": ` + validRepo + `}`},
		{name: "top level", body: `{"action": "happened", "flavour": 1}`, want: []string{"/flavour"}},
		{name: "through $ref, nullable and allOf", body: `{"action": "happened", "repository": ` +
			repoWith("template_repository", `{"login": "t", "id": 2, "extra": true}`) + `}`,
			want: []string{"/repository/template_repository/extra"}},
		{name: "array items across allOf", body: `{"action": "happened", "repository": ` +
			repoWith("labels", `[{"name": "a", "color": "b"}, {"name": "c", "colour": "d"}]`) + `}`,
			want: []string{"/repository/labels/1/colour"}},
		{name: "open objects are not checked", body: `{"action": "happened", "repository": ` +
			repoWith("custom", `{"anything": {"deep": 1}}`) + `}`},
		{name: "escaped member names", body: `{"action": "happened", "a/b~c": 1}`, want: []string{"/a~1b~0c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := schemas.Undeclared(webhook, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Undeclared (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsURITemplate(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"https://api.github.com/repos/o/r/git/blobs{/sha}", true},
		{"https://api.github.com/repos/o/r/{archive_format}{/ref}", true},
		{"https://api.github.com/notifications{?since,all,participating}", true},
		{"https://api.github.com/repos/o/r/contents/{+path}", true},
		{"https://api.github.com/users/octocat", true},
		{"https://api.github.com/users/{user", false},
		{"https://api.github.com/users/user}", false},
		{"https://api.github.com/users/{}", false},
		{"https://api.github.com/users/{a b}", false},
	}
	for _, tt := range tests {
		if got := isURITemplate(tt.in); got != tt.want {
			t.Errorf("isURITemplate(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFindNodeModules(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "internal", "pkg")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FindNodeModules(deep)
	if err != nil || got != filepath.Join(root, "node_modules") {
		t.Errorf("FindNodeModules = %q, %v", got, err)
	}
}

func TestParseExamples(t *testing.T) {
	ex, err := ParseExamples([]byte(`[{"name": "push", "examples": [{"ref": "refs/heads/main"}]},
		{"name": "check_run", "examples": [{"action": "created"}, {"action": "completed"}, {"action": "created", "x": 1}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(ex.ForAction("check_run", "created")); got != 2 {
		t.Errorf("check_run created examples = %d, want 2", got)
	}
	if got := len(ex.ForAction("push", "")); got != 1 {
		t.Errorf("push examples = %d, want 1", got)
	}
}

func TestParseRejectsOtherVersions(t *testing.T) {
	_, err := Parse([]byte(`{"swagger": "2.0", "paths": {}}`))
	if err == nil || err.Error() != `openapitest: unsupported OpenAPI version ""` {
		t.Errorf("Parse = %v", err)
	}
}

// recordingTB records whether a helper skipped or failed the test instead
// of stopping it.
type recordingTB struct {
	testing.TB
	skipped, failed bool
}

func (r *recordingTB) Helper()               {}
func (r *recordingTB) Skipf(string, ...any)  { r.skipped = true }
func (r *recordingTB) Fatalf(string, ...any) { r.failed = true }

func TestMissingPackageSkipsUnlessRequired(t *testing.T) {
	tests := []struct {
		name        string
		require, ci string
		wantFailed  bool
	}{
		{name: "developer machine", wantFailed: false},
		{name: "required by make test", require: "1", wantFailed: true},
		{name: "CI", ci: "true", wantFailed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RequireEnv, tt.require)
			t.Setenv("CI", tt.ci)
			rec := &recordingTB{TB: t}
			requireFile(rec, "@octokit/no-such-package/index.json")
			if rec.failed != tt.wantFailed || rec.skipped == tt.wantFailed {
				t.Errorf("failed %v skipped %v, want failed %v", rec.failed, rec.skipped, tt.wantFailed)
			}
		})
	}
}
