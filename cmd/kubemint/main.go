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
	"os/exec"
	"strings"
	"time"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/internal/nodump"
	"github.com/kubemint/kubemint/internal/product"
	"github.com/kubemint/kubemint/internal/redact"
)

// version is set at build time with -ldflags "-X main.version=...", to
// the same value as kubemint-full's: they are one product.
var version = "dev"

func main() {
	growStack(0)
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
	os.Exit(notServed(os.Args[1:], stderr))
}

// notServed runs what the cache did not answer: `version` here (it must
// work even when kubemint-full is missing), everything else in
// kubemint-full. It returns the exit status when it does not exec.
func notServed(args []string, stderr *redact.Writer) int {
	v := product.Version(version)
	if len(args) == 1 && args[0] == "version" {
		fmt.Fprint(os.Stdout, product.VersionLine(v))
		checkFull(stderr)
		_ = stderr.Flush()
		return 0
	}
	// kubemint-full writes to the same stderr through a redactor of its own.
	_ = stderr.Flush()
	// handOff returns only when it could not run kubemint-full.
	err := handOff(args, v)
	hint.Print(stderr, "kubemint", hint.Wrap(err, product.HintsForSelf(version)...))
	_ = stderr.Flush()
	return 1
}

// checkFull warns, under `kubemint version`, that the kubemint-full this
// front would run is missing or of another version, with the fix.
func checkFull(stderr *redact.Writer) {
	full, err := findFull()
	if err != nil {
		fmt.Fprintf(stderr, "kubemint: warning: %v\n", err)
		hints(stderr)
		return
	}
	// Not under a front's version: this asks kubemint-full its own.
	_ = os.Unsetenv(product.VersionEnv)
	out, err := exec.Command(full, "version").Output()
	if err != nil {
		fmt.Fprintf(stderr, "kubemint: warning: %s version failed: %v\n", full, err)
		hints(stderr)
		return
	}
	if got, want := string(out), product.VersionLine(product.Version(version)); got != want {
		fmt.Fprintf(stderr, "kubemint: warning: %s is another build (%s): kubemint refuses to run it\n", full, strings.TrimSpace(got))
		hints(stderr)
	}
}

// hints says how to get the kubemint-full that goes with this front.
func hints(stderr *redact.Writer) {
	for _, h := range product.HintsForSelf(version) {
		fmt.Fprintf(stderr, "kubemint: hint: %s\n", h)
	}
}

// growStack grows this goroutine's stack to what a cache hit needs while
// the stack is two frames deep. A goroutine starts with 2 KiB; a hit
// (encoding/json, the keyring and file checks) needs about 16, and each
// doubling on the way copies every frame on the stack, looking up each
// one's stack map: 80k of a hit's 950k instructions (callgrind), paid
// once here for a shallow copy instead.
//
//go:noinline
func growStack(i int) byte {
	var buf [16 << 10]byte
	buf[i] = 1
	return buf[i/2]
}
