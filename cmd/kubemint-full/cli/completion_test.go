package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestSourceContextCompletes: every command with --source-context
// completes it with the contexts of --source-kubeconfig and offers no file
// names (the shell fell back to files on all but token).
func TestSourceContextCompletes(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "config")
	cfg := "apiVersion: v1\nkind: Config\ncontexts:\n- name: admin\n  context: {cluster: c, user: u}\n- name: dev\n  context: {cluster: c, user: u}\n"
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// The default kubeconfig too, for a command without --source-kubeconfig.
	t.Setenv("KUBECONFIG", kc)
	root := NewRootCmd("test", strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	var with []string
	for _, c := range root.Commands() {
		if c.Flags().Lookup("source-context") != nil {
			with = append(with, c.Name())
		}
	}
	if len(with) < 5 {
		t.Fatalf("commands with --source-context: %v; want token, setup, revoke, doctor, convert at least", with)
	}
	for _, name := range with {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			root := NewRootCmd("test", strings.NewReader(""), &out, &bytes.Buffer{})
			root.SetOut(&out)
			args := []string{cobra.ShellCompRequestCmd, name}
			if c, _, _ := root.Find([]string{name}); c.Flags().Lookup("source-kubeconfig") != nil {
				args = append(args, "--source-kubeconfig="+kc)
			}
			root.SetArgs(append(args, "--source-context", ""))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			want := fmt.Sprintf(":%d\n", cobra.ShellCompDirectiveNoFileComp)
			if !strings.Contains(got, want) {
				t.Errorf("%s --source-context <TAB>: %q, want the directive %q (no file names)", name, got, want)
			}
			if !strings.HasPrefix(got, "admin\ndev\n") {
				t.Errorf("%s --source-context <TAB>: %q, want admin and dev", name, got)
			}
		})
	}
}
