// Command kubemint is the binary a kubeconfig exec entry runs.
//
// It is deliberately lean: kubectl runs it on every call, so it answers a
// `kubemint token` cache hit itself (see credential.ServeCached) without
// linking client-go, whose package init alone would double the cost of a
// hit. Everything else, a miss, a re-mint and every other command, is handed
// to kubemint-full, installed beside it, with the same arguments, stdin,
// stdout and stderr.
package main

import (
	"os"
	"time"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/hint"
	"github.com/kubemint/kubemint/internal/nodump"
	"github.com/kubemint/kubemint/redact"
)

func main() {
	// Before any token is read: no core dump, no ptrace by the user's
	// other processes. Best effort: nothing to do if it fails.
	_ = nodump.Set()
	// Every line to stderr passes through one redactor (see package redact).
	stderr := redact.New(os.Stderr)
	served, err := credential.ServeCached(os.Args[1:], os.Getenv("KUBERNETES_EXEC_INFO"), os.Stdout, stderr, time.Now())
	if err != nil {
		hint.Print(stderr, "kubemint", err)
		os.Exit(1)
	}
	if served {
		return
	}
	// kubemint-full writes to the same stderr through a redactor of its own.
	_ = stderr.Flush()
	if err := handOff(os.Args[1:]); err != nil {
		hint.Print(stderr, "kubemint", hint.Wrap(err, "reinstall kubemint so that kubemint-full sits beside kubemint (see install.sh)"))
		os.Exit(1)
	}
}
