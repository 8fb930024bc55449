package cli

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/kubeconfig"
	"github.com/kubemint/kubemint/provision"
)

// kubeconfigCmd is kubemint kubeconfig: a self-contained kubeconfig for
// another machine (a CI runner), made without any access to the cluster.
// Its exec entry runs the bare command kubemint, found on that machine's
// PATH, with that machine's source flags: nothing of this machine's paths
// or contexts goes into it.
type kubeconfigCmd struct {
	o           credential.Options
	server      string
	caFile      string
	fromContext string
	clusterName string
	contextName string
	out         string
	force       bool
	revocable   bool

	stdout, stderr io.Writer
}

func newKubeconfigCmd(stdout, stderr io.Writer) *cobra.Command {
	k := &kubeconfigCmd{stdout: stdout, stderr: stderr, o: credential.Options{Duration: time.Hour}}
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
			return k.run()
		},
	}
	f := cmd.Flags()
	f.StringVar(&k.o.ServiceAccount, "service-account", "", "Service account the runner mints tokens for, as NAMESPACE/NAME (required).")
	f.StringVar(&k.server, "server", "", "The API server's URL, as the runner reaches it. Default: --from-context's server.")
	f.StringVar(&k.caFile, "certificate-authority", "", "CA file that verifies --server; it is copied inline.")
	f.StringVar(&k.fromContext, "from-context", "", "Take the cluster's server and CA from this context of your kubeconfig ($KUBECONFIG, then ~/.kube/config). Nothing else of it is copied.")
	f.StringVar(&k.clusterName, "cluster-name", "", "Name of the cluster in the kubeconfig. Default: --from-context's cluster, else cluster.")
	f.StringVar(&k.contextName, "context-name", "", "Name of the context (and user). Default: NAMESPACE-NAME.")
	f.StringVarP(&k.out, "output", "o", "", "Write the kubeconfig to this file (0600) instead of stdout.")
	f.BoolVar(&k.force, "force", false, "Replace the -o file when it exists and holds something else.")
	f.StringVar(&k.o.SourceContext, "source-context", "", "The runner's context that mints (a context of the runner's kubeconfig, not yours).")
	f.StringVar(&k.o.SourceKubeconfig, "source-kubeconfig", "", "The runner's kubeconfig file that holds --source-context (a path on the runner).")
	f.BoolVar(&k.o.SourceInCluster, "source-in-cluster", false, "The runner is a pod: mint with its service-account token.")
	f.StringVar(&k.o.SourceTokenFile, "source-token-file", "", "Mint with the bearer token in this file on the runner.")
	f.BoolVar(&k.o.SourceGitHubActions, "source-github-actions", false, "Mint with the GitHub Actions job's OIDC ID token.")
	f.StringVar(&k.o.SourceTokenEnv, "source-token-env", "", "Mint with the token in this environment variable of the runner (GitLab's id_tokens).")
	f.StringVar(&k.o.SourceServer, "source-server", "", "With a token source: the API server as the runner reaches it, written into the entry for clients that send no cluster to the plugin (Python, JavaScript).")
	f.StringVar(&k.o.SourceCA, "source-certificate-authority", "", "With --source-server: the CA file that verifies it, a path on the runner.")
	f.StringArrayVar(&k.o.AllowServers, "allow-server", nil, "Another name of the cluster's API server that the runner's kubeconfig may use, written into the entry (--server, or --from-context's, is written already). May be repeated.")
	f.StringVar(&k.o.SourceAudience, "source-audience", "", "With --source-github-actions: the ID token's audience. Default: kubernetes.")
	f.DurationVar(&k.o.Duration, "duration", k.o.Duration, "Lifetime of the tokens the runner mints; at least 10m.")
	f.BoolVar(&k.revocable, "revocable", false, "Bind the runner's tokens to the Secret that kubemint setup --revocable made, so that kubemint revoke kills them too.")
	return cmd
}

func (k *kubeconfigCmd) validate() error {
	k.o.Cache = string(cache.Auto)
	if err := k.o.Validate(); err != nil {
		return err
	}
	o := k.o
	if !(o.SourceContext != "" || o.SourceKubeconfig != "" || o.SourceInCluster || o.SourceTokenFile != "" || o.SourceGitHubActions || o.SourceTokenEnv != "") {
		return hint.Wrap(errors.New("name the runner's source: --source-github-actions, --source-token-env, --source-token-file, --source-in-cluster or --source-context"),
			"the runner mints with it; see docs/recipes.md")
	}
	if k.caFile != "" && k.fromContext != "" {
		return errors.New("choose one of --certificate-authority and --from-context")
	}
	if k.caFile == "" && k.fromContext == "" {
		return hint.Wrap(errors.New("the runner needs the cluster's CA: pass --certificate-authority=FILE or --from-context=CTX"),
			"--from-context=CTX takes the server and CA of a context of your kubeconfig",
			caExtractHint)
	}
	if k.server == "" && k.fromContext == "" {
		return hint.Wrap(errors.New("--server is required without --from-context"),
			"the API server's URL as the runner reaches it, for example --server=https://prod.example.com:6443")
	}
	if k.server != "" {
		if err := checkServerURL("--server", k.server); err != nil {
			return err
		}
	}
	if k.o.SourceServer != "" {
		if err := checkServerURL("--source-server", k.o.SourceServer); err != nil {
			return err
		}
	}
	if k.o.SourceContext != "" && k.o.SourceKubeconfig == "" {
		// The runner runs kubectl with KUBECONFIG set to this very file,
		// which has no such context: the entry works only where the
		// runner's default kubeconfig is another file.
		fmt.Fprintf(k.stderr, "kubemint: warning: --source-context=%s without --source-kubeconfig: on the runner kubemint looks for it in $KUBECONFIG, usually this very file, which has no context %s; pass --source-kubeconfig=PATH, the runner's kubeconfig that holds it\n", k.o.SourceContext, k.o.SourceContext)
	}
	if k.force && k.out == "" {
		return errors.New("--force goes with -o")
	}
	return nil
}

