package artifact

import (
	"fmt"
	"io/fs"
	"syscall"
)

// fileIdentity returns the device, inode and status-change time of a file:
// they change when the file is replaced by another one or rewritten in
// place, even if its size and modification time are preserved.
func fileIdentity(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%x-%x-%x", st.Dev, st.Ino, st.Ctim.Nano())
	}
	return "0"
}
