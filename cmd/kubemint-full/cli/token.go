package cli

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/resolve"
)

type tokenCmd struct {
	credential.Options
	stdout, stderr io.Writer
}

func newTokenCmd(stdout, stderr io.Writer) *cobra.Command {
	t := &tokenCmd{stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "token --service-account NAMESPACE/NAME [--source-context CTX]",
		Short: "Print an ExecCredential with a service-account token (run by kubectl)",
		Long: `Print an ExecCredential that holds a TokenRequest token for a service
account, for a kubeconfig users[].user.exec entry. The token is served from the
cache until shortly before it expires, then minted again with the credentials
of --source-context. stdout carries the ExecCredential and nothing else.

A token is minted only for the source's own API server (its context's
cluster, the pod's, --source-server) or one named with --allow-server: an
exec entry whose cluster (provideClusterInfo) is any other server is
refused, and a token source without --source-server needs --allow-server
to mint on the cluster's server. See docs/security.md.

Exit status: 0 with an ExecCredential on stdout; 1 with one line on stderr
that says what failed and how to fix it, and nothing on stdout.`,
		Example: `  # The kubeconfig exec entry that kubectl runs
  users:
  - name: deployer
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: kubemint
        args: [token, --service-account=ci/deployer, --source-context=admin]
        interactiveMode: Never
        provideClusterInfo: true

  # By hand: mint (or reuse) a 2h token bound to a Secret
  kubemint token --service-account=ci/deployer --source-context=admin \
    --duration=2h --bound-object-kind=Secret --bound-object-name=deployer-kubemint`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := t.Validate(); err != nil {
				return err
			}
			return t.run(cmd.Context(), os.Getenv("KUBERNETES_EXEC_INFO"))
		},
	}
	t.AddFlags(cmd.Flags())
	registerCompletions(cmd, &t.Options)
	return cmd
}

// registerCompletions completes the flags whose values kubemint can list.
func registerCompletions(cmd *cobra.Command, o *credential.Options) {
	fixed := func(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("cache", fixed("auto", "keyring", "file", "none"))
	_ = cmd.RegisterFlagCompletionFunc("bound-object-kind", fixed("Pod", "Secret"))
	// --source-context: see completeSourceContexts, for every command.
}

// run reads the exec info, resolves the credential and prints it: the
// flow itself is package resolve's.
func (t *tokenCmd) run(ctx context.Context, execInfo string) error {
	info, err := credential.ParseExecInfo(execInfo)
	if err != nil {
		return err
	}
	c, err := resolve.Resolve(ctx, resolve.Request{Options: t.Options, Cluster: info.Cluster}, resolve.DefaultDeps(t.stderr))
	if err != nil {
		return err
	}
	_, err = t.stdout.Write(credential.MarshalExecCredential(info.APIVersion, c.Token, c.RefreshAt))
	return err
}
