package kubeconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/internal/atomicfile"
	"github.com/kubemint/kubemint/internal/hint"
)

// Context is a kubeconfig context whose user is a kubemint exec entry, as
// setup writes it. Its user has the context's name.
type Context struct {
	Name      string
	Cluster   string
	Namespace string
	Exec      *clientcmdapi.ExecConfig
}

func (c Context) objects() (*clientcmdapi.AuthInfo, *clientcmdapi.Context) {
	u := clientcmdapi.NewAuthInfo()
	u.Exec = c.Exec
	kc := clientcmdapi.NewContext()
	kc.Cluster, kc.AuthInfo, kc.Namespace = c.Cluster, c.Name, c.Namespace
	return u, kc
}

// ForeignUserError reports a user of the context's name that kubemint did
// not write (no exec entry): AddContext does not overwrite it.
type ForeignUserError struct{ User string }

func (e *ForeignUserError) Error() string {
	return fmt.Sprintf("the kubeconfig already has a user %q that is not a kubemint entry", e.User)
}

// AddContext writes c's user and context into a kubeconfig, as `kubectl
// config set-context` would: merged is the configuration kubectl sees
// (every file of $KUBECONFIG, merged), file is where a new user or context
// goes. A user or context merged already holds is replaced in the file it
// came from. Each existing file it changes is first copied to a backup
// beside it (named as WriteWithBackup names them, with the time now),
// unless now is zero. It reports whether anything was written (nothing is
// when merged already holds c as it is) and the backups' paths.
func AddContext(merged *clientcmdapi.Config, file string, c Context, now time.Time) (bool, []string, error) {
	user, kc := c.objects()
	oldUser, oldCtx := merged.AuthInfos[c.Name], merged.Contexts[c.Name]
	if holds(merged, c) {
		return false, nil, nil
	}
	if oldUser != nil && oldUser.Exec == nil {
		return false, nil, &ForeignUserError{User: c.Name}
	}
	userFile, ctxFile := file, file
	if oldUser != nil && oldUser.LocationOfOrigin != "" {
		userFile = oldUser.LocationOfOrigin
	}
	if oldCtx != nil && oldCtx.LocationOfOrigin != "" {
		ctxFile = oldCtx.LocationOfOrigin
	}
	var backups []string
	if !now.IsZero() {
		for _, f := range []string{userFile, ctxFile} {
			if _, err := os.Stat(f); err != nil || (len(backups) > 0 && f == userFile) {
				continue // nothing to keep, or kept already
			}
			b, err := Backup(f, now)
			if err != nil {
				return false, nil, err
			}
			backups = append(backups, b)
		}
	}
	if err := edit(userFile, func(cfg *clientcmdapi.Config) { cfg.AuthInfos[c.Name] = user }); err != nil {
		return false, backups, err
	}
	if err := edit(ctxFile, func(cfg *clientcmdapi.Config) { cfg.Contexts[c.Name] = kc }); err != nil {
		return false, backups, err
	}
	return true, backups, nil
}

// holds reports whether merged holds context c already, as
// AddContextWithBackup would write it: then it writes nothing, and a dry
// run says "unchanged".
func holds(merged *clientcmdapi.Config, c Context) bool {
	user, kc := c.objects()
	oldUser, oldCtx := merged.AuthInfos[c.Name], merged.Contexts[c.Name]
	return oldUser != nil && oldCtx != nil && sameExec(oldUser, user) &&
		oldCtx.Cluster == kc.Cluster && oldCtx.AuthInfo == kc.AuthInfo && oldCtx.Namespace == kc.Namespace
}

// Conflict reports, before anything is created on the cluster, whether
// AddContext would refuse c: a user of its name that kubemint did not write.
func Conflict(merged *clientcmdapi.Config, c Context) error {
	if u := merged.AuthInfos[c.Name]; u != nil && u.Exec == nil {
		return &ForeignUserError{User: c.Name}
	}
	return nil
}

