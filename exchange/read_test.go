//go:build unix

package exchange

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubemint/kubemint/internal/hint"
)

// TestReadTokenFile: only a regular file of at most TokenFileLimit bytes
// is read; everything else is refused at once, by name, never by content.
func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, TokenFileLimit+1)
	_, _ = rand.Read(big)
	for _, tc := range []struct {
		name, path, want, err string
	}{
		{name: "token with a newline", path: write("ok", []byte("tok-123\n")), want: "tok-123"},
		{name: "at the limit", path: write("limit", []byte(strings.Repeat("a", TokenFileLimit))), want: strings.Repeat("a", TokenFileLimit)},
		{name: "empty", path: write("empty", []byte(" \n")), err: "is empty"},
		{name: "missing", path: filepath.Join(dir, "nope"), err: "does not exist"},
		{name: "too large", path: write("big", big), err: "is larger than 16 KiB"},
		{name: "directory", path: dir, err: "is a directory"},
		{name: "named pipe without a writer", path: fifo, err: "is a named pipe"},
		{name: "endless device", path: "/dev/zero", err: "is a device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			got, err := ReadTokenFile(tc.path, "--source-token-file")
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.err == "" && got != tc.want:
				t.Errorf("read %d bytes, want %d", len(got), len(tc.want))
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--source-token-file "+tc.path)):
				t.Errorf("error %v, want one naming the file and saying %q", err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "tok-") {
				t.Errorf("the error quotes the content: %v", err)
			}
		})
	}
}

// TestLoadSourceRefusesAKubeconfigThatIsNotAFile: client-go reads a
// kubeconfig whole; a named pipe would hang it and a device fill memory.
// They are refused by name before it reads.
func TestLoadSourceRefusesAKubeconfigThatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"named pipe", fifo, "the kubeconfig " + fifo + " is a named pipe"},
		{"directory", dir, "the kubeconfig " + dir + " is a directory"},
		{"endless device", "/dev/zero", "the kubeconfig /dev/zero is a device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := LoadSource(tc.path, "admin"); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want %q", err, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("LoadSource hangs")
			}
		})
	}
}

// TestLoadSourceReadsItsFilesBounded: every file a source context names
// (tokenFile, certificate-authority, client-certificate, client-key, the
// exec plugin's command) is read by kubemint, bounded, and handed to
// client-go as data: a named pipe or /dev/zero anywhere is refused at once
// by name. client-go read the tokenFile itself while building the config,
// so a named pipe there hung LoadSource for good.
func TestLoadSourceReadsItsFilesBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	token, ca := write("token", "file-token\n"), write("ca.crt", "the CA")
	for _, tc := range []struct {
		name, cluster, user string
		want                []string
	}{
		{"tokenFile a named pipe", "", "tokenFile: " + fifo, []string{`the user "u" of context "admin": tokenFile ` + fifo + " is a named pipe", "fix tokenFile"}},
		{"tokenFile /dev/zero", "", "tokenFile: /dev/zero", []string{"tokenFile /dev/zero is a device"}},
		{"tokenFile a directory", "", "tokenFile: " + dir, []string{"tokenFile " + dir + " is a directory"}},
		{"certificate-authority a named pipe", "certificate-authority: " + fifo, "token: t", []string{`the certificate-authority of context "admin", ` + fifo + " is a named pipe", "fix certificate-authority of cluster c"}},
		{"certificate-authority /dev/zero", "certificate-authority: /dev/zero", "token: t", []string{"certificate-authority of context \"admin\", /dev/zero is a device"}},
		{"client-certificate a named pipe", "", "{client-certificate: " + fifo + ", client-key: " + ca + "}", []string{"client-certificate " + fifo + " is a named pipe", "fix client-certificate"}},
		{"client-key /dev/zero", "", "{client-certificate: " + ca + ", client-key: /dev/zero}", []string{"client-key /dev/zero is a device", "fix client-key"}},
		{"exec plugin a named pipe", "", "exec: {apiVersion: client.authentication.k8s.io/v1, command: " + fifo + ", interactiveMode: Never}", []string{"exec plugin " + fifo + " is a named pipe", "fix exec.command"}},
		{"exec plugin missing", "", "exec: {apiVersion: client.authentication.k8s.io/v1, command: " + filepath.Join(dir, "nope") + ", interactiveMode: Never}", []string{"exec plugin " + filepath.Join(dir, "nope") + " does not exist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kc := write("kubeconfig", "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\", "+tc.cluster+"}\n"+
				"users:\n- name: u\n  user: "+userYAML(tc.user)+"\ncontexts:\n- name: admin\n  context: {cluster: c, user: u}\n")
			done := make(chan error, 1)
			go func() { _, err := LoadSource(kc, "admin"); done <- err }()
			select {
			case err := <-done:
				all := ""
				if err != nil {
					all = err.Error() + "\n" + strings.Join(hint.Hints(err), "\n")
				}
				for _, want := range tc.want {
					if !strings.Contains(all, want) {
						t.Errorf("error %q lacks %q", all, want)
					}
				}
			case <-time.After(5 * time.Second):
				t.Fatal("LoadSource hangs")
			}
		})
	}
	t.Run("regular files become data", func(t *testing.T) {
		kc := write("kubeconfig", "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\", certificate-authority: "+ca+"}\n"+
			"users:\n- name: u\n  user: {tokenFile: "+token+"}\ncontexts:\n- name: admin\n  context: {cluster: c, user: u}\n")
		src, err := LoadSource(kc, "admin")
		if err != nil {
			t.Fatal(err)
		}
		c := src.Config
		if c.BearerToken != "file-token" || c.BearerTokenFile != "" || string(c.CAData) != "the CA" || c.CAFile != "" || string(src.CAData) != "the CA" {
			t.Errorf("config: token %q (file %q), CA %q (file %q)", c.BearerToken, c.BearerTokenFile, c.CAData, c.CAFile)
		}
	})
}

// userYAML is a kubeconfig user: a flow mapping as given, else one key.
func userYAML(s string) string {
	if strings.HasPrefix(s, "{") {
		return s
	}
	return "{" + s + "}"
}
