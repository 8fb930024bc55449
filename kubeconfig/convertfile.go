package kubeconfig

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ConvertFile is kubemint convert: it converts the users of the
// kubeconfig file (the default one when empty) that hold static
// service-account tokens into exec entries minted with sourceContext (of
// sourceKubeconfig, else of file), says so on stdout, and with write
// replaces the file, keeping a backup named for now.
func ConvertFile(stdout io.Writer, logf func(int, string, ...any), file, sourceContext, sourceKubeconfig string, write bool, now time.Time) error {
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
	conversions, err := Convert(cfg, inFile, func(a Account) *clientcmdapi.ExecConfig {
		if command == "" && pathErr == nil {
			command, pathErr = KubemintPath()
		}
		return Exec(command, credential.Options{ServiceAccount: a.String(), SourceContext: sourceContext,
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
	backup, err := WriteWithBackup(cfg, abs, now)
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
		return "", "", fmt.Errorf("context %q not found in %s; %s", sourceContext, src, exchange.ChooseContextHint(names))
	}
	return src, "", nil
}
