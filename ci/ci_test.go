package ci

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubemint/kubemint/internal/cispec"
)

var update = flag.Bool("update", false, "write ci/setup-kubemint.sh into templates/kubemint.yml (make docs)")

// repo is a path of the repository, from this package's directory.
func repo(rel string) string { return filepath.Join("..", filepath.FromSlash(rel)) }

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(repo(rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The component carries the script in a here-document: a component's job
// sees the including project's files, not this one's.
const (
	heredocStart = "cat > \"${TMPDIR:-/tmp}/kubemint-setup.sh\" <<'KUBEMINT_SETUP_EOF'\n"
	heredocEnd   = "      KUBEMINT_SETUP_EOF\n"
	indent       = "      "
)

func embed(script []byte) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(string(script), "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString(indent)
		}
		b.WriteString(l)
	}
	return b.String()
}

func TestTemplateCarriesScript(t *testing.T) {
	script := read(t, "ci/setup-kubemint.sh")
	tmpl := string(read(t, "templates/kubemint.yml"))
	i := strings.Index(tmpl, heredocStart)
	j := strings.Index(tmpl, heredocEnd)
	if i < 0 || j < i {
		t.Fatalf("templates/kubemint.yml has no here-document %q ... %q", heredocStart, heredocEnd)
	}
	i += len(heredocStart)
	if got, want := tmpl[i:j], embed(script); got != want {
		if !*update {
			t.Fatalf("templates/kubemint.yml's copy of ci/setup-kubemint.sh is stale: run make docs")
		}
		if err := os.WriteFile(repo("templates/kubemint.yml"), []byte(tmpl[:i]+want+tmpl[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if bytes.Contains(script, []byte("KUBEMINT_SETUP_EOF")) || bytes.Contains(script, []byte("$[[")) {
		t.Errorf("ci/setup-kubemint.sh holds the here-document's end or a GitLab interpolation")
	}
}

func readAction(t *testing.T) *cispec.Action {
	t.Helper()
	a, err := cispec.ReadAction(repo("action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func readComponent(t *testing.T) *cispec.Component {
	t.Helper()
	c, err := cispec.ReadComponent(repo("templates/kubemint.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestInputsAgree: the action and the component take the same inputs (the
// component also its image), with the same defaults, and each reaches the
// script as its variable.
func TestInputsAgree(t *testing.T) {
	a, c := readAction(t), readComponent(t)
	var an, cn []string
	for n := range a.Inputs {
		an = append(an, n)
	}
	for n := range c.Inputs {
		if n != "image" {
			cn = append(cn, n)
		}
	}
	slices.Sort(an)
	slices.Sort(cn)
	if !slices.Equal(an, cn) {
		t.Errorf("inputs differ:\naction.yml:             %v\ntemplates/kubemint.yml: %v", an, cn)
	}
	for n, in := range a.Inputs {
		ci, ok := c.Inputs[n]
		if !ok {
			continue
		}
		// Every input of the action is optional (without service-account
		// it only installs): the component's must be too, or GitLab
		// refuses an include that leaves it out.
		if !ci.HasDefault {
			t.Errorf("input %s: optional in action.yml (default %q), required in the component", n, in.Default)
			continue
		}
		// kubectl-version differs on purpose: GitHub's images have kubectl.
		if def := strings.Trim(fmtAny(ci.Default), `"'`); n != "kubectl-version" && def != in.Default {
			t.Errorf("input %s: default %q in action.yml, %q in the component", n, in.Default, def)
		}
	}
	if _, err := c.Config(map[string]any{}); err != nil {
		t.Errorf("the component without inputs (install only, as docs/recipes.md says): %v", err)
	}
	step := a.Runs.Steps[0]
	cfg, err := c.Config(map[string]any{"service-account": "SA", "server": "SERVER"})
	if err != nil {
		t.Fatal(err)
	}
	vars := cfg[".kubemint"].(map[string]any)["variables"].(map[string]any)
	for n := range a.Inputs {
		v := "KUBEMINT_" + strings.ToUpper(strings.ReplaceAll(n, "-", "_"))
		if step.Env[v] != "${{ inputs."+n+" }}" {
			t.Errorf("action.yml: input %s does not reach the script as %s", n, v)
		}
		if _, ok := vars[v]; !ok && n != "audience" {
			t.Errorf("templates/kubemint.yml: input %s does not reach the script as %s", n, v)
		}
	}
	if aud := cfg[".kubemint"].(map[string]any)["id_tokens"].(map[string]any)["KUBE_ID_TOKEN"].(map[string]any)["aud"]; aud != "kubernetes" {
		t.Errorf("the component's id_tokens KUBE_ID_TOKEN aud is %v, want the audience input (kubernetes)", aud)
	}
	if vars["KUBEMINT_TOKEN_ENV"] != "KUBE_ID_TOKEN" {
		t.Errorf("the component does not mint with its id_tokens variable: KUBEMINT_TOKEN_ENV=%v", vars["KUBEMINT_TOKEN_ENV"])
	}
}

func fmtAny(v any) string {
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

// TestDefaultVersion: both install the release they are part of by
// default; release-version.sh sets it and GoReleaser's check refuses a
// release whose tag differs.
func TestDefaultVersion(t *testing.T) {
	a, c := readAction(t), readComponent(t)
	def := a.Inputs["version"].Default
	if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(def) {
		t.Errorf("action.yml's default version %q is not a release version", def)
	}
	if got := c.Inputs["version"].Default; got != def {
		t.Errorf("the component's default version is %v, action.yml's %s", got, def)
	}
	// On a release's tag, the default is that release.
	if tag, err := exec.Command("git", "describe", "--tags", "--exact-match", "--match", "v*").Output(); err == nil {
		if v := strings.TrimPrefix(strings.TrimSpace(string(tag)), "v"); v != def {
			t.Errorf("HEAD is tagged v%s, but action.yml installs %s by default", v, def)
		}
	}
	if !strings.Contains(string(read(t, ".goreleaser.yaml")), "sh ci/release-version.sh check {{ .Version }} {{ .IsSnapshot }}") {
		t.Errorf(".goreleaser.yaml does not run ci/release-version.sh check before a release")
	}

	// release-version.sh on a copy: set changes the one line in each file,
	// check passes for that version and snapshots only.
	dir := t.TempDir()
	for _, f := range []string{"ci/release-version.sh", "action.yml", "templates/kubemint.yml"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), read(t, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, error) {
		out, err := exec.Command("sh", append([]string{filepath.Join(dir, "ci/release-version.sh")}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("set", "v9.8.7"); err != nil {
		t.Fatalf("release-version.sh set: %v\n%s", err, out)
	}
	for _, f := range []string{"action.yml", "templates/kubemint.yml"} {
		before, _ := os.ReadFile(repo(f))
		after, _ := os.ReadFile(filepath.Join(dir, f))
		changed := 0
		bl, al := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
		if len(bl) != len(al) {
			t.Fatalf("release-version.sh set changed the number of lines of %s", f)
		}
		for i := range bl {
			if bl[i] != al[i] {
				changed++
				if !strings.HasSuffix(al[i], `default: "9.8.7"`) {
					t.Errorf("%s: set wrote %q", f, al[i])
				}
			}
		}
		if changed != 1 {
			t.Errorf("release-version.sh set changed %d lines of %s, want 1", changed, f)
		}
	}
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"check", "9.8.7", "false"}, true},
		{[]string{"check", "9.8.8", "false"}, false},
		{[]string{"check", "0.0.0-snapshot.abc", "true"}, true},
	}
	for _, tt := range tests {
		out, err := run(tt.args...)
		if (err == nil) != tt.ok {
			t.Errorf("release-version.sh %v: %v, want ok=%v\n%s", tt.args, err, tt.ok, out)
		}
		if !tt.ok && (!strings.HasPrefix(out, "kubemint: error: ") || !strings.Contains(out, "make release-version VERSION=9.8.8")) {
			t.Errorf("release-version.sh %v says:\n%s", tt.args, out)
		}
	}
}

// TestKubectlVersion: the component installs the kubectl the e2e suite
// runs (tools/cluster's).
func TestKubectlVersion(t *testing.T) {
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/kubernetes v([0-9.]+)$`).FindSubmatch(read(t, "tools/cluster/go.mod"))
	if m == nil {
		t.Fatal("tools/cluster/go.mod pins no k8s.io/kubernetes")
	}
	if got := fmtAny(readComponent(t).Inputs["kubectl-version"].Default); strings.Trim(got, `"'`) != string(m[1]) {
		t.Errorf("the component installs kubectl %s by default, tools/cluster pins %s", got, m[1])
	}
}

// TestReleaseArchives: the release names its archives as the script
// expects, for every OS and architecture of GitHub's runners, and lists
// them in checksums.txt.
func TestReleaseArchives(t *testing.T) {
	var g struct {
		Builds []struct {
			Goos   []string `json:"goos"`
			Goarch []string `json:"goarch"`
		} `json:"builds"`
		Archives []struct {
			NameTemplate    string `json:"name_template"`
			Formats         []string
			FormatOverrides []struct {
				Goos    string   `json:"goos"`
				Formats []string `json:"formats"`
			} `json:"format_overrides"`
			WrapInDirectory any `json:"wrap_in_directory"`
		} `json:"archives"`
		Checksum struct {
			NameTemplate string `json:"name_template"`
			Algorithm    string `json:"algorithm"`
		} `json:"checksum"`
	}
	if err := yaml.Unmarshal(read(t, ".goreleaser.yaml"), &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Archives) != 1 {
		t.Fatalf("%d archives in .goreleaser.yaml, want 1", len(g.Archives))
	}
	ar := g.Archives[0]
	if ar.NameTemplate != "kubemint_{{ .Version }}_{{ .Os }}_{{ .Arch }}" {
		t.Errorf("archive name_template %q: ci/setup-kubemint.sh fetches kubemint_VERSION_OS_ARCH", ar.NameTemplate)
	}
	if ar.WrapInDirectory != nil {
		t.Errorf("archives are wrapped in a directory: the script expects the binaries at the top")
	}
	if !slices.Equal(ar.Formats, []string{"tar.gz"}) || len(ar.FormatOverrides) != 1 || ar.FormatOverrides[0].Goos != "windows" || !slices.Equal(ar.FormatOverrides[0].Formats, []string{"zip"}) {
		t.Errorf("archive formats %v %+v: the script expects tar.gz, zip for Windows", ar.Formats, ar.FormatOverrides)
	}
	for _, b := range g.Builds {
		for _, os := range []string{"linux", "darwin", "windows"} {
			if !slices.Contains(b.Goos, os) {
				t.Errorf("a build lacks %s", os)
			}
		}
		for _, arch := range []string{"amd64", "arm64"} {
			if !slices.Contains(b.Goarch, arch) {
				t.Errorf("a build lacks %s", arch)
			}
		}
	}
	if g.Checksum.NameTemplate != "checksums.txt" || g.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum %+v: the script verifies against checksums.txt, sha256", g.Checksum)
	}
}

// TestShellcheck: the scripts are POSIX sh (GitLab job images may have no
// bash) and pass shellcheck (a Debian package: make deps).
func TestShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("shellcheck is not installed: make deps installs it")
		}
		t.Skip("shellcheck is not installed: make deps installs it")
	}
	for _, shell := range []string{"sh", "bash"} {
		out, err := exec.Command(sc, "-s", shell, repo("ci/setup-kubemint.sh"), repo("ci/release-version.sh")).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck -s %s: %v\n%s", shell, err, out)
		}
	}
}

// TestScriptRefusesBadInput: what the script can tell before it downloads
// anything (the version, the base URL, the runner, the kubeconfig's
// inputs) ends in one error line and its hints, and nothing for the job.
func TestScriptRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no version", nil, "no kubemint version given"},
		{"latest", []string{"KUBEMINT_VERSION=latest"}, `kubemint version "latest" is not a release version`},
		{"a path in the version", []string{"KUBEMINT_VERSION=1.2.3/../../x"}, "is not a release version"},
		{"plain http", []string{"KUBEMINT_VERSION=1.2.3", "KUBEMINT_BASE_URL=http://mirror.example.com/k"}, `base URL "http://mirror.example.com/k" is not an https URL`},
		{"another OS", []string{"KUBEMINT_VERSION=1.2.3", "RUNNER_OS=FreeBSD"}, "no kubemint release for the operating system FreeBSD"},
		{"another architecture", []string{"KUBEMINT_VERSION=1.2.3", "RUNNER_ARCH=ARM"}, "no kubemint release for the architecture ARM"},
		{"no server", []string{"KUBEMINT_VERSION=1.2.3", "KUBEMINT_SERVICE_ACCOUNT=ci/deployer"}, "no server given"},
		{"no CA", []string{"KUBEMINT_VERSION=1.2.3", "KUBEMINT_SERVICE_ACCOUNT=ci/deployer", "KUBEMINT_SERVER=https://k:6443"}, "no CA given"},
		{"two CAs", []string{"KUBEMINT_VERSION=1.2.3", "KUBEMINT_SERVICE_ACCOUNT=ci/deployer", "KUBEMINT_SERVER=https://k:6443",
			"KUBEMINT_CERTIFICATE_AUTHORITY=ca.crt", "KUBEMINT_CERTIFICATE_AUTHORITY_DATA=-----BEGIN CERTIFICATE-----"}, "both certificate-authority and certificate-authority-data"},
		{"revocable yes", []string{"KUBEMINT_VERSION=1.2.3", "KUBEMINT_SERVICE_ACCOUNT=ci/deployer", "KUBEMINT_SERVER=https://k:6443",
			"KUBEMINT_CERTIFICATE_AUTHORITY=ca.crt", "KUBEMINT_REVOCABLE=yes"}, `revocable is "yes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"PATH=" + os.Getenv("PATH"), "RUNNER_TEMP=" + dir, "RUNNER_TOOL_CACHE=" + filepath.Join(dir, "tool"),
				"RUNNER_OS=Linux", "RUNNER_ARCH=X64"}
			for _, f := range []string{"GITHUB_PATH", "GITHUB_ENV", "GITHUB_OUTPUT"} {
				env = append(env, f+"="+filepath.Join(dir, f))
			}
			cmd := exec.Command("sh", repo("ci/setup-kubemint.sh"))
			cmd.Env = append(env, tt.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err == nil {
				t.Fatal("the script succeeded")
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if stdout.Len() != 0 || !strings.HasPrefix(lines[0], "kubemint: error: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stdout %q, stderr:\n%s\nwant one error line with %q", stdout.String(), stderr.String(), tt.want)
			}
			for _, l := range lines[1:] {
				if !strings.HasPrefix(l, "kubemint: hint: ") {
					t.Errorf("stderr line %q is neither the error nor a hint", l)
				}
			}
			left, _ := os.ReadDir(dir)
			if len(left) != 0 {
				t.Errorf("the script left %v", left)
			}
		})
	}
}
