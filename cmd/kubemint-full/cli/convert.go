package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
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
			return runConvert(stdout, credential.NewLogf(stderr, verbosity), file, sourceContext, sourceKubeconfig, write, time.Now())
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

func runConvert(stdout io.Writer, logf func(int, string, ...any), file, sourceContext, sourceKubeconfig string, write bool, now time.Time) error {
	if file == "" {
		file = clientcmd.NewDefaultPathOptions().GetDefaultFilename()
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	cfg, err := clientcmd.LoadFromFile(abs)
	if err != nil {
		return fmt.Errorf("loading %s: %w", abs, err)
	}
	logf(4, "loaded %s: %d users, %d contexts", abs, len(cfg.AuthInfos), len(cfg.Contexts))
	// The exec entry names the source's file unless it is the one kubemint
	// reads by default anyway.
	sourceFile, inFile, err := convertSource(abs, sourceKubeconfig, sourceContext)
	if err != nil {
		return err
	}
	if sourceFile == clientcmd.RecommendedHomeFile {
		sourceFile = ""
	}
	// kubemint's path is looked up only when a user is converted: a dry
	// run with nothing to convert needs no installed binary.
	var command string
	var pathErr error
	conversions, err := kubeconfig.Convert(cfg, inFile, func(a kubeconfig.Account) *clientcmdapi.ExecConfig {
		if command == "" && pathErr == nil {
			command, pathErr = kubeconfig.KubemintPath()
		}
		return kubeconfig.Exec(command, credential.Options{ServiceAccount: a.String(), SourceContext: sourceContext,
			SourceKubeconfig: sourceFile, Duration: time.Hour, Cache: string(cache.Auto)})
	})
	if err != nil {
		return err
	}
	if pathErr != nil {
		return pathErr
	}
	if len(conversions) == 0 {
		fmt.Fprintf(stdout, "No user in %s holds a static service-account token: nothing to convert.\n", abs)
		return nil
	}
	for _, c := range conversions {
		kind := "a pasted TokenRequest token"
		if c.Account.Legacy {
			kind = "a legacy Secret-based token that never expires"
		}
		fmt.Fprintf(stdout, "user %q: %s of %s -> kubemint token --service-account=%s --source-context=%s\n", c.User, kind, c.Account, c.Account, sourceContext)
	}
	if !write {
		fmt.Fprintf(stdout, "Dry run: %s is unchanged. Run again with --write to convert %d user(s).\n", abs, len(conversions))
		return nil
	}
	backup, err := kubeconfig.WriteWithBackup(cfg, abs, now)
	if err != nil {
		return fmt.Errorf("converting %s: %w", abs, err)
	}
	logf(4, "wrote %s and its backup %s, both flushed to disk", abs, backup)
	fmt.Fprintf(stdout, "Converted %d user(s) in %s; the original is in %s.\n", len(conversions), abs, backup)
	fmt.Fprintln(stdout, "The old tokens still work until revoked: delete their Secrets, or recreate the service accounts, once this kubeconfig works.")
	return nil
}

// convertSource resolves the source of a conversion: the kubeconfig file
// that holds sourceContext (the converted file abs unless
// --source-kubeconfig names another) and the context name to look for in
// the converted file ("" when the source lives elsewhere: then no user of
// the converted file is the source's).
func convertSource(abs, sourceKubeconfig, sourceContext string) (file, inFile string, err error) {
	if sourceKubeconfig == "" {
		return abs, sourceContext, nil
	}
	src, err := filepath.Abs(sourceKubeconfig)
	if err != nil {
		return "", "", err
	}
	if src == abs {
		return abs, sourceContext, nil
	}
	names, err := exchange.ContextNames(src)
	if err != nil {
		return "", "", err
	}
	if !slices.Contains(names, sourceContext) {
		return "", "", fmt.Errorf("context %q not found in %s; set --source-context to one of: %s", sourceContext, src, strings.Join(names, ", "))
	}
	return src, "", nil
}
