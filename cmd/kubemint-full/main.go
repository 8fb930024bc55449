// Command kubemint-full is kubemint's complete command line: every command,
// and the `kubemint token` path that mints. Users run it through the lean
// kubemint binary, which answers cache hits itself and hands everything
// else here; it can also be run directly.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/kubemint/kubemint/cmd/kubemint-full/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := cli.NewRootCmd(version, os.Stdin, os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubemint: error: %v\n", err)
		os.Exit(1)
	}
}
