// Command demo shows kubemint at work on a throwaway control plane: it
// starts etcd and kube-apiserver on loopback, creates a service account
// with a Role as the seed guides do by hand, writes a kubeconfig whose user
// runs kubemint, and runs kubectl through it: a mint, then cache hits.
// Run it with `make demo`; it removes everything it made when it ends.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kubemint/kubemint/e2e/controlplane"
)

func main() {
	binDir := flag.String("bin", "bin", "directory with kubemint and kubemint-full")
	toolsDir := flag.String("tools", "e2e/bin", "directory with etcd, kube-apiserver and kubectl")
	keep := flag.Bool("keep", false, "keep the control plane running until Ctrl-C, to try kubectl yourself")
	flag.Parse()
	if err := run(*binDir, *toolsDir, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(binDir, toolsDir string, keep bool) error {
	binDir, _ = filepath.Abs(binDir)
	toolsDir, _ = filepath.Abs(toolsDir)
	kubectl := filepath.Join(toolsDir, "kubectl")
	tmp, err := os.MkdirTemp("", "kubemint-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	step("Starting a throwaway control plane (etcd + kube-apiserver, RBAC on)")
	start := time.Now()
	cp, err := controlplane.Start(context.Background(), toolsDir, filepath.Join(tmp, "cp"))
	if err != nil {
		return err
	}
	defer cp.Stop()
	fmt.Printf("  API server %s ready in %v\n", cp.Server, time.Since(start).Round(10*time.Millisecond))

	step("As the admin: a namespace, a service account and a Role that reads pods")
	manifest := controlplane.PodReader("demo", "deployer")
	cmd := exec.Command(kubectl, "--kubeconfig", cp.AdminKubeconfig, "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl apply: %v: %s", err, out)
	}
	fmt.Print(indent(string(out)))

	step("A kubeconfig whose user runs kubemint")
	kubeconfig := filepath.Join(tmp, "kubeconfig")
	exec := fmt.Sprintf(`    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: %s
      args: [token, --service-account=demo/deployer, --source-context=admin]
      interactiveMode: Never
      provideClusterInfo: true
`, filepath.Join(binDir, "kubemint"))
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: %s, certificate-authority: %s}
users:
- name: admin
  user: {client-certificate: %s, client-key: %s}
- name: deployer
  user:
%scontexts:
- name: admin
  context: {cluster: local, user: admin}
- name: deployer
  context: {cluster: local, user: deployer, namespace: demo}
current-context: deployer
`, cp.Server, cp.CAFile, filepath.Join(cp.Dir, "admin.crt"), filepath.Join(cp.Dir, "admin.key"), exec)
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		return err
	}
	fmt.Print("  users:\n  - name: deployer\n    user:\n" + strings.ReplaceAll(exec, "    ", "      "))

	// The demo keeps its token in a file cache of its own, so it neither
	// uses nor litters the keyring of the person running it.
	env := append(os.Environ(), "KUBECONFIG="+kubeconfig, "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"), "DBUS_SESSION_BUS_ADDRESS=")
	runKubectl := func(args ...string) error {
		fmt.Printf("  $ kubectl %s\n", strings.Join(args, " "))
		c := execCommand(kubectl, args...)
		c.Env = env
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		t := time.Now()
		err := c.Run()
		fmt.Print(indent(stdout.String() + stderr.String()))
		n, _ := cp.TokenRequests()
		fmt.Printf("    (%v; TokenRequests so far: %v)\n", time.Since(t).Round(time.Millisecond), n)
		return err
	}

	step("kubectl through the exec entry: the first call mints a token")
	if err := runKubectl("auth", "whoami"); err != nil {
		return err
	}
	step("Later calls are served from kubemint's cache: no new TokenRequest")
	if err := runKubectl("get", "pods"); err != nil {
		return err
	}
	if err := runKubectl("auth", "can-i", "list", "pods"); err != nil {
		return err
	}
	step("RBAC still applies: the Role grants nothing outside demo")
	if err := runKubectl("get", "pods", "-n", "default"); err == nil {
		return fmt.Errorf("kubectl get pods -n default succeeded; the demo expected Forbidden")
	}
	step("The cache: a private file, never the token in a log")
	files, _ := filepath.Glob(filepath.Join(tmp, "cache", "kubemint", "*.json"))
	for _, f := range files {
		fi, _ := os.Stat(f)
		fmt.Printf("  %s %s\n", fi.Mode().Perm(), f)
	}
	fmt.Println("\nDone: kubectl acted as system:serviceaccount:demo:deployer with a short-lived token,")
	fmt.Println("minted once and reused from the cache until shortly before it expires.")
	if keep {
		fmt.Printf("\nThe control plane stays up until Ctrl-C. Try:\n  export KUBECONFIG=%s XDG_CACHE_HOME=%s\n  %s get pods\n", kubeconfig, filepath.Join(tmp, "cache"), kubectl)
		waitForInterrupt()
	}
	return nil
}

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

func step(s string) { fmt.Printf("\n==> %s\n", s) }

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ") + "\n"
}
