//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package chain

import "os"

// lockFile is a no-op where flock is not available: the length check
// before a write still catches most concurrent appends.
func lockFile(f *os.File, exclusive bool) (unlock func(), err error) { return func() {}, nil }
