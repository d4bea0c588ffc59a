package main

import (
	"os"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["envfile"] = cmdEnvFile
}

// cmdEnvFile is `envfile FILE`: it waits (up to a minute) for FILE, as
// `lakekit local up --env-file FILE` writes it once its servers are up,
// and sets each `export NAME=VALUE` line of it in the script's
// environment.
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: envfile FILE")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(time.Minute)
	var b []byte
	for {
		var err error
		if b, err = os.ReadFile(path); err == nil {
			break
		}
		if !os.IsNotExist(err) || time.Now().After(deadline) {
			ts.Fatalf("envfile: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		kv, ok := strings.CutPrefix(line, "export ")
		name, value, ok2 := strings.Cut(kv, "=")
		if !ok || !ok2 {
			ts.Fatalf("envfile: not an export line: %q", line)
		}
		ts.Setenv(name, value)
	}
}
