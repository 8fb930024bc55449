package kubeconfig

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// RunnerRequest is kubemint kubeconfig: a self-contained kubeconfig for
// another machine (a CI runner), made without any access to the cluster.
// Its exec entry runs the bare command kubemint, found on that machine's
// PATH, with Token, the runner's source flags: nothing of this machine's
// paths or contexts goes into it.
type RunnerRequest struct {
	Token credential.Options
	// Server and CAFile name the cluster, or FromContext, a context of
	// this machine's kubeconfig whose server and CA are copied (Server
	// overrides its server).
	Server, CAFile, FromContext string
	// ClusterName and ContextName name the entries; Out is the file to
	// write (stdout when empty), replaced when it holds something else
	// only with Force.
	ClusterName, ContextName, Out string
	Force                         bool
}

// Check checks, reading nothing, that the flags name the runner's source
// and one cluster: a CA from one place, https servers.
func (k RunnerRequest) Check() error {
	o := k.Token
	if !(o.SourceContext != "" || o.SourceKubeconfig != "" || o.SourceInCluster || o.SourceTokenFile != "" || o.SourceGitHubActions || o.SourceTokenEnv != "") {
		return hint.Wrap(errors.New("name the runner's source: --source-github-actions, --source-token-env, --source-token-file, --source-in-cluster or --source-context"),
			"the runner mints with it; see docs/recipes.md")
	}
	if err := k.checkCluster(); err != nil {
		return err
	}
	if o.SourceServer != "" {
		return CheckServerURL("--source-server", o.SourceServer)
	}
	return nil
}

// checkCluster checks that the flags name one cluster.
func (k RunnerRequest) checkCluster() error {
	switch {
	case k.CAFile != "" && k.FromContext != "":
		return errors.New("choose one of --certificate-authority and --from-context")
	case k.CAFile == "" && k.FromContext == "":
		return hint.Wrap(errors.New("the runner needs the cluster's CA: pass --certificate-authority=FILE or --from-context=CTX"),
			"--from-context=CTX takes the server and CA of a context of your kubeconfig", CAExtractHint)
	case k.Server == "" && k.FromContext == "":
		return hint.Wrap(errors.New("--server is required without --from-context"),
			"the API server's URL as the runner reaches it, for example --server=https://prod.example.com:6443")
	case k.Server != "":
		return CheckServerURL("--server", k.Server)
	}
	return nil
}

// cluster is the runner's cluster entry: server and CA inline.
func (k RunnerRequest) cluster() (string, *clientcmdapi.Cluster, error) {
	c := clientcmdapi.NewCluster()
	name := k.ClusterName
	if k.FromContext != "" {
		cfg, err := clientcmd.NewDefaultClientConfigLoadingRules().Load()
		if err != nil {
			return "", nil, err
		}
		kc := cfg.Contexts[k.FromContext]
		if kc == nil || cfg.Clusters[kc.Cluster] == nil {
			return "", nil, hint.Wrap(fmt.Errorf("--from-context: context %q (or its cluster) is not in your kubeconfig", k.FromContext), "kubectl config get-contexts lists them")
		}
		from := cfg.Clusters[kc.Cluster]
		c.Server, c.CertificateAuthorityData, c.TLSServerName = from.Server, from.CertificateAuthorityData, from.TLSServerName
		if len(c.CertificateAuthorityData) == 0 && from.CertificateAuthority != "" {
			if c.CertificateAuthorityData, err = exchange.ReadBounded(from.CertificateAuthority, "the certificate-authority of context "+k.FromContext, exchange.CAFileLimit); err != nil {
				return "", nil, err
			}
		}
		if name == "" {
			name = kc.Cluster
		}
	} else {
		ca, err := exchange.ReadBounded(k.CAFile, "--certificate-authority", exchange.CAFileLimit)
		if err != nil {
			return "", nil, err
		}
		if err := checkCA(k.CAFile, ca); err != nil {
			return "", nil, err
		}
		c.CertificateAuthorityData = ca
	}
	if k.Server != "" {
		c.Server = k.Server
	}
	if name == "" {
		name = "cluster"
	}
	return name, c, nil
}

// WriteRunner writes the runner's kubeconfig to k.Out, saying so on
// stdout, or prints it to stdout when k.Out is empty.
func WriteRunner(stdout io.Writer, k RunnerRequest) error {
	clusterName, cluster, err := k.cluster()
	if err != nil {
		return err
	}
	ns, name, _ := k.Token.Account()
	c := Context{Name: k.ContextName, Cluster: clusterName, Namespace: ns}
	if c.Name == "" {
		c.Name = ns + "-" + name
	}
	c.Exec = Exec("kubemint", pinned(k.Token, cluster.Server))
	c.Exec.InstallHint = RunnerInstallHint
	if k.Out == "" {
		data, err := Standalone(clusterName, cluster, c)
		if err != nil {
			return err
		}
		_, err = stdout.Write(data)
		return err
	}
	existed := false
	if _, err := os.Lstat(k.Out); err == nil {
		existed = true
	}
	changed, err := WriteStandalone(k.Out, clusterName, cluster, c, k.Force)
	if err != nil {
		return ForceHint(err)
	}
	state := "unchanged"
	switch {
	case changed && existed:
		state = "updated"
	case changed:
		state = "created"
	}
	fmt.Fprintf(stdout, "%-11skubeconfig %s (context %s, for the runner: KUBECONFIG=%s kubectl ...)\n", state, k.Out, c.Name, k.Out)
	return nil
}

// CAExtractHint says how to get the cluster's CA as a file from a context.
const CAExtractHint = "kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > ca.crt writes the current context's CA to ca.crt"

// checkCA refuses a --certificate-authority file that holds no PEM
// certificate: it goes inline into a kubeconfig that is meant to be
// committed, so a private key or any other file must never get there.
func checkCA(file string, data []byte) error {
	if rest := bytes.TrimSpace(data); bytes.Contains(rest, []byte("PRIVATE KEY")) {
		return hint.Wrap(fmt.Errorf("--certificate-authority %s holds a private key, not a CA certificate: it would be copied into the kubeconfig", file), CAExtractHint)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return hint.Wrap(fmt.Errorf("--certificate-authority %s holds no PEM certificate", file), CAExtractHint)
	}
	return nil
}

// CheckServerURL requires an https URL with a host: the runner's token
// travels to it.
func CheckServerURL(flag, server string) error {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return hint.Wrap(fmt.Errorf("%s %q is not an https URL", flag, server), "for example "+flag+"=https://prod.example.com:6443")
	}
	return nil
}

// pinned is o with the cluster's server pinned (--allow-server, unless
// --source-server is that server).
//
// The pin is what kubemint kubeconfig is for: the user names the cluster
// the runner's tokens are for (--server, --from-context), and the runner's
// source reaches it under a name of its own (the pod's service address, a
// context of the runner's) or none (a CI token), so the entry says which
// server the exec info may name.
func pinned(o credential.Options, server string) credential.Options {
	o.AllowServers = slices.Clone(o.AllowServers)
	if !o.FlagsPin(server) {
		o.AllowServers = append(o.AllowServers, server)
	}
	return o
}
