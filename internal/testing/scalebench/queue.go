package scalebench

import (
	"testing"

	"github.com/example-org/promobot/internal/testing/azuritetest"
)

// Names of the queue and the lease container of ModeQueue.
const (
	queueName      = "promobot-jobs"
	leaseContainer = "promobot-leases"
)

// startLeases starts Azurite's blob service for ModeLeases and returns
// the replicas' environment and flags.
func startLeases(t testing.TB, bin string) (env, args []string) {
	t.Helper()
	if !ServeHasFlag(bin, "lease-container") {
		t.Skip("scalebench: this promobot serve has no --lease-container")
	}
	a := azuritetest.Start(t)
	env = []string{"AZURE_STORAGE_CONNECTION_STRING=" + a.ConnectionString}
	return env, []string{"--lease-container", a.Endpoint + "/" + leaseContainer}
}

// startQueue starts Azurite's blob and queue services for ModeQueue and
// returns the replicas' environment (the connection string) and flags
// (the shared queue and lease container).
func startQueue(t testing.TB, bin string) (env, args []string) {
	t.Helper()
	if !ServeHasFlag(bin, "queue") {
		t.Skip("scalebench: this promobot serve has no --queue")
	}
	a := azuritetest.StartWithQueue(t)
	env = []string{"AZURE_STORAGE_CONNECTION_STRING=" + a.ConnectionString}
	args = []string{"--queue", a.QueueURL(queueName)}
	if ServeHasFlag(bin, "lease-container") {
		args = append(args, "--lease-container", a.Endpoint+"/"+leaseContainer)
	}
	return env, args
}
