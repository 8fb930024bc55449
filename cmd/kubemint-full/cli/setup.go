package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
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
	minterFlags      []string
	dryRun           bool
	force            bool
	duration         time.Duration
	verbosity        int
	// ns and name split account, minters parse minterFlags; validate
	// sets them.
	ns, name string
	minters  []exchange.Minter

	stdout, stderr io.Writer
}

func newSetupCmd(stdout, stderr io.Writer) *cobra.Command {
	s := &setupCmd{stdout: stdout, stderr: stderr, duration: time.Hour}
	cmd := &cobra.Command{
		Use:   "setup --service-account NAMESPACE/NAME --source-context CTX [--role NAME | --cluster-role NAME [--cluster-wide]] [--revocable] [--minter KIND:NAME]...",
		Short: "Create a service account, bind its permissions and write a kubeconfig context that uses kubemint",
		Long: `Do in one command what the vendor guides do by hand: create the namespace and
service account if missing, bind the permissions asked for (nothing unless
asked), write a kubeconfig user and context whose exec entry runs
"kubemint token", then prove it works: mint a token, ask the API server who
it is and what it may do.

Before it creates anything, setup checks what it can: the role to bind
exists, the source may create each missing object (SelfSubjectAccessReviews),
existing minter bindings bind no one else, and the kubeconfig can be written.
When a check fails it stops with nothing created. --dry-run prints what it
would create and the kubeconfig change, and creates nothing.

--minter lets a person, a group or a runner's service account mint this
account's tokens and nothing else: a Role allowing create on
serviceaccounts/token for this account alone, and one RoleBinding per minter.
setup prints the "kubemint use" line a person runs next, and the "kubemint
kubeconfig" line that writes a CI runner's kubeconfig.

The kubeconfig setup edits is backed up beside itself first
(FILE.kubemint-backup-TIME); --kubeconfig-out replaces a file that holds
anything else only with --force.

Setup is idempotent: run it again and it changes nothing, and says so.

Exit status: 0 when the context works; 1 with one line on stderr otherwise.`,
		Example: `  # Namespace-level: bind an existing Role in ci
  kubemint setup --service-account=ci/deployer --source-context=admin --role=deployer

  # Let two teammates mint the account's tokens; each then runs kubemint use
  kubemint setup --service-account=team-a/app --source-context=admin \
    --cluster-role=edit --minter=user:alice --minter=group:team-a-devs

  # See what it would do, doing nothing
  kubemint setup --service-account=team-a/app --source-context=admin --cluster-role=edit --dry-run

  # Cluster-level, revocable, into a standalone kubeconfig
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
	f.StringArrayVar(&s.minterFlags, "minter", nil, "Let this identity mint the account's tokens and nothing else (a Role allowing create on serviceaccounts/token for this account alone, and one RoleBinding per minter): user:NAME, group:NAME or serviceaccount:NAMESPACE/NAME. Repeatable. A person then runs kubemint use; a CI runner gets its kubeconfig from kubemint kubeconfig.")
	f.BoolVar(&s.dryRun, "dry-run", false, "Check everything and print what would be created and the kubeconfig change; create and write nothing.")
	f.BoolVar(&s.force, "force", false, "With --kubeconfig-out: replace the file when it exists and holds something else.")
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
	s.minters = nil
	for _, f := range s.minterFlags {
		m, err := exchange.ParseMinter(f)
		if err != nil {
			return err
		}
		if !slices.Contains(s.minters, m) {
			s.minters = append(s.minters, m)
		}
	}
	if s.force && s.kubeconfigOut == "" {
		return hint.Wrap(errors.New("--force goes with --kubeconfig-out"), "setup edits the source kubeconfig in place, keeping a backup; it needs no --force")
	}
	return nil
}

// secretName is the Secret that --revocable binds an account's tokens to.
func secretName(account string) string { return account + "-kubemint" }

// step is one object setup ensures: what it is (for the report and the
// checks before anything is created) and how to ensure it.
type step struct {
	// resource, group, ns and name name the object, for Exists and the
	// SelfSubjectAccessReview of its create.
	resource, group, ns, name string
	what                      string
	ensure                    func(ctx context.Context) (bool, error)
}

// steps are the objects setup ensures, in order.
func (s *setupCmd) steps(admin *exchange.Client) []step {
	ns, name := s.ns, s.name
	out := []step{
		{resource: "namespaces", name: ns, what: "namespace " + ns,
			ensure: func(ctx context.Context) (bool, error) { return admin.EnsureNamespace(ctx, ns) }},
		{resource: "serviceaccounts", ns: ns, name: name, what: "serviceaccount " + s.account,
			ensure: func(ctx context.Context) (bool, error) { return admin.EnsureServiceAccount(ctx, ns, name) }},
	}
	if b, ok := s.binding(); ok {
		bname := exchange.BindingName(ns, name, b)
		st := step{resource: "rolebindings", group: "rbac.authorization.k8s.io", ns: ns, name: bname,
			what: fmt.Sprintf("rolebinding %s/%s (%s %s)", ns, bname, b.Kind, b.Role)}
		if b.ClusterWide {
			st.resource, st.ns, st.what = "clusterrolebindings", "", fmt.Sprintf("clusterrolebinding %s (%s %s)", bname, b.Kind, b.Role)
		}
		st.ensure = func(ctx context.Context) (bool, error) {
			_, created, err := admin.EnsureBinding(ctx, ns, name, b)
			return created, err
		}
		out = append(out, st)
	}
	if s.selfRenew {
		role := exchange.SelfRenewRole(name)
		b := exchange.Binding{Kind: "Role", Role: role}
		out = append(out,
			step{resource: "roles", group: "rbac.authorization.k8s.io", ns: ns, name: role,
				what:   "role " + ns + "/" + role + " (create on its own serviceaccounts/token)",
				ensure: func(ctx context.Context) (bool, error) { return admin.EnsureSelfRenewRole(ctx, ns, name) }},
			step{resource: "rolebindings", group: "rbac.authorization.k8s.io", ns: ns, name: exchange.BindingName(ns, name, b),
				what: "rolebinding " + ns + "/" + exchange.BindingName(ns, name, b),
				ensure: func(ctx context.Context) (bool, error) {
					_, created, err := admin.EnsureBinding(ctx, ns, name, b)
					return created, err
				}})
	}
	if len(s.minters) > 0 {
		role := exchange.MinterRole(name)
		out = append(out, step{resource: "roles", group: "rbac.authorization.k8s.io", ns: ns, name: role,
			what:   "role " + ns + "/" + role + " (create on serviceaccounts/token named " + name + ")",
			ensure: func(ctx context.Context) (bool, error) { return admin.EnsureMinterRole(ctx, ns, name) }})
		for _, m := range s.minters {
			bname := exchange.MinterBinding(name, m)
			out = append(out, step{resource: "rolebindings", group: "rbac.authorization.k8s.io", ns: ns, name: bname,
				what: "rolebinding " + ns + "/" + bname + " (" + m.String() + " may mint)",
				ensure: func(ctx context.Context) (bool, error) {
					_, created, err := admin.EnsureMinterBinding(ctx, ns, name, m)
					return created, err
				}})
		}
	}
	if s.revocable {
		sname := secretName(name)
		out = append(out, step{resource: "secrets", ns: ns, name: sname,
			what:   "secret " + ns + "/" + sname + " (tokens are bound to it: kubemint revoke deletes it)",
			ensure: func(ctx context.Context) (bool, error) { return admin.EnsureSecret(ctx, ns, sname, s.account) }})
	}
	return out
}

// preflight checks, before anything is created, what can be checked: the
// role to bind exists, and the source may create every missing object. It
// returns, per step, whether the object exists already.
func (s *setupCmd) preflight(ctx context.Context, admin *exchange.Client, src *exchange.Source, steps []step) ([]bool, error) {
	if b, ok := s.binding(); ok {
		if err := s.checkRole(ctx, admin, src, b); err != nil {
			return nil, err
		}
	}
	if len(s.minters) > 0 {
		if err := admin.CheckMinter(ctx, s.ns, s.name, s.minters); err != nil {
			return nil, fmt.Errorf("%w; nothing was created", err)
		}
	}
	exists := make([]bool, len(steps))
	var missing []string
	for i, st := range steps {
		where := ""
		if st.ns != "" {
			where = " in namespace " + st.ns
		}
		ok, err := admin.Exists(ctx, st.resource, st.ns, st.name)
		if errors.Is(err, exchange.ErrMayNotRead) {
			missing = append(missing, "get "+st.resource+where)
		} else if err != nil {
			return nil, err
		}
		exists[i] = ok
		if ok {
			continue
		}
		allowed, err := admin.CanI(ctx, "create", st.group, st.resource, st.ns, "")
		if err != nil {
			return nil, err
		}
		if !allowed {
			missing = append(missing, "create "+st.resource+where)
		}
	}
	if len(missing) > 0 {
		return nil, hint.Wrap(fmt.Errorf("%s may not %s on %s; nothing was created", src.Label, strings.Join(missing, ", "), src.Server),
			"run it again with a --source-context that may (an admin's)")
	}
	return exists, nil
}

// checkRole reports a role to bind that does not exist, naming how to
// make it (and its namespace, when that is missing too).
func (s *setupCmd) checkRole(ctx context.Context, admin *exchange.Client, src *exchange.Source, b exchange.Binding) error {
	roleNS := s.ns
	if b.Kind == "ClusterRole" {
		roleNS = ""
	}
	exists, err := admin.RoleExists(ctx, roleNS, b.Role)
	if err != nil || exists {
		return err
	}
	if roleNS == "" {
		return hint.Wrap(fmt.Errorf("the ClusterRole %q was not found on %s; nothing was created", b.Role, src.Server),
			fmt.Sprintf("create it first (kubectl create clusterrole %s --verb=... --resource=...) or name an existing one", b.Role))
	}
	create := fmt.Sprintf("kubectl create role %s -n %s --verb=... --resource=...", b.Role, s.ns)
	if nsExists, err := admin.Exists(ctx, "namespaces", "", s.ns); err == nil && !nsExists {
		create = fmt.Sprintf("kubectl create namespace %s, then %s", s.ns, create)
	}
	return hint.Wrap(fmt.Errorf("the Role %s/%s was not found on %s; nothing was created", s.ns, b.Role, src.Server),
		fmt.Sprintf("create it first (%s) or use --cluster-role", create))
}

func (s *setupCmd) run(ctx context.Context) error {
	logf := credential.NewLogf(s.stderr, s.verbosity)
	ns := s.ns
	src, err := exchange.LoadSource(s.sourceKubeconfig, s.sourceContext)
	if err != nil {
		return err
	}
	admin, err := exchange.NewClient(src.Config, src.Label, logf)
	if err != nil {
		return err
	}
	plan, err := planKubeconfig(src, s.sourceKubeconfig, s.contextName, s.ns, s.name, s.kubeconfigOut, s.tokenOptions)
	if err != nil {
		return err
	}
	if err := plan.check(s.force); err != nil {
		return err
	}
	steps := s.steps(admin)
	exists, err := s.preflight(ctx, admin, src, steps)
	if err != nil {
		return err
	}
	rep := &report{w: s.stdout, dryRun: s.dryRun}
	if s.dryRun {
		for i, st := range steps {
			rep.step(createdIf(!exists[i]), st.what)
		}
		rep.step(plan.state(), fmt.Sprintf("context %s in %s", plan.ctx.Name, plan.file))
		fmt.Fprintf(s.stdout, "\nIts exec entry would run: %s %s\n", plan.ctx.Exec.Command, strings.Join(plan.ctx.Exec.Args, " "))
		fmt.Fprintln(s.stdout, "Dry run: nothing was created or written.")
		return nil
	}
	for _, st := range steps {
		created, err := st.ensure(ctx)
		if err != nil {
			return err
		}
		rep.step(createdIf(created), st.what)
	}
	c, backups, err := plan.write(s.force)
	if err != nil {
		return err
	}
	rep.step(c, fmt.Sprintf("context %s in %s", plan.ctx.Name, plan.file))
	for _, b := range backups {
		fmt.Fprintf(s.stdout, "           (the kubeconfig as it was is kept in %s)\n", b)
	}

	// Prove it: mint through the same path kubectl will take, then ask
	// the API server who the token is and what it may do.
	token, err := mintAsExec(ctx, src, plan.ctx.Exec, s.verbosity, s.stderr)
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
	fmt.Fprintf(s.stdout, "\n%s acts as %s.\n", plan.kubectlLine(), who.Username)
	if len(rules) == 0 {
		fmt.Fprintf(s.stdout, "It may do nothing in namespace %s yet: bind a role with --role or --cluster-role.\n", ns)
	} else {
		fmt.Fprintf(s.stdout, "In namespace %s it may:\n", ns)
		for _, r := range rules {
			fmt.Fprintf(s.stdout, "  %s\n", r)
		}
	}
	fmt.Fprint(s.stdout, minterSteps(s.account, src.Context, s.minters))
	if !rep.changed {
		fmt.Fprintln(s.stdout, "\nNothing changed: everything was already set up.")
	}
	return nil
}

// minterSteps is what comes next for the minters: a person runs kubemint
// use with their own kubeconfig; a CI runner (a CI system's OIDC identity,
// a pod's service account) has no kubeconfig to run it with, so the admin
// writes the runner's kubeconfig with kubemint kubeconfig.
func minterSteps(account, fromContext string, minters []exchange.Minter) string {
	if len(minters) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nPeople among the minters run, with their own kubeconfig (add --source-context=CTX for a context other than their current one):\n")
	for _, m := range minters {
		fmt.Fprintf(&b, "  %s: %s\n", m, useLine(account))
	}
	fmt.Fprintf(&b, "For a CI runner among them, write its kubeconfig here and give it to the runner (docs/recipes.md):\n")
	fmt.Fprintf(&b, "  mkdir -p ci && kubemint kubeconfig --service-account=%s --from-context=%s --source-github-actions|--source-token-env=VAR|--source-in-cluster -o ci/runner.kubeconfig\n", account, fromContext)
	return b.String()
}

// useLine is the command a minter runs to get a context of their own.
func useLine(account string) string {
	return "kubemint use --service-account=" + account
}

// tokenOptions are the exec entry's token options.
func (s *setupCmd) tokenOptions(sourceContext, sourceFile string) credential.Options {
	o := credential.Options{ServiceAccount: s.account, SourceContext: sourceContext, SourceKubeconfig: sourceFile,
		Duration: s.duration, SelfRenew: s.selfRenew, Cache: string(cache.Auto)}
	if s.revocable {
		o.BoundObjectKind, o.BoundObjectName = "Secret", secretName(s.name)
	}
	return o
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
