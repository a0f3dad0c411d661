package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

const serveSecret = "s3cr3t-webhook-value"

var (
	serveKeyOnce sync.Once
	serveKey     *rsa.PrivateKey
	serveKeyPEM  []byte
)

func serveTestKey(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	serveKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		serveKey, serveKeyPEM = k, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	return serveKey, serveKeyPEM
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runServe runs "promobot serve" with the environment vars until ctx ends.
func runServe(ctx context.Context, vars map[string]string, stderr io.Writer, args ...string) int {
	e := &env{
		stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr,
		getenv: func(k string) string { return vars[k] },
		getwd:  os.Getwd,
	}
	return run(ctx, append([]string{"serve"}, args...), e)
}

// listenFailingVars returns a valid configuration whose listen address
// cannot be bound, so "serve" checks everything and then fails at listen.
func listenFailingVars(t *testing.T) map[string]string {
	t.Helper()
	_, keyPEM := serveTestKey(t)
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"PROMOBOT_APP_ID": "12", "PROMOBOT_PRIVATE_KEY": keyFile, "PROMOBOT_WEBHOOK_SECRET": serveSecret,
		"PROMOBOT_CACHE_DIR": t.TempDir(), "PROMOBOT_ADDR": "256.1.1.1:80",
	}
}

// wantServeUsageError runs "promobot serve" with vars overlaid by overlay
// and checks it exits with a usage error whose message contains want.
func wantServeUsageError(t *testing.T, vars, overlay map[string]string, args []string, want string) {
	t.Helper()
	env := maps.Clone(vars)
	maps.Copy(env, overlay)
	var stderr syncBuffer
	if code := runServe(t.Context(), env, &stderr, args...); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}

