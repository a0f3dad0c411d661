package githubapi

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

const (
	appID          = 11
	installationID = 22
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyPEM  []byte
)

func testKey(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		key, keyPEM = k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	return key, keyPEM
}

type env struct {
	fx   *githubtest.Fixture
	em   *githubtest.Emulator
	apps *Apps
	path string
	pr   int
	head string
}

func newEnv(t *testing.T, middleware ...Middleware) *env {
	t.Helper()
	return newEnvConfig(t, Config{Middleware: middleware})
}

// newEnvConfig is newEnv with the Apps configured by cfg, whose URL, App id
// and key it fills in.
func newEnvConfig(t *testing.T, cfg Config) *env {
	t.Helper()
	k, pemBytes := testKey(t)
	fx := githubtest.NewFixture(t, githubtest.Config{AppID: appID, AppPublicKey: &k.PublicKey})
	e := &env{fx: fx, em: fx.Emulator}
	e.path = fx.AddRepo(t, "acme", "models", "main")
	e.em.AddInstallation(installationID, "acme", "acme/models")
	e.em.AddUser("alex", "alex@example.com")
	base := gittest.MustCommit(t, e.path, gittest.Commit{Branch: "main", Files: map[string]string{"a": "1"}, Message: "init"})
	e.head = gittest.MustCommit(t, e.path, gittest.Commit{
		Branch: "feature", Parents: []string{base}, Files: map[string]string{"a": "2"}, Message: "change",
		Author: gittest.Signature{Name: "Alex", Email: "alex@example.com"},
	})
	var err error
	if e.pr, err = e.em.OpenPR("acme", "models", githubtest.NewPullRequest{Title: "Change a", Head: "feature", User: "alex", Labels: []string{"freeze-override"}}); err != nil {
		t.Fatal(err)
	}
	cfg.BaseURL, cfg.AppID, cfg.PrivateKey = fx.URL(), appID, pemBytes
	e.apps, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) client(t *testing.T) *Client {
	t.Helper()
	c, err := e.apps.Installation(installationID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewAppsRefusesBadConfiguration(t *testing.T) {
	_, good := testKey(t)
	notRSA := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("garbage")})
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "no app id", cfg: Config{PrivateKey: good}, want: "App id must be a positive number"},
		{name: "not PEM", cfg: Config{AppID: 1, PrivateKey: []byte("SECRET-KEY-MATERIAL")}, want: "not PEM-encoded"},
		{name: "PEM but not a key", cfg: Config{AppID: 1, PrivateKey: notRSA}, want: "not an RSA private key"},
		{name: "ftp URL", cfg: Config{AppID: 1, PrivateKey: good, BaseURL: "ftp://example.com/"}, want: "must be an http(s) URL"},
		{name: "credentials in the URL", cfg: Config{AppID: 1, PrivateKey: good, BaseURL: "https://u:p@ghe.example.com/api/v3"}, want: "must not hold credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewApps error %v, want one mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET-KEY-MATERIAL") {
				t.Errorf("the error echoes the key: %v", err)
			}
		})
	}
}

func TestParseBaseURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "", want: "https://api.github.com/"},
		{in: "https://api.github.com", want: "https://api.github.com/"},
		{in: "https://ghe.example.com/api/v3", want: "https://ghe.example.com/api/v3/"},
	}
	for _, tc := range tests {
		u, err := ParseBaseURL(tc.in)
		if err != nil || u.String() != tc.want {
			t.Errorf("ParseBaseURL(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
}

func TestInstallationClientsAreReusedWithOneToken(t *testing.T) {
	var mu sync.Mutex
	var order []string
	mw := func(name string) Middleware {
		return func(next http.RoundTripper) http.RoundTripper {
			return rtFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				return next.RoundTrip(r)
			})
		}
	}
	e := newEnv(t, mw("outer"), mw("inner"))
	c1, c2 := e.client(t), e.client(t)
	if c1 != c2 {
		t.Error("Installation returned a new client for the same installation")
	}
	for _, c := range []*Client{c1, c2} {
		if _, err := c.PullRequest(t.Context(), "acme", "models", e.pr); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := c1.Token(t.Context())
	if err != nil || !strings.HasPrefix(tok, "ghs_") {
		t.Errorf("Token() = %q, %v", tok, err)
	}
	if got := e.em.Counts()["POST /app/installations/{installation_id}/access_tokens"]; got != 1 {
		t.Errorf("%d token requests, want 1", got)
	}
	if diff := cmp.Diff([]string{"outer", "inner", "outer", "inner"}, order); diff != "" {
		t.Errorf("middleware order (-want +got):\n%s", diff)
	}
	if _, err := e.apps.Installation(0); !failure.IsTerminal(err) {
		t.Errorf("Installation(0) = %v, want a terminal error", err)
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCalls(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	ctx := t.Context()

	pr, err := c.PullRequest(ctx, "acme", "models", e.pr)
	if err != nil {
		t.Fatal(err)
	}
	want := &PullRequest{
		Number: e.pr, State: "open", Title: "Change a", Author: "alex",
		BaseRef: "main", BaseSHA: pr.BaseSHA, HeadRef: "feature", HeadSHA: e.head,
		BaseRepo: "acme/models", HeadRepo: "acme/models", CloneURL: e.fx.Git.RepoURL("acme/models.git"),
		Labels: []string{"freeze-override"}, URL: pr.URL,
	}
	if diff := cmp.Diff(want, pr); diff != "" {
		t.Errorf("PullRequest (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(pr.URL, "/acme/models/pull/1") {
		t.Errorf("PullRequest URL = %q", pr.URL)
	}

	commits, err := c.PullRequestCommits(ctx, "acme", "models", e.pr)
	if err != nil || len(commits) != 1 || commits[0].AuthorLogin != "alex" || commits[0].AuthorEmail != "alex@example.com" {
		t.Errorf("PullRequestCommits = %+v, %v", commits, err)
	}

	// 120 reviews: two pages.
	for i := range 120 {
		login := []string{"mara", "rita", "rob"}[i%3]
		if _, err := e.em.Review("acme", "models", e.pr, login, "COMMENTED", ""); err != nil {
			t.Fatal(err)
		}
	}
	e.em.ResetCounts()
	reviews, err := c.Reviews(ctx, "acme", "models", e.pr)
	if err != nil || len(reviews) != 120 || reviews[0].User != "mara" || reviews[119].User != "rob" || reviews[0].State != "COMMENTED" || reviews[0].CommitID != e.head {
		t.Errorf("Reviews: %d reviews, %v", len(reviews), err)
	}
	if got := e.em.Counts()["GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"]; got != 2 {
		t.Errorf("%d requests for 120 reviews, want 2", got)
	}

	e.em.AddTeamMember("acme", "risk", "mara", "active")
	e.em.AddTeamMember("acme", "risk", "mike", "active")
	members, err := c.TeamMembers(ctx, "acme", "risk")
	if err != nil || !cmp.Equal(members, []string{"mara", "mike"}) {
		t.Errorf("TeamMembers = %v, %v", members, err)
	}
	if _, err := c.TeamMembers(ctx, "acme", "nobody"); !IsNotFound(err) || !failure.IsTerminal(err) {
		t.Errorf("TeamMembers of an unknown team: %v, want a terminal not-found error", err)
	}

	if err := e.em.SetPermission("acme", "models", "mara", "maintain"); err != nil {
		t.Fatal(err)
	}
	perm, err := c.Permission(ctx, "acme", "models", "mara")
	if err != nil || perm != "write" {
		t.Errorf("Permission(mara) = %q, %v; want write", perm, err)
	}

	withHead, err := c.PullRequestsWithHead(ctx, "acme", "models", e.head)
	var prs []int
	for _, pr := range withHead {
		if pr.State == "open" {
			prs = append(prs, pr.Number)
		}
	}
	if err != nil || !cmp.Equal(prs, []int{e.pr}) {
		t.Errorf("open PullRequestsWithHead = %v, %v", prs, err)
	}

	started := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	id, err := c.CreateCheckRun(ctx, "acme", "models", CheckRun{Name: "promobot", HeadSHA: e.head, Status: StatusInProgress, StartedAt: started})
	if err != nil {
		t.Fatal(err)
	}
	err = c.UpdateCheckRun(ctx, "acme", "models", id, CheckRun{
		Name: "promobot", Status: StatusCompleted, Conclusion: ConclusionFailure, CompletedAt: started.Add(time.Second),
		Output: &Output{Title: "needs 2 approvals", Summary: "## no", Annotations: []Annotation{
			{Path: "a", StartLine: 3, EndLine: 3, StartColumn: 5, EndColumn: 5, Level: LevelFailure, Title: "t", Message: "m"},
			{Path: "a", StartLine: 1, EndLine: 2, StartColumn: 5, Level: LevelWarning, Message: "columns dropped across lines"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	runs := e.em.CheckRuns("acme", "models", e.head)
	if len(runs) != 1 {
		t.Fatalf("%d check runs", len(runs))
	}
	five := 5
	wantAnns := []githubtest.Annotation{
		{Path: "a", StartLine: 3, EndLine: 3, StartColumn: &five, EndColumn: &five, AnnotationLevel: "failure", Title: "t", Message: "m"},
		{Path: "a", StartLine: 1, EndLine: 2, AnnotationLevel: "warning", Message: "columns dropped across lines"},
	}
	got := runs[0]
	if got.Status != "completed" || got.Conclusion != "failure" || got.Title != "needs 2 approvals" || got.Summary != "## no" {
		t.Errorf("check run %+v", got)
	}
	if diff := cmp.Diff(wantAnns, got.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
}

func TestErrorsSayWhetherARetryHelps(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		headers      map[string]string
		wantTerminal bool
		wantNotFound bool
	}{
		{name: "not found", status: 404, wantTerminal: true, wantNotFound: true},
		{name: "validation failed", status: 422, wantTerminal: true},
		{name: "server error", status: 502},
		{name: "unavailable", status: 503},
		{name: "secondary rate limit", status: 403},
		{name: "too many requests", status: 429},
		{name: "primary rate limit", status: 403, headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.client(t)
			if _, err := c.PullRequest(t.Context(), "acme", "models", e.pr); err != nil { // get the token first
				t.Fatal(err)
			}
			e.em.FailNext("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", tc.status, tc.headers, 1)
			_, err := c.Reviews(t.Context(), "acme", "models", e.pr)
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("Reviews error %v is not an *Error", err)
			}
			if ge.Status != tc.status || failure.IsTerminal(err) != tc.wantTerminal || IsNotFound(err) != tc.wantNotFound {
				t.Errorf("error %v: status %d terminal %v not found %v; want %d %v %v",
					err, ge.Status, failure.IsTerminal(err), IsNotFound(err), tc.status, tc.wantTerminal, tc.wantNotFound)
			}
			if !strings.Contains(err.Error(), "list reviews of acme/models#") {
				t.Errorf("error %q does not say what was being done", err)
			}
		})
	}
}

// newClient is New followed by Apps.Client.
func newClient(cfg Config) (*Client, error) {
	a, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return a.Client()
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Token: "t", BaseURL: "ftp://example.com/"},
		{Token: "t", BaseURL: "https://user:pass@example.com/"},
		{AppID: 1, InstallationID: 2, PrivateKey: []byte("not a key")},
	} {
		if _, err := newClient(cfg); err == nil {
			t.Errorf("New(%+v).Client() accepted", cfg)
		}
	}
}

func TestNewUploadURL(t *testing.T) {
	tests := []struct{ in, base, upload string }{
		{"", "https://api.github.com/", "https://uploads.github.com/"},
		{"https://api.github.com", "https://api.github.com/", "https://uploads.github.com/"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/"},
		{"http://127.0.0.1:8080/api/v3/", "http://127.0.0.1:8080/api/v3/", "http://127.0.0.1:8080/api/uploads/"},
	}
	for _, tt := range tests {
		c, err := newClient(Config{BaseURL: tt.in, Token: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if c.gh.BaseURL.String() != tt.base || c.gh.UploadURL.String() != tt.upload {
			t.Errorf("%q: base %s upload %s, want %s and %s", tt.in, c.gh.BaseURL, c.gh.UploadURL, tt.base, tt.upload)
		}
	}
	if _, err := New(Config{BaseURL: "ftp://x", Token: "t"}); err == nil {
		t.Error("an ftp URL was accepted")
	}
}

func TestTokenAppsActAsTheTokenOnly(t *testing.T) {
	a, err := New(Config{BaseURL: "http://127.0.0.1:1/", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	c1, err := a.Client()
	if err != nil {
		t.Fatal(err)
	}
	if c2, _ := a.Client(); c2 != c1 {
		t.Error("Client built a second client for the same token")
	}
	if tok, err := c1.Token(t.Context()); err != nil || tok != "t" {
		t.Errorf("Token = %q, %v; want the configured token", tok, err)
	}
	if _, err := a.Installation(7); !failure.IsTerminal(err) {
		t.Errorf("Installation on token Apps: %v, want a terminal error", err)
	}
	if _, err := a.BotLogin(t.Context()); !failure.IsTerminal(err) {
		t.Errorf("BotLogin on token Apps: %v, want a terminal error", err)
	}
	if _, err := a.InstallationIDs(t.Context()); !failure.IsTerminal(err) {
		t.Errorf("InstallationIDs on token Apps: %v, want a terminal error", err)
	}
}
