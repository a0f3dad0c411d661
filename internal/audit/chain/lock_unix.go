//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package chain

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f until unlock is called.
func lockFile(f *os.File) (unlock func(), err error) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, nil
}
