package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/azuritetest"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

func TestServeQueueFlagsAreChecked(t *testing.T) {
	_, keyPEM := serveTestKey(t)
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	good := map[string]string{
		"PROMOBOT_APP_ID": "12", "PROMOBOT_PRIVATE_KEY": keyFile, "PROMOBOT_WEBHOOK_SECRET": serveSecret,
		"PROMOBOT_CACHE_DIR": t.TempDir(), "PROMOBOT_ADDR": "127.0.0.1:0",
	}
	for _, tc := range []struct {
		name    string
		overlay map[string]string
		args    []string
		want    string
	}{
		{name: "not a queue", args: []string{"--queue", "redis://x"}, want: "--queue (PROMOBOT_QUEUE): queue \"redis://x\": want azqueue://ACCOUNT/QUEUE or an http(s) queue URL, or memory"},
		{name: "no queue name", overlay: map[string]string{"PROMOBOT_QUEUE": "azqueue://acct"}, want: "want azqueue://ACCOUNT/QUEUE"},
		{name: "shared queue without leases", overlay: map[string]string{"PROMOBOT_QUEUE": "azqueue://acct/jobs"}, want: "--queue azqueue://acct/jobs needs --lease-container (PROMOBOT_LEASE_CONTAINER)"},
		{name: "max dequeue", args: []string{"--max-dequeue", "0"}, want: "--max-dequeue (PROMOBOT_MAX_DEQUEUE) must be at least 1, not 0"},
		{name: "visibility", overlay: map[string]string{"PROMOBOT_VISIBILITY_TIMEOUT": "10ms"}, want: "--visibility-timeout (PROMOBOT_VISIBILITY_TIMEOUT) must be between 1s and 7 days"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantServeUsageError(t, good, tc.overlay, tc.args, tc.want) })
	}
}

// TestServeQueueEndToEnd runs serve on a durable queue in Azurite: the
// delivery is enqueued and answered, a worker takes it and posts the
// verdict, and /readyz reports ready while the queue can be reached.
func TestServeQueueEndToEnd(t *testing.T) {
	t.Parallel()
	a := azuritetest.StartWithQueue(t)
	key, keyPEM := serveTestKey(t)
	const appID, installation = 31, 41
	fx := githubtest.NewFixture(t, githubtest.Config{AppID: appID, AppPublicKey: &key.PublicKey})
	path := fx.AddRepo(t, "example-org", "models", "main")
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
		"PROMOBOT_WEBHOOK_SECRET": serveSecret, "GITHUB_API_URL": fx.URL(), "PROMOBOT_CACHE_DIR": t.TempDir(),
		"PROMOBOT_QUEUE": a.QueueURL("promobot-jobs"), "AZURE_STORAGE_CONNECTION_STRING": a.ConnectionString,
		"PROMOBOT_LEASE_CONTAINER": a.Endpoint + "/promobot-leases",
		"PROMOBOT_RESYNC_INTERVAL": "0", "PROMOBOT_RECHECK_INTERVAL": "0",
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var stderr syncBuffer
	exited := make(chan int, 1)
	go func() { exited <- runServe(ctx, vars, &stderr) }()
	url := "http://" + waitForListening(t, &stderr, exited)

	deliverOpened(t, fx, url, n)
	if got := completedCheckRun(t, fx, head, &stderr); got.Conclusion != "failure" || !strings.Contains(got.Title, "approval") {
		t.Errorf("check run %s %q", got.Conclusion, got.Title)
	}
	deadline := time.Now().Add(30 * time.Second)
	get := func(path string) (int, string) {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for time.Now().Before(deadline) {
		if code, _ := get("/readyz"); code == http.StatusOK {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d %q", code, body)
	}
	// The worker deletes the message and counts it just after posting the
	// check run, so the count may trail the check run briefly.
	const completed = `promobot_workqueue_messages_total{outcome="completed"} 1`
	for {
		_, body := get("/metrics")
		if strings.Contains(body, completed) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("/metrics lacks the completed message")
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	select {
	case code := <-exited:
		if code != exitOK {
			t.Errorf("exit %d, want 0; log:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if strings.Contains(stderr.String(), azuritetest.AccountKey) {
		t.Error("the log shows the storage key")
	}
}
