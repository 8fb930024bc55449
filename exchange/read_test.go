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
