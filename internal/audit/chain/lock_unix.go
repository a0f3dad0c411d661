//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package chain

import (
	"os"
	"syscall"
)

// lockFile takes an advisory lock on f until unlock is called: exclusive
// for writers, shared for readers, so a reader never sees half an append.
func lockFile(f *os.File, exclusive bool) (unlock func(), err error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, nil
}
