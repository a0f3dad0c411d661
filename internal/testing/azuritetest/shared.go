package azuritetest

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// sharedAccounts is how many storage accounts one shared service serves
// before another is started.
const sharedAccounts = 64

// sharedService is an Azurite the tests of a process share, one storage
// account per test: the blob service alone (Shared), or the blob and the
// queue service (SharedWithQueue).
type sharedService struct {
	queue bool

	mu        sync.Mutex
	host      string // "" until started, or after the service is used up
	queueHost string
	next      int // the next account to hand out
	dirs      []string
	stops     []func()
	err       error // the failure to start it, reported to every caller
}

var (
	shared      = &sharedService{}
	sharedQueue = &sharedService{queue: true}
)

// Shared returns a storage account of the test's own on an Azurite blob
// service that the tests of the process share, started by the first call:
// starting Azurite costs seconds of CPU, an account nothing. The account
// is empty (no containers), so that tests can use the same container names
// without seeing each other's blobs; its name is Account and its key Key
// (not AccountName). A package that calls Shared stops the service from
// its TestMain, with Main (or StopShared after m.Run); otherwise it dies
// with the test process. Tests that stop or restart Azurite use Start.
func Shared(t testing.TB) *Azurite {
	t.Helper()
	return shared.account(t)
}

// SharedWithQueue is Shared with the queue service too, as StartWithQueue
// gives it: the account's queues, like its containers, are the test's own,
// so tests can use the same queue names. StopShared stops it as well.
func SharedWithQueue(t testing.TB) *Azurite {
	t.Helper()
	return sharedQueue.account(t)
}

// account hands out the next account, starting the service first when
// there is none or its accounts are used up.
func (s *sharedService) account(t testing.TB) *Azurite {
	t.Helper()
	bin := Require(t)
	qbin := ""
	if s.queue {
		var err error
		if qbin, err = findQueueBinary("."); err != nil {
			if os.Getenv(RequireEnv) == "1" {
				t.Fatalf("Azurite's queue service is required (%s=1) but was not found: %v", RequireEnv, err)
			}
			t.Skipf("skipping: Azurite's queue service not found (%v); run `npm ci` at the repository root", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		t.Fatalf("starting the shared Azurite from %s: %v", bin, s.err)
	}
	if s.host == "" || s.next == sharedAccounts {
		if err := s.start(bin, qbin); err != nil {
			s.err = err
			t.Fatalf("starting the shared Azurite from %s: %v", bin, err)
		}
	}
	a := withAccount(s.host, accountName(s.next))
	if s.queue {
		a.QueueHost = s.queueHost
		a.QueueEndpoint = "http://" + s.queueHost + "/" + a.Account
		a.ConnectionString = fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;QueueEndpoint=%s;",
			a.Account, AccountKey, a.Endpoint, a.QueueEndpoint)
	}
	s.next++
	return a
}

// start launches a fresh service serving sharedAccounts accounts.
func (s *sharedService) start(bin, qbin string) error {
	dir, err := os.MkdirTemp("", "azurite-shared-")
	if err != nil {
		return err
	}
	accounts := make([]string, sharedAccounts)
	for i := range accounts {
		accounts[i] = accountName(i)
	}
	a, stop, err := launch(bin, dir, accounts...)
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	if s.queue {
		stopQueue, err := launchQueue(qbin, dir, a, accounts...)
		if err != nil {
			stop()
			os.RemoveAll(dir)
			return err
		}
		stopBlob := stop
		stop = func() { stopQueue(); stopBlob() }
		s.queueHost = a.QueueHost
	}
	s.host, s.next = a.Host, 0
	s.dirs = append(s.dirs, dir)
	s.stops = append(s.stops, stop)
	return nil
}

// stop stops the services started and removes their files.
func (s *sharedService) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, stop := range s.stops {
		stop()
	}
	for _, dir := range s.dirs {
		os.RemoveAll(dir)
	}
	s.host, s.queueHost, s.next, s.stops, s.dirs = "", "", 0, nil, nil
}

// accountName names the i-th account of a shared service.
func accountName(i int) string {
	return fmt.Sprintf("promobottest%03d", i)
}

// StopShared stops the services Shared and SharedWithQueue started and
// removes their files.
func StopShared() {
	shared.stop()
	sharedQueue.stop()
}

// Main runs a package's tests and then stops the services Shared and
// SharedWithQueue started: call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}