// CheckWritable reports whether path can be written as a kubeconfig: an
// existing file must open for writing, and its directory must exist and
// take a new file (the atomic replace writes one beside it). It changes
// nothing.
func CheckWritable(path string) error {
	real, err := resolveLinks(path)
	if err != nil {
		return fmt.Errorf("the kubeconfig %s cannot be written: %w", path, err)
	}
	path = real
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the kubeconfig %s cannot be written: %w", path, err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".kubemint-check-*")
	if err != nil {
		return fmt.Errorf("the kubeconfig %s cannot be written: %w", path, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// ExistsError reports a file that a standalone kubeconfig would replace
// with other content: that needs --force.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s exists and holds something else", e.Path)
}

// edit applies change to the kubeconfig file at path alone (a new one if
// there is none) and writes it back durably.
func edit(path string, change func(*clientcmdapi.Config)) error {
	cfg, err := clientcmd.LoadFromFile(path)
	perm := os.FileMode(0o600)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cfg = clientcmdapi.NewConfig()
	case err != nil:
		return fmt.Errorf("loading %s: %w", path, err)
	default:
		if fi, err := os.Stat(path); err == nil {
			perm = fi.Mode().Perm() & 0o600
		}
	}
	change(cfg)
	return write(cfg, path, perm)
}

// Standalone is a kubeconfig that holds only cluster (named clusterName),
// c's user and c as its current context, for a CI runner or another
// machine.
func Standalone(clusterName string, cluster *clientcmdapi.Cluster, c Context) ([]byte, error) {
	user, kc := c.objects()
	out := clientcmdapi.NewConfig()
	out.Clusters[clusterName] = cluster
	out.AuthInfos[c.Name] = user
	out.Contexts[c.Name] = kc
	out.CurrentContext = c.Name
	return clientcmd.Write(*out)
}

// WriteStandalone writes Standalone's kubeconfig to path. It reports
// whether anything was written: nothing is when the file already holds
// exactly that. A file that holds anything else is replaced only with
// force (else *ExistsError).
func WriteStandalone(path, clusterName string, cluster *clientcmdapi.Cluster, c Context, force bool) (bool, error) {
	if err := checkDir(path); err != nil {
		return false, err
	}
	data, err := Standalone(clusterName, cluster, c)
	if err != nil {
		return false, err
	}
	same, err := standaloneState(path, data)
	if err != nil && !force {
		return false, err
	}
	if same {
		return false, nil
	}
	if err := writeThroughLinks(path, data, 0o600); err != nil {
		return false, err
	}
	return true, nil
}

// standaloneState says whether path already holds data (same), and
// returns *ExistsError when it holds anything else.
func standaloneState(path string, data []byte) (same bool, err error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if old, err := clientcmd.LoadFromFile(path); err == nil {
		if b, err := clientcmd.Write(*old); err == nil && bytes.Equal(b, data) {
			return true, nil
		}
	}
	return false, &ExistsError{Path: path}
}

// CheckStandalone reports, changing nothing, whether WriteStandalone could
// write data to path: *ExistsError when path holds something else and not
// force, or an error when path cannot be written.
func CheckStandalone(path string, data []byte, force bool) error {
	if err := checkDir(path); err != nil {
		return err
	}
	if _, err := standaloneState(path, data); err != nil && !force {
		return err
	}
	return CheckWritable(path)
}

// checkDir fails when the directory that would hold path is missing or
// no directory: the write would otherwise fail naming its temporary file.
// It is not created: a typo in -o must not leave directories behind.
func checkDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return hint.Wrap(fmt.Errorf("directory %s does not exist", dir), "mkdir -p "+dir)
	case err != nil:
		return fmt.Errorf("the kubeconfig %s cannot be written: %w", path, err)
	case !fi.IsDir():
		return fmt.Errorf("the kubeconfig %s cannot be written: %s is not a directory", path, dir)
	}
	return nil
}

// write serialises cfg and replaces path with it, durably: a kubeconfig
// is the user's, not a cache (see package atomicfile).
func write(cfg *clientcmdapi.Config, path string, perm os.FileMode) error {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return writeThroughLinks(path, data, perm)
}

// writeThroughLinks replaces the file path leads to, not a symbolic link
// at path: a ~/.kube/config linked into a dotfiles repository stays a
// link, as it did with kubectl config. Unlike the cache's files, a
// kubeconfig is the user's to place where they like; but only links of
// this user or root are followed (resolveLinks), and a file replaced keeps
// its owner (atomicfile.WriteDurable).
func writeThroughLinks(path string, data []byte, perm os.FileMode) error {
	real, err := resolveLinks(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return atomicfile.WriteDurable(real, data, perm)
}
