// Package cli builds kubemint's command tree: every command of the full
// binary, with its flags, help and examples. cmd/kubemint-full runs it, and
// docs/gen renders the reference pages from it, so they cannot drift.
package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/product"
	"github.com/kubemint/kubemint/internal/redact"
)

// NewRootCmd returns the kubemint command tree. version is what
// `kubemint version` prints.
func NewRootCmd(version string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	// Every command writes stderr through one redactor (the caller's, when
	// it passes one), which the token flow tells the tokens it handles.
	stderr = redact.Wrap(stderr)
	root := &cobra.Command{
		Use:   "kubemint",
		Short: "Short-lived service-account tokens for kubeconfig exec entries",
		Long: `kubemint mints short-lived, revocable service-account tokens with the
Kubernetes TokenRequest API for kubectl and every client-go tool. A kubeconfig
users[].user.exec entry runs "kubemint token"; kubemint answers from its cache
(the OS keyring, or a private file) and mints a new token just before the old
one expires.

Every command prints an error as one line on stderr, "kubemint: error: ...",
naming what failed, then each way to fix it on a line of its own,
"kubemint: hint: ...", and exits 1. See docs/troubleshooting.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newTokenCmd(stdout, stderr),
		newSetupCmd(stdout, stderr),
		newUseCmd(stdout, stderr),
		newKubeconfigCmd(stdout, stderr),
		newStatusCmd(stdout, stderr),
		newAuditCmd(stdin, stdout, stderr),
		newCleanCmd(stdout, stderr),
		newRevokeCmd(stdout, stderr),
		newDoctorCmd(stdout, stderr),
		newConvertCmd(stdout, stderr),
		newVersionCmd(version, stdout),
	)
	completeSourceContexts(root)
	return root
}

// completeSourceContexts completes --source-context with the context names
// of the kubeconfig the command would read (--source-kubeconfig, else the
// default), on every command that has the flag: without it a shell offers
// file names.
func completeSourceContexts(root *cobra.Command) {
	for _, cmd := range root.Commands() {
		if cmd.Flags().Lookup("source-context") == nil {
			continue
		}
		_ = cmd.RegisterFlagCompletionFunc("source-context", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
			file, _ := cmd.Flags().GetString("source-kubeconfig")
			names, err := exchange.ContextNames(file)
			if err != nil {
				return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		})
	}
}

func newVersionCmd(version string, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print kubemint's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprint(stdout, product.VersionLine(version))
			return err
		},
	}
}
