package credential

import (
	"strconv"
	"strings"
	"time"

	"github.com/kubemint/kubemint/cache"
)

// parseLean reads token flags as AddFlags and pflag read them, for the
// forms the exec entries kubemint writes use (Options.Args: --name=value,
// and --name alone for a boolean), without building a pflag.FlagSet: that
// registers every flag with its help text, a cost on every cache hit. It
// reports false for anything else (another form, an unknown flag, a value
// that does not parse, an argument), and the caller parses with pflag,
// which decides or says what is wrong. TestParseLean holds the two equal.
func parseLean(args []string) (Options, bool) {
	o := Options{Duration: time.Hour, Cache: string(cache.Auto)}
	for _, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || name == "" || name[0] == '-' {
			return Options{}, false
		}
		set, isBool := o.leanFlag(name)
		if set == nil {
			return Options{}, false
		}
		if !hasValue {
			if !isBool {
				// pflag would take the next argument as the value.
				return Options{}, false
			}
			value = "true" // pflag's NoOptDefVal for a boolean
		}
		if set(value) != nil {
			return Options{}, false
		}
	}
	return o, true
}

// leanFlag returns how AddFlags' flag name sets its value (nil for a name
// it does not register), and whether it is a boolean.
func (o *Options) leanFlag(name string) (set func(string) error, isBool bool) {
	str := func(p *string) func(string) error {
		return func(v string) error { *p = v; return nil }
	}
	boolean := func(p *bool) func(string) error {
		return func(v string) error {
			b, err := strconv.ParseBool(v)
			*p = b
			return err
		}
	}
	dur := func(p *time.Duration) func(string) error {
		return func(v string) error {
			d, err := time.ParseDuration(v)
			*p = d
			return err
		}
	}
	// pflag's StringArray; its default here is empty, so each use appends.
	array := func(p *[]string) func(string) error {
		return func(v string) error { *p = append(*p, v); return nil }
	}
	switch name {
	case "service-account":
		return str(&o.ServiceAccount), false
	case "source-context":
		return str(&o.SourceContext), false
	case "source-kubeconfig":
		return str(&o.SourceKubeconfig), false
	case "source-in-cluster":
		return boolean(&o.SourceInCluster), true
	case "source-token-file":
		return str(&o.SourceTokenFile), false
	case "source-github-actions":
		return boolean(&o.SourceGitHubActions), true
	case "source-token-env":
		return str(&o.SourceTokenEnv), false
	case "source-audience":
		return str(&o.SourceAudience), false
	case "source-server":
		return str(&o.SourceServer), false
	case "source-certificate-authority":
		return str(&o.SourceCA), false
	case "allow-server":
		return array(&o.AllowServers), false
	case "self-renew":
		return boolean(&o.SelfRenew), true
	case "max-chain-age":
		return dur(&o.MaxChainAge), false
	case "duration":
		return dur(&o.Duration), false
	case "audience":
		return array(&o.Audiences), false
	case "bound-object-kind":
		return str(&o.BoundObjectKind), false
	case "bound-object-name":
		return str(&o.BoundObjectName), false
	case "bound-object-uid":
		return str(&o.BoundObjectUID), false
	case "cache":
		return str(&o.Cache), false
	case "refresh-before":
		return dur(&o.RefreshBefore), false
	case "request-timeout":
		return dur(&o.RequestTimeout), false
	case "v":
		return func(v string) error {
			n, err := strconv.ParseInt(v, 0, 64) // as pflag's int
			o.Verbosity = int(n)
			return err
		}, false
	}
	return nil, false
}
