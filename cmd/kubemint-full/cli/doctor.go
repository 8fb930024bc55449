package cli

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/doctor"
	"github.com/kubemint/kubemint/internal/hint"
)

func newDoctorCmd(stdout, stderr io.Writer) *cobra.Command {
	var o credential.Options
	cmd := &cobra.Command{
		Use:   "doctor [--service-account NAMESPACE/NAME --source-context CTX]",
		Short: "Check the kubeconfig, the keyring, the API server and the right to mint, each with a fix",
		Long: `Check what kubemint depends on and print each finding with a fix:

  - the kubeconfig parses;
  - every exec entry in it points at a binary that exists;
  - every context that runs a kubemint exec entry names a cluster its
    source pins (its own server, or --allow-server): kubemint refuses every
    call from any other;
  - which keyring answers, and how fast (else the file cache is used);
  - the source reaches its API server, and the clocks agree. Without
    --source-context, when the current context's user runs kubemint token
    (a runner's kubeconfig: KUBECONFIG=runner.kubeconfig kubemint doctor),
    the source is the one its exec entry names, with the entry's own flags:
    a kubeconfig context, --source-in-cluster, --source-token-file,
    --source-token-env or --source-github-actions;
  - with --service-account (or the entry's account): the source may create
    serviceaccounts/token for it (SelfSubjectAccessReview); whether the API
    server enforces kubemint's revocation policy for it (asked with a dry
    run that stores nothing); that it grants the lifetime the entry asks
    for (default 1h), learned by minting one probe token, bound as the
    entry binds its own, with an audience no API server accepts; and, when
    the source may create SubjectAccessReviews, what the account's role
    allows that defeats short-lived, revocable tokens (one warning each).

Exit status: 0 when nothing failed (warnings allowed); 1 otherwise.`,
		Example: `  kubemint doctor
  kubemint doctor --service-account=ci/deployer --source-context=admin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.ServiceAccount != "" {
				if _, _, err := o.Account(); err != nil {
					return err
				}
			}
			if doctor.Run(cmd.Context(), &o, stdout, stderr) {
				return hint.Wrap(errors.New("doctor found problems"), "see the fixes above")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ServiceAccount, "service-account", "", "Also check that the source may mint tokens for this account, as NAMESPACE/NAME.")
	f.StringVar(&o.SourceContext, "source-context", "", "Context to check. Default: the current context.")
	f.StringVar(&o.SourceKubeconfig, "source-kubeconfig", "", "Kubeconfig file to check. Default: $KUBECONFIG, then ~/.kube/config.")
	credential.AddVerbosityFlag(f, &o.Verbosity)
	return cmd
}
