package product

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, tc := range []struct{ ldflag, want string }{
		{"v1.2.3", "v1.2.3"},
		{"0.0.0-snapshot.abc", "0.0.0-snapshot.abc"},
		// A test binary's main module is (devel): no module version to fall back on.
		{"dev", "dev"},
		{"", "dev"},
	} {
		if got := Version(tc.ldflag); got != tc.want {
			t.Errorf("Version(%q) = %q, want %q", tc.ldflag, got, tc.want)
		}
	}
}

func TestVersionLineMatchesTheFullCLI(t *testing.T) {
	// cmd/kubemint-full/cli prints "kubemint %s %s/%s %s\n": the front's
	// `version` must print the same line, so that doctor can compare them.
	want := "kubemint v1 " + runtime.GOOS + "/" + runtime.GOARCH + " " + runtime.Version() + "\n"
	if got := VersionLine("v1"); got != want {
		t.Errorf("VersionLine = %q, want %q", got, want)
	}
}

func touch(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFindFull(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	t.Setenv("PATH", t.TempDir())
	root := t.TempDir()
	// krew's layout: bin/kubectl-mint -> store/mint/v1/kubemint.
	store := filepath.Join(root, "krew", "store", "mint", "v1")
	touch(t, filepath.Join(store, "kubemint"))
	touch(t, filepath.Join(store, FullName))
	link := filepath.Join(root, "krew", "bin", "kubectl-mint")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(store, "kubemint"), link); err != nil {
		t.Fatal(err)
	}
	// krew on Windows copies the binary to bin/ instead of linking it.
	copied := filepath.Join(root, "krewcopy", "bin", "kubectl-mint")
	touch(t, copied)
	touch(t, filepath.Join(root, "krewcopy", "store", "mint", "v1", FullName))
	alone := filepath.Join(root, "alone", "kubemint")
	touch(t, alone)

	for _, tc := range []struct {
		name, front, want, err string
	}{
		{"through krew's symlink", link, filepath.Join(store, FullName), ""},
		{"krew's copy on Windows", copied, filepath.Join(root, "krewcopy", "store", "mint", "v1", FullName), ""},
		{"beside", filepath.Join(store, "kubemint"), filepath.Join(store, FullName), ""},
		{"missing", alone, "", "kubemint-full is not installed beside " + alone + " nor on PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FindFull(tc.front)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("FindFull = %q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("FindFull = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestHintsNameTheInstallPath(t *testing.T) {
	for _, tc := range []struct{ front, ldflag, want string }{
		{"/home/u/.krew/store/mint/v1.0.0/kubemint", "v1.0.0", "kubectl krew install mint"},
		{"/usr/bin/kubemint", "v1.0.0", "apt-get install --reinstall kubemint"},
		{"/home/u/go/bin/kubemint", "dev", "go install ./cmd/..."},
		{"/opt/kubemint/kubemint", "v1.0.0", "from one release archive together in /opt/kubemint"},
	} {
		h := Hints(tc.front, tc.ldflag)
		if !strings.Contains(h[0], tc.want) {
			t.Errorf("Hints(%q)[0] = %q, want it to contain %q", tc.front, h[0], tc.want)
		}
		if last := h[len(h)-1]; !strings.Contains(last, "docs/install.md") {
			t.Errorf("Hints(%q) ends %q, want the install doc", tc.front, last)
		}
	}
}
