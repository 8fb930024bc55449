package kubeconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/internal/atomicfile"
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
// came from. It reports whether anything was written: nothing is when
// merged already holds c as it is.
func AddContext(merged *clientcmdapi.Config, file string, c Context) (bool, error) {
	user, kc := c.objects()
	oldUser, oldCtx := merged.AuthInfos[c.Name], merged.Contexts[c.Name]
	if oldUser != nil && oldCtx != nil && sameExec(oldUser, user) &&
		oldCtx.Cluster == kc.Cluster && oldCtx.AuthInfo == kc.AuthInfo && oldCtx.Namespace == kc.Namespace {
		return false, nil
	}
	if oldUser != nil && oldUser.Exec == nil {
		return false, &ForeignUserError{User: c.Name}
	}
	userFile, ctxFile := file, file
	if oldUser != nil && oldUser.LocationOfOrigin != "" {
		userFile = oldUser.LocationOfOrigin
	}
	if oldCtx != nil && oldCtx.LocationOfOrigin != "" {
		ctxFile = oldCtx.LocationOfOrigin
	}
	if err := edit(userFile, func(cfg *clientcmdapi.Config) { cfg.AuthInfos[c.Name] = user }); err != nil {
		return false, err
	}
	if err := edit(ctxFile, func(cfg *clientcmdapi.Config) { cfg.Contexts[c.Name] = kc }); err != nil {
		return false, err
	}
	return true, nil
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

// WriteStandalone writes a kubeconfig that holds only cluster (named
// clusterName), c's user and c as its current context, for a CI runner or
// another machine. It reports whether anything was written: nothing is
// when the file already holds exactly that.
func WriteStandalone(path, clusterName string, cluster *clientcmdapi.Cluster, c Context) (bool, error) {
	user, kc := c.objects()
	out := clientcmdapi.NewConfig()
	out.Clusters[clusterName] = cluster
	out.AuthInfos[c.Name] = user
	out.Contexts[c.Name] = kc
	out.CurrentContext = c.Name
	data, err := clientcmd.Write(*out)
	if err != nil {
		return false, err
	}
	if old, err := clientcmd.LoadFromFile(path); err == nil {
		if b, err := clientcmd.Write(*old); err == nil && bytes.Equal(b, data) {
			return false, nil
		}
	}
	if err := writeThroughLinks(path, data, 0o600); err != nil {
		return false, err
	}
	return true, nil
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
// kubeconfig is the user's to place where they like.
func writeThroughLinks(path string, data []byte, perm os.FileMode) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	return atomicfile.WriteDurable(path, data, perm)
}
