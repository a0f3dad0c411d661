package azuritetest

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// sharedAccounts is how many storage accounts one shared service serves
// before Shared starts another.
const sharedAccounts = 64

// shared is the Azurite blob service the tests of this process share.
var shared struct {
	mu    sync.Mutex
	host  string // "" until started, or after the service is used up
	next  int    // the next account to hand out
	dirs  []string
	stops []func()
	err   error // the failure to start it, reported to every caller
}

// Shared returns a storage account of the test's own on an Azurite blob
// service that the tests of the process share, started by the first call:
// starting Azurite costs seconds of CPU, an account nothing. The account
// is empty (no containers), so that tests can use the same container names
// without seeing each other's blobs; its name is Account and its key Key
// (not AccountName). A package that calls Shared stops the service from
// its TestMain with StopShared after m.Run; otherwise it dies with the
// test process. Tests that stop or restart Azurite use Start.
func Shared(t testing.TB) *Azurite {
	t.Helper()
	bin := Require(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.err != nil {
		t.Fatalf("starting the shared Azurite from %s: %v", bin, shared.err)
	}
	if shared.host == "" || shared.next == sharedAccounts {
		dir, err := os.MkdirTemp("", "azurite-shared-")
		if err != nil {
			t.Fatal(err)
		}
		accounts := make([]string, sharedAccounts)
		for i := range accounts {
			accounts[i] = accountName(i)
		}
		a, stop, err := launch(bin, dir, accounts...)
		if err != nil {
			os.RemoveAll(dir)
			shared.err = err
			t.Fatalf("starting the shared Azurite from %s: %v", bin, err)
		}
		shared.host, shared.next = a.Host, 0
		shared.dirs = append(shared.dirs, dir)
		shared.stops = append(shared.stops, stop)
	}
	a := withAccount(shared.host, accountName(shared.next))
	shared.next++
	return a
}

// accountName names the i-th account of a shared service.
func accountName(i int) string {
	return fmt.Sprintf("promobottest%03d", i)
}

// StopShared stops the services Shared started and removes their files.
func StopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	for _, stop := range shared.stops {
		stop()
	}
	for _, dir := range shared.dirs {
		os.RemoveAll(dir)
	}
	shared.host, shared.next, shared.stops, shared.dirs = "", 0, nil, nil
}
