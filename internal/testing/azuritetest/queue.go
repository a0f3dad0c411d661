package azuritetest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/example-org/promobot/internal/testing/procutil"
)

// QueueURL returns the path-style URL of a queue in AccountName; it needs
// an Azurite started with StartWithQueue or LaunchWithQueue.
func (a *Azurite) QueueURL(queue string) string {
	return a.QueueEndpoint + "/" + queue
}

// StartWithQueue is Start plus Azurite's queue service on a second free
// port: QueueHost and QueueEndpoint are set and ConnectionString names both
// endpoints, so one connection string serves the blob and the queue clients.
func StartWithQueue(t testing.TB) *Azurite {
	t.Helper()
	a := Start(t)
	qbin, err := findQueueBinary(".")
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("Azurite's queue service is required (%s=1) but was not found: %v", RequireEnv, err)
		}
		t.Skipf("skipping: Azurite's queue service not found (%v); run `npm ci` at the repository root", err)
	}
	stop, err := launchQueue(qbin, t.TempDir(), a)
	if err != nil {
		t.Fatalf("starting Azurite's queue service from %s: %v", qbin, err)
	}
	t.Cleanup(stop)
	return a
}

// LaunchWithQueue is Launch plus the queue service (for benchmarks and
// demos outside a test); the returned function stops both.
func LaunchWithQueue(dir string) (*Azurite, func(), error) {
	a, stopBlob, err := Launch(dir)
	if err != nil {
		return nil, nil, err
	}
	qbin, err := findQueueBinary(dir)
	if err != nil {
		stopBlob()
		return nil, nil, err
	}
	stopQueue, err := launchQueue(qbin, dir, a)
	if err != nil {
		stopBlob()
		return nil, nil, err
	}
	return a, func() { stopQueue(); stopBlob() }, nil
}

// findQueueBinary looks for azurite-queue next to the blob binary found
// from dir, then on PATH.
func findQueueBinary(dir string) (string, error) {
	blob, err := findBinaryFrom(dir)
	if err == nil {
		candidate := filepath.Join(filepath.Dir(blob), "azurite-queue")
		if fi, err := os.Stat(candidate); err == nil && !fi.IsDir() {
			return candidate, nil
		}
	}
	path, err := exec.LookPath("azurite-queue")
	if err != nil {
		return "", errors.New("no node_modules/.bin/azurite-queue up to the repository root and no azurite-queue on PATH")
	}
	return path, nil
}

// launchQueue starts the queue service, retrying a few fresh ports, and
// records its endpoints in a.
func launchQueue(bin, dir string, a *Azurite, accounts ...string) (func(), error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		stop, err := startQueue(bin, dir, a, accounts...)
		if err == nil {
			return stop, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// startQueue runs one attempt of the queue service on a fresh port;
// accounts, when not empty, are the storage accounts it serves besides
// AccountName.
func startQueue(bin, dir string, a *Azurite, accounts ...string) (func(), error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	out := &tailBuffer{max: 64 << 10}
	cmd := exec.Command(bin,
		"--queueHost", "127.0.0.1",
		"--queuePort", strconv.Itoa(port),
		"--inMemoryPersistence",
		"--skipApiVersionCheck",
		"--loose",
		"--disableTelemetry",
		"--silent",
	)
	cmd.Dir = dir
	if len(accounts) > 0 {
		cmd.Env = append(os.Environ(), "AZURITE_ACCOUNTS="+accountList(accounts))
	}
	procutil.DieWithParent(cmd)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	if err := waitReady(host, exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w; output:\n%s", err, out.String())
	}
	a.QueueHost = host
	a.QueueEndpoint = "http://" + host + "/" + AccountName
	a.ConnectionString = fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;QueueEndpoint=%s;",
		AccountName, AccountKey, a.Endpoint, a.QueueEndpoint)
	return stop, nil
}
