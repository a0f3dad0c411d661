package githubtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRouteMatching(t *testing.T) {
	e := New(Config{})
	tests := []struct {
		name, method, path string
		wantTemplate       string
		wantParams         map[string]string
	}{
		{
			name: "pull reviews", method: "GET", path: "/repos/acme/models/pulls/7/reviews",
			wantTemplate: "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
			wantParams:   map[string]string{"owner": "acme", "repo": "models", "pull_number": "7"},
		},
		{
			name: "branch ref with slashes", method: "GET", path: "/repos/acme/models/commits/feature/x/check-runs",
			wantTemplate: "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
			wantParams:   map[string]string{"owner": "acme", "repo": "models", "ref": "feature/x"},
		},
		{
			name: "escaped slash in a ref", method: "GET", path: "/repos/acme/models/commits/feature%2Fx/status",
			wantTemplate: "GET /repos/{owner}/{repo}/commits/{ref}/status",
			wantParams:   map[string]string{"owner": "acme", "repo": "models", "ref": "feature/x"},
		},
		{
			name: "plain commit", method: "GET", path: "/repos/acme/models/commits/main",
			wantTemplate: "GET /repos/{owner}/{repo}/commits/{ref}",
			wantParams:   map[string]string{"owner": "acme", "repo": "models", "ref": "main"},
		},
		{
			name: "nested contents path", method: "GET", path: "/repos/acme/models/contents/environments/prod/fraud.yaml",
			wantTemplate: "GET /repos/{owner}/{repo}/contents/{path}",
			wantParams:   map[string]string{"owner": "acme", "repo": "models", "path": "environments/prod/fraud.yaml"},
		},
		{
			name: "comment edit is not an issue number", method: "PATCH", path: "/repos/acme/models/issues/comments/5",
			wantTemplate: "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
			wantParams:   map[string]string{"owner": "acme", "repo": "models", "comment_id": "5"},
		},
		{name: "wrong method", method: "DELETE", path: "/repos/acme/models/pulls/7"},
		{name: "unknown path", method: "GET", path: "/repos/acme/models/hooks"},
		{name: "empty segment", method: "GET", path: "/repos/acme//pulls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotTemplate string
			var gotParams map[string]string
			for _, rt := range e.routes {
				if params, ok := rt.match(tt.method, tt.path); ok {
					gotTemplate, gotParams = rt.template, params
					break
				}
			}
			if gotTemplate != tt.wantTemplate {
				t.Errorf("template = %q, want %q", gotTemplate, tt.wantTemplate)
			}
			if diff := cmp.Diff(tt.wantParams, gotParams); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}
