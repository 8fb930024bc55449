package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/hint"
	"github.com/kubemint/kubemint/kubeconfig"
	"github.com/kubemint/kubemint/resolve"
)

type setupCmd struct {
	account          string
	sourceContext    string
	sourceKubeconfig string
	role             string
	clusterRole      string
	clusterWide      bool
	revocable        bool
	selfRenew        bool
	contextName      string
	kubeconfigOut    string
	duration         time.Duration
	verbosity        int
	// ns and name split account; validate sets them.
	ns, name string

	stdout, stderr io.Writer
}

func newSetupCmd(stdout, stderr io.Writer) *cobra.Command {
	s := &setupCmd{stdout: stdout, stderr: stderr, duration: time.Hour}
	cmd := &cobra.Command{
		Use:   "setup --service-account NAMESPACE/NAME --source-context CTX [--role NAME | --cluster-role NAME [--cluster-wide]] [--revocable]",
		Short: "Create a service account, bind its permissions and write a kubeconfig context that uses kubemint",
		Long: `Do in one command what the vendor guides do by hand: create the namespace and
service account if missing, bind the permissions asked for (nothing unless
asked), write a kubeconfig user and context whose exec entry runs
"kubemint token", then prove it works: mint a token, ask the API server who
it is and what it may do.

Setup is idempotent: run it again and it changes nothing, and says so.

Exit status: 0 when the context works; 1 with one line on stderr otherwise.`,
		Example: `  # Namespace-level: bind an existing Role in ci
  kubemint setup --service-account=ci/deployer --source-context=admin --role=deployer

  # Cluster-level, revocable, into a standalone kubeconfig for a CI runner
  kubemint setup --service-account=ops/oncall --source-context=admin \
    --cluster-role=view --cluster-wide --revocable --kubeconfig-out=oncall.kubeconfig`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := s.validate(); err != nil {
				return err
			}
			return s.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.account, "service-account", "", "Service account to set up, as NAMESPACE/NAME (required).")
	f.StringVar(&s.sourceContext, "source-context", "", "Kubeconfig context that creates the objects and later mints the tokens. Default: the current context.")
	f.StringVar(&s.sourceKubeconfig, "source-kubeconfig", "", "Kubeconfig file that holds --source-context. Default: $KUBECONFIG, then ~/.kube/config.")
	f.StringVar(&s.role, "role", "", "Bind this existing Role in the account's namespace with a RoleBinding.")
	f.StringVar(&s.clusterRole, "cluster-role", "", "Bind this ClusterRole: in the account's namespace with a RoleBinding, or cluster-wide with --cluster-wide.")
	f.BoolVar(&s.clusterWide, "cluster-wide", false, "Bind --cluster-role with a ClusterRoleBinding, for every namespace.")
	f.BoolVar(&s.revocable, "revocable", false, "Bind every minted token to a Secret, so that kubemint revoke kills them all in one step.")
	f.BoolVar(&s.selfRenew, "self-renew", false, "Let the account renew its own tokens (a Role allowing create on its own serviceaccounts/token), and write --self-renew into the exec entry. Pair it with --revocable.")
	f.StringVar(&s.contextName, "context-name", "", "Name of the kubeconfig context (and user) to write. Default: NAMESPACE-NAME@CLUSTER.")
	f.StringVar(&s.kubeconfigOut, "kubeconfig-out", "", "Write a standalone kubeconfig (cluster, CA, exec user, context) to this file instead of editing the source kubeconfig.")
	f.DurationVar(&s.duration, "duration", s.duration, "Lifetime of the tokens the exec entry mints; at least 10m.")
	credential.AddVerbosityFlag(f, &s.verbosity)
	return cmd
}

func (s *setupCmd) validate() error {
	o := credential.Options{ServiceAccount: s.account, Duration: s.duration, Cache: string(cache.Auto)}
	if err := o.Validate(); err != nil {
		return err
	}
	s.ns, s.name, _ = o.Account()
	if s.role != "" && s.clusterRole != "" {
		return hint.Wrap(errors.New("--role and --cluster-role cannot be used together"), "run setup once for each")
	}
	if s.clusterWide && s.clusterRole == "" {
		return errors.New("--cluster-wide needs --cluster-role")
	}
	return nil
}

// secretName is the Secret that --revocable binds an account's tokens to.
func secretName(account string) string { return account + "-kubemint" }

