// Package cispec reads kubemint's CI integrations as GitHub's runner and
// GitLab read them: a composite action's metadata (action.yml) with the
// `${{ }}` expressions it uses, and a GitLab CI/CD component's `spec:
// inputs` header with its `$[[ inputs.NAME ]]` interpolation. The tests use
// it to run the action and the component the way a runner does, and to
// check the snippets of the docs against their inputs.
package cispec

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Action is a composite action's metadata, the fields a runner reads.
type Action struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Author      string `json:"author"`
	Branding    struct {
		Icon  string `json:"icon"`
		Color string `json:"color"`
	} `json:"branding"`
	Inputs  map[string]ActionInput  `json:"inputs"`
	Outputs map[string]ActionOutput `json:"outputs"`
	Runs    struct {
		Using string `json:"using"`
		Steps []Step `json:"steps"`
	} `json:"runs"`
}

// ActionInput is one of an action's inputs.
type ActionInput struct {
	Description string `json:"description"`
	Required    bool   `json:"required"`
	Default     string `json:"default"`
}

// ActionOutput maps an action's output to an expression.
type ActionOutput struct {
	Description string `json:"description"`
	Value       string `json:"value"`
}

// Step is a composite action's step.
type Step struct {
	ID    string            `json:"id"`
	Name  string            `json:"name"`
	If    string            `json:"if"`
	Uses  string            `json:"uses"`
	Shell string            `json:"shell"`
	Run   string            `json:"run"`
	Env   map[string]string `json:"env"`
}

// ReadAction reads an action.yml.
func ReadAction(path string) (*Action, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var a Action
	if err := yaml.UnmarshalStrict(b, &a); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if a.Runs.Using != "composite" {
		return nil, fmt.Errorf("%s: runs.using is %q, not composite", path, a.Runs.Using)
	}
	return &a, nil
}

// Context holds the values of the expression contexts an action uses.
type Context struct {
	Inputs map[string]string
	Github map[string]string // action_path
	Runner map[string]string // os, arch, temp, tool_cache
	Env    map[string]string
	Steps  map[string]map[string]string // step id -> its outputs
}

var (
	expr  = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	ident = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
)

// Eval replaces each `${{ EXPR }}` in s with its value. EXPR may only be a
// property of the contexts Context holds (inputs.NAME, github.action_path,
// runner.NAME, env.NAME, steps.ID.outputs.NAME): anything else is an error,
// so that an action that starts to use more than this evaluates fails its
// test instead of running with a wrong value. A missing value is the empty
// string, as on GitHub.
func Eval(s string, c Context) (string, error) {
	var errs []error
	out := expr.ReplaceAllStringFunc(s, func(m string) string {
		e := strings.TrimSpace(expr.FindStringSubmatch(m)[1])
		parts := strings.Split(e, ".")
		for _, p := range parts {
			if !ident.MatchString(p) {
				parts = nil
			}
		}
		switch {
		case len(parts) == 2 && parts[0] == "inputs":
			// Input names are case-insensitive on GitHub.
			for k, v := range c.Inputs {
				if strings.EqualFold(k, parts[1]) {
					return v
				}
			}
			errs = append(errs, fmt.Errorf("%s: no such input", e))
			return ""
		case len(parts) == 2 && parts[0] == "github" && parts[1] == "action_path":
			return c.Github["action_path"]
		case len(parts) == 2 && parts[0] == "runner":
			return c.Runner[parts[1]]
		case len(parts) == 2 && parts[0] == "env":
			return c.Env[parts[1]]
		case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
			return c.Steps[parts[1]][parts[3]]
		}
		errs = append(errs, fmt.Errorf("${{ %s }}: an expression this evaluator does not know", e))
		return ""
	})
	return out, errors.Join(errs...)
}

// Component is a GitLab CI/CD component: its `spec: inputs` header and the
// configuration after the header's `---`.
type Component struct {
	Inputs map[string]ComponentInput
	Body   string
}

