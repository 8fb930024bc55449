// Package product holds what makes kubemint's two binaries one product:
// the version both report, how the lean front finds kubemint-full, and
// what to tell a user whose install lacks it. Both binaries import it, so
// it imports nothing heavier than the standard library (the front must not
// link client-go).
package product

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

// FullName is the binary that holds every command; it is built from
// ./cmd/kubemint-full and installed beside kubemint.
const FullName = "kubemint-full"

// VersionEnv carries the front's version to kubemint-full, which refuses to
// run under a front of another version: the two share the cache, and
// mixing releases could mix cache formats.
const VersionEnv = "KUBEMINT_FRONT_VERSION"

// FrontPathEnv carries the path the front was run by, before any symbolic
// link is resolved (krew's ~/.krew/bin/kubectl-mint, say), so that setup
// can write an exec entry that survives an upgrade: krew replaces the
// versioned directory the link points into.
const FrontPathEnv = "KUBEMINT_FRONT_PATH"

// Module is kubemint's Go module path, for `go install` hints.
const Module = "github.com/kubemint/kubemint"

// InstallDoc is where every install path is described.
const InstallDoc = "https://github.com/kubemint/kubemint/blob/main/docs/install.md"

// Version is the version a binary reports: the one set at build time with
// -ldflags -X main.version (make, install.sh, GoReleaser), else the module
// version `go install module/cmd/...@vX` records, else "dev".
func Version(ldflag string) string {
	if ldflag != "" && ldflag != "dev" {
		return ldflag
	}
	if v := moduleVersion(); v != "" {
		return v
	}
	return "dev"
}

// moduleVersion is the version of the main module as `go install ...@v`
// records it; "" for a build from a checkout ("(devel)").
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return ""
	}
	return bi.Main.Version
}

// VersionLine is what `kubemint version` prints, from either binary.
func VersionLine(version string) string {
	return fmt.Sprintf("kubemint %s %s/%s %s\n", version, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// exe adds Windows' suffix to a binary name.
func exe(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

// Resolve returns front with its symlinks resolved (kubectl-mint, krew's
// bin/kubectl-mint, /usr/bin/kubectl-mint all link to kubemint), or front
// itself when they cannot be.
func Resolve(front string) string {
	if real, err := filepath.EvalSymlinks(front); err == nil {
		return real
	}
	return front
}

// FindFull finds the kubemint-full that the front at path front runs:
// beside it once symlinks are resolved; for a krew install on Windows,
// where krew copies the binary to bin/ instead of linking it, in krew's
// store; then on PATH.
func FindFull(front string) (string, error) {
	real := Resolve(front)
	p := filepath.Join(filepath.Dir(real), exe(FullName))
	if isFile(p) {
		return p, nil
	}
	if p := krewStoreFull(real); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath(FullName); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s is not installed beside %s nor on PATH", FullName, real)
}

// krewStoreFull finds kubemint-full in krew's store when front is krew's
// copy of the plugin in $KREW_ROOT/bin (Windows). krew keeps one version
// of a plugin in store/mint, so one match is the one installed with it.
func krewStoreFull(front string) string {
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(front)), ".exe")
	dir := filepath.Dir(front)
	if base != "kubectl-mint" || filepath.Base(dir) != "bin" {
		return ""
	}
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "store", "mint", "*", exe(FullName)))
	if len(m) != 1 {
		return ""
	}
	return m[0]
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// Kind is the way a kubemint was installed, as far as its path tells.
type Kind int

const (
	// Archive covers a release archive unpacked by hand and install.sh.
	Archive Kind = iota
	Krew
	Package
	GoInstall
	Checkout
)

// KindOf guesses how the front at path front (symlinks resolved) was
// installed, to say how to get the kubemint-full that goes with it.
func KindOf(front, ldflag string) Kind {
	slash := filepath.ToSlash(front)
	switch {
	case strings.Contains(slash, "/store/mint/") || krewStoreFull(front) != "" || strings.Contains(slash, "/.krew/"):
		return Krew
	case slash == "/usr/bin/kubemint":
		return Package
	case moduleVersion() != "":
		return GoInstall
	case ldflag == "" || ldflag == "dev":
		// Built without make's -ldflags: `go build` or `go install` in a checkout.
		return Checkout
	}
	return Archive
}

// HintsForSelf is Hints for the running executable, as either binary
// prints them when the two halves of an install do not match.
func HintsForSelf(ldflag string) []string {
	self, _ := os.Executable()
	return Hints(Resolve(self), ldflag)
}

// Hints says, one line each, how to install kubemint-full for the way the
// front at front was installed. The caller prefixes them "kubemint: hint: ".
func Hints(front, ldflag string) []string {
	var h []string
	switch KindOf(front, ldflag) {
	case Krew:
		h = append(h, "the krew plugin ships both binaries: kubectl krew uninstall mint && kubectl krew install mint")
	case Package:
		h = append(h, "the package ships both binaries: sudo apt-get install --reinstall kubemint (Debian, Ubuntu) or sudo dnf reinstall kubemint (Fedora, RHEL)")
	case GoInstall:
		h = append(h, fmt.Sprintf("install both binaries with the same version: go install %s/cmd/...@%s", Module, moduleVersion()))
	case Checkout:
		h = append(h, "from your checkout, install both binaries: go install ./cmd/... (or ./install.sh)")
	default:
		h = append(h, fmt.Sprintf("put kubemint and kubemint-full from one release archive together in %s, or run ./install.sh from a checkout", filepath.Dir(front)))
	}
	return append(h, "every way to install kubemint: "+InstallDoc)
}
