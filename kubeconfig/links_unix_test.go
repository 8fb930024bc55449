//go:build unix

package kubeconfig

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// otherUID is a user that is neither root nor this process's.
const otherUID = 54321

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give a file to another user")
	}
}

// TestForeignLinkIsNotFollowed: a link of another user, as the last
// component or as a directory above it, is not followed by a write (a
// link in a shared directory aimed at the victim's file); links of our
// own are.
func TestForeignLinkIsNotFollowed(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, setup := range map[string]func(t *testing.T) string{
		"the file": func(t *testing.T) string {
			link := filepath.Join(dir, "out.yaml")
			mustLink(t, victim, link, otherUID)
			return link
		},
		"a directory above it": func(t *testing.T) string {
			link := filepath.Join(dir, "d")
			mustLink(t, dir, link, otherUID)
			return filepath.Join(link, "victim")
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := setup(t)
			cluster := clientcmdapi.NewCluster()
			cluster.Server = "https://k8s.example:6443"
			_, err := WriteStandalone(path, "dev", cluster, setupContext(time.Hour), true)
			if err == nil || !strings.Contains(err.Error(), "is a symbolic link of uid 54321") {
				t.Errorf("err = %v", err)
			}
			if err := CheckWritable(path); err == nil {
				t.Errorf("CheckWritable passed a foreign link")
			}
			if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
				t.Errorf("the victim was written: %q", b)
			}
		})
	}
	// Our own link is followed.
	own := filepath.Join(dir, "own")
	mustLink(t, victim, own, os.Geteuid())
	if got, err := resolveLinks(own); err != nil || got != victim {
		t.Errorf("resolveLinks(own link) = %q, %v", got, err)
	}
}

// TestRewriteKeepsTheOwner: root editing another user's kubeconfig (setup,
// use, convert) leaves it that user's, as kubectl does; its mode is kept
// within 0600.
func TestRewriteKeepsTheOwner(t *testing.T) {
	needRoot(t)
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(adminKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, otherUID, otherUID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := AddContext(loadMerged(t, path), path, setupContext(time.Hour), time.Now()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != otherUID || st.Gid != otherUID || fi.Mode().Perm() != 0o600 {
		t.Errorf("after the edit: uid %d gid %d mode %v; want %d %d 0600", st.Uid, st.Gid, fi.Mode().Perm(), otherUID, otherUID)
	}
}

func mustLink(t *testing.T, target, link string, uid int) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, uid, uid); err != nil {
		t.Fatal(err)
	}
}
