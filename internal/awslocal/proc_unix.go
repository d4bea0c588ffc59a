//go:build unix && !linux

package awslocal

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr starts the server in its own process group, so that it and
// its children are stopped together, by id. Without Linux's Pdeathsig, a
// server whose parent dies exits when its stdin closes (serve.mjs watches
// it).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate asks the server's process group to stop (a negative pid names
// the group).
func terminate(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGTERM) }

// kill stops the server's process group.
func kill(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
