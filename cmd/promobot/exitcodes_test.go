package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/githubapi/retry"
)

// closedLoopbackAddr returns a loopback address nothing listens on.
func closedLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// unreachableStorage sends every storage request to a closed loopback port,
// without retries, so that storage cannot answer.
func unreachableStorage(t *testing.T) *artifact.BlobStoreOptions {
	addr := closedLoopbackAddr(t)
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return &artifact.BlobStoreOptions{MaxRetries: -1, HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dial}}}
}

// busyStorage sends every storage request, without retries, to a server
// that answers 503 Server Busy, as Azure Storage does under load.
func busyStorage(t *testing.T) *artifact.BlobStoreOptions {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("x-ms-error-code", "ServerBusy")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return &artifact.BlobStoreOptions{MaxRetries: -1, HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dial}}}
}

// runIn runs promobot in dir with the given environment variables and
// storage options.
func runIn(t *testing.T, dir string, vars map[string]string, blob *artifact.BlobStoreOptions, args ...string) cliResult {
	t.Helper()
	return runWithRetry(t, dir, vars, blob, nil, args...)
}

// runWithRetry is runIn with the GitHub client's retries tuned by
// githubRetry (nil: the defaults).
func runWithRetry(t *testing.T, dir string, vars map[string]string, blob *artifact.BlobStoreOptions, githubRetry *retry.Options, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv:      func(k string) string { return vars[k] },
		getwd:       func() (string, error) { return dir, nil },
		blobOptions: blob,
		githubRetry: githubRetry,
	}
	code := run(t.Context(), args, e)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// exitCase is one row of the exit-code table: a command line and the exit
// code the contract gives it.
type exitCase struct {
	name string
	run  func(t *testing.T) cliResult
	want int
	// schema, when set, is the schema the JSON on stdout must follow.
	schema string
	// stderr, when set, must be part of stderr.
	stderr string
	// stdout, when set, must be part of stdout.
	stdout string
}

