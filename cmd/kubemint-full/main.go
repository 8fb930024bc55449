// Command kubemint-full is kubemint's complete command line: every command,
// and the `kubemint token` path that mints. Users run it through the lean
// kubemint binary, which answers cache hits itself and hands everything
// else here; it can also be run directly.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/kubemint/kubemint/cmd/kubemint-full/cli"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/internal/nodump"
	"github.com/kubemint/kubemint/internal/product"
	"github.com/kubemint/kubemint/internal/redact"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// Before any token is read: no core dump, no ptrace by the user's
	// other processes. Best effort: nothing to do if it fails.
	_ = nodump.Set()
	// stderr is kubemint's: one line per error, our own -v logs. client-go's
	// klog lines would break that; the API server's warnings still reach the
	// user, as kubectl prints them.
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	// Without a logger, klog still copies ERROR lines to stderr whatever
	// its output (its -stderrthreshold): client-go's "Loading client cert
	// failed" got through. A discarding logger takes every line.
	klog.SetSlogLogger(slog.New(slog.DiscardHandler))
	// Every line to stderr, warnings and the final error included, passes
	// through one redactor that learns the tokens as they become known.
	stderr := redact.New(os.Stderr)
	// client-go sends a proxy's userinfo as Proxy-Authorization; a proxy
	// that refuses it may echo it, and errors quote the proxy's URL.
	stderr.AddProxies(os.Getenv)
	rest.SetDefaultWarningHandler(rest.NewWarningWriter(stderr, rest.WarningWriterOptions{}))

	v := product.Version(version)
	if err := sameRelease(v); err != nil {
		hint.Print(stderr, "kubemint", hint.Wrap(err, product.HintsForSelf(version)...))
		_ = stderr.Flush()
		os.Exit(1)
	}

	// Ctrl-C or a SIGTERM ends a mint at once, the source's exec plugin
	// included (exchange.Source.Bounded), and the exit releases the lock.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.NewRootCmd(v, os.Stdin, os.Stdout, stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		hint.Print(stderr, "kubemint", err)
		_ = stderr.Flush()
		os.Exit(1)
	}
	_ = stderr.Flush()
}

// sameRelease refuses to run under a kubemint front of another version:
// the front serves cache hits in its release's format, and this binary
// would mint and write entries in its own. Run directly (no front), it
// runs. The variable is dropped so that the exec plugins a mint runs do not
// inherit it.
func sameRelease(v string) error {
	front, ok := os.LookupEnv(product.VersionEnv)
	_ = os.Unsetenv(product.VersionEnv)
	if !ok || front == v {
		return nil
	}
	return fmt.Errorf("kubemint %s found kubemint-full %s: the two binaries must come from one release (they share the cache)", front, v)
}
