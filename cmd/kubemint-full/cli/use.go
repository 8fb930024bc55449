package cli

import (
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/provision"
)

// useCmd is kubemint use: a teammate who may mint an account's tokens
// (setup --minter granted it) writes a context of their own. It needs no
// other right: it reads no namespace, role or binding.
type useCmd struct {
	account string
	req     provision.Request
}

func newUseCmd(stdout, stderr io.Writer) *cobra.Command {
	u := &useCmd{}
	r := &u.req
	cmd := &cobra.Command{
		Use:   "use --service-account NAMESPACE/NAME [--source-context CTX] [--context-name NAME] [--kubeconfig-out FILE]",
		Short: "Write a kubeconfig context that mints a service account's tokens with your own credentials",
		Long: `For a teammate whom an admin let mint an account's tokens (kubemint setup
--minter=user:YOU): check that right (a SelfSubjectAccessReview), mint a token
once (which primes the cache kubectl will use), ask the API server who the
token is (a SelfSubjectReview), and write a kubeconfig user and context whose
exec entry runs "kubemint token" with your context as the source.

When the account was set up with --revocable, the tokens are bound to its
revocation Secret, as setup's are, so that kubemint revoke kills them too:
use learns whether the Secret exists with one TokenRequest bound to it, for
a 10-minute token with an audience no API server accepts. --revocable makes
a missing Secret an error. A re-run keeps what the existing context set and
the run does not say.

It needs only the right to mint: it reads no namespace, role or binding.
Without --kubeconfig-out it writes into the kubeconfig it read the source
context from (keeping a backup), as setup does.

Exit status: 0 when the context works; 1 with one line on stderr otherwise.`,
		Example: `  # Your current context mints; the new context is team-a-app@CLUSTER
  kubemint use --service-account=team-a/app

  # Another source context, into a file of its own
  kubemint use --service-account=team-a/app --source-context=me@prod --kubeconfig-out=app.kubeconfig`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o := credential.Options{ServiceAccount: u.account, Duration: r.Duration, Cache: string(cache.Auto)}
			if err := o.Validate(); err != nil {
				return err
			}
			r.Namespace, r.Name, _ = o.Account()
			if r.Force && r.KubeconfigOut == "" {
				return errors.New("--force goes with --kubeconfig-out")
			}
			r.Changed = func(flag string) bool { return cmd.Flags().Changed(flag) }
			_, err := provision.Use(cmd.Context(), *r, provision.DefaultDeps(stdout, stderr))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&u.account, "service-account", "", "Service account to mint tokens for, as NAMESPACE/NAME (required).")
	f.StringVar(&r.SourceContext, "source-context", "", "Your kubeconfig context, which may mint the account's tokens. Default: the current context.")
	f.StringVar(&r.SourceKubeconfig, "source-kubeconfig", "", "Kubeconfig file that holds --source-context. Default: $KUBECONFIG, then ~/.kube/config.")
	f.StringVar(&r.ContextName, "context-name", "", "Name of the kubeconfig context (and user) to write. Default: NAMESPACE-NAME@CLUSTER.")
	f.StringVar(&r.KubeconfigOut, "kubeconfig-out", "", "Write a standalone kubeconfig (cluster, CA, exec user, context) to this file instead of editing the source kubeconfig.")
	f.BoolVar(&r.Force, "force", false, "With --kubeconfig-out: replace the file when it exists and holds something else.")
	f.DurationVar(&r.Duration, "duration", time.Hour, "Lifetime of the tokens the exec entry mints; at least 10m.")
	f.BoolVar(&r.Revocable, "revocable", false, "Bind the tokens to the Secret that kubemint setup --revocable made, and fail when there is none. Without it, use binds them when that Secret exists.")
	credential.AddVerbosityFlag(f, &r.Verbosity)
	return cmd
}
