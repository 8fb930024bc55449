package kubeconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/internal/product"
)

// InstallHint is what kubectl prints, from the exec entry, to a user who
// runs the context without kubemint installed.
const InstallHint = `kubemint mints short-lived service-account tokens for this context.
Install it (./install.sh in the kubemint source puts kubemint and kubemint-full
in ~/.local/bin), then make sure exec.command in this kubeconfig points at it.`

// RunnerInstallHint is InstallHint for a kubeconfig made for another
// machine (kubemint kubeconfig), whose exec command is the bare name
// kubemint, found on that machine's PATH.
const RunnerInstallHint = `kubemint mints short-lived service-account tokens for this context, and
this machine has no kubemint on its PATH. Install it, one of (see
https://github.com/kubemint/kubemint/blob/main/docs/install.md):
  the .deb or .rpm package of a release (puts kubemint in /usr/bin)
  or a release archive, both binaries in a directory on PATH
  or go install github.com/kubemint/kubemint/cmd/...@latest
(krew installs only kubectl-mint: link it as kubemint on PATH too)
then run the command again.`

// Exec is the exec entry that runs command (kubemint's absolute path, or
// the bare name for another machine) as "kubemint token" with the flags o
// writes (credential.Options.Args): cluster info provided so that a cache
// hit needs no kubeconfig, never interactive, and a hint for a user who
// does not have kubemint.
func Exec(command string, o credential.Options) *clientcmdapi.ExecConfig {
	return &clientcmdapi.ExecConfig{
		APIVersion:         credential.APIVersionV1,
		Command:            command,
		Args:               append([]string{tokenCommand}, o.Args()...),
		InstallHint:        InstallHint,
		ProvideClusterInfo: true,
		InteractiveMode:    clientcmdapi.NeverExecInteractiveMode,
	}
}

// tokenCommand is the subcommand an exec entry runs.
const tokenCommand = "token"

// TokenOptions reads back the token options of an exec entry Exec wrote.
func TokenOptions(e *clientcmdapi.ExecConfig) (credential.Options, error) {
	if e == nil || len(e.Args) == 0 || e.Args[0] != tokenCommand {
		return credential.Options{}, fmt.Errorf("the exec entry does not run kubemint %s", tokenCommand)
	}
	o, err := credential.ParseArgs(e.Args[1:])
	if err != nil {
		return credential.Options{}, fmt.Errorf("the exec entry's arguments: %w", err)
	}
	return o, nil
}

// KubemintPath is the absolute path of the kubemint front binary beside
// the running one: exec entries name it absolutely, as IDEs and GUI tools
// do not inherit a shell's PATH.
//
// When the front was run through a link to that kubemint (krew's
// ~/.krew/bin/kubectl-mint), the link is named instead: it stays where it
// is across upgrades, while the directory it points into does not.
func KubemintPath() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	p, err := kubemintBeside(self)
	if err != nil {
		return "", err
	}
	return stableFront(os.Getenv(product.FrontPathEnv), p), nil
}

// stableFront returns front, the path the front was run by, when it is a
// link that leads to the kubemint at p; else p.
func stableFront(front, p string) string {
	if front == "" || !filepath.IsAbs(front) {
		return p
	}
	if fi, err := os.Lstat(front); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return p
	}
	a, err1 := filepath.EvalSymlinks(front)
	b, err2 := filepath.EvalSymlinks(p)
	if err1 != nil || err2 != nil || a != b {
		return p
	}
	return front
}

func kubemintBeside(self string) (string, error) {
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real
	}
	name := "kubemint"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	p := filepath.Join(filepath.Dir(self), name)
	if _, err := os.Stat(p); err != nil {
		return "", hint.Wrap(fmt.Errorf("kubemint is not installed beside %s", self),
			"install kubemint and kubemint-full together, in one directory: a release package or archive, go install github.com/kubemint/kubemint/cmd/...@latest, or ./install.sh; see docs/install.md")
	}
	return p, nil
}

// sameExec compares the parts of two exec users that kubemint writes; the
// fields it never sets (and client-go's defaults for them) do not count.
func sameExec(a, b *clientcmdapi.AuthInfo) bool {
	if a.Exec == nil || b.Exec == nil {
		return false
	}
	x, y := *a.Exec, *b.Exec
	x.Config, y.Config = nil, nil
	x.StdinUnavailable, y.StdinUnavailable = false, false
	x.StdinUnavailableMessage, y.StdinUnavailableMessage = "", ""
	x.PluginPolicy, y.PluginPolicy = clientcmdapi.PluginPolicy{}, clientcmdapi.PluginPolicy{}
	return reflect.DeepEqual(x, y)
}

// SourceFileFor is the file an exec entry must name with
// --source-kubeconfig so that it finds context: none when the context
// lives in ~/.kube/config and the entry is written beside it (standalone
// false); otherwise the absolute path of the first file that defines it.
func SourceFileFor(po *clientcmd.PathOptions, context string, standalone bool) (string, error) {
	var candidates []string
	if po.IsExplicitFile() {
		candidates = []string{po.GetExplicitFile()}
	} else {
		candidates = po.GetLoadingPrecedence()
	}
	for _, f := range candidates {
		cfg, err := clientcmd.LoadFromFile(f)
		if err != nil || cfg.Contexts[context] == nil {
			continue
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			return "", err
		}
		if !standalone && !po.IsExplicitFile() && abs == clientcmd.RecommendedHomeFile {
			return "", nil
		}
		return abs, nil
	}
	return "", fmt.Errorf("context %q is in no kubeconfig file kubemint can name; pass --source-kubeconfig", context)
}
