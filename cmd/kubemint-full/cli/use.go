package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/kubeconfig"
	"github.com/kubemint/kubemint/resolve"
)

// useCmd is kubemint use: a teammate who may mint an account's tokens
// (setup --minter granted it) writes a context of their own. It needs no
// other right: it reads no namespace, role or binding.
type useCmd struct {
	account          string
	sourceContext    string
	sourceKubeconfig string
	contextName      string
	kubeconfigOut    string
	force            bool
	duration         time.Duration
	verbosity        int
	ns, name         string

	stdout, stderr io.Writer
}

func newUseCmd(stdout, stderr io.Writer) *cobra.Command {
	u := &useCmd{stdout: stdout, stderr: stderr, duration: time.Hour}
	cmd := &cobra.Command{
		Use:   "use --service-account NAMESPACE/NAME [--source-context CTX] [--context-name NAME] [--kubeconfig-out FILE]",
		Short: "Write a kubeconfig context that mints a service account's tokens with your own credentials",
		Long: `For a teammate whom an admin let mint an account's tokens (kubemint setup
--minter=user:YOU): check that right (a SelfSubjectAccessReview), mint a token
once (which primes the cache kubectl will use), ask the API server who the
token is (a SelfSubjectReview), and write a kubeconfig user and context whose
exec entry runs "kubemint token" with your context as the source.

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
			o := credential.Options{ServiceAccount: u.account, Duration: u.duration, Cache: string(cache.Auto)}
			if err := o.Validate(); err != nil {
				return err
			}
			u.ns, u.name, _ = o.Account()
			if u.force && u.kubeconfigOut == "" {
				return errors.New("--force goes with --kubeconfig-out")
			}
			return u.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&u.account, "service-account", "", "Service account to mint tokens for, as NAMESPACE/NAME (required).")
	f.StringVar(&u.sourceContext, "source-context", "", "Your kubeconfig context, which may mint the account's tokens. Default: the current context.")
	f.StringVar(&u.sourceKubeconfig, "source-kubeconfig", "", "Kubeconfig file that holds --source-context. Default: $KUBECONFIG, then ~/.kube/config.")
	f.StringVar(&u.contextName, "context-name", "", "Name of the kubeconfig context (and user) to write. Default: NAMESPACE-NAME@CLUSTER.")
	f.StringVar(&u.kubeconfigOut, "kubeconfig-out", "", "Write a standalone kubeconfig (cluster, CA, exec user, context) to this file instead of editing the source kubeconfig.")
	f.BoolVar(&u.force, "force", false, "With --kubeconfig-out: replace the file when it exists and holds something else.")
	f.DurationVar(&u.duration, "duration", u.duration, "Lifetime of the tokens the exec entry mints; at least 10m.")
	credential.AddVerbosityFlag(f, &u.verbosity)
	return cmd
}

func (u *useCmd) tokenOptions(sourceContext, sourceFile string) credential.Options {
	return credential.Options{ServiceAccount: u.account, SourceContext: sourceContext, SourceKubeconfig: sourceFile,
		Duration: u.duration, Cache: string(cache.Auto)}
}

func (u *useCmd) run(ctx context.Context) error {
	logf := credential.NewLogf(u.stderr, u.verbosity)
	src, err := exchange.LoadSource(u.sourceKubeconfig, u.sourceContext)
	if err != nil {
		return err
	}
	me, err := exchange.NewClient(src.Config, src.Label, logf)
	if err != nil {
		return err
	}
	plan, err := planKubeconfig(src, u.sourceKubeconfig, u.contextName, u.ns, u.name, u.kubeconfigOut, u.tokenOptions)
	if err != nil {
		return err
	}
	if err := plan.check(u.force); err != nil {
		return err
	}
	if err := u.checkMint(ctx, me, src); err != nil {
		return err
	}
	token, err := mintAsExec(ctx, src, plan.ctx.Exec, u.verbosity, u.stderr)
	if err != nil {
		return err
	}
	sa, err := exchange.NewClient(exchange.AsToken(src.Config, token), "the token of "+u.account, logf)
	if err != nil {
		return err
	}
	who, err := sa.WhoAmI(ctx)
	if err != nil {
		return err
	}
	rep := &report{w: u.stdout}
	c, backups, err := plan.write(u.force)
	if err != nil {
		return err
	}
	rep.step(c, fmt.Sprintf("context %s in %s", plan.ctx.Name, plan.file))
	for _, b := range backups {
		fmt.Fprintf(u.stdout, "           (the kubeconfig as it was is kept in %s)\n", b)
	}
	fmt.Fprintf(u.stdout, "\n%s acts as %s.\n", plan.kubectlLine(), who.Username)
	return nil
}

// checkMint asks whether the source may mint the account's tokens, and
// when it may not, names the missing rule and the setup line an admin
// runs to grant it, in the error line itself.
func (u *useCmd) checkMint(ctx context.Context, me *exchange.Client, src *exchange.Source) error {
	allowed, _, err := me.CanMint(ctx, u.ns, u.name)
	if err != nil || allowed {
		return err
	}
	who, user := src.Label, ""
	if info, err := me.WhoAmI(ctx); err == nil {
		who, user = fmt.Sprintf("%s (%s)", src.Label, info.Username), info.Username
	}
	return fmt.Errorf("%s may not mint tokens for %s on %s: it needs create on serviceaccounts/token named %s in namespace %s; an admin grants it with: %s",
		who, u.account, src.Server, u.name, u.ns, exchange.MintGrantSetup(u.ns, u.name, user))
}

// mintAsExec mints once through the token flow with the options the exec
// entry names (read back through the one codec), so that the token lands
// under the cache key kubectl's first call will look up, and returns it.
func mintAsExec(ctx context.Context, src *exchange.Source, exec *clientcmdapi.ExecConfig, verbosity int, stderr io.Writer) (string, error) {
	o, err := kubeconfig.TokenOptions(exec)
	if err != nil {
		return "", err
	}
	o.Verbosity = verbosity
	// The cluster as client-go will describe it in KUBERNETES_EXEC_INFO,
	// so that kubectl's first call is a cache hit.
	cluster := &credential.Cluster{Server: src.Server, CertificateAuthorityData: src.CAData}
	c, err := resolve.Resolve(ctx, resolve.Request{Options: o, Cluster: cluster}, resolve.DefaultDeps(stderr))
	if err != nil {
		return "", hint.Wrap(err)
	}
	return c.Token, nil
}
