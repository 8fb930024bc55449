package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/kubeconfig"
	"github.com/kubemint/kubemint/provision"
)

// kubeconfigCmd is kubemint kubeconfig: a self-contained kubeconfig for
// another machine (a CI runner), made without any access to the cluster.
// Its exec entry runs the bare command kubemint, found on that machine's
// PATH, with that machine's source flags: nothing of this machine's paths
// or contexts goes into it.
type kubeconfigCmd struct {
	r         kubeconfig.RunnerRequest
	revocable bool
	stderr    io.Writer
}

func newKubeconfigCmd(stdout, stderr io.Writer) *cobra.Command {
	k := &kubeconfigCmd{stderr: stderr, r: kubeconfig.RunnerRequest{Token: credential.Options{Duration: time.Hour}}}
	o := &k.r.Token
	cmd := &cobra.Command{
		Use:   "kubeconfig --service-account NAMESPACE/NAME (--server URL --certificate-authority FILE | --from-context CTX [--server URL]) <source flags>",
		Short: "Print a self-contained kubeconfig for a CI runner or another machine",
		Long: `Print (or write with -o) a kubeconfig for another machine, typically a CI
runner: the cluster with its CA inline, and a user whose exec entry runs
"kubemint token" with the runner's source flags. The exec command is the bare
name kubemint, found on the runner's PATH; its installHint says how to install
it there. Nothing of this machine goes into it (no path, no context of yours),
and it needs no access to the cluster.

Name the runner's source as kubemint token takes it: --source-github-actions
[--source-audience], --source-token-env, --source-token-file,
--source-in-cluster, or --source-context --source-kubeconfig naming the
runner's own context in the runner's own kubeconfig. The cluster comes from
--server and --certificate-authority (a PEM certificate; the server an https
URL), or from --from-context, a context of this machine's kubeconfig (only its
server and CA are read).

Clients that send no cluster to the plugin (the Python and JavaScript
Kubernetes clients) need the API server in the entry's arguments: add
--source-server=URL and --source-certificate-authority=FILE, a CA file on the
runner, to a token source (--source-github-actions, --source-token-env,
--source-token-file).

The entry pins the cluster's server with --allow-server (unless
--source-server is that server): the runner's kubemint sends credentials to
no other server, whatever a kubeconfig on the runner names.

Writing over an existing file needs --force.`,
		Example: `  # A GitHub Actions runner (keyless; see docs/recipes.md)
  mkdir -p ci
  kubemint kubeconfig --service-account=ci/deployer --from-context=admin \
    --source-github-actions -o ci/runner.kubeconfig

  # A GitLab job, the cluster named by hand
  kubemint kubeconfig --service-account=ci/deployer --server=https://prod.example.com:6443 \
    --certificate-authority=ca.crt --source-token-env=KUBE_ID_TOKEN`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := k.validate(); err != nil {
				return err
			}
			return kubeconfig.WriteRunner(stdout, k.r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ServiceAccount, "service-account", "", "Service account the runner mints tokens for, as NAMESPACE/NAME (required).")
	f.StringVar(&k.r.Server, "server", "", "The API server's URL, as the runner reaches it. Default: --from-context's server.")
	f.StringVar(&k.r.CAFile, "certificate-authority", "", "CA file that verifies --server; it is copied inline.")
	f.StringVar(&k.r.FromContext, "from-context", "", "Take the cluster's server and CA from this context of your kubeconfig ($KUBECONFIG, then ~/.kube/config). Nothing else of it is copied.")
	f.StringVar(&k.r.ClusterName, "cluster-name", "", "Name of the cluster in the kubeconfig. Default: --from-context's cluster, else cluster.")
	f.StringVar(&k.r.ContextName, "context-name", "", "Name of the context (and user). Default: NAMESPACE-NAME.")
	f.StringVarP(&k.r.Out, "output", "o", "", "Write the kubeconfig to this file (0600) instead of stdout.")
	f.BoolVar(&k.r.Force, "force", false, "Replace the -o file when it exists and holds something else.")
	f.StringVar(&o.SourceContext, "source-context", "", "The runner's context that mints (a context of the runner's kubeconfig, not yours).")
	f.StringVar(&o.SourceKubeconfig, "source-kubeconfig", "", "The runner's kubeconfig file that holds --source-context (a path on the runner).")
	f.BoolVar(&o.SourceInCluster, "source-in-cluster", false, "The runner is a pod: mint with its service-account token.")
	f.StringVar(&o.SourceTokenFile, "source-token-file", "", "Mint with the bearer token in this file on the runner.")
	f.BoolVar(&o.SourceGitHubActions, "source-github-actions", false, "Mint with the GitHub Actions job's OIDC ID token.")
	f.StringVar(&o.SourceTokenEnv, "source-token-env", "", "Mint with the token in this environment variable of the runner (GitLab's id_tokens).")
	f.StringVar(&o.SourceServer, "source-server", "", "With a token source: the API server as the runner reaches it, written into the entry for clients that send no cluster to the plugin (Python, JavaScript).")
	f.StringVar(&o.SourceCA, "source-certificate-authority", "", "With --source-server: the CA file that verifies it, a path on the runner.")
	f.StringArrayVar(&o.AllowServers, "allow-server", nil, "Another name of the cluster's API server that the runner's kubeconfig may use, written into the entry (--server, or --from-context's, is written already). May be repeated.")
	f.StringVar(&o.SourceAudience, "source-audience", "", "With --source-github-actions: the ID token's audience. Default: kubernetes.")
	f.DurationVar(&o.Duration, "duration", o.Duration, "Lifetime of the tokens the runner mints; at least 10m.")
	f.BoolVar(&k.revocable, "revocable", false, "Bind the runner's tokens to the Secret that kubemint setup --revocable made, so that kubemint revoke kills them too.")
	return cmd
}

func (k *kubeconfigCmd) validate() error {
	o, r := &k.r.Token, &k.r
	o.Cache = string(cache.Auto)
	if err := o.Validate(); err != nil {
		return err
	}
	if err := r.Check(); err != nil {
		return err
	}
	if o.SourceContext != "" && o.SourceKubeconfig == "" {
		// The runner runs kubectl with KUBECONFIG set to this very file,
		// which has no such context: the entry works only where the
		// runner's default kubeconfig is another file.
		fmt.Fprintf(k.stderr, "kubemint: warning: --source-context=%s without --source-kubeconfig: on the runner kubemint looks for it in $KUBECONFIG, usually this very file, which has no context %s; pass --source-kubeconfig=PATH, the runner's kubeconfig that holds it\n", o.SourceContext, o.SourceContext)
	}
	if r.Force && r.Out == "" {
		return errors.New("--force goes with -o")
	}
	if k.revocable {
		// The Secret kubemint setup --revocable made.
		_, name, _ := o.Account()
		o.BoundObjectKind, o.BoundObjectName = "Secret", provision.SecretName(name)
	}
	return nil
}