// TestExitCodeTable runs every command through its success, refusal,
// usage, not-found and unavailable paths, where the command has them,
// and checks the exit code, that stderr holds at most one line per
// message, and that JSON output follows its schema.
func TestExitCodeTable(t *testing.T) {
	t.Parallel()
	art := newArtifactRepo(t)
	store := map[string]string{"AZURE_STORAGE_CONNECTION_STRING": art.connection}
	down := unreachableStorage(t)
	busy := busyStorage(t)
	inArt := func(blob *artifact.BlobStoreOptions, args ...string) func(*testing.T) cliResult {
		return func(t *testing.T) cliResult { return runIn(t, art.dir, store, blob, args...) }
	}

	// The unavailable cases make every attempt against a closed port; the
	// backoff between them is shortened, the attempts are the defaults.
	fastRetry := &retry.Options{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}
	audit := newAuditFixture(t)
	audit.githubRetry = fastRetry
	auditCache := t.TempDir()
	inAudit := func(args ...string) func(*testing.T) cliResult {
		return func(t *testing.T) cliResult { return audit.run(t, auditCache, args...) }
	}
	closedGitHub := "http://" + closedLoopbackAddr(t) + "/"
	logDir := t.TempDir()
	goodLog := filepath.Join(logDir, "audit.jsonl")
	if res := audit.run(t, auditCache, "audit", "export", "--to", goodLog); res.code != exitOK {
		t.Fatalf("export: %d %s", res.code, res.stderr)
	}

	change := newPromoteFixture(t)
	change.githubRetry = fastRetry
	inChange := func(vars map[string]string, args ...string) func(*testing.T) cliResult {
		return func(t *testing.T) cliResult {
			saved := change.getenv
			change.getenv = map[string]string{}
			for k, v := range saved {
				change.getenv[k] = v
			}
			for k, v := range vars {
				change.getenv[k] = v
			}
			defer func() { change.getenv = saved }()
			code, stdout, stderr := change.run(args...)
			return cliResult{code: code, stdout: stdout, stderr: stderr}
		}
	}
	githubDown := map[string]string{"GITHUB_API_URL": closedGitHub}

	cases := []exitCase{
		// validate
		{name: "validate/success", run: inArt(nil, "validate"), want: exitOK},
		{name: "validate/success json", run: inArt(nil, "validate", "--format", "json"), want: exitOK, schema: "validate-output.schema.json"},
		{name: "validate/refused", run: inArt(nil, "validate", "--verify-artifacts", "--format", "json"), want: exitFailed, schema: "validate-output.schema.json"},
		{name: "validate/usage", run: inArt(nil, "validate", "--format", "yaml"), want: exitUsage},
		{name: "validate/usage json", run: inArt(nil, "validate", "--format", "json", "/elsewhere"), want: exitUsage, schema: "error-output.schema.json"},
		{name: "validate/not found", run: inArt(nil, "validate", "environments/prod/nosuch.yaml"), want: exitNotFound},
		{name: "validate/unavailable", run: inArt(down, "validate", "--verify-artifacts"), want: exitUnavailable},

		// check
		{name: "check/success", run: inArt(nil, "check", "--base", "main", "--head", "promote"), want: exitOK},
		{name: "check/refused", run: inArt(nil, "check", "--base", "main", "--head", "promote", "--verify-artifacts", "--format", "json"), want: exitFailed, schema: "check-output.schema.json"},
		{name: "check/usage", run: inArt(nil, "check"), want: exitUsage},
		{name: "check/not found", run: inArt(nil, "check", "--base", "nope"), want: exitNotFound},
		{name: "check/not found json", run: inArt(nil, "check", "--base", "nope", "--format", "json"), want: exitNotFound, schema: "error-output.schema.json"},
		{name: "check/unavailable", run: inArt(down, "check", "--base", "main", "--head", "promote", "--verify-artifacts", "--format", "github"), want: exitUnavailable},

		// resolve
		{name: "resolve/success", run: inArt(nil, "resolve", "--env", "prod", "--model", "good", "--ref", "main"), want: exitOK},
		{name: "resolve/success json", run: inArt(nil, "resolve", "--env", "prod", "--model", "good", "--ref", "main", "--format", "json"), want: exitOK, schema: "resolve-output.schema.json"},
		{name: "resolve/refused", run: inArt(nil, "resolve", "--env", "prod", "--model", "swapped", "--ref", "main"), want: exitFailed},
		{name: "resolve/refused json", run: inArt(nil, "resolve", "--env", "prod", "--model", "swapped", "--ref", "main", "--format", "json"), want: exitFailed, schema: "error-output.schema.json"},
		{name: "resolve/usage", run: inArt(nil, "resolve", "--env", "prod"), want: exitUsage},
		{name: "resolve/usage json", run: inArt(nil, "resolve", "--env", "prod", "--format", "json"), want: exitUsage, schema: "error-output.schema.json"},
		{name: "resolve/unknown model", run: inArt(nil, "resolve", "--env", "prod", "--model", "nosuch", "--ref", "main"), want: exitNotFound},
		{name: "resolve/unknown environment", run: inArt(nil, "resolve", "--env", "staging", "--model", "good", "--ref", "main", "--format", "json"), want: exitNotFound, schema: "error-output.schema.json"},
		{name: "resolve/unknown revision", run: inArt(nil, "resolve", "--env", "prod", "--model", "good", "--ref", "nope"), want: exitNotFound},
		{name: "resolve/unavailable", run: inArt(down, "resolve", "--env", "prod", "--model", "good", "--ref", "main"), want: exitUnavailable},
		{name: "resolve/unavailable json", run: inArt(down, "resolve", "--env", "prod", "--model", "good", "--ref", "main", "--format", "json"), want: exitUnavailable, schema: "error-output.schema.json"},
		{name: "resolve/storage busy", run: inArt(busy, "resolve", "--env", "prod", "--model", "good", "--ref", "main"), want: exitUnavailable, stderr: "storage answered 503 Service Unavailable (ServerBusy)"},
		{name: "resolve/review unavailable", run: func(t *testing.T) cliResult {
			vars := map[string]string{"GITHUB_API_URL": closedGitHub, "GITHUB_TOKEN": "t"}
			return runWithRetry(t, art.dir, vars, nil, fastRetry, "resolve", "--env", "prod", "--model", "good", "--ref", "main", "--verify=false", "--require-reviewed", "--github-repo", "acme/models")
		}, want: exitUnavailable},
		{name: "resolve/unavailable remote", run: inArt(nil, "resolve", "--repo", "http://"+closedLoopbackAddr(t)+"/gitops.git", "--env", "prod", "--model", "good"), want: exitUnavailable},

		// audit
		{name: "audit/success", run: inAudit("audit"), want: exitOK},
		{name: "audit/refused", run: inAudit(append([]string{"audit", "--env", "prod", "--fail-on-bypass"}, audit.github...)...), want: exitFailed},
		{name: "audit/usage", run: inAudit("audit", "--format", "xml"), want: exitUsage},
		{name: "audit/unknown environment", run: inAudit("audit", "--env", "staging"), want: exitNotFound},
		{name: "audit/unknown model json", run: inAudit("audit", "--model", "nosuch", "--format", "json"), want: exitNotFound, schema: "error-output.schema.json"},
		{name: "audit/unknown ref", run: inAudit("audit", "--ref", "nope"), want: exitNotFound},
		{name: "audit/unavailable", run: inAudit("audit", "--github-repo", "acme/models", "--github-url", closedGitHub, "--github-token", "t", "--no-cache"), want: exitUnavailable},

		// audit export
		{name: "audit export/success", run: inAudit("audit", "export", "--to", goodLog), want: exitOK},
		{name: "audit export/usage", run: inAudit("audit", "export"), want: exitUsage},
		{name: "audit export/not found", run: inAudit("audit", "export", "--to", goodLog, "--ref", "nope"), want: exitNotFound},
		{name: "audit export/unavailable", run: inAudit("audit", "export", "--to", logDir), want: exitUnavailable},

		// audit verify
		{name: "audit verify/success", run: inAudit("audit", "verify", "--from", goodLog, "--format", "json"), want: exitOK, schema: "audit-verify-output.schema.json"},
		{name: "audit verify/refused", run: inAudit("audit", "verify", "--from", goodLog, "--anchor", strings.Repeat("ab", 32), "--format", "json"), want: exitFailed, schema: "audit-verify-output.schema.json"},
		{name: "audit verify/usage", run: inAudit("audit", "verify"), want: exitUsage},
		{name: "audit verify/not found", run: inAudit("audit", "verify", "--from", filepath.Join(logDir, "missing.jsonl")), want: exitNotFound},
		{name: "audit verify/not found json", run: inAudit("audit", "verify", "--from", filepath.Join(logDir, "missing.jsonl"), "--format", "json"), want: exitNotFound, schema: "error-output.schema.json"},
		{name: "audit verify/unavailable", run: inAudit("audit", "verify", "--from", logDir), want: exitUnavailable},

		// promote
		{name: "promote/success", run: inChange(nil, "promote", "--model", "elasticnet-ndx", "--model", "elasticnet-ndx-threshold", "--to", "prod", "--ticket", "CHG-5001", "--dry-run"), want: exitOK},
		{name: "promote/refused", run: inChange(nil, "promote", "--model", "elasticnet-ndx", "--to", "test", "--no-pr"), want: exitFailed},
		{name: "promote/refused json", run: inChange(nil, "promote", "--model", "elasticnet-ndx", "--to", "test", "--no-pr", "--format", "json"), want: exitFailed, stdout: `"code": "refused"`},
		{name: "promote/usage", run: inChange(nil, "promote", "--model", "elasticnet-ndx"), want: exitUsage},
		{name: "promote/unknown environment", run: inChange(nil, "promote", "--model", "elasticnet-ndx", "--to", "staging", "--no-pr"), want: exitNotFound},
		{name: "promote/unknown model json", run: inChange(nil, "promote", "--model", "nosuch", "--to", "prod", "--no-pr", "--format", "json"), want: exitNotFound, schema: "error-output.schema.json"},
		{name: "promote/unknown version", run: inChange(nil, "promote", "--model", "elasticnet-ndx", "--to", "prod", "--version", "9.9.9", "--no-pr"), want: exitNotFound},
		{name: "promote/unavailable", run: inChange(githubDown, "promote", "--model", "elasticnet-ndx", "--model", "elasticnet-ndx-threshold", "--to", "prod", "--ticket", "CHG-5002", "--github-repo", "example-org/gitops"), want: exitUnavailable},

		// rollback
		{name: "rollback/success", run: inChange(nil, "rollback", "--model", "elasticnet-ndx", "--model", "elasticnet-ndx-threshold", "--env", "prod", "--dry-run"), want: exitOK},
		{name: "rollback/refused", run: inChange(nil, "rollback", "--model", "elasticnet-ndx", "--env", "dev", "--no-pr"), want: exitFailed},
		{name: "rollback/unknown version", run: inChange(nil, "rollback", "--model", "elasticnet-ndx", "--env", "prod", "--to-version", "2020.01.01-1", "--no-pr"), want: exitNotFound},
		{name: "rollback/usage", run: inChange(nil, "rollback", "--model", "elasticnet-ndx"), want: exitUsage},
		{name: "rollback/unknown environment", run: inChange(nil, "rollback", "--model", "elasticnet-ndx", "--env", "staging", "--no-pr"), want: exitNotFound},
		{name: "rollback/unknown pull request", run: inChange(nil, "rollback", "--pr", "999", "--github-repo", "example-org/gitops"), want: exitNotFound},
		{name: "rollback/unavailable", run: inChange(githubDown, "rollback", "--pr", "3", "--github-repo", "example-org/gitops"), want: exitUnavailable},

		// register
		{name: "register/usage", run: inChange(nil, "register", "--version", "1"), want: exitUsage},
		{name: "register/unknown environment", run: inChange(nil, "register", "--model", "m", "--version", "1", "--env", "staging", "--no-pr"), want: exitNotFound},

		// serve refuses a bad configuration before it listens.
		{name: "serve/usage", run: func(t *testing.T) cliResult { return runIn(t, t.TempDir(), nil, nil, "serve") }, want: exitUsage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.run(t)
			t.Logf("stderr: %s", res.stderr)
			if res.code != c.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, c.want, res.stdout, res.stderr)
			}
			for _, l := range strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n") {
				if l != "" && !strings.HasPrefix(l, "promobot: ") && !strings.HasPrefix(l, "  - ") && !strings.Contains(l, "level=") {
					t.Errorf("stderr line %q is not one promobot message", l)
				}
			}
			if c.schema != "" {
				assertSchema(t, c.schema, res.stdout)
			}
			if !strings.Contains(res.stderr, c.stderr) {
				t.Errorf("stderr %q lacks %q", res.stderr, c.stderr)
			}
			if !strings.Contains(res.stdout, c.stdout) {
				t.Errorf("stdout %q lacks %q", res.stdout, c.stdout)
			}
		})
	}
}

