// Command demo shows kubemint at work on a throwaway control plane: it
// starts etcd and kube-apiserver on loopback, runs kubemint setup where the
// vendor guides take ten manual steps, and runs kubectl through the exec
// entry setup wrote: the token minted by setup, then cache hits.
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

	"github.com/kubemint/kubemint/internal/controlplane"
)

func main() {
	binDir := flag.String("bin", "bin", "directory with kubemint and kubemint-full")
	toolsDir := flag.String("tools", "tools/bin", "directory with etcd, kube-apiserver and kubectl")
	keep := flag.Bool("keep", false, "keep the control plane running until Ctrl-C, to try kubectl yourself")
	flag.Parse()
	if err := run(*binDir, *toolsDir, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

// demo runs commands as a user would, in a home of its own.
type demo struct {
	cp       *controlplane.ControlPlane
	env      []string
	kubectl  string
	kubemint string
}

func run(binDir, toolsDir string, keep bool) error {
	binDir, _ = filepath.Abs(binDir)
	toolsDir, _ = filepath.Abs(toolsDir)
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

	// The user's kubeconfig starts with the admin context alone; setup adds
	// to it. The demo's cache is its own: no D-Bus, so no Secret Service,
	// and a cache directory of its own, whose kernel keyring keys (Linux)
	// are named for it. Those keys live in the keyring of the person
	// running the demo, so it cleans them before it ends.
	kubeconfig := filepath.Join(tmp, "kubeconfig")
	admin, err := os.ReadFile(cp.AdminKubeconfig)
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, admin, 0o600); err != nil {
		return err
	}
	d := &demo{
		cp:       cp,
		kubectl:  filepath.Join(toolsDir, "kubectl"),
		kubemint: filepath.Join(binDir, "kubemint"),
		env:      append(os.Environ(), "KUBECONFIG="+kubeconfig, "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"), "DBUS_SESSION_BUS_ADDRESS="),
	}
	defer d.clean()

	step("The admin defines what the account may do: a ClusterRole that reads pods")
	if err := d.run(d.kubectl, "create", "clusterrole", "pod-reader", "--verb=get,list,watch", "--resource=pods"); err != nil {
		return err
	}

	step("One command instead of the vendor guides' manual steps")
	setup := []string{"setup", "--service-account=demo/deployer", "--source-context=admin", "--cluster-role=pod-reader", "--revocable", "--context-name=deployer"}
	if err := d.run(d.kubemint, setup...); err != nil {
		return err
	}

	step("kubectl through the exec entry setup wrote: served from kubemint's cache, no new TokenRequest")
	if err := d.run(d.kubectl, "--context=deployer", "auth", "whoami"); err != nil {
		return err
	}
	if err := d.run(d.kubectl, "--context=deployer", "get", "pods"); err != nil {
		return err
	}
	step("RBAC applies: the binding is in demo only")
	if err := d.run(d.kubectl, "--context=deployer", "get", "pods", "-n", "default"); err == nil {
		return fmt.Errorf("kubectl get pods -n default succeeded; the demo expected Forbidden")
	}
	step("What kubemint holds, never the token itself")
	if err := d.run(d.kubemint, "status"); err != nil {
		return err
	}
	step("setup is idempotent")
	if err := d.run(d.kubemint, setup...); err != nil {
		return err
	}
	fmt.Println("\nDone: kubectl acted as system:serviceaccount:demo:deployer with a short-lived token bound to")
	fmt.Println("Secret demo/deployer-kubemint; `kubemint revoke --service-account=demo/deployer --source-context=admin`")
	fmt.Println("would kill every outstanding token within seconds.")
	if keep {
		fmt.Printf("\nThe control plane stays up until Ctrl-C. Try:\n  export KUBECONFIG=%s XDG_CACHE_HOME=%s\n  %s --context=deployer get pods\n", kubeconfig, filepath.Join(tmp, "cache"), d.kubectl)
		waitForInterrupt()
	}
	return nil
}

// run shows a command, its output, its time and the API server's count of
// TokenRequests so far.
func (d *demo) run(name string, args ...string) error {
	fmt.Printf("  $ %s %s\n", filepath.Base(name), strings.Join(args, " "))
	c := exec.Command(name, args...)
	c.Env = d.env
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	start := time.Now()
	err := c.Run()
	fmt.Print(indent(out.String()))
	n, _ := d.cp.TokenRequests()
	fmt.Printf("    (%v; TokenRequests so far: %v)\n", time.Since(start).Round(time.Millisecond), n)
	return err
}

// clean forgets what the demo cached: removing its directory would leave
// the kernel keyring's keys behind until they expire.
func (d *demo) clean() {
	c := exec.Command(d.kubemint, "clean")
	c.Env = d.env
	if out, err := c.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: kubemint clean: %v\n%s", err, out)
	}
}

func step(s string) { fmt.Printf("\n==> %s\n", s) }

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ") + "\n"
}
