package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/inventory"
	"github.com/kubemint/kubemint/provision"
)

func newRevokeCmd(stdout, stderr io.Writer) *cobra.Command {
	var o credential.Options
	cmd := &cobra.Command{
		Use:   "revoke --service-account NAMESPACE/NAME --source-context CTX",
		Short: "Kill every outstanding token of an account set up with --revocable",
		Long: `Delete the Secret that every token of the account is bound to (created by
kubemint setup --revocable): every such token stops working within seconds (the
API server may accept one for about 10 s more from its authentication cache).
Then forget the account's cached credentials here. The admission policy setup
--revocable made stays, so that nothing unbound is minted for the account while
it is revoked (uninstall removes it: docs/install.md).

For an account set up without --revocable, its tokens are not bound to
anything that can be deleted: revoke says what the choices are.

Run kubemint setup --revocable again to issue new tokens.

Exit status: 0 when the Secret was deleted; 1 with one line on stderr when
there was none (already revoked, or the account was not set up with
--revocable) or on an error.`,
		Example: `  kubemint revoke --service-account=ci/deployer --source-context=admin`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, _, err := o.Account(); err != nil {
				return err
			}
			return runRevoke(cmd.Context(), &o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ServiceAccount, "service-account", "", "Service account whose tokens to revoke, as NAMESPACE/NAME (required).")
	f.StringVar(&o.SourceContext, "source-context", "", "Kubeconfig context allowed to delete the binding Secret. Default: the current context.")
	f.StringVar(&o.SourceKubeconfig, "source-kubeconfig", "", "Kubeconfig file that holds --source-context. Default: $KUBECONFIG, then ~/.kube/config.")
	credential.AddVerbosityFlag(f, &o.Verbosity)
	return cmd
}

func runRevoke(ctx context.Context, o *credential.Options, stdout, stderr io.Writer) error {
	logf := credential.NewLogf(stderr, o.Verbosity)
	ns, name, _ := o.Account()
	src, err := exchange.LoadSource(o.SourceKubeconfig, o.SourceContext)
	if err != nil {
		return err
	}
	c, err := exchange.NewClient(src.Config, src.Label, logf)
	if err != nil {
		return err
	}
	deleted, err := c.DeleteSecret(ctx, ns, provision.SecretName(name))
	if err != nil {
		return err
	}
	// The local cache holds tokens that are now dead (or soon will be).
	var forgot bytes.Buffer
	if err := inventory.Clean(&forgot, logf, cache.DefaultDir(), o.ServiceAccount); err != nil {
		return err
	}
	if !deleted {
		// The Secret is gone either way: deleted by an earlier revoke (the
		// usual case of a second revoke), or never made.
		return hint.Wrap(fmt.Errorf("no Secret %s/%s on %s: either %s is already revoked (an earlier kubemint revoke deleted the Secret), or it was not set up with --revocable and its tokens are bound to no Secret (cached tokens here were forgotten)", ns, provision.SecretName(name), src.Server, o.ServiceAccount),
			fmt.Sprintf("if already revoked: nothing more to do; kubemint setup --service-account=%s --revocable issues new tokens", o.ServiceAccount),
			fmt.Sprintf("if never revocable: to kill its tokens now, delete and recreate the service account (kubectl -n %s delete serviceaccount %s, then kubemint setup --revocable), or let them expire", ns, name))
	}
	fmt.Fprintf(stdout, "Deleted Secret %s/%s on %s: every token bound to it stops working within about 10 seconds.\n", ns, provision.SecretName(name), src.Server)
	fmt.Fprint(stdout, forgot.String())
	// The policy stays: without it, anyone who may mint the account's
	// tokens could mint an unbound one while it is revoked.
	if has, err := c.HasRevocationPolicy(ctx, ns, name); err == nil && has {
		fmt.Fprintf(stdout, "The admission policy %s stays: while the Secret is gone, no token of %s can be minted at all.\n", exchange.RevocationPolicyName(ns, name), o.ServiceAccount)
	} else if err == nil {
		fmt.Fprintf(stderr, "kubemint: warning: %s has no revocation policy on %s: whoever may mint its tokens can still mint unbound ones, which this revoke does not kill (docs/security.md)\n", o.ServiceAccount, src.Server)
	}
	fmt.Fprintf(stdout, "To issue new tokens: kubemint setup --service-account=%s --source-context=%s --revocable\n", o.ServiceAccount, src.Context)
	return nil
}