func TestServeRefusesBadConfiguration(t *testing.T) {
	_, keyPEM := serveTestKey(t)
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	good := map[string]string{
		"PROMOBOT_APP_ID": "12", "PROMOBOT_PRIVATE_KEY": keyFile, "PROMOBOT_WEBHOOK_SECRET": serveSecret,
		"PROMOBOT_CACHE_DIR": t.TempDir(), "PROMOBOT_ADDR": "127.0.0.1:0",
	}
	with := func(changes map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range good {
			out[k] = v
		}
		for k, v := range changes {
			if v == "" {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want []string
	}{
		{name: "nothing set", vars: map[string]string{"HOME": t.TempDir()}, want: []string{
			"--app-id (PROMOBOT_APP_ID) is required",
			"--private-key (PROMOBOT_PRIVATE_KEY) is required",
			"--webhook-secret (PROMOBOT_WEBHOOK_SECRET) or --webhook-secret-file (PROMOBOT_WEBHOOK_SECRET_FILE) is required",
		}},
		{name: "app id not a number", vars: with(map[string]string{"PROMOBOT_APP_ID": "promobot"}), want: []string{`must be a positive integer, not "promobot"`}},
		{name: "key file missing", vars: with(map[string]string{"PROMOBOT_PRIVATE_KEY": "/nonexistent/app.pem"}), want: []string{"read the key file /nonexistent/app.pem"}},
		{name: "key is not a key", vars: with(map[string]string{"PROMOBOT_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\\nc2VjcmV0LWtleS1ieXRlcw==\\n-----END RSA PRIVATE KEY-----"}),
			want: []string{"private key is not an RSA private key"}},
		{name: "bad GitHub URL", vars: with(map[string]string{"GITHUB_API_URL": "ftp://ghe.example.com"}), want: []string{"--github-url (GITHUB_API_URL)", "must be an http(s) URL"}},
		{name: "bad worker count", vars: with(nil), args: []string{"--workers", "0"}, want: []string{"--workers (PROMOBOT_WORKERS) must be between 1 and 1024"}},
		{name: "worker count from the environment not a number", vars: with(map[string]string{"PROMOBOT_WORKERS": "many"}), want: []string{"PROMOBOT_WORKERS: not a valid value for --workers"}},
		{name: "bad log level", vars: with(map[string]string{"PROMOBOT_LOG_LEVEL": "loud"}), want: []string{"--log-level"}},
		{name: "cannot listen", vars: with(nil), args: []string{"--addr", "256.1.1.1:80"}, want: []string{"listen on 256.1.1.1:80"}},
		{name: "no cache directory", vars: with(map[string]string{"PROMOBOT_CACHE_DIR": ""}), want: []string{"--cache-dir (PROMOBOT_CACHE_DIR) is required"}},
		{name: "stray argument", vars: with(nil), args: []string{"now"}, want: []string{"unknown command"}},
		{name: "a trailing comma in the secrets", vars: with(map[string]string{"PROMOBOT_WEBHOOK_SECRET": serveSecret + ","}),
			want: []string{"--webhook-secret (PROMOBOT_WEBHOOK_SECRET): secret 2 of 2 is empty"}},
		{name: "an empty secret between two", vars: with(nil), args: []string{"--webhook-secret", "old-" + serveSecret + ", ," + serveSecret},
			want: []string{"--webhook-secret (PROMOBOT_WEBHOOK_SECRET): secret 2 of 3 is empty"}},
	}
	secretFile := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(secretFile, []byte(serveSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests = append(tests, []struct {
		name string
		vars map[string]string
		args []string
		want []string
	}{
		{name: "secret and secret file from the environment", vars: with(map[string]string{"PROMOBOT_WEBHOOK_SECRET_FILE": secretFile}),
			want: []string{"--webhook-secret (PROMOBOT_WEBHOOK_SECRET) and --webhook-secret-file (PROMOBOT_WEBHOOK_SECRET_FILE) are both set; set one"}},
		{name: "secret from the environment, secret file as a flag", vars: with(nil), args: []string{"--webhook-secret-file", secretFile},
			want: []string{"are both set; set one"}},
		{name: "secret file missing", vars: with(map[string]string{"PROMOBOT_WEBHOOK_SECRET": "", "PROMOBOT_WEBHOOK_SECRET_FILE": "/nonexistent/secret"}),
			want: []string{"--webhook-secret-file (PROMOBOT_WEBHOOK_SECRET_FILE): read /nonexistent/secret: no such file or directory"}},
	}...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr syncBuffer
			code := runServe(t.Context(), tc.vars, &stderr, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			for _, secret := range []string{serveSecret, "c2VjcmV0LWtleS1ieXRlcw", "BEGIN RSA"} {
				if strings.Contains(stderr.String(), secret) {
					t.Errorf("stderr shows a secret (%q):\n%s", secret, stderr.String())
				}
			}
		})
	}
}

func TestServeFlagsWinOverTheEnvironment(t *testing.T) {
	vars := map[string]string{"PROMOBOT_WORKERS": "3", "PROMOBOT_CHECK_NAME": "from-env", "GITHUB_API_URL": "https://ghe.example.com/api/v3", "PROMOBOT_VERIFY_ARTIFACTS": "true"}
	e := &env{getenv: func(k string) string { return vars[k] }}
	cmd := newServeCommand(e)
	if err := cmd.ParseFlags([]string{"--workers", "5"}); err != nil {
		t.Fatal(err)
	}
	if err := fromEnv(cmd.Flags(), e); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, name := range []string{"workers", "check-name", "github-url", "queue-size", "addr", "verify-artifacts"} {
		got[name] = cmd.Flags().Lookup(name).Value.String()
	}
	want := map[string]string{
		"workers": "5", "check-name": "from-env", "github-url": "https://ghe.example.com/api/v3",
		"queue-size": "100", "addr": ":8080", "verify-artifacts": "true",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}

func TestLoadPrivateKey(t *testing.T) {
	_, keyPEM := serveTestKey(t)
	file := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(file, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	escaped := strings.ReplaceAll(strings.TrimSpace(string(keyPEM)), "\n", `\n`)
	tests := []struct {
		name, value string
		wantErr     string
	}{
		{name: "file", value: file},
		{name: "inline", value: string(keyPEM)},
		{name: "inline with escaped newlines", value: escaped},
		{name: "inline with surrounding space", value: "\n  " + string(keyPEM) + "  \n"},
		{name: "mangled PEM is not taken for a path", value: "MIIEvQ PRIVATE KEY\nxyz", wantErr: "does not start with -----BEGIN"},
		{name: "missing file", value: "/nonexistent.pem", wantErr: "read the key file /nonexistent.pem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := loadPrivateKey(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "xyz") {
					t.Errorf("the error shows the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(got)
			if block == nil {
				t.Fatalf("not PEM: %q", got)
			}
			if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestServeEndToEnd runs the command as deployed: configuration from the
// environment, a listening server, a signed delivery from the emulator, a
// check run on the pull request, and a clean stop.
func TestServeEndToEnd(t *testing.T) {
	key, keyPEM := serveTestKey(t)
	const appID, installation = 31, 41
	fx := githubtest.NewFixture(t, githubtest.Config{AppID: appID, AppPublicKey: &key.PublicKey})
	path := fx.AddRepo(t, "example-org", "models", "main")
	for _, h := range evaltest.History() {
		gittest.MustCommit(t, path, gittest.Commit{Branch: "main", Files: h.Files, Message: "history", Author: gittest.Signature{When: serveTime(t, h.Date)}})
	}
	base := gittest.MustCommit(t, path, gittest.Commit{Branch: "main", Files: evaltest.Base(), Message: "base", Author: gittest.Signature{When: serveTime(t, evaltest.DefaultBaseDate)}})
	head := gittest.MustCommit(t, path, gittest.Commit{
		Branch: "promote", Parents: []string{base}, Message: "promote",
		Files:  evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator),
		Author: gittest.Signature{Name: "alex", Email: "alex@users.noreply.github.com", When: serveTime(t, evaltest.DefaultNow)},
	})
	fx.Emulator.AddInstallation(installation, "example-org", "example-org/models")
	n, err := fx.Emulator.OpenPR("example-org", "models", githubtest.NewPullRequest{Title: "Promote", Head: "promote", User: "alex"})
	if err != nil {
		t.Fatal(err)
	}

	vars := map[string]string{
		"PROMOBOT_ADDR": "127.0.0.1:0", "PROMOBOT_APP_ID": "31", "PROMOBOT_PRIVATE_KEY": string(keyPEM),
		// Mid-rotation: the old secret and the new one.
		"PROMOBOT_WEBHOOK_SECRET": "old-" + serveSecret + "\n" + serveSecret, "GITHUB_API_URL": fx.URL(), "PROMOBOT_CACHE_DIR": t.TempDir(),
		"PROMOBOT_LOG_LEVEL": "debug",
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var stderr syncBuffer
	exited := make(chan int, 1)
	go func() { exited <- runServe(ctx, vars, &stderr) }()

	addr := waitForListening(t, &stderr, exited)
	url := "http://" + addr
	deliverOpened(t, fx, url, n)
	if got := completedCheckRun(t, fx, head, &stderr); got.Name != "promobot" || got.Conclusion != "failure" {
		t.Errorf("check run %q %s %q", got.Name, got.Conclusion, got.Title)
	}
	for secret, want := range map[string]int{"old-" + serveSecret: 202, serveSecret: 202, "older-" + serveSecret: 401} {
		resp, err := githubtest.Deliver(t.Context(), url+"/webhook", secret, "ping", githubtest.Payload{"zen": "Rotate often.", "hook_id": 1})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("ping signed with %q: status %d, want %d", secret, resp.StatusCode, want)
		}
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/nothing": 404} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	stop()
	select {
	case code := <-exited:
		if code != exitOK {
			t.Errorf("exit %d after SIGTERM, want 0; log:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	logs := stderr.String()
	for _, secret := range []string{serveSecret, "BEGIN RSA", "ghs_"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log shows a secret (%q)", secret)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
}

func serveTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitForListening returns the address from the "listening" log line.
func waitForListening(t *testing.T, stderr *syncBuffer, exited <-chan int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-exited:
			t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
		default:
		}
		for _, line := range strings.Split(stderr.String(), "\n") {
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" {
				return entry.Addr
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("serve did not listen:\n%s", stderr.String())
	return ""
}

// TestServeFeatureFlags checks the optional features' flags: off by
// default, settable from the environment, and checked before listening.
func TestServeFeatureFlags(t *testing.T) {
	vars := listenFailingVars(t)
	sink := "file:" + filepath.Join(t.TempDir(), "{owner}-{repo}.jsonl")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{name: "all on", args: []string{"--chatops", "--bypass-issues", "--audit-sink", sink}, want: "listen on 256.1.1.1:80"},
		{name: "from the environment", env: map[string]string{"PROMOBOT_CHATOPS": "true", "PROMOBOT_AUDIT_SINK": sink, "PROMOBOT_AUDIT_DELAY": "30s"},
			want: "listen on 256.1.1.1:80"},
		{name: "not a boolean", env: map[string]string{"PROMOBOT_BYPASS_ISSUES": "sometimes"}, want: "PROMOBOT_BYPASS_ISSUES: not a valid value for --bypass-issues"},
		{name: "unknown sink", args: []string{"--audit-sink", "ftp://logs/x"}, want: `--audit-sink (PROMOBOT_AUDIT_SINK): unknown sink "ftp://logs/x"`},
		{name: "delay too short", args: []string{"--audit-delay", "1s"}, want: "--audit-delay (PROMOBOT_AUDIT_DELAY) must be between 10s and 1h, not 1s"},
		{name: "access review and drift on", args: []string{"--access-review-issue", "--drift-reports", "file:" + t.TempDir(), "--drift-issue"}, want: "listen on 256.1.1.1:80"},
		{name: "drift issue without reports", env: map[string]string{"PROMOBOT_DRIFT_ISSUE": "true"}, want: "--drift-issue (PROMOBOT_DRIFT_ISSUE) needs --drift-reports (PROMOBOT_DRIFT_REPORTS)"},
		{name: "unknown report store", args: []string{"--drift-reports", "ftp://reports"}, want: "--drift-reports (PROMOBOT_DRIFT_REPORTS): report sink"},
		{name: "review without resync", args: []string{"--access-review-issue", "--resync-interval", "0", "--recheck-interval", "0"}, want: "--access-review-issue (PROMOBOT_ACCESS_REVIEW_ISSUE) runs at resynchronization passes"},
		{name: "review interval too short", args: []string{"--access-review-interval", "5m"}, want: "--access-review-interval (PROMOBOT_ACCESS_REVIEW_INTERVAL) must be at least 1h, not 5m0s"},
		{name: "drift interval too short", env: map[string]string{"PROMOBOT_DRIFT_INTERVAL": "10s"}, want: "--drift-interval (PROMOBOT_DRIFT_INTERVAL) must be at least 1m, not 10s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantServeUsageError(t, vars, tc.env, tc.args, tc.want) })
	}

	e := &env{getenv: func(string) string { return "" }}
	cmd := newServeCommand(e)
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, name := range []string{"chatops", "bypass-issues", "audit-sink", "audit-delay", "access-review-issue", "access-review-interval", "drift-reports", "drift-issue", "drift-interval"} {
		got[name] = cmd.Flags().Lookup(name).Value.String()
	}
	want := map[string]string{"chatops": "false", "bypass-issues": "false", "audit-sink": "", "audit-delay": "1m0s",
		"access-review-issue": "false", "access-review-interval": "24h0m0s", "drift-reports": "", "drift-issue": "false", "drift-interval": "15m0s"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestOpenAuditSink(t *testing.T) {
	e := &env{getenv: func(string) string { return "" }}
	sink, err := openAuditSink(e, "file:/var/log/{owner}/{repo}.jsonl", "Example-Org", "Models")
	if err != nil {
		t.Fatal(err)
	}
	if got := sink.String(); got != "file:/var/log/example-org/models.jsonl" {
		t.Errorf("sink %s", got)
	}
	if _, err := openAuditSink(e, "file:/x/{repo}.jsonl", "o", ".."); err == nil {
		t.Error("a repository named .. opened a log")
	}
}
