package githubtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/testing/openapitest"
)

// routeAliases maps emulator routes that GitHub's description does not list
// verbatim to the documented operation serving the same requests.
var routeAliases = map[string]string{
	// GitHub documents the root directory listing as contents/{path} with
	// an empty path; clients send ".../contents/", which the emulator's
	// router, trimming slashes, serves from a route without {path}.
	"GET /repos/{owner}/{repo}/contents": "GET /repos/{owner}/{repo}/contents/{path}",
}

// schemaGap is a member GitHub sends that the schema of one operation's
// response, or of one webhook, does not declare, though the description
// declares it elsewhere.
type schemaGap struct {
	operation string // operationId or webhook name; empty for any
	errors    bool   // only in 4xx and 5xx answers
	member    string // JSON pointer, "*" for any array index
	reason    string
}

var schemaGaps = []schemaGap{
	{operation: "apps/list-installations", member: "/*/client_id",
		reason: "this operation inlines an older Installation schema; the installation component, used by apps/get-repo-installation, declares client_id"},
	{operation: "apps/list-installations", member: "/*/account/user_view_type",
		reason: "same older inline copy; the simple-user component declares user_view_type"},
	{errors: true, member: "/status",
		reason: "GitHub sends the status in every error body; basic-error declares it, validation-error and validation-error-simple do not"},
	{operation: "pull-request-review-edited", member: "/pull_request/base/repo/has_discussions",
		reason: "an older copy of the repository schema; pull-request-review-submitted and -dismissed declare it for the same event"},
	{operation: "pull-request-review-edited", member: "/pull_request/head/repo/has_discussions", reason: "as for base"},
	{operation: "pull-request-review-edited", member: "/pull_request/base/repo/web_commit_signoff_required",
		reason: "an older copy of the repository schema; pull-request-review-submitted and -dismissed declare it for the same event"},
	{operation: "pull-request-review-edited", member: "/pull_request/head/repo/web_commit_signoff_required", reason: "as for base"},
}

