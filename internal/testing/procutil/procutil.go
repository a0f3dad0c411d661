// Package procutil ties helper processes (Azurite, the bot in the demo) to
// the process that starts them, so that they never outlive it.
package procutil

import "os/exec"

// DieWithParent asks the operating system to kill cmd's process when the
// process that started it dies, even by a signal that leaves no time for
// cleanup (SIGKILL, SIGPIPE). It is a no-op where the system offers no such
// mechanism; call it before cmd.Start.
func DieWithParent(cmd *exec.Cmd) { dieWithParent(cmd) }