// report collects what setup did, one line per step.
type report struct {
	w       io.Writer
	changed bool
}

func (r *report) step(created bool, what string) {
	if created {
		r.changed = true
		fmt.Fprintf(r.w, "created    %s\n", what)
	} else {
		fmt.Fprintf(r.w, "unchanged  %s\n", what)
	}
}

func (s *setupCmd) run(ctx context.Context) error {
	logf := credential.NewLogf(s.stderr, s.verbosity)
	ns, name := s.ns, s.name
	src, err := exchange.LoadSource(s.sourceKubeconfig, s.sourceContext)
	if err != nil {
		return err
	}
	admin, err := exchange.NewClient(src.Config, src.Label, logf)
	if err != nil {
		return err
	}
	rep := &report{w: s.stdout}

	created, err := admin.EnsureNamespace(ctx, ns)
	if err != nil {
		return err
	}
	rep.step(created, "namespace "+ns)
	if created, err = admin.EnsureServiceAccount(ctx, ns, name); err != nil {
		return err
	}
	rep.step(created, "serviceaccount "+s.account)

	if b, ok := s.binding(); ok {
		roleNS := ns
		if b.Kind == "ClusterRole" {
			roleNS = ""
		}
		exists, err := admin.RoleExists(ctx, roleNS, b.Role)
		if err != nil {
			return err
		}
		if !exists {
			if roleNS == "" {
				return hint.Wrap(fmt.Errorf("the ClusterRole %q was not found on %s", b.Role, src.Server),
					fmt.Sprintf("create it first (kubectl create clusterrole %s --verb=... --resource=...) or name an existing one", b.Role))
			}
			return hint.Wrap(fmt.Errorf("the Role %s/%s was not found on %s", ns, b.Role, src.Server),
				fmt.Sprintf("create it first (kubectl create role %s -n %s --verb=... --resource=...) or use --cluster-role", b.Role, ns))
		}
		bname, created, err := admin.EnsureBinding(ctx, ns, name, b)
		if err != nil {
			return err
		}
		kind := "rolebinding " + ns + "/" + bname
		if b.ClusterWide {
			kind = "clusterrolebinding " + bname
		}
		rep.step(created, fmt.Sprintf("%s (%s %s)", kind, b.Kind, b.Role))
	}
	if s.selfRenew {
		if created, err = admin.EnsureSelfRenewRole(ctx, ns, name); err != nil {
			return err
		}
		rep.step(created, "role "+ns+"/"+exchange.SelfRenewRole(name)+" (create on its own serviceaccounts/token)")
		bname, created, err := admin.EnsureBinding(ctx, ns, name, exchange.Binding{Kind: "Role", Role: exchange.SelfRenewRole(name)})
		if err != nil {
			return err
		}
		rep.step(created, "rolebinding "+ns+"/"+bname)
	}
	if s.revocable {
		if created, err = admin.EnsureSecret(ctx, ns, secretName(name), s.account); err != nil {
			return err
		}
		rep.step(created, "secret "+ns+"/"+secretName(name)+" (tokens are bound to it: kubemint revoke deletes it)")
	}

	contextName, file, changed, err := s.writeKubeconfig(src)
	if err != nil {
		return err
	}
	rep.step(changed, fmt.Sprintf("context %s in %s", contextName, file))

	// Prove it: mint through the same path kubectl will take, then ask
	// the API server who the token is and what it may do.
	token, err := s.mint(ctx, src)
	if err != nil {
		return fmt.Errorf("the context was written, but minting a token failed: %w", err)
	}
	sa, err := exchange.NewClient(exchange.AsToken(src.Config, token), "the token of "+s.account, logf)
	if err != nil {
		return err
	}
	who, err := sa.WhoAmI(ctx)
	if err != nil {
		return err
	}
	rules, err := sa.Rules(ctx, ns)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "\nkubectl --context %s acts as %s.\n", contextName, who.Username)
	if len(rules) == 0 {
		fmt.Fprintf(s.stdout, "It may do nothing in namespace %s yet: bind a role with --role or --cluster-role.\n", ns)
	} else {
		fmt.Fprintf(s.stdout, "In namespace %s it may:\n", ns)
		for _, r := range rules {
			fmt.Fprintf(s.stdout, "  %s\n", r)
		}
	}
	if !rep.changed {
		fmt.Fprintln(s.stdout, "\nNothing changed: everything was already set up.")
	}
	return nil
}

