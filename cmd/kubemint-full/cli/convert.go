package cli

import (
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/kubeconfig"
)

func newConvertCmd(stdout, stderr io.Writer) *cobra.Command {
	var file, sourceContext, sourceKubeconfig string
	var write bool
	var verbosity int
	cmd := &cobra.Command{
		Use:   "convert [--kubeconfig FILE] --source-context CTX [--source-kubeconfig FILE] [--write]",
		Short: "Replace static service-account tokens in a kubeconfig with kubemint exec entries",
		Long: `Find the kubeconfig users that embed a static service-account token (a
Secret-based token of Kubernetes before 1.24, or one pasted from
kubectl create token) and rewrite each into a kubemint exec entry for the
same service account, minted with the credentials of --source-context (a
context of the converted file, or of --source-kubeconfig).

The token's claims name the account; the token is not sent anywhere and never
printed. Without --write, convert only says what it would change. With
--write it keeps the original beside the file (same name plus
.kubemint-backup-TIME) and replaces the file atomically.

The old static tokens keep working until revoked: delete their Secrets
(kubectl -n NS delete secret NAME) once the converted kubeconfig works.

Exit status: 0 after a dry run or a conversion; 1 with one line on stderr.`,
		Example: `  kubemint convert --source-context=admin            # dry run
  kubemint convert --kubeconfig=ci.kubeconfig --source-context=admin --write
  kubemint convert --kubeconfig=ci.kubeconfig --source-kubeconfig=$HOME/.kube/config --source-context=admin --write`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if sourceContext == "" {
				return errors.New("--source-context is required: the context whose credentials will mint the new tokens")
			}
			return kubeconfig.ConvertFile(stdout, credential.NewLogf(stderr, verbosity), file, sourceContext, sourceKubeconfig, write, time.Now())
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "kubeconfig", "", "Kubeconfig file to convert. Default: the first file of $KUBECONFIG, else ~/.kube/config.")
	f.StringVar(&sourceContext, "source-context", "", "Context whose credentials mint the tokens (required); it must stay a context with credentials of its own.")
	f.StringVar(&sourceKubeconfig, "source-kubeconfig", "", "Kubeconfig file that holds --source-context, when it is not the converted file.")
	f.BoolVar(&write, "write", false, "Apply the changes (default: a dry run that only reports them).")
	credential.AddVerbosityFlag(f, &verbosity)
	return cmd
}
