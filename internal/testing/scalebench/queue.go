package scalebench

import "testing"

// startQueue starts what ModeQueue needs and returns the replicas'
// environment and flags.
func startQueue(t testing.TB) (env, args []string) {
	t.Helper()
	t.Skip("scalebench: the azqueue mode needs serve --queue and --lease-container")
	return nil, nil
}