// TestDeprecatedAliases checks that the old flag names still work, are
// hidden from help, and say once on stderr what replaces them.
func TestDeprecatedAliases(t *testing.T) {
	art := newArtifactRepo(t)
	res := runIn(t, art.dir, nil, nil, "resolve", "--env", "prod", "--model", "good", "--ref", "main", "--verify=false", "--require-reviewed", "--github", "acme")
	if !strings.HasPrefix(res.stderr, "promobot: --github is deprecated and will be removed; use --github-repo\n") {
		t.Errorf("stderr %q lacks the notice", res.stderr)
	}
	for _, cmd := range [][]string{{"resolve"}, {"audit"}, {"audit", "export"}, {"promote"}, {"rollback"}, {"register"}} {
		help := runIn(t, art.dir, nil, nil, append(cmd, "--help")...)
		for _, old := range []string{"--github ", "--output "} {
			if strings.Contains(help.stdout, old) {
				t.Errorf("%s --help shows the deprecated %s", strings.Join(cmd, " "), old)
			}
		}
	}
	help := runIn(t, art.dir, nil, nil, "audit", "verify", "--help")
	for _, inherited := range []string{"--repo", "--github-repo", "--cache-dir", "--github-token"} {
		if strings.Contains(help.stdout, inherited) {
			t.Errorf("audit verify --help lists %s, which it does not use", inherited)
		}
	}
	if _, err := os.Stat(art.dir); err != nil {
		t.Fatal(err)
	}
}

func TestOneLine(t *testing.T) {
	azure := "GET http://127.0.0.1:1/devstoreaccount1/models/x\n" +
		"--------------------------------------------------------------------------------\n" +
		"RESPONSE 503: 503 Service Unavailable\n" +
		"ERROR CODE: ServerBusy\n" +
		"--------------------------------------------------------------------------------\n" +
		"<?xml version=\"1.0\"?><Error><Code>ServerBusy</Code></Error>\n" +
		"--------------------------------------------------------------------------------\n"
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"serve: invalid configuration:\n--app-id is required\n--private-key is required", "serve: invalid configuration: --app-id is required; --private-key is required"},
		{azure, "GET http://127.0.0.1:1/devstoreaccount1/models/x; RESPONSE 503: 503 Service Unavailable; ERROR CODE: ServerBusy"},
	}
	for _, c := range cases {
		if got := oneLine(c.in); got != c.want {
			t.Errorf("oneLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