func (s *setupCmd) binding() (exchange.Binding, bool) {
	switch {
	case s.role != "":
		return exchange.Binding{Kind: "Role", Role: s.role}, true
	case s.clusterRole != "":
		return exchange.Binding{Kind: "ClusterRole", Role: s.clusterRole, ClusterWide: s.clusterWide}, true
	}
	return exchange.Binding{}, false
}

// tokenArgs are the arguments of the exec entry.
func (s *setupCmd) tokenArgs(sourceContext, sourceFile string) []string {
	args := []string{"token", "--service-account=" + s.account, "--source-context=" + sourceContext}
	if sourceFile != "" {
		args = append(args, "--source-kubeconfig="+sourceFile)
	}
	if s.duration != time.Hour {
		args = append(args, "--duration="+s.duration.String())
	}
	if s.revocable {
		args = append(args, "--bound-object-kind=Secret", "--bound-object-name="+secretName(s.name))
	}
	if s.selfRenew {
		args = append(args, "--self-renew")
	}
	return args
}

// writeKubeconfig adds the exec user and context to the source kubeconfig,
// or writes a standalone one with --kubeconfig-out (package kubeconfig
// does the editing). It reports the context name, the file and whether
// anything changed.
func (s *setupCmd) writeKubeconfig(src *exchange.Source) (string, string, bool, error) {
	po := clientcmd.NewDefaultPathOptions()
	if s.sourceKubeconfig != "" {
		po.LoadingRules.ExplicitPath = s.sourceKubeconfig
	}
	raw, err := po.GetStartingConfig()
	if err != nil {
		return "", "", false, err
	}
	clusterName := raw.Contexts[src.Context].Cluster
	c := kubeconfig.Context{Name: s.contextName, Cluster: clusterName, Namespace: s.ns}
	if c.Name == "" {
		c.Name = s.ns + "-" + s.name + "@" + clusterName
	}
	sourceFile, err := kubeconfig.SourceFileFor(po, src.Context, s.kubeconfigOut != "")
	if err != nil {
		return "", "", false, err
	}
	command, err := kubeconfig.KubemintPath()
	if err != nil {
		return "", "", false, err
	}
	c.Exec = kubeconfig.Exec(command, s.tokenArgs(src.Context, sourceFile))

	if s.kubeconfigOut != "" {
		cluster := clientcmdapi.NewCluster()
		cluster.Server = src.Server
		cluster.CertificateAuthorityData = src.CAData
		if old := raw.Clusters[clusterName]; old != nil {
			cluster.TLSServerName, cluster.ProxyURL = old.TLSServerName, old.ProxyURL
		}
		changed, err := kubeconfig.WriteStandalone(s.kubeconfigOut, clusterName, cluster, c)
		return c.Name, s.kubeconfigOut, changed, err
	}
	file := po.GetDefaultFilename()
	changed, err := kubeconfig.AddContext(raw, file, c)
	if foreign := (*kubeconfig.ForeignUserError)(nil); errors.As(err, &foreign) {
		return "", "", false, hint.Wrap(err, "choose another --context-name")
	}
	return c.Name, file, changed, err
}

// mint runs the token flow for the new context once, through the cache,
// as kubectl will, and returns the token.
func (s *setupCmd) mint(ctx context.Context, src *exchange.Source) (string, error) {
	o := credential.Options{
		ServiceAccount:   s.account,
		SourceContext:    src.Context,
		SourceKubeconfig: s.sourceKubeconfig,
		Duration:         s.duration,
		Cache:            string(cache.Auto),
		Verbosity:        s.verbosity,
		SelfRenew:        s.selfRenew,
	}
	if s.revocable {
		o.BoundObjectKind, o.BoundObjectName = "Secret", secretName(s.name)
	}
	// The cluster as client-go will describe it in KUBERNETES_EXEC_INFO,
	// so that kubectl's first call is a cache hit.
	cluster := &credential.Cluster{Server: src.Server, CertificateAuthorityData: src.CAData}
	c, err := resolve.Resolve(ctx, resolve.Request{Options: o, Cluster: cluster}, resolve.DefaultDeps(s.stderr))
	if err != nil {
		return "", err
	}
	return c.Token, nil
}
