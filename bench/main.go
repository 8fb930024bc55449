// Command bench measures what kubemint costs kubectl, whole process and
// wall clock, as a user pays it (`make bench`):
//
//   - a file-cache hit of the lean kubemint binary, and of kubemint-full
//     answering the same hit, as ratios to a static Go hello-world that
//     prints the same bytes, measured in the same run, alternating;
//   - a keyring cache hit against gnome-keyring in a D-Bus session of its
//     own, in milliseconds (when gnome-keyring is installed);
//   - a cold mint (--cache=none) against `kubectl create token` for the
//     same account on the same local API server;
//   - binary sizes and the costliest package inits (GODEBUG=inittrace=1).
//
// It prints a Markdown report; docs/benchmarks.md keeps the latest one.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kubemint/kubemint/e2e/controlplane"
)

func main() {
	binDir := flag.String("bin", "bin", "directory with kubemint and kubemint-full")
	toolsDir := flag.String("tools", "e2e/bin", "directory with etcd, kube-apiserver and kubectl")
	runs := flag.Int("runs", 300, "runs of each command in the cache-hit comparison")
	mintRuns := flag.Int("mint-runs", 30, "runs of each command in the mint comparison")
	keyringPhase := flag.String("keyring-phase", "", "internal: measure keyring hits with this kubeconfig, inside a D-Bus session")
	flag.Parse()
	var err error
	if *keyringPhase != "" {
		err = keyringHits(*binDir, *keyringPhase, *runs/3)
	} else {
		err = run(*binDir, *toolsDir, *runs, *mintRuns)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

type cmdSpec struct {
	name string
	path string
	args []string
	env  []string
}

func run(binDir, toolsDir string, runs, mintRuns int) error {
	binDir, _ = filepath.Abs(binDir)
	toolsDir, _ = filepath.Abs(toolsDir)
	tmp, err := os.MkdirTemp("", "kubemint-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cp, err := controlplane.Start(context.Background(), toolsDir, filepath.Join(tmp, "cp"))
	if err != nil {
		return err
	}
	defer cp.Stop()
	kubectl := filepath.Join(toolsDir, "kubectl")
	if out, err := exec.Command(kubectl, "--kubeconfig", cp.AdminKubeconfig, "create", "serviceaccount", "deployer", "-n", "default").CombinedOutput(); err != nil {
		return fmt.Errorf("creating the service account: %v: %s", err, out)
	}
	kubeconfig := cp.AdminKubeconfig
	ca, err := os.ReadFile(cp.CAFile)
	if err != nil {
		return err
	}
	execInfo := fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":%q,"certificate-authority-data":%q},"interactive":false}}`, cp.Server, b64(ca))
	env := cleanEnv("KUBECONFIG="+kubeconfig, "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"), "DBUS_SESSION_BUS_ADDRESS=", "KUBERNETES_EXEC_INFO="+execInfo)
	tokenArgs := []string{"token", "--service-account=default/deployer", "--source-context=admin"}

	// Prime the file cache, and keep its answer for the hello-world.
	prime := exec.Command(filepath.Join(binDir, "kubemint"), tokenArgs...)
	prime.Env = env
	answer, err := prime.Output()
	if err != nil {
		return fmt.Errorf("priming the cache: %v", err)
	}
	hello, err := buildHello(tmp, answer)
	if err != nil {
		return err
	}

	fmt.Printf("# kubemint benchmark\n\n%s, %s, %d runs each, alternating, whole process, wall clock.\n\n", time.Now().UTC().Format("2006-01-02"), machine(), runs)
	fmt.Println("## Cache hit (what every kubectl call pays)")
	fmt.Println()
	specs := []cmdSpec{
		{name: "hello-world (static Go, same bytes)", path: hello, env: env},
		{name: "kubemint (lean front), file cache hit", path: filepath.Join(binDir, "kubemint"), args: tokenArgs, env: env},
		{name: "kubemint-full, same file cache hit", path: filepath.Join(binDir, "kubemint-full"), args: tokenArgs, env: env},
	}
	meds, err := measure(specs, runs, answer)
	if err != nil {
		return err
	}
	fmt.Println("| command | median | ratio to hello-world |")
	fmt.Println("| --- | --- | --- |")
	for i, s := range specs {
		fmt.Printf("| %s | %s | %.2fx |\n", s.name, ms(meds[i]), float64(meds[i])/float64(meds[0]))
	}
	fmt.Println()

	if err := keyringSection(binDir, tmp, kubeconfig, execInfo, runs); err != nil {
		fmt.Printf("Keyring hit: not measured (%v).\n\n", err)
	}

	fmt.Println("## Cold mint (a cache miss)")
	fmt.Println()
	mintSpecs := []cmdSpec{
		{name: "kubectl create token default/deployer", path: kubectl, args: []string{"create", "token", "deployer", "-n", "default", "--context=admin"}, env: env},
		{name: "kubemint token --cache=none (mints every run)", path: filepath.Join(binDir, "kubemint"), args: append(slices.Clone(tokenArgs), "--cache=none"), env: env},
	}
	mintMeds, err := measure(mintSpecs, mintRuns, nil)
	if err != nil {
		return err
	}
	fmt.Println("| command | median | ratio to kubectl create token |")
	fmt.Println("| --- | --- | --- |")
	for i, s := range mintSpecs {
		fmt.Printf("| %s | %s | %.2fx |\n", s.name, ms(mintMeds[i]), float64(mintMeds[i])/float64(mintMeds[0]))
	}
	fmt.Println()

	fmt.Println("## Binaries")
	fmt.Println()
	fmt.Println("| binary | size |")
	fmt.Println("| --- | --- |")
	for _, b := range []string{hello, filepath.Join(binDir, "kubemint"), filepath.Join(binDir, "kubemint-full")} {
		if fi, err := os.Stat(b); err == nil {
			fmt.Printf("| %s | %.1f MB |\n", filepath.Base(b), float64(fi.Size())/1e6)
		}
	}
	fmt.Println()
	for _, s := range specs[1:] {
		top, total, err := initTrace(s)
		if err != nil {
			return err
		}
		fmt.Printf("### Package init of %s: %.2f ms in all; the costliest\n\n", filepath.Base(s.path), total)
		fmt.Println("| package | ms |")
		fmt.Println("| --- | --- |")
		for _, p := range top {
			fmt.Printf("| %s | %.3f |\n", p.pkg, p.ms)
		}
		fmt.Println()
	}
	return nil
}

// measure runs the specs in turn, runs times each, and returns each one's
// median wall time. want, when set, must be what each run prints.
func measure(specs []cmdSpec, runs int, want []byte) ([]time.Duration, error) {
	times := make([][]time.Duration, len(specs))
	for r := 0; r < runs; r++ {
		for i, s := range specs {
			c := exec.Command(s.path, s.args...)
			c.Env = s.env
			var out bytes.Buffer
			c.Stdout = &out
			start := time.Now()
			err := c.Run()
			d := time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", s.name, err)
			}
			if want != nil && !bytes.Equal(out.Bytes(), want) {
				return nil, fmt.Errorf("%s printed something else than the cached credential", s.name)
			}
			times[i] = append(times[i], d)
		}
	}
	meds := make([]time.Duration, len(specs))
	for i, ts := range times {
		slices.Sort(ts)
		meds[i] = ts[len(ts)/2]
	}
	return meds, nil
}

// keyringSection measures keyring hits inside a D-Bus session of its own
// with an unlocked gnome-keyring, by running this program again there.
func keyringSection(binDir, tmp, kubeconfig, execInfo string, runs int) error {
	for _, b := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("%s not installed", b)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	script := `echo -n bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"`
	c := exec.Command("dbus-run-session", "--", "sh", "-c", script, "sh", self, "-bin", binDir, "-keyring-phase", kubeconfig, "-runs", strconv.Itoa(runs))
	c.Env = cleanEnv("XDG_CACHE_HOME="+filepath.Join(tmp, "keyring-cache"), "XDG_DATA_HOME="+filepath.Join(tmp, "keyring-data"), "KUBERNETES_EXEC_INFO="+execInfo)
	var stderr bytes.Buffer
	c.Stdout, c.Stderr = os.Stdout, &stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func keyringHits(binDir, kubeconfig string, runs int) error {
	env := append(os.Environ(), "KUBECONFIG="+kubeconfig)
	args := []string{"token", "--service-account=default/deployer", "--source-context=admin", "--cache=keyring"}
	prime := exec.Command(filepath.Join(binDir, "kubemint"), args...)
	prime.Env = env
	prime.Stderr = os.Stderr
	answer, err := prime.Output()
	if err != nil {
		return fmt.Errorf("priming the keyring: %v", err)
	}
	meds, err := measure([]cmdSpec{{name: "kubemint keyring hit", path: filepath.Join(binDir, "kubemint"), args: args, env: env}}, runs, answer)
	if err != nil {
		return err
	}
	fmt.Println("## Keyring cache hit (gnome-keyring over D-Bus)")
	fmt.Println()
	fmt.Printf("kubemint --cache=keyring, %d runs: median %s.\n\n", runs, ms(meds[0]))
	return nil
}

type initCost struct {
	pkg string
	ms  float64
}

// initTrace runs s once with GODEBUG=inittrace=1 and returns the five
// costliest package inits and the total.
func initTrace(s cmdSpec) ([]initCost, float64, error) {
	c := exec.Command(s.path, s.args...)
	c.Env = append(slices.Clone(s.env), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		return nil, 0, fmt.Errorf("%s with inittrace: %v", s.name, err)
	}
	var costs []initCost
	var total float64
	for _, line := range strings.Split(stderr.String(), "\n") {
		// init PKG @0.012 ms, 0.034 ms clock, 1234 bytes, 5 allocs
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != "init" {
			continue
		}
		v, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			continue
		}
		costs = append(costs, initCost{pkg: f[1], ms: v})
		total += v
	}
	sort.Slice(costs, func(i, j int) bool { return costs[i].ms > costs[j].ms })
	if len(costs) > 5 {
		costs = costs[:5]
	}
	return costs, total, nil
}

// buildHello builds a static Go program that prints answer and exits: the
// floor any exec plugin written in Go can reach.
func buildHello(dir string, answer []byte) (string, error) {
	src := filepath.Join(dir, "hello")
	if err := os.MkdirAll(src, 0o700); err != nil {
		return "", err
	}
	prog := fmt.Sprintf("package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.Write([]byte(%q)) }\n", answer)
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(prog), 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o600); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "hello-world")
	c := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	c.Dir = src
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building hello-world: %v: %s", err, b)
	}
	return out, nil
}

// cleanEnv is this process's environment without what would change the
// measured commands, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "KUBECONFIG", "XDG_CACHE_HOME", "XDG_DATA_HOME", "DBUS_SESSION_BUS_ADDRESS", "KUBERNETES_EXEC_INFO", "GODEBUG":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func machine() string {
	out, _ := exec.Command("uname", "-srm").Output()
	n, _ := exec.Command("nproc").Output()
	return strings.TrimSpace(string(out)) + ", " + strings.TrimSpace(string(n)) + " cores"
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
