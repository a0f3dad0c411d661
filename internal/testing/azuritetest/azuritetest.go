// Package azuritetest starts a private Azurite blob service on a loopback
// port for tests that need real Azure Blob Storage semantics (ETags,
// conditional requests, ranged reads) without a network.
//
// Azurite is installed from the repository's package-lock.json with
// `npm ci`; tests skip when it is missing unless PROMOBOT_REQUIRE_AZURITE=1,
// which CI sets so that a missing Azurite fails the build instead of
// silently skipping the storage tests.
package azuritetest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/procutil"
)

// Well-known development storage credentials that Azurite accepts.
const (
	// AccountName is Azurite's default storage account.
	AccountName = "devstoreaccount1"
	// AccountKey is the published, non-secret key of AccountName.
	AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// RequireEnv is the environment variable that turns a missing Azurite into
// a test failure instead of a skip.
const RequireEnv = "PROMOBOT_REQUIRE_AZURITE"

// Azurite is a running Azurite blob service owned by one test.
type Azurite struct {
	// Host is the loopback host and port, such as "127.0.0.1:43121".
	Host string
	// Endpoint is the blob service URL of AccountName, without a trailing
	// slash, such as "http://127.0.0.1:43121/devstoreaccount1".
	Endpoint string
	// ConnectionString authenticates as Account with its shared key.
	// With StartWithQueue it names both the blob and the queue endpoint.
	ConnectionString string
	// Account is the storage account of Endpoint: AccountName for Start,
	// an account of the test's own for Shared.
	Account string
	// Key is Account's shared key (AccountKey).
	Key string
	// QueueHost and QueueEndpoint are set by StartWithQueue: the queue
	// service's host and port and its URL of AccountName, such as
	// "http://127.0.0.1:43122/devstoreaccount1".
	QueueHost, QueueEndpoint string
}

// BlobURL returns the path-style URL of a blob in AccountName.
func (a *Azurite) BlobURL(container, blob string) string {
	return a.Endpoint + "/" + container + "/" + blob
}

// Start launches Azurite's blob service with in-memory persistence on a
// free 127.0.0.1 port, waits until it answers, and stops it when the test
// ends. It skips the test when Azurite is not installed, or fails it when
// PROMOBOT_REQUIRE_AZURITE=1.
func Start(t testing.TB) *Azurite {
	t.Helper()
	bin := Require(t)
	a, stop, err := launch(bin, t.TempDir())
	if err != nil {
		t.Fatalf("starting Azurite from %s: %v", bin, err)
	}
	t.Cleanup(stop)
	return a
}

// Require returns the Azurite binary without starting it, for a test that
// starts Azurite some other way (Launch): it skips the test when Azurite is
// not installed, or fails it when PROMOBOT_REQUIRE_AZURITE=1.
func Require(t testing.TB) string {
	t.Helper()
	bin, err := findBinary()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("Azurite is required (%s=1) but was not found: %v; run `npm ci` at the repository root", RequireEnv, err)
		}
		t.Skipf("skipping: Azurite not found (%v); run `npm ci` at the repository root, or set %s=1 to make this a failure", err, RequireEnv)
	}
	return bin
}

// Launch starts Azurite outside a test (for the demo): it looks for the
// binary from dir upwards, runs it with dir as its working directory and
// returns a function that stops it.
func Launch(dir string) (*Azurite, func(), error) {
	bin, err := findBinaryFrom(dir)
	if err != nil {
		return nil, nil, err
	}
	return launch(bin, dir)
}

// launch starts Azurite, trying a few fresh ports in case one is taken
// between choosing and binding it.
func launch(bin, dir string, accounts ...string) (*Azurite, func(), error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		a, stop, err := start(bin, dir, accounts...)
		if err == nil {
			return a, stop, nil
		}
		lastErr = err
	}
	return nil, nil, lastErr
}

// findBinary looks for node_modules/.bin/azurite-blob in the working
// directory and its parents up to the repository root, then on PATH.
func findBinary() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return findBinaryFrom(dir)
}

// findBinaryFrom looks for node_modules/.bin/azurite-blob in dir and its
// parents up to the repository root, then on PATH.
func findBinaryFrom(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		candidate := filepath.Join(dir, "node_modules", ".bin", "azurite-blob")
		if fi, err := os.Stat(candidate); err == nil && !fi.IsDir() {
			return candidate, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break // the repository root
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	path, err := exec.LookPath("azurite-blob")
	if err != nil {
		return "", errors.New("no node_modules/.bin/azurite-blob up to the repository root and no azurite-blob on PATH")
	}
	return path, nil
}

// withAccount returns the service at host as seen by account, whose key is
// AccountKey.
func withAccount(host, account string) *Azurite {
	a := &Azurite{Host: host, Endpoint: "http://" + host + "/" + account, Account: account, Key: AccountKey}
	a.ConnectionString = fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		account, AccountKey, a.Endpoint)
	return a
}

// start runs one attempt on a freshly chosen port; accounts, when not
// empty, are the storage accounts it serves (AZURITE_ACCOUNTS) besides
// AccountName.
func start(bin, dir string, accounts ...string) (*Azurite, func(), error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	out := &tailBuffer{max: 64 << 10}
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1",
		"--blobPort", strconv.Itoa(port),
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
		return nil, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	a := withAccount(host, AccountName)

	if err := waitReady(host, exited); err != nil {
		stop()
		return nil, nil, fmt.Errorf("%w; output:\n%s", err, out.String())
	}
	return a, stop, nil
}

// accountList is the AZURITE_ACCOUNTS value for AccountName and accounts,
// all with AccountKey.
func accountList(accounts []string) string {
	list := AccountName + ":" + AccountKey
	for _, name := range accounts {
		list += ";" + name + ":" + AccountKey
	}
	return list
}

// waitReady polls the service until it answers HTTP or the process exits.
func waitReady(host string, exited <-chan error) error {
	transport := &http.Transport{} // no proxy: loopback only
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: time.Second, Transport: transport}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("azurite exited before it was ready: %v", err)
		default:
		}
		resp, err := client.Get("http://" + host + "/" + AccountName + "?comp=list")
		if err == nil {
			resp.Body.Close()
			return nil // any HTTP answer (403 without credentials) means it listens
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("azurite did not answer within 30s")
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

// Write appends p, dropping the oldest bytes beyond max.
func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

// String returns the retained output.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
