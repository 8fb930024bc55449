package ci

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// snippet is a fenced yaml block of the docs.
type snippet struct {
	where string // file:line
	text  string
}

var fence = regexp.MustCompile("(?ms)^```yaml\n(.*?)^```")

// yamlSnippets are the yaml blocks of README.md and docs/*.md.
func yamlSnippets(t *testing.T) []snippet {
	t.Helper()
	files, _ := filepath.Glob(repo("docs/*.md"))
	files = append(files, repo("README.md"))
	var out []snippet
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fence.FindAllSubmatchIndex(b, -1) {
			line := strings.Count(string(b[:m[0]]), "\n") + 1
			rel, _ := filepath.Rel("..", f)
			out = append(out, snippet{where: fmt.Sprintf("%s:%d", rel, line), text: string(b[m[2]:m[3]])})
		}
	}
	return out
}

var componentRef = regexp.MustCompile(`(^|/)kubemint/kubemint/kubemint@[^/]+$`)

// TestDocsGitLabPipelines: each pipeline of the docs that includes the
// component parses, gives only inputs the component has and every one it
// requires, and has a job that extends .kubemint.
func TestDocsGitLabPipelines(t *testing.T) {
	c := readComponent(t)
	found := 0
	for _, s := range yamlSnippets(t) {
		var p map[string]any
		if err := yaml.Unmarshal([]byte(s.text), &p); err != nil {
			if strings.Contains(s.text, "component:") {
				t.Errorf("%s: %v", s.where, err)
			}
			continue
		}
		includes, _ := p["include"].([]any)
		for _, inc := range includes {
			m, _ := inc.(map[string]any)
			ref, _ := m["component"].(string)
			if !componentRef.MatchString(ref) {
				continue
			}
			found++
			inputs, _ := m["inputs"].(map[string]any)
			if err := c.CheckInputs(inputs); err != nil {
				t.Errorf("%s: the component's inputs: %v", s.where, err)
			}
			if _, err := c.Config(inputs); err != nil {
				t.Errorf("%s: %v", s.where, err)
			}
			extended := false
			for name, job := range p {
				if j, ok := job.(map[string]any); ok && j["extends"] == ".kubemint" {
					extended = true
					if _, ok := j["script"]; !ok {
						t.Errorf("%s: job %s has no script", s.where, name)
					}
				}
			}
			if !extended {
				t.Errorf("%s: no job extends .kubemint", s.where)
			}
		}
		if strings.Contains(s.text, "go install") && (p["include"] != nil || p["jobs"] != nil) {
			t.Errorf("%s: a pipeline or workflow installs kubemint with go install, not the action or component", s.where)
		}
	}
	if found == 0 {
		t.Errorf("no pipeline in the docs includes the component")
	}
}

// actionlint is the pinned actionlint (tools/go.mod; make lint builds it).
func actionlint(t *testing.T) string {
	t.Helper()
	p := os.Getenv("KUBEMINT_ACTIONLINT")
	if p == "" {
		p, _ = filepath.Abs(repo("tools/bin/actionlint"))
	}
	if _, err := os.Stat(p); err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("actionlint is not built (%s): make lint builds it", p)
		}
		t.Skipf("actionlint is not built (%s): make lint builds it and runs this test", p)
	}
	return p
}

// TestDocsWorkflowsActionlint runs actionlint on every GitHub Actions
// workflow of the docs, with kubemint/kubemint@REF as this checkout's
// action.yml, so that actionlint also checks the inputs given to it.
func TestDocsWorkflowsActionlint(t *testing.T) {
	bin := actionlint(t)
	dir := t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows")
	for _, d := range []string{filepath.Join(dir, ".git"), wf} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "action.yml"), read(t, "action.yml"), 0o644); err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`uses: kubemint/kubemint@\S+`)
	var files []string
	usesAction := ""
	for i, s := range yamlSnippets(t) {
		var p map[string]any
		if yaml.Unmarshal([]byte(s.text), &p) != nil || p["jobs"] == nil {
			continue
		}
		text := uses.ReplaceAllString(s.text, "uses: ./")
		f := filepath.Join(wf, fmt.Sprintf("doc%d.yml", i))
		if err := os.WriteFile(f, []byte("# "+s.where+"\n"+text), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		if text != s.text {
			usesAction = text
		}
	}
	if usesAction == "" {
		t.Fatal("no workflow in the docs uses kubemint/kubemint")
	}
	lint := func(files ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"-no-color"}, files...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := lint(files...); err != nil {
		t.Errorf("actionlint on the docs' workflows: %v\n%s", err, out)
	}
	// actionlint does check the action's inputs: a misspelt one fails.
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte(strings.Replace(usesAction, "service-account:", "service-acount:", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := lint(bad); err == nil || !strings.Contains(out, "service-acount") {
		t.Errorf("actionlint passed a workflow that gives the action an input it does not have (%v):\n%s", err, out)
	}
}
