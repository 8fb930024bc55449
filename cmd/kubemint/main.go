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
	"fmt"
	"os"
	"time"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/internal/nodump"
)

func main() {
	// Before any token is read: no core dump, no ptrace by the user's
	// other processes. Best effort: nothing to do if it fails.
	_ = nodump.Set()
	served, err := credential.ServeCached(os.Args[1:], os.Getenv("KUBERNETES_EXEC_INFO"), os.Stdout, os.Stderr, time.Now())
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubemint: error: %v\n", err)
		os.Exit(1)
	}
	if served {
		return
	}
	if err := handOff(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "kubemint: error: %v\n", err)
		fmt.Fprintf(os.Stderr, "kubemint: hint: reinstall kubemint so that kubemint-full sits beside kubemint (see install.sh)\n")
		os.Exit(1)
	}
}
