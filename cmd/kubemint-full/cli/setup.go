package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/provision"
)

// setupCmd is kubemint setup: its flags, parsed into a
// provision.SetupRequest by validate.
type setupCmd struct {
	account, role, clusterRole string
	minterFlags                []string
	req                        provision.SetupRequest

	stdout, stderr io.Writer
}

func newSetupCmd(stdout, stderr io.Writer) *cobra.Command {
	s := &setupCmd{stdout: stdout, stderr: stderr}
	r := &s.req
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

--revocable binds every token to the Secret NAME-kubemint, which kubemint
revoke deletes, and creates a ValidatingAdmissionPolicy (and its binding)
that makes the API server refuse, whoever asks, a token of the account that
is not bound to that Secret or lasts longer than --max-duration, and a
legacy token Secret for it (docs/security.md). Where the server has no
ValidatingAdmissionPolicy or the source may not create one, setup warns
that revocation is then best-effort.

After proving the context, setup warns, one line each, of what the
account's role allows that defeats short-lived revocable tokens: minting
tokens, impersonating, creating or reading Secrets, binding or escalating
roles, creating pods or workloads.

Setup is idempotent: run it again and it changes nothing, and says so. A
re-run keeps what the existing context set and the run does not say
(--revocable, --duration, --self-renew, audiences), and says so; set a flag
(--revocable=false, --duration=1h) to change it. --dry-run prints the same
lines the run would.

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
			s.req.Changed = func(flag string) bool { return cmd.Flags().Changed(flag) }
			_, err := provision.Setup(cmd.Context(), s.req, provision.DefaultDeps(stdout, stderr))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.account, "service-account", "", "Service account to set up, as NAMESPACE/NAME (required).")
	f.StringVar(&r.SourceContext, "source-context", "", "Kubeconfig context that creates the objects and later mints the tokens. Default: the current context.")
	f.StringVar(&r.SourceKubeconfig, "source-kubeconfig", "", "Kubeconfig file that holds --source-context. Default: $KUBECONFIG, then ~/.kube/config.")
	f.StringVar(&s.role, "role", "", "Bind this existing Role in the account's namespace with a RoleBinding.")
	f.StringVar(&s.clusterRole, "cluster-role", "", "Bind this ClusterRole: in the account's namespace with a RoleBinding, or cluster-wide with --cluster-wide.")
	f.BoolVar(&r.Binding.ClusterWide, "cluster-wide", false, "Bind --cluster-role with a ClusterRoleBinding, for every namespace.")
	f.BoolVar(&r.Revocable, "revocable", false, "Bind every minted token to a Secret, so that kubemint revoke kills them all in one step, and make the API server refuse, with a ValidatingAdmissionPolicy, any token of the account that is not bound to it or is longer than --max-duration, whoever asks.")
	f.DurationVar(&r.MaxDuration, "max-duration", 0, "With --revocable: the longest token anyone may mint for the account (the admission policy's cap). Default: --duration.")
	f.BoolVar(&r.SelfRenew, "self-renew", false, "Let the account renew its own tokens (a Role allowing create on its own serviceaccounts/token), and write --self-renew into the exec entry. Pair it with --revocable.")
	f.StringVar(&r.ContextName, "context-name", "", "Name of the kubeconfig context (and user) to write. Default: NAMESPACE-NAME@CLUSTER.")
	f.StringVar(&r.KubeconfigOut, "kubeconfig-out", "", "Write a standalone kubeconfig (cluster, CA, exec user, context) to this file instead of editing the source kubeconfig.")
	f.DurationVar(&r.Duration, "duration", time.Hour, "Lifetime of the tokens the exec entry mints; at least 10m.")
	f.StringArrayVar(&s.minterFlags, "minter", nil, "Let this identity mint the account's tokens and nothing else (a Role allowing create on serviceaccounts/token for this account alone, and one RoleBinding per minter): user:NAME, group:NAME or serviceaccount:NAMESPACE/NAME. Repeatable. A person then runs kubemint use; a CI runner gets its kubeconfig from kubemint kubeconfig.")
	f.BoolVar(&r.DryRun, "dry-run", false, "Check everything and print what would be created and the kubeconfig change; create and write nothing.")
	f.BoolVar(&r.Force, "force", false, "With --kubeconfig-out: replace the file when it exists and holds something else.")
	credential.AddVerbosityFlag(f, &r.Verbosity)
	return cmd
}

func (s *setupCmd) validate() error {
	r := &s.req
	o := credential.Options{ServiceAccount: s.account, Duration: r.Duration, Cache: string(cache.Auto)}
	if err := o.Validate(); err != nil {
		return err
	}
	r.Namespace, r.Name, _ = o.Account()
	switch {
	case s.role != "" && s.clusterRole != "":
		return hint.Wrap(errors.New("--role and --cluster-role cannot be used together"), "run setup once for each")
	case r.Binding.ClusterWide && s.clusterRole == "":
		return errors.New("--cluster-wide needs --cluster-role")
	case s.role != "":
		r.Binding.Kind, r.Binding.Role = "Role", s.role
	case s.clusterRole != "":
		r.Binding.Kind, r.Binding.Role = "ClusterRole", s.clusterRole
	}
	r.Minters = nil
	for _, f := range s.minterFlags {
		m, err := exchange.ParseMinter(f)
		if err != nil {
			return err
		}
		if !slices.Contains(r.Minters, m) {
			r.Minters = append(r.Minters, m)
		}
	}
	if r.Force && r.KubeconfigOut == "" {
		return hint.Wrap(errors.New("--force goes with --kubeconfig-out"), "setup edits the source kubeconfig in place, keeping a backup; it needs no --force")
	}
	switch {
	case r.MaxDuration != 0 && !r.Revocable:
		return hint.Wrap(errors.New("--max-duration goes with --revocable"), "the cap is the revocation policy's, which --revocable creates")
	case r.MaxDuration != 0 && r.MaxDuration < r.Duration:
		return hint.Wrap(fmt.Errorf("--max-duration=%v is less than --duration=%v: the API server would refuse the context's own tokens", r.MaxDuration, r.Duration), "raise --max-duration, or lower --duration")
	}
	return nil
}
