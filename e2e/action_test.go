package e2e

// The GitHub Action (action.yml) and the GitLab CI/CD component
// (templates/kubemint.yml), run the way their runners run them, against a
// local HTTPS server that serves `make dist`'s output as a GitHub release,
// then real kubectl, with the environment they exported, acting as the
// service account through the local OIDC issuers of ci_test.go. What runs
// here is Linux on this machine's architecture; the other runners' archives
// are fetched, verified and unpacked, and checked to be their platform's
// executables.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kubemint/kubemint/internal/cispec"
)

// release serves dist as GitHub serves a release's assets, at
// /OWNER/kubemint/releases/download/vVERSION/FILE. The owner picks what is
// served: kubemint the release as built, tampered every archive with one
// byte changed, nochecksum a checksums.txt without the lines of this
// machine's archive. kubectl is served as dl.k8s.io serves it, at
// /kubectl/release/vVERSION/bin/OS/ARCH/kubectl and its .sha256
// (/kubectl-tampered/... with one byte changed).
type release struct {
	srv     *httptest.Server
	dist    string
	version string
	caFile  string // trusts this server and the CI issuers

	mu   sync.Mutex
	gets map[string]int
}

func startRelease(t *testing.T) *release {
	t.Helper()
	dist := distDir(t)
	var meta struct {
		Version string `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err == nil {
		err = json.Unmarshal(b, &meta)
	}
	if err != nil || meta.Version == "" {
		t.Fatalf("reading the version of dist/metadata.json: %v", err)
	}
	r := &release{dist: dist, version: meta.Version, gets: map[string]int{}}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	bundle, err := os.ReadFile(ci.caFile)
	if err != nil {
		t.Fatal(err)
	}
	bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})...)
	r.caFile = filepath.Join(t.TempDir(), "ca-bundle.crt")
	if err := os.WriteFile(r.caFile, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// baseURL is the action's base-url for owner.
func (r *release) baseURL(owner string) string {
	return r.srv.URL + "/" + owner + "/kubemint/releases/download"
}

func (r *release) fetched(p string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gets[p]
}

// hostArchive is the archive of this machine's build.
func (r *release) hostArchive() string {
	return fmt.Sprintf("kubemint_%s_linux_%s.tar.gz", r.version, runtime.GOARCH)
}

func (r *release) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.gets[req.URL.Path]++
	r.mu.Unlock()
	parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/"), "/")
	if len(parts) == 7 && strings.HasPrefix(parts[0], "kubectl") {
		r.serveKubectl(w, req, parts)
		return
	}
	if len(parts) != 6 || parts[1] != "kubemint" || parts[2] != "releases" || parts[3] != "download" ||
		parts[4] != "v"+r.version || parts[5] != path.Base(parts[5]) || strings.HasPrefix(parts[5], ".") {
		http.NotFound(w, req)
		return
	}
	owner, file := parts[0], parts[5]
	b, err := os.ReadFile(filepath.Join(r.dist, file))
	if err != nil {
		http.NotFound(w, req)
		return
	}
	switch {
	case owner == "tampered" && (strings.HasSuffix(file, ".tar.gz") || strings.HasSuffix(file, ".zip")):
		b[len(b)/2] ^= 1
	case owner == "nochecksum" && file == "checksums.txt":
		var kept []string
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if !strings.HasSuffix(strings.TrimSpace(l), r.hostArchive()) {
				kept = append(kept, l)
			}
		}
		b = []byte(strings.Join(kept, ""))
	case owner != "kubemint" && owner != "tampered" && owner != "nochecksum":
		http.NotFound(w, req)
		return
	}
	_, _ = w.Write(b)
}

// serveKubectl serves this machine's kubectl for linux/GOARCH, the one the
// e2e suite runs, at the version the request names.
func (r *release) serveKubectl(rw http.ResponseWriter, req *http.Request, parts []string) {
	if parts[1] != "release" || parts[3] != "bin" || parts[4] != "linux" || parts[5] != runtime.GOARCH {
		http.NotFound(rw, req)
		return
	}
	b, err := os.ReadFile(w.kubectl)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(b)
	switch parts[6] {
	case "kubectl":
		if parts[0] == "kubectl-tampered" {
			b[len(b)/2] ^= 1
		}
		_, _ = rw.Write(b)
	case "kubectl.sha256":
		_, _ = rw.Write([]byte(hex.EncodeToString(sum[:])))
	default:
		http.NotFound(rw, req)
	}
}

// runner is a GitHub Actions job on a runner: its environment, its
// RUNNER_TEMP and RUNNER_TOOL_CACHE, and what its steps exported through
// GITHUB_ENV and GITHUB_PATH.
type runner struct {
	os, arch  string // RUNNER_OS, RUNNER_ARCH
	temp      string
	toolCache string
	workspace string // GITHUB_WORKSPACE, where steps run
	env       []string
	exported  map[string]string
	paths     []string
	steps     int
}

// newRunner is a job whose environment is env (a user's, without
// kubemint on PATH) plus the runner's variables.
func newRunner(t *testing.T, env []string) *runner {
	t.Helper()
	dir := t.TempDir()
	r := &runner{os: "Linux", arch: map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH],
		temp: filepath.Join(dir, "_temp"), toolCache: filepath.Join(dir, "_tool"), workspace: filepath.Join(dir, "work"),
		env: env, exported: map[string]string{}}
	for _, d := range []string{r.temp, r.toolCache, r.workspace} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// environ is what a step's process gets: the job's environment, what
// earlier steps exported, GITHUB_PATH's directories first on PATH, then
// extra.
func (r *runner) environ(extra ...string) []string {
	env := slices.Clone(r.env)
	pathVar := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for k, v := range r.exported {
		env = append(env, k+"="+v)
	}
	var dirs []string
	for i := len(r.paths) - 1; i >= 0; i-- {
		dirs = append(dirs, r.paths[i])
	}
	env = append(env, "PATH="+strings.Join(append(dirs, pathVar), string(os.PathListSeparator)),
		"GITHUB_ACTIONS=true", "RUNNER_OS="+r.os, "RUNNER_ARCH="+r.arch, "RUNNER_TEMP="+r.temp, "RUNNER_TOOL_CACHE="+r.toolCache, "GITHUB_WORKSPACE="+r.workspace)
	return append(env, extra...)
}

// runAction runs action.yml's steps as the runner does a `uses:` step with
// `with: inputs`: the inputs' defaults, each step's env and run evaluated,
// run by `bash --noprofile --norc -eo pipefail` (GitHub's bash), with fresh
// GITHUB_OUTPUT, GITHUB_ENV and GITHUB_PATH files whose contents the runner
// takes in after the step. It stops at the first failing step and returns
// its result, and the action's outputs.
func (r *runner) runAction(t *testing.T, inputs map[string]string) (result, map[string]string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	a, err := cispec.ReadAction(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := cispec.Context{
		Inputs: map[string]string{},
		Github: map[string]string{"action_path": root},
		Runner: map[string]string{"os": r.os, "arch": r.arch, "temp": r.temp, "tool_cache": r.toolCache},
		Env:    map[string]string{},
		Steps:  map[string]map[string]string{},
	}
	for n, in := range a.Inputs {
		ctx.Inputs[n] = in.Default
	}
	for n, v := range inputs {
		if _, ok := a.Inputs[n]; !ok {
			t.Fatalf("action.yml has no input %s", n)
		}
		ctx.Inputs[n] = v
	}
	for _, kv := range r.environ() {
		k, v, _ := strings.Cut(kv, "=")
		ctx.Env[k] = v
	}
	var res result
	for _, s := range a.Runs.Steps {
		if s.If != "" || s.Uses != "" || s.Shell != "bash" {
			t.Fatalf("step %q: this runner runs only `shell: bash` run steps without if", s.ID)
		}
		r.steps++
		files := map[string]string{}
		var env []string
		for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"} {
			files[f] = filepath.Join(r.temp, fmt.Sprintf("_runner_file_commands/%s_%d", strings.ToLower(f), r.steps))
			if err := os.MkdirAll(filepath.Dir(files[f]), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(files[f], nil, 0o644); err != nil {
				t.Fatal(err)
			}
			env = append(env, f+"="+files[f])
		}
		for k, v := range s.Env {
			v, err := cispec.Eval(v, ctx)
			if err != nil {
				t.Fatalf("step %s: env %s: %v", s.ID, k, err)
			}
			env = append(env, k+"="+v)
		}
		run, err := cispec.Eval(s.Run, ctx)
		if err != nil {
			t.Fatalf("step %s: run: %v", s.ID, err)
		}
		script := filepath.Join(r.temp, fmt.Sprintf("_step_%d.sh", r.steps))
		if err := os.WriteFile(script, []byte(run), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Env = r.environ(append(env, "GITHUB_ACTION_PATH="+root)...)
		cmd.Dir = r.workspace
		res = runCmd(t, cmd, 5*time.Minute)
		if res.code != 0 {
			return res, nil
		}
		ctx.Steps[s.ID] = readFileCommand(t, files["GITHUB_OUTPUT"])
		for k, v := range readFileCommand(t, files["GITHUB_ENV"]) {
			r.exported[k] = v
			ctx.Env[k] = v
		}
		b, _ := os.ReadFile(files["GITHUB_PATH"])
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				r.paths = append(r.paths, l)
			}
		}
	}
	outputs := map[string]string{}
	for n, o := range a.Outputs {
		v, err := cispec.Eval(o.Value, ctx)
		if err != nil {
			t.Fatalf("output %s: %v", n, err)
		}
		outputs[n] = v
	}
	return res, outputs
}

// readFileCommand reads a GITHUB_OUTPUT or GITHUB_ENV file: NAME=VALUE
// lines, and NAME<<DELIMITER blocks.
func readFileCommand(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if l == "" {
			continue
		}
		if k, delim, ok := strings.Cut(l, "<<"); ok && !strings.Contains(k, "=") {
			var v []string
			for sc.Scan() && sc.Text() != delim {
				v = append(v, sc.Text())
			}
			out[k] = strings.Join(v, "\n")
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%s: line %q is neither NAME=VALUE nor NAME<<DELIMITER", file, l)
		}
		out[k] = v
	}
	return out
}

// step runs a later `run:` step's command.
func (r *runner) step(t *testing.T, name string, args ...string) result {
	t.Helper()
	// The step's shell finds name on the job's PATH.
	cmd := exec.Command("bash", append([]string{"-c", `exec "$@"`, "bash", name}, args...)...)
	cmd.Env = r.environ()
	cmd.Dir = r.workspace
	return runCmd(t, cmd, 2*time.Minute)
}

// imageKubectl is a directory holding only kubectl, as a runner image's
// PATH has one.
func imageKubectl(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Symlink(w.kubectl, filepath.Join(d, "kubectl")); err != nil {
		t.Fatal(err)
	}
	return d
}

// githubJobEnv is a GitHub job's environment: a user's without kubemint,
// the image's kubectl on PATH, the job's ID-token variables, and the local
// servers' CA where the runner has the system's.
func githubJobEnv(t *testing.T, rel *release) []string {
	t.Helper()
	u := installedUser(t, imageKubectl(t))
	return append(append(u.vars, ci.githubJob(t, githubMain)...),
		"CURL_CA_BUNDLE="+rel.caFile, "SSL_CERT_FILE="+rel.caFile)
}

// nothingInstalled fails unless the tool cache is empty and the job got
// nothing from the failed step.
func nothingInstalled(t *testing.T, r *runner) {
	t.Helper()
	var left []string
	_ = filepath.WalkDir(r.toolCache, func(p string, d fs.DirEntry, err error) error {
		if p != r.toolCache {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("the tool cache holds %v after a failed install", left)
	}
	if len(r.exported) != 0 || len(r.paths) != 0 {
		t.Errorf("a failed install exported %v and added %v to PATH", r.exported, r.paths)
	}
	for _, f := range []string{"github_output", "github_env", "github_path"} {
		if b, _ := os.ReadFile(filepath.Join(r.temp, "_runner_file_commands", fmt.Sprintf("%s_%d", f, r.steps))); len(b) != 0 {
			t.Errorf("a failed install wrote to %s:\n%s", strings.ToUpper(f), b)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(r.temp, "kubemint*"))
	if len(leftovers) != 0 {
		t.Errorf("a failed install left %v in RUNNER_TEMP", leftovers)
	}
}

func TestGitHubAction(t *testing.T) {
	rel := startRelease(t)
	applyCIRBAC(t)
	ca, err := os.ReadFile(w.cp.CAFile)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("kubectl acts as the service account", func(t *testing.T) {
		// The recipe's step as written, but for the server's URL, the
		// release and where it is: its CA committed as ci/ca.crt in the
		// workspace.
		r := newRunner(t, githubJobEnv(t, rel))
		inputs := recipeActionInputs(t)
		inputs["server"], inputs["version"], inputs["base-url"] = w.cp.Server, "v"+rel.version, rel.baseURL("kubemint")
		if err := os.MkdirAll(filepath.Join(r.workspace, "ci"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.workspace, inputs["certificate-authority"]), ca, 0o644); err != nil {
			t.Fatal(err)
		}
		res, out := r.runAction(t, inputs)
		if res.code != 0 {
			t.Fatalf("the action failed: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
		}
		binDir := filepath.Join(r.toolCache, "kubemint", rel.version, strings.ToLower(r.arch))
		want := map[string]string{"version": rel.version, "bin-dir": binDir, "kubeconfig": filepath.Join(r.temp, "kubemint", "kubeconfig")}
		for k, v := range want {
			if out[k] != v {
				t.Errorf("output %s = %q, want %q", k, out[k], v)
			}
		}
		if r.exported["KUBECONFIG"] != want["kubeconfig"] || !slices.Equal(r.paths, []string{binDir}) {
			t.Errorf("exported %v and PATH %v; want KUBECONFIG=%s and %s", r.exported, r.paths, want["kubeconfig"], binDir)
		}
		noLongLivedSecret(t, out["kubeconfig"])

		// A later step: kubemint from the tool cache, kubectl from the
		// image, the ID token from the local GitHub.
		if got := r.step(t, "sh", "-c", "command -v kubemint"); strings.TrimSpace(got.stdout) != filepath.Join(binDir, "kubemint") {
			t.Errorf("kubemint on the job's PATH is %q, want the one in the tool cache", got.stdout)
		}
		before := ci.askedFor("kubernetes")
		who := r.step(t, "kubectl", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if who.code != 0 || who.stdout != "system:serviceaccount:ci:deployer" {
			t.Fatalf("kubectl auth whoami after the action: exit %d, stdout %q, stderr:\n%s", who.code, who.stdout, who.stderr)
		}
		if got := ci.askedFor("kubernetes") - before; got != 1 {
			t.Errorf("the job asked GitHub for %d ID tokens, want 1", got)
		}
		if v := r.step(t, "kubemint", "version"); !strings.Contains(v.stdout, rel.version) {
			t.Errorf("kubemint version in the job: %q, want %s", v.stdout, rel.version)
		}

		// The same runner again (a self-hosted one keeps its tool cache):
		// the install is reused, checksums.txt still checked.
		archive := "/kubemint/kubemint/releases/download/v" + rel.version + "/" + rel.hostArchive()
		sums := path.Dir(archive) + "/checksums.txt"
		a, s := rel.fetched(archive), rel.fetched(sums)
		delete(inputs, "certificate-authority")
		inputs["certificate-authority-data"] = string(ca)
		inputs["context-name"] = "prod"
		if res, _ := r.runAction(t, inputs); res.code != 0 {
			t.Fatalf("the action, again: exit %d\nstderr: %s", res.code, res.stderr)
		}
		if rel.fetched(archive) != a || rel.fetched(sums) != s+1 {
			t.Errorf("the second run fetched the archive %d times and checksums.txt %d times, want 0 and 1", rel.fetched(archive)-a, rel.fetched(sums)-s)
		}
		if ctx := r.step(t, "kubectl", "config", "current-context"); strings.TrimSpace(ctx.stdout) != "prod" {
			t.Errorf("current context %q, want prod (context-name)", ctx.stdout)
		}

		// A cached binary that changed since is not used: the archive is
		// fetched, verified and unpacked again.
		bin := filepath.Join(binDir, "kubemint")
		good, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, append(slices.Clone(good), 0), 0o755); err != nil {
			t.Fatal(err)
		}
		a = rel.fetched(archive)
		if res, _ := r.runAction(t, inputs); res.code != 0 {
			t.Fatalf("the action, over a changed cache: exit %d\nstderr: %s", res.code, res.stderr)
		}
		if now, _ := os.ReadFile(bin); rel.fetched(archive) != a+1 || !bytes.Equal(now, good) {
			t.Errorf("over a changed cached kubemint the archive was fetched %d times (want 1) and the binary restored: %v", rel.fetched(archive)-a, bytes.Equal(now, good))
		}
	})

	t.Run("fails closed", func(t *testing.T) {
		tests := []struct {
			name, owner, version string
			want                 []string
		}{
			{"tampered archive", "tampered", rel.version, []string{rel.hostArchive() + " does not match checksums.txt", "nothing was installed"}},
			{"missing checksum line", "nochecksum", rel.version, []string{"checksums.txt of kubemint v" + rel.version + " has no line for " + rel.hostArchive(), "nothing was installed"}},
			{"unknown version", "kubemint", "9.9.9", []string{"kubemint v9.9.9 not found", "404", "check the version"}},
			{"not a version", "kubemint", "latest", []string{`kubemint version "latest" is not a release version`}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := newRunner(t, githubJobEnv(t, rel))
				res, _ := r.runAction(t, map[string]string{
					"version": tt.version, "base-url": rel.baseURL(tt.owner),
					"service-account": "ci/deployer", "server": w.cp.Server, "certificate-authority-data": string(ca),
				})
				oneErrorLine(t, res, tt.want...)
				nothingInstalled(t, r)
			})
		}
	})

	t.Run("every runner OS and architecture", func(t *testing.T) {
		// Install only (no service-account): the archive each runner
		// would fetch, verified and unpacked; its binaries are that
		// platform's executables.
		magic := map[string][]byte{"Linux": {0x7f, 'E', 'L', 'F'}, "macOS": {0xcf, 0xfa, 0xed, 0xfe}, "Windows": []byte("MZ")}
		for _, os_ := range []string{"Linux", "macOS", "Windows"} {
			for _, arch := range []string{"X64", "ARM64"} {
				t.Run(os_+"/"+arch, func(t *testing.T) {
					env := githubJobEnv(t, rel)
					if os_ == "Windows" {
						// Git Bash's cygpath, as a stand-in: what the
						// job gets must be Windows paths.
						env = withCygpath(t, env)
					}
					r := newRunner(t, env)
					r.os, r.arch = os_, arch
					res, out := r.runAction(t, map[string]string{"version": rel.version, "base-url": rel.baseURL("kubemint")})
					if res.code != 0 {
						t.Fatalf("exit %d\nstderr: %s", res.code, res.stderr)
					}
					binDir := filepath.Join(r.toolCache, "kubemint", rel.version, strings.ToLower(arch))
					exe := ""
					if os_ == "Windows" {
						exe = ".exe"
						binDir = winPath(binDir)
					}
					if out["bin-dir"] != binDir || !slices.Equal(r.paths, []string{binDir}) {
						t.Errorf("bin-dir %q and GITHUB_PATH %v, want %s", out["bin-dir"], r.paths, binDir)
					}
					for _, b := range []string{"kubemint", "kubemint-full"} {
						f := filepath.Join(r.toolCache, "kubemint", rel.version, strings.ToLower(arch), b+exe)
						head := make([]byte, 4)
						fh, err := os.Open(f)
						if err != nil {
							t.Fatal(err)
						}
						_, _ = fh.Read(head)
						fh.Close()
						if !bytes.HasPrefix(head, magic[os_]) {
							t.Errorf("%s starts with % x: not a %s executable", f, head, os_)
						}
					}
					if os_ == "Windows" && arch == "X64" {
						// The Windows runner's binaries run (under Wine here).
						we := newWineEnv(t)
						v := we.run(t, nil, filepath.Join(out["bin-dir"], "kubemint.exe"), "version")
						if v.code != 0 || !strings.Contains(v.stdout, rel.version) {
							t.Errorf("wine kubemint.exe version: exit %d, stdout %q, stderr:\n%s", v.code, v.stdout, v.stderr)
						}
					}
					if out["kubeconfig"] != "" || len(r.exported) != 0 {
						t.Errorf("install only exported %v, output kubeconfig %q", r.exported, out["kubeconfig"])
					}
				})
			}
		}
	})
}

// withCygpath puts a cygpath on env's PATH that answers -w as Wine maps
// this machine's files (winPath), as Git Bash's does on a Windows runner.
func withCygpath(t *testing.T, env []string) []string {
	t.Helper()
	d := t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = -w ] || exit 2\nprintf 'Z:%s\\n' \"$2\" | tr / '\\\\'\n"
	if err := os.WriteFile(filepath.Join(d, "cygpath"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			env[i] = "PATH=" + d + string(os.PathListSeparator) + v
		}
	}
	return env
}

// recipeActionInputs are the with: inputs of the kubemint/kubemint step of
// docs/recipes.md's workflow.
func recipeActionInputs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../docs/recipes.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?ms)^```yaml\n(.*?)^```").FindAllSubmatch(b, -1) {
		var wf struct {
			Jobs map[string]struct {
				Steps []struct {
					Uses string            `json:"uses"`
					With map[string]string `json:"with"`
				} `json:"steps"`
			} `json:"jobs"`
		}
		if yaml.Unmarshal(m[1], &wf) != nil {
			continue
		}
		for _, j := range wf.Jobs {
			for _, s := range j.Steps {
				if strings.HasPrefix(s.Uses, "kubemint/kubemint@") {
					return s.With
				}
			}
		}
	}
	t.Fatal("docs/recipes.md has no workflow that uses kubemint/kubemint")
	return nil
}

// recipeComponentInputs are the inputs docs/recipes.md's pipeline gives the
// component.
func recipeComponentInputs(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../docs/recipes.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?ms)^```yaml\n(.*?)^```").FindAllSubmatch(b, -1) {
		var p struct {
			Include []struct {
				Component string         `json:"component"`
				Inputs    map[string]any `json:"inputs"`
			} `json:"include"`
		}
		if yaml.Unmarshal(m[1], &p) != nil {
			continue
		}
		for _, inc := range p.Include {
			if strings.Contains(inc.Component, "/kubemint/kubemint/kubemint@") {
				return inc.Inputs
			}
		}
	}
	t.Fatal("docs/recipes.md has no pipeline that includes the kubemint component")
	return nil
}

// gitlabJob runs the component's .kubemint job as GitLab's runner does
// with the job's own script after it: the variables and the id_tokens
// variable in the environment, before_script then script in one sh, in
// the project directory.
func gitlabJob(t *testing.T, rel *release, project string, inputs map[string]any, tmpdir string, script ...string) (result, map[string]any) {
	t.Helper()
	c, err := cispec.ReadComponent("../templates/kubemint.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.Config(inputs)
	if err != nil {
		t.Fatal(err)
	}
	job, _ := cfg[".kubemint"].(map[string]any)
	if job == nil {
		t.Fatal("the component has no job .kubemint")
	}
	// The image has curl, sh and tar, and no kubectl or kubemint.
	u := installedUser(t)
	env := append(u.vars, "GITLAB_CI=true", "CI=true", "CI_PROJECT_DIR="+project, "TMPDIR="+tmpdir, "CURL_CA_BUNDLE="+rel.caFile)
	vars, _ := job["variables"].(map[string]any)
	for k, v := range vars {
		env = append(env, fmt.Sprintf("%s=%v", k, v))
	}
	idTokens, _ := job["id_tokens"].(map[string]any)
	for k, v := range idTokens {
		aud, _ := v.(map[string]any)["aud"].(string)
		env = append(env, k+"="+ci.gitlabToken(gitlabMain, aud))
	}
	var lines []string
	for _, l := range job["before_script"].([]any) {
		lines = append(lines, l.(string))
	}
	sh := "set -e\n" + strings.Join(append(lines, script...), "\n") + "\n"
	cmd := exec.Command("sh", "-c", sh)
	cmd.Dir = project
	cmd.Env = env
	return runCmd(t, cmd, 5*time.Minute), job
}

func TestGitLabComponent(t *testing.T) {
	rel := startRelease(t)
	applyCIRBAC(t)
	// The project commits the cluster's CA, as the recipe says.
	project := t.TempDir()
	if err := os.MkdirAll(filepath.Join(project, "ci"), 0o755); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(w.cp.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(project, "ci", "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	// The recipe's inputs as written, but for the server's URL, the
	// release and where it and kubectl are.
	inputs := func(kubectlOwner string) map[string]any {
		in := recipeComponentInputs(t)
		in["server"], in["version"], in["base-url"] = w.cp.Server, rel.version, rel.baseURL("kubemint")
		in["kubectl-base-url"] = rel.srv.URL + "/" + kubectlOwner + "/release"
		return in
	}

	t.Run("kubectl acts as the service account", func(t *testing.T) {
		res, _ := gitlabJob(t, rel, project, inputs("kubectl"), t.TempDir(),
			"command -v kubemint", "command -v kubectl",
			"kubectl auth whoami -o jsonpath={.status.userInfo.username}")
		if res.code != 0 {
			t.Fatalf("the job failed: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
		}
		lines := strings.Split(res.stdout, "\n")
		var found []string
		for _, l := range lines {
			if strings.HasSuffix(l, "/kubemint") || strings.HasSuffix(l, "/kubectl") {
				found = append(found, l)
			}
		}
		if len(found) != 2 || !strings.Contains(found[0], "/kubemint-tools/kubemint/"+rel.version+"/") || !strings.Contains(found[1], "/kubemint-tools/kubectl/") {
			t.Errorf("kubemint and kubectl in the job: %v, want both from the component's install\n%s", found, res.stdout)
		}
		if !strings.HasSuffix(res.stdout, "system:serviceaccount:ci:deployer") {
			t.Errorf("kubectl auth whoami in the job: %q, want system:serviceaccount:ci:deployer\nstderr: %s", res.stdout, res.stderr)
		}
	})

	t.Run("fails closed", func(t *testing.T) {
		tests := []struct {
			name string
			edit func(map[string]any)
			want []string
		}{
			{"tampered archive", func(in map[string]any) { in["base-url"] = rel.baseURL("tampered") }, []string{"does not match checksums.txt", "nothing was installed"}},
			{"missing checksum line", func(in map[string]any) { in["base-url"] = rel.baseURL("nochecksum") }, []string{"has no line for " + rel.hostArchive()}},
			{"unknown version", func(in map[string]any) { in["version"] = "9.9.9" }, []string{"kubemint v9.9.9 not found"}},
			{"tampered kubectl", func(in map[string]any) { in["kubectl-base-url"] = rel.srv.URL + "/kubectl-tampered/release" }, []string{"does not match its .sha256", "nothing was installed"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := inputs("kubectl")
				tt.edit(in)
				tmp := t.TempDir()
				res, _ := gitlabJob(t, rel, project, in, tmp, "echo the job's script ran")
				oneErrorLine(t, res, tt.want...)
				// Nothing for the job's shell to source, and for the
				// archive and checksum failures nothing installed.
				left, _ := filepath.Glob(filepath.Join(tmp, "*"))
				for _, f := range left {
					if b := filepath.Base(f); b != "kubemint-setup.sh" && !(tt.name == "tampered kubectl" && b == "kubemint-tools") {
						t.Errorf("the failed job left %s", f)
					}
				}
			})
		}
	})
}
