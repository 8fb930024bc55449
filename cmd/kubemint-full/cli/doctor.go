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
  - the source context reaches its API server, and the clocks agree;
  - with --service-account: the source may create serviceaccounts/token for
    it (SelfSubjectAccessReview), and the longest token the server grants.

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