// undeclaredGaps drops the known gaps from members and returns the rest.
func undeclaredGaps(operation string, status int, members []string) []string {
	var out []string
next:
	for _, m := range members {
		segs := strings.Split(m, "/")
		for i, s := range segs {
			if _, err := strconv.Atoi(s); err == nil && s != "" {
				segs[i] = "*"
			}
		}
		general := strings.Join(segs, "/")
		for _, g := range schemaGaps {
			if g.member == general && (g.operation == "" || g.operation == operation) && (!g.errors || status >= 400) {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// exchange is one request to the emulator and its answer.
type exchange struct {
	method, path string // path is escaped, without the /api/v3 prefix
	status       int
	body         []byte
}

// recorder is an http.RoundTripper that authenticates requests and keeps
// every response body.
type recorder struct {
	mu        sync.Mutex
	exchanges []exchange
}

type recordingTransport struct {
	rec   *recorder
	token string
}

func (rt recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if rt.token != "" {
		r.Header.Set("Authorization", "token "+rt.token)
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rt.rec.mu.Lock()
	defer rt.rec.mu.Unlock()
	rt.rec.exchanges = append(rt.rec.exchanges, exchange{
		method: r.Method, path: strings.TrimPrefix(r.URL.EscapedPath(), "/api/v3"), status: resp.StatusCode, body: body,
	})
	return resp, nil
}

func (rec *recorder) client(t *testing.T, f *Fixture, token string) *github.Client {
	t.Helper()
	c, err := github.NewClient(&http.Client{Transport: recordingTransport{rec: rec, token: token}}).WithEnterpriseURLs(f.Server.URL, f.Server.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// appJWT returns an unsigned App JWT valid at the emulator's clock; the
// emulator checks signatures only when Config.AppPublicKey is set.
func (e *env) appJWT() string {
	now := e.clock.Load()
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims := enc([]byte(fmt.Sprintf(`{"iat":%d,"exp":%d,"iss":%d}`, now-60, now+300, appID)))
	return header + "." + claims + "." + enc([]byte("unsigned"))
}

// routeTemplate returns the template of the emulator route serving x.
func (e *env) routeTemplate(x exchange) string {
	for _, rt := range e.Emulator.routes {
		if _, ok := rt.match(x.method, x.path); ok {
			return rt.template
		}
	}
	return ""
}

// githubTemplate returns the "METHOD /path" GitHub documents for an
// emulator route template.
func githubTemplate(routeTemplate string) string {
	if alias, ok := routeAliases[routeTemplate]; ok {
		return alias
	}
	return routeTemplate
}

func TestRoutesAreGitHubOperations(t *testing.T) {
	d := openapitest.Require(t)
	e := New(Config{})
	seen := map[string]bool{}
	for _, rt := range e.routes {
		t.Run(rt.template, func(t *testing.T) {
			if seen[rt.template] {
				t.Fatalf("route %s is registered twice", rt.template)
			}
			seen[rt.template] = true
			method, path, _ := strings.Cut(githubTemplate(rt.template), " ")
			if _, ok := d.Operation(method, path); !ok {
				t.Errorf("the emulator serves %s, which GitHub's OpenAPI description does not document", rt.template)
			}
		})
	}
	for from, to := range routeAliases {
		if !seen[from] {
			t.Errorf("alias %s → %s names no route; remove it", from, to)
		}
	}
}

func TestResponsesMatchOpenAPI(t *testing.T) {
	d := openapitest.Require(t)
	e := newEnv(t)
	rec := &recorder{}
	driveEveryEndpoint(t, e, rec)
	if u := e.Emulator.UnexpectedRequests(); len(u) != 0 {
		t.Fatalf("requests the emulator does not know: %v", u)
	}

	type checked struct {
		exchange
		route   string
		op      openapitest.Operation
		pointer string
	}
	var list []checked
	var pointers []string
	for _, x := range rec.exchanges {
		route := e.routeTemplate(x)
		op, err := d.Match(x.method, x.path)
		if err != nil {
			t.Errorf("%s %s: %v", x.method, x.path, err)
			continue
		}
		if got, want := op.Method+" "+op.Path, githubTemplate(route); got != want {
			t.Errorf("%s %s: GitHub serves it as %s but the emulator as %s", x.method, x.path, got, route)
			continue
		}
		pointer, documented, err := d.ResponsePointer(op, x.status)
		if err != nil {
			t.Fatal(err)
		}
		if !documented {
			t.Errorf("%s answered %d to %s %s; GitHub documents no such status", op, x.status, x.method, x.path)
			continue
		}
		if pointer == "" && x.status == http.StatusNoContent && len(x.body) != 0 {
			t.Errorf("%s answered 204 with a body: %s", op, x.body)
		}
		list = append(list, checked{exchange: x, route: route, op: op, pointer: pointer})
		if pointer != "" {
			pointers = append(pointers, pointer)
		}
	}
	schemas, err := d.Compile(pointers...)
	if err != nil {
		t.Fatal(err)
	}

	covered := map[string]bool{}
	operations := map[string]bool{}
	for _, c := range list {
		if c.status < 300 {
			covered[c.route] = true
		}
		if c.pointer == "" {
			continue
		}
		operations[c.op.ID] = true
		where := fmt.Sprintf("%s → %d (%s %s)\n  schema %s", c.op, c.status, c.method, c.path, c.pointer)
		if err := schemas.Validate(c.pointer, c.body); err != nil {
			t.Errorf("%s\n%s", where, openapitest.Explain(err))
			continue
		}
		extra, err := schemas.Undeclared(c.pointer, c.body)
		if err != nil {
			t.Fatal(err)
		}
		extra = undeclaredGaps(c.op.ID, c.status, extra)
		if len(extra) > 0 {
			t.Errorf("%s\n  members GitHub's schema does not declare: %s", where, strings.Join(extra, ", "))
		}
	}
	var missing []string
	for _, rt := range e.Emulator.routes {
		if !covered[rt.template] {
			missing = append(missing, rt.template)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Errorf("routes never answered with success, so never checked; drive them in driveEveryEndpoint:\n  %s", strings.Join(missing, "\n  "))
	}
	t.Logf("validated %d responses of %d operations (%d routes) against OpenAPI %s", len(list), len(operations), len(covered), d.Version)
}

// driveEveryEndpoint calls every route of the emulator, with state rich
// enough that optional parts of the responses are filled in, and a few
// documented errors.
func driveEveryEndpoint(t *testing.T, e *env, rec *recorder) {
	t.Helper()
	ctx := t.Context()
	app := rec.client(t, e.Fixture, e.instToken)
	jwt := rec.client(t, e.Fixture, e.appJWT())
	alice := rec.client(t, e.Fixture, e.alice)
	bob := rec.client(t, e.Fixture, e.bob)
	em := e.Emulator
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	wantStatus := func(step string, resp *github.Response, want int) {
		t.Helper()
		if resp == nil || resp.StatusCode != want {
			t.Fatalf("%s: response %v, want status %d", step, resp, want)
		}
	}

	// State set up directly: teams, permissions, another reviewer.
	em.AddTeamMember(org, "ml-owners", "bob", "active")
	em.AddTeamMember(org, "ml-owners", "carol", "active")
	em.AddTeamMember(org, "ml-owners", "dave", "pending")
	must("permission", em.SetPermission(org, repoName, "bob", "maintain"))
	must("permission", em.SetPermission(org, repoName, "carol", "write"))

	// App authentication and installation tokens.
	_, _, err := jwt.Apps.ListInstallations(ctx, nil)
	must("list installations", err)
	_, _, err = jwt.Apps.CreateInstallationToken(ctx, instID, nil)
	must("installation token", err)
	_, _, err = jwt.Apps.CreateInstallationToken(ctx, instID, &github.InstallationTokenOptions{Repositories: []string{repoName}})
	must("narrowed installation token", err)
	_, resp, _ := jwt.Apps.CreateInstallationToken(ctx, 999, nil)
	wantStatus("token for unknown installation", resp, http.StatusNotFound)
	_, _, err = jwt.Apps.FindRepositoryInstallation(ctx, org, repoName)
	must("repository installation", err)
	_, _, err = jwt.Apps.Get(ctx, "")
	must("the authenticated App", err)
	_, _, err = app.Apps.ListRepos(ctx, nil)
	must("installation repositories", err)
	_, resp, _ = alice.Apps.ListRepos(ctx, nil)
	wantStatus("installation repositories with a user token", resp, http.StatusForbidden)
	_, _, err = app.Repositories.Get(ctx, org, repoName)
	must("get repository", err)
	_, _, err = alice.Repositories.Get(ctx, org, repoName)
	must("get repository as a user", err)
	_, _, err = alice.Users.Get(ctx, "")
	must("the authenticated user", err)
	_, resp, _ = app.Users.Get(ctx, "")
	wantStatus("the authenticated user with an installation token", resp, http.StatusForbidden)

	// A pull request with a modification, a rename, an addition and a
	// deletion over two commits.
	pr, _, err := alice.PullRequests.Create(ctx, org, repoName, &github.NewPullRequest{
		Title: github.String("Promote fraud"), Head: github.String("promote"), Base: github.String("main"), Body: github.String("Promotes fraud v2."),
	})
	must("create pull", err)
	n := pr.GetNumber()
	_, resp, _ = alice.PullRequests.Create(ctx, org, repoName, &github.NewPullRequest{Title: github.String("again"), Head: github.String("promote"), Base: github.String("main")})
	wantStatus("duplicate pull", resp, http.StatusUnprocessableEntity)
	e.advance(time.Minute)
	_, _, err = alice.PullRequests.Edit(ctx, org, repoName, n, &github.PullRequest{Title: github.String("Promote fraud v2 to prod")})
	must("edit pull", err)
	_, _, err = app.PullRequests.List(ctx, org, repoName, nil)
	must("list pulls", err)
	_, _, err = app.PullRequests.Get(ctx, org, repoName, n)
	must("get pull", err)
	_, resp, _ = app.PullRequests.Get(ctx, org, repoName, 999)
	wantStatus("missing pull", resp, http.StatusNotFound)
	_, _, err = app.PullRequests.ListFiles(ctx, org, repoName, n, nil)
	must("pull files", err)
	_, _, err = app.PullRequests.ListCommits(ctx, org, repoName, n, nil)
	must("pull commits", err)
	_, _, err = app.PullRequests.ListPullRequestsWithCommit(ctx, org, repoName, e.headSHA, nil)
	must("pulls of a commit", err)
	_, _, err = app.Repositories.GetCommit(ctx, org, repoName, e.headSHA, nil)
	must("get commit", err)
	_, _, err = app.Repositories.GetCommit(ctx, org, repoName, "promote", nil)
	must("get commit by branch", err)
	_, resp, _ = app.Repositories.GetCommit(ctx, org, repoName, "no-such-branch", nil)
	wantStatus("missing commit", resp, http.StatusUnprocessableEntity)

	// Reviews: approval, changes requested then dismissed, a comment.
	approval, _, err := bob.PullRequests.CreateReview(ctx, org, repoName, n, &github.PullRequestReviewRequest{Event: github.String("APPROVE"), Body: github.String("LGTM")})
	must("approve", err)
	carolReview, err := em.Review(org, repoName, n, "carol", "CHANGES_REQUESTED", "Needs metrics.")
	must("request changes", err)
	_, _, err = bob.PullRequests.CreateReview(ctx, org, repoName, n, &github.PullRequestReviewRequest{Event: github.String("COMMENT"), Body: github.String("Checked lineage.")})
	must("comment review", err)
	_, resp, _ = alice.PullRequests.CreateReview(ctx, org, repoName, n, &github.PullRequestReviewRequest{Event: github.String("APPROVE")})
	wantStatus("self approval", resp, http.StatusUnprocessableEntity)
	_, _, err = app.PullRequests.DismissReview(ctx, org, repoName, n, carolReview, &github.PullRequestReviewDismissalRequest{Message: github.String("Metrics added.")})
	must("dismiss review", err)
	_, _, err = app.PullRequests.ListReviews(ctx, org, repoName, n, nil)
	must("list reviews", err)
	_, _, err = app.PullRequests.GetReview(ctx, org, repoName, n, approval.GetID())
	must("get review", err)
	_, resp, _ = app.PullRequests.GetReview(ctx, org, repoName, n, 1)
	wantStatus("missing review", resp, http.StatusNotFound)

	// Check runs with annotations, and commit statuses.
	run, _, err := app.Checks.CreateCheckRun(ctx, org, repoName, github.CreateCheckRunOptions{
		Name: "promobot/gate", HeadSHA: e.headSHA, Status: github.String("in_progress"), ExternalID: github.String("eval-1"),
		DetailsURL: github.String("https://promobot.example.com/runs/1"),
		Output:     &github.CheckRunOutput{Title: github.String("Evaluating"), Summary: github.String("Checking approvals.")},
	})
	must("create check run", err)
	e.advance(time.Minute)
	_, _, err = app.Checks.UpdateCheckRun(ctx, org, repoName, run.GetID(), github.UpdateCheckRunOptions{
		Name: "promobot/gate", Conclusion: github.String("failure"),
		Output: &github.CheckRunOutput{
			Title: github.String("Blocked"), Summary: github.String("1 problem"), Text: github.String("details"),
			Annotations: []*github.CheckRunAnnotation{
				{Path: github.String("environments/prod/fraud.yaml"), StartLine: github.Int(1), EndLine: github.Int(1), AnnotationLevel: github.String("failure"), Message: github.String("sha256 mismatch"), Title: github.String("Integrity")},
				{Path: github.String("environments/prod/fraud.yaml"), StartLine: github.Int(2), EndLine: github.Int(2), StartColumn: github.Int(1), EndColumn: github.Int(4), AnnotationLevel: github.String("warning"), Message: github.String("stale"), RawDetails: github.String("raw")},
			},
		},
	})
	must("complete check run", err)
	_, _, err = app.Checks.GetCheckRun(ctx, org, repoName, run.GetID())
	must("get check run", err)
	_, _, err = app.Checks.ListCheckRunAnnotations(ctx, org, repoName, run.GetID(), nil)
	must("annotations", err)
	_, _, err = app.Checks.ListCheckRunsForRef(ctx, org, repoName, "promote", &github.ListCheckRunsOptions{Filter: github.String("all")})
	must("check runs for ref", err)
	for _, s := range []struct{ context, state string }{{"ci/build", "pending"}, {"ci/build", "success"}, {"ci/lint", "failure"}} {
		_, _, err = app.Repositories.CreateStatus(ctx, org, repoName, e.headSHA, &github.RepoStatus{
			State: github.String(s.state), Context: github.String(s.context), Description: github.String(s.state), TargetURL: github.String("https://ci.example.com/1"),
		})
		must("create status", err)
	}
	_, _, err = app.Repositories.GetCombinedStatus(ctx, org, repoName, "promote", nil)
	must("combined status", err)
	_, _, err = app.Repositories.GetCombinedStatus(ctx, org, repoName, e.baseSHA, nil)
	must("combined status without statuses", err)

	// Teams, memberships and permissions.
	_, _, err = app.Teams.GetTeamMembershipBySlug(ctx, org, "ml-owners", "bob")
	must("active membership", err)
	_, _, err = app.Teams.GetTeamMembershipBySlug(ctx, org, "ml-owners", "dave")
	must("pending membership", err)
	_, resp, _ = app.Teams.GetTeamMembershipBySlug(ctx, org, "ml-owners", "alice")
	wantStatus("no membership", resp, http.StatusNotFound)
	_, _, err = app.Teams.ListTeamMembersBySlug(ctx, org, "ml-owners", nil)
	must("team members", err)
	for _, login := range []string{"bob", "carol", "alice", org} {
		_, _, err = app.Repositories.GetPermissionLevel(ctx, org, repoName, login)
		must("permission of "+login, err)
	}
	_, resp, _ = app.Repositories.GetPermissionLevel(ctx, org, repoName, "nobody-known")
	wantStatus("unknown user", resp, http.StatusNotFound)
	driveOrgEndpoints(t, app, em)

	// Contents: a file, directories, the root, refs.
	_, _, _, err = app.Repositories.GetContents(ctx, org, repoName, "environments/prod/fraud.yaml", &github.RepositoryContentGetOptions{Ref: "promote"})
	must("file", err)
	_, _, _, err = app.Repositories.GetContents(ctx, org, repoName, "environments", &github.RepositoryContentGetOptions{Ref: "promote"})
	must("directory", err)
	_, _, _, err = app.Repositories.GetContents(ctx, org, repoName, "", nil)
	must("root directory", err)
	_, _, resp, _ = app.Repositories.GetContents(ctx, org, repoName, "missing.yaml", nil)
	wantStatus("missing file", resp, http.StatusNotFound)
	_, _, err = app.Git.GetRef(ctx, org, repoName, "heads/promote")
	must("ref", err)
	_, resp, _ = app.Git.GetRef(ctx, org, repoName, "heads/nope")
	wantStatus("missing ref", resp, http.StatusNotFound)

	// Issues, labels and comments on the issue and the pull request.
	issue, _, err := bob.Issues.Create(ctx, org, repoName, &github.IssueRequest{
		Title: github.String("Drift in prod"), Body: github.String("Audit found drift."), Labels: &[]string{"audit", "prod"},
	})
	must("create issue", err)
	_, _, err = app.Issues.AddLabelsToIssue(ctx, org, repoName, n, []string{"promotion", "env:prod", "blocked"})
	must("add labels", err)
	_, err = app.Issues.RemoveLabelForIssue(ctx, org, repoName, n, "blocked")
	must("remove label", err)
	_, _, err = app.Issues.ListLabelsByIssue(ctx, org, repoName, n, nil)
	must("list labels", err)
	comment, _, err := app.Issues.CreateComment(ctx, org, repoName, n, &github.IssueComment{Body: github.String("Gate: blocked")})
	must("comment", err)
	e.advance(time.Minute)
	_, _, err = app.Issues.EditComment(ctx, org, repoName, comment.GetID(), &github.IssueComment{Body: github.String("Gate: passed")})
	must("edit comment", err)
	_, _, err = app.Issues.GetComment(ctx, org, repoName, comment.GetID())
	must("get comment", err)
	_, _, err = bob.Issues.CreateComment(ctx, org, repoName, issue.GetNumber(), &github.IssueComment{Body: github.String("Looking.")})
	must("issue comment", err)
	_, _, err = app.Issues.ListComments(ctx, org, repoName, n, nil)
	must("list comments", err)
	_, _, err = app.Issues.ListByRepo(ctx, org, repoName, &github.IssueListByRepoOptions{State: "all"})
	must("list issues", err)
	_, _, err = app.Issues.Get(ctx, org, repoName, n)
	must("get pull request as issue", err)
	_, _, err = app.Issues.Edit(ctx, org, repoName, issue.GetNumber(), &github.IssueRequest{State: github.String("closed"), StateReason: github.String("completed")})
	must("close issue", err)
	_, _, err = app.Issues.Get(ctx, org, repoName, issue.GetNumber())
	must("get closed issue", err)
	_, resp, _ = app.Issues.Get(ctx, org, repoName, 999)
	wantStatus("missing issue", resp, http.StatusNotFound)

	// Merge, then read the merged pull request and the base branch.
	_, _, err = app.PullRequests.Merge(ctx, org, repoName, n, "Promote fraud v2", &github.PullRequestOptions{MergeMethod: "merge", SHA: e.headSHA})
	must("merge", err)
	_, _, err = app.PullRequests.Get(ctx, org, repoName, n)
	must("get merged pull", err)
	_, _, err = app.PullRequests.List(ctx, org, repoName, &github.PullRequestListOptions{State: "closed"})
	must("list closed pulls", err)
	_, resp, _ = app.PullRequests.Merge(ctx, org, repoName, n, "", nil)
	if resp == nil || resp.StatusCode < 400 {
		t.Fatalf("merging twice: %v", resp)
	}
	_, _, err = app.Repositories.GetCommit(ctx, org, repoName, "main", nil)
	must("merge commit", err)
	_, _, err = app.PullRequests.Edit(ctx, org, repoName, n, &github.PullRequest{Body: github.String("Merged.")})
	must("edit merged pull", err)
}
