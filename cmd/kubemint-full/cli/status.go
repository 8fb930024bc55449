package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/inventory"
)

func newStatusCmd(stdout, stderr io.Writer) *cobra.Command {
	var output string
	var filter inventory.Filter
	var verbosity int
	cmd := &cobra.Command{
		Use:   "status [--service-account NAMESPACE/NAME] [--source-context CTX] [-o json|yaml]",
		Short: "List cached credentials: account, server, where stored, when they expire and are re-minted",
		Long: `List every credential kubemint has cached: service account, API server,
audiences, the source context that mints it (when the exec entry names one),
the object its token is bound to (kubemint revoke kills tokens bound to the
account's revocation Secret; an unbound one lives until it expires), where
it is stored, when it expires and when it will be re-minted, when it was
issued and its credential ID (JTI=..., the name the API server's audit log
gives every request made with it; see kubemint audit). Never the token
itself. --service-account and --source-context list only the matching
entries.

Exit status: 0; 1 with one line on stderr if the cache cannot be read.`,
		Example: `  kubemint status
  kubemint status --service-account=ci/deployer --source-context=admin
  kubemint status -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" && output != "json" && output != "yaml" {
				return fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json,yaml", output)
			}
			if filter.ServiceAccount != "" {
				o := credential.Options{ServiceAccount: filter.ServiceAccount}
				if _, _, err := o.Account(); err != nil {
					return err
				}
			}
			return inventory.Status(stdout, credential.NewLogf(stderr, verbosity), cache.DefaultDir(), output, filter, time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format: json or yaml. Default: a table.")
	cmd.Flags().StringVar(&filter.ServiceAccount, "service-account", "", "List only this service account's credentials, as NAMESPACE/NAME.")
	cmd.Flags().StringVar(&filter.SourceContext, "source-context", "", "List only the credentials minted with this source context.")
	credential.AddVerbosityFlag(cmd.Flags(), &verbosity)
	return cmd
}

func newCleanCmd(stdout, stderr io.Writer) *cobra.Command {
	var account string
	var verbosity int
	cmd := &cobra.Command{
		Use:   "clean [--service-account NAMESPACE/NAME]",
		Short: "Forget cached credentials, all or one service account's",
		Long: `Forget cached credentials: every one, or those of one service account, from
the keyring or file cache that holds them. The next kubectl call mints a new
token. Tokens already handed out stay valid until they expire; to revoke them,
see docs/security.md.

Exit status: 0 when every matching entry was forgotten; 1 otherwise.`,
		Example: `  kubemint clean
  kubemint clean --service-account=ci/deployer`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if account != "" {
				o := credential.Options{ServiceAccount: account}
				if _, _, err := o.Account(); err != nil {
					return err
				}
			}
			return inventory.Clean(stdout, credential.NewLogf(stderr, verbosity), cache.DefaultDir(), account)
		},
	}
	cmd.Flags().StringVar(&account, "service-account", "", "Forget only this service account's credentials, as NAMESPACE/NAME.")
	credential.AddVerbosityFlag(cmd.Flags(), &verbosity)
	return cmd
}
