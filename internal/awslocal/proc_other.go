//go:build !unix

package awslocal

import (
	"os"
	"os/exec"
)

// setProcAttr leaves cmd as it is: a server whose parent dies exits when
// its stdin closes (serve.mjs watches it).
func setProcAttr(*exec.Cmd) {}

// terminate stops the server process; there are no signals to send.
func terminate(p *os.Process) { _ = p.Kill() }

// kill stops the server process.
func kill(p *os.Process) { _ = p.Kill() }