// tokenOptions are the exec entry's token options: the account, the
// runner's source flags as given, the cluster's server pinned
// (--allow-server, unless --source-server is that server), the duration,
// the bound Secret.
//
// The pin is what this command is for: the user names the cluster the
// runner's tokens are for (--server, --from-context), and the runner's
// source reaches it under a name of its own (the pod's service address, a
// context of the runner's) or none (a CI token), so the entry says which
// server the exec info may name.
func (k *kubeconfigCmd) tokenOptions(server string) credential.Options {
	o := k.o
	o.AllowServers = slices.Clone(o.AllowServers)
	if !o.FlagsPin(server) {
		o.AllowServers = append(o.AllowServers, server)
	}
	if k.revocable {
		_, name, _ := o.Account()
		o.BoundObjectKind, o.BoundObjectName = "Secret", provision.SecretName(name)
	}
	return o
}

// cluster is the runner's cluster entry: server and CA inline.
func (k *kubeconfigCmd) cluster() (string, *clientcmdapi.Cluster, error) {
	c := clientcmdapi.NewCluster()
	name := k.clusterName
	if k.fromContext != "" {
		cfg, err := clientcmd.NewDefaultClientConfigLoadingRules().Load()
		if err != nil {
			return "", nil, err
		}
		kc := cfg.Contexts[k.fromContext]
		if kc == nil || cfg.Clusters[kc.Cluster] == nil {
			return "", nil, hint.Wrap(fmt.Errorf("--from-context: context %q (or its cluster) is not in your kubeconfig", k.fromContext), "kubectl config get-contexts lists them")
		}
		from := cfg.Clusters[kc.Cluster]
		c.Server, c.CertificateAuthorityData, c.TLSServerName = from.Server, from.CertificateAuthorityData, from.TLSServerName
		if len(c.CertificateAuthorityData) == 0 && from.CertificateAuthority != "" {
			if c.CertificateAuthorityData, err = exchange.ReadBounded(from.CertificateAuthority, "the certificate-authority of context "+k.fromContext, exchange.CAFileLimit); err != nil {
				return "", nil, err
			}
		}
		if name == "" {
			name = kc.Cluster
		}
	} else {
		ca, err := exchange.ReadBounded(k.caFile, "--certificate-authority", exchange.CAFileLimit)
		if err != nil {
			return "", nil, err
		}
		if err := checkCA(k.caFile, ca); err != nil {
			return "", nil, err
		}
		c.CertificateAuthorityData = ca
	}
	if k.server != "" {
		c.Server = k.server
	}
	if name == "" {
		name = "cluster"
	}
	return name, c, nil
}

func (k *kubeconfigCmd) run() error {
	clusterName, cluster, err := k.cluster()
	if err != nil {
		return err
	}
	ns, name, _ := k.o.Account()
	c := kubeconfig.Context{Name: k.contextName, Cluster: clusterName, Namespace: ns}
	if c.Name == "" {
		c.Name = ns + "-" + name
	}
	c.Exec = kubeconfig.Exec("kubemint", k.tokenOptions(cluster.Server))
	c.Exec.InstallHint = kubeconfig.RunnerInstallHint
	if k.out == "" {
		data, err := kubeconfig.Standalone(clusterName, cluster, c)
		if err != nil {
			return err
		}
		_, err = k.stdout.Write(data)
		return err
	}
	existed := false
	if _, err := os.Lstat(k.out); err == nil {
		existed = true
	}
	changed, err := kubeconfig.WriteStandalone(k.out, clusterName, cluster, c, k.force)
	if err != nil {
		return kubeconfig.ForceHint(err)
	}
	state := "unchanged"
	switch {
	case changed && existed:
		state = "updated"
	case changed:
		state = "created"
	}
	fmt.Fprintf(k.stdout, "%-11skubeconfig %s (context %s, for the runner: KUBECONFIG=%s kubectl ...)\n", state, k.out, c.Name, k.out)
	return nil
}

// caExtractHint says how to get the cluster's CA as a file from a context.
const caExtractHint = "kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > ca.crt writes the current context's CA to ca.crt"

// checkCA refuses a --certificate-authority file that holds no PEM
// certificate: it goes inline into a kubeconfig that is meant to be
// committed, so a private key or any other file must never get there.
func checkCA(file string, data []byte) error {
	if rest := bytes.TrimSpace(data); bytes.Contains(rest, []byte("PRIVATE KEY")) {
		return hint.Wrap(fmt.Errorf("--certificate-authority %s holds a private key, not a CA certificate: it would be copied into the kubeconfig", file), caExtractHint)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return hint.Wrap(fmt.Errorf("--certificate-authority %s holds no PEM certificate", file), caExtractHint)
	}
	return nil
}

// checkServerURL requires an https URL with a host: the runner's token
// travels to it.
func checkServerURL(flag, server string) error {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return hint.Wrap(fmt.Errorf("%s %q is not an https URL", flag, server), "for example "+flag+"=https://prod.example.com:6443")
	}
	return nil
}