// ComponentInput is one of spec:inputs.
type ComponentInput struct {
	Description string `json:"description"`
	Type        string `json:"type"` // string (the default), boolean, number, array
	Default     any    `json:"default"`
	HasDefault  bool   `json:"-"`
	Options     []any  `json:"options"`
}

// Required reports whether the input has no default: GitLab then requires it.
func (i ComponentInput) Required() bool { return !i.HasDefault }

// ReadComponent reads a component's template.
func ReadComponent(path string) (*Component, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseComponent(b)
}

// ParseComponent parses a component's template.
func ParseComponent(b []byte) (*Component, error) {
	header, body, ok := bytes.Cut(b, []byte("\n---\n"))
	if !ok {
		return nil, errors.New("no `---` line after the spec header")
	}
	var h struct {
		Spec struct {
			Inputs map[string]map[string]any `json:"inputs"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(header, &h); err != nil {
		return nil, fmt.Errorf("the spec header: %w", err)
	}
	c := &Component{Inputs: map[string]ComponentInput{}, Body: string(body)}
	for name, raw := range h.Spec.Inputs {
		var in ComponentInput
		for k, v := range raw {
			switch k {
			case "description":
				in.Description, _ = v.(string)
			case "type":
				in.Type, _ = v.(string)
			case "default":
				in.Default, in.HasDefault = v, true
			case "options":
				in.Options, _ = v.([]any)
			case "regex":
			default:
				return nil, fmt.Errorf("input %s: unknown key %s", name, k)
			}
		}
		switch in.Type {
		case "", "string", "boolean", "number", "array":
		default:
			return nil, fmt.Errorf("input %s: unknown type %s", name, in.Type)
		}
		c.Inputs[name] = in
	}
	return c, nil
}

var interp = regexp.MustCompile(`\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]`)

// CheckInputs checks given inputs as GitLab does when it includes the
// component: each is declared, of its type, and every input without a
// default is given.
func (c *Component) CheckInputs(given map[string]any) error {
	var errs []error
	for name, v := range given {
		in, ok := c.Inputs[name]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown input %s", name))
			continue
		}
		switch in.Type {
		case "boolean":
			if _, ok := v.(bool); !ok {
				errs = append(errs, fmt.Errorf("input %s: %v is not a boolean", name, v))
			}
		case "", "string":
			if _, ok := v.(string); !ok {
				errs = append(errs, fmt.Errorf("input %s: %v is not a string", name, v))
			}
		}
	}
	var names []string
	for name := range c.Inputs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := given[name]; !ok && c.Inputs[name].Required() {
			errs = append(errs, fmt.Errorf("required input %s is not given", name))
		}
	}
	return errors.Join(errs...)
}

// Config checks given and returns the component's configuration as
// GitLab merges it into a pipeline: the body parsed, then each
// `$[[ inputs.NAME ]]` in its strings replaced by the given value or the
// default (a string that is one interpolation keeps the input's type).
func (c *Component) Config(given map[string]any) (map[string]any, error) {
	if err := c.CheckInputs(given); err != nil {
		return nil, err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(c.Body), &cfg); err != nil {
		return nil, fmt.Errorf("the component's configuration: %w", err)
	}
	var errs []error
	value := func(name string) any {
		if v, ok := given[name]; ok {
			return v
		}
		in, ok := c.Inputs[name]
		if !ok {
			errs = append(errs, fmt.Errorf("$[[ inputs.%s ]]: no such input", name))
			return ""
		}
		return in.Default
	}
	str := func(s string) any {
		if m := interp.FindStringSubmatch(s); m != nil && m[0] == s {
			return value(m[1])
		}
		return interp.ReplaceAllStringFunc(s, func(m string) string {
			return fmt.Sprint(value(interp.FindStringSubmatch(m)[1]))
		})
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			return str(v)
		case []any:
			for i := range v {
				v[i] = walk(v[i])
			}
		case map[string]any:
			out := map[string]any{}
			for k, x := range v {
				out[fmt.Sprint(str(k))] = walk(x)
			}
			return out
		}
		return v
	}
	cfg = walk(cfg).(map[string]any)
	return cfg, errors.Join(errs...)
}
