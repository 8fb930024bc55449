// Package kubeconfig edits kubeconfig files for kubemint. It builds the
// exec entry that runs kubemint (Exec, whose args credential's codec
// writes, TokenOptions, KubemintPath, SourceFileFor); plans, checks and
// writes the user and context of setup and use, into the source's
// kubeconfig or a standalone one (Plan, AddContext, WriteStandalone);
// writes a runner's self-contained kubeconfig (WriteRunner); and for
// convert finds users that embed a static service-account token (the
// Secret-based tokens of Kubernetes before 1.24, or a token pasted from
// kubectl create token) and turns them into exec entries (ConvertFile,
// Convert, WriteWithBackup). Every write is atomic and durable (package
// atomicfile).
package kubeconfig

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/atomicfile"
	"github.com/kubemint/kubemint/internal/hint"
)

// Account is the service account a token was issued for.
type Account struct {
	Namespace string
	Name      string
	// Legacy is true for a token read from a Secret (it never expires).
	Legacy bool
}

func (a Account) String() string { return a.Namespace + "/" + a.Name }

// ErrNotServiceAccount reports a token that is not a service-account JWT:
// an OIDC token, a static token from a token file, or not a JWT at all.
var ErrNotServiceAccount = errors.New("not a service-account token")

// claims covers both service-account token formats.
type claims struct {
	Subject string `json:"sub"`
	// Legacy Secret-based tokens.
	LegacyNamespace string `json:"kubernetes.io/serviceaccount/namespace"`
	LegacyName      string `json:"kubernetes.io/serviceaccount/service-account.name"`
	// TokenRequest tokens.
	Kubernetes *struct {
		Namespace      string `json:"namespace"`
		ServiceAccount struct {
			Name string `json:"name"`
		} `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

// AccountOf reads, without verifying it, which service account a JWT was
// issued for. Errors never quote the token.
func AccountOf(token string) (Account, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Account{}, ErrNotServiceAccount
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Account{}, ErrNotServiceAccount
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Account{}, ErrNotServiceAccount
	}
	var a Account
	switch {
	case c.LegacyNamespace != "" && c.LegacyName != "":
		a = Account{Namespace: c.LegacyNamespace, Name: c.LegacyName, Legacy: true}
	case c.Kubernetes != nil && c.Kubernetes.Namespace != "" && c.Kubernetes.ServiceAccount.Name != "":
		a = Account{Namespace: c.Kubernetes.Namespace, Name: c.Kubernetes.ServiceAccount.Name}
	default:
		rest, ok := strings.CutPrefix(c.Subject, "system:serviceaccount:")
		ns, name, ok2 := strings.Cut(rest, ":")
		if !ok || !ok2 {
			return Account{}, ErrNotServiceAccount
		}
		a = Account{Namespace: ns, Name: name}
	}
	if a.Namespace == "" || a.Name == "" || strings.ContainsAny(a.Namespace+a.Name, "/:") {
		return Account{}, ErrNotServiceAccount
	}
	return a, nil
}

// Conversion is one user rewritten from a static token to kubemint.
type Conversion struct {
	User    string
	Account Account
}

// Convert rewrites, in cfg, every user that holds a static service-account
// token into the exec entry that exec returns for its account. The user of
// sourceContext is left alone: it mints the tokens. An empty sourceContext
// says the source lives in another kubeconfig (convert
// --source-kubeconfig): every such user is converted.
func Convert(cfg *clientcmdapi.Config, sourceContext string, exec func(Account) *clientcmdapi.ExecConfig) ([]Conversion, error) {
	src, ok := cfg.Contexts[sourceContext]
	if sourceContext == "" {
		src, ok = &clientcmdapi.Context{}, true
	}
	if !ok {
		return nil, hint.Wrap(fmt.Errorf("context %q not found", sourceContext), exchange.ChooseContextHint(exchange.Sorted(cfg.Contexts)))
	}
	var out []Conversion
	for _, n := range exchange.Sorted(cfg.AuthInfos) {
		u := cfg.AuthInfos[n]
		if u.Token == "" || u.Exec != nil {
			continue
		}
		a, err := AccountOf(u.Token)
		if err != nil {
			continue
		}
		if sourceContext != "" && n == src.AuthInfo {
			return nil, hint.Wrap(fmt.Errorf("the source context %q uses user %q, whose static token is being converted", sourceContext, n), "choose a source context with credentials that stay (an admin certificate or login)")
		}
		u.Token = ""
		u.Exec = exec(a)
		out = append(out, Conversion{User: n, Account: a})
	}
	return out, nil
}

// WriteWithBackup copies the file at path to a backup beside it (same
// name, a suffix with the time), then replaces path with cfg atomically.
// Both writes are durable (fsynced, see package atomicfile): after a crash
// the user has the original or the converted file, and the backup. It
// returns the backup's path.
func WriteWithBackup(cfg *clientcmdapi.Config, path string, now time.Time) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	backup, err := Backup(path, now)
	if err != nil {
		return "", err
	}
	if err := write(cfg, path, fi.Mode().Perm()&0o600); err != nil {
		return "", err
	}
	return backup, nil
}

// KeepBackups is how many backups of one kubeconfig Backup keeps. Each
// holds what the kubeconfig held (an admin's credentials, a teammate's
// private key): the last few undo a mistake, a pile of them only spreads
// secrets.
const KeepBackups = 5

// Backup copies the file at path, durably and private (0600), to a file
// beside it named for the time now, and returns that name. It then
// removes all but the newest KeepBackups backups of path.
func Backup(path string, now time.Time) (string, error) {
	orig, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	backup := path + backupInfix + now.UTC().Format("20060102T150405Z")
	if err := atomicfile.WriteDurable(backup, orig, 0o600); err != nil {
		return "", fmt.Errorf("writing the backup of %s: %w", path, err)
	}
	pruneBackups(path)
	return backup, nil
}

const backupInfix = ".kubemint-backup-"

// pruneBackups removes the oldest backups of path beyond KeepBackups.
// Their names sort by time. Failing to remove one is no reason to fail the
// command that made a new one.
func pruneBackups(path string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var backups []string
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), base+backupInfix)
		if ok && e.Type().IsRegular() && len(stamp) == len("20060102T150405Z") {
			backups = append(backups, e.Name())
		}
	}
	slices.Sort(backups)
	for len(backups) > KeepBackups {
		_ = os.Remove(filepath.Join(dir, backups[0]))
		backups = backups[1:]
	}
}
