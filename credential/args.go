package credential

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubemint/kubemint/cache"
)

// Args writes the options as the flags AddFlags reads, in one fixed order,
// leaving out what is at its default (a 1h duration, the auto cache, an
// unset flag): the inverse of ParseArgs. Every exec entry kubemint writes
// gets its token arguments here, so what is written is what `kubemint
// token` reads back.
func (o *Options) Args() []string {
	var args []string
	str := func(flag, v string) {
		if v != "" {
			args = append(args, "--"+flag+"="+v)
		}
	}
	boolean := func(flag string, v bool) {
		if v {
			args = append(args, "--"+flag)
		}
	}
	dur := func(flag string, v time.Duration) {
		if v != 0 {
			args = append(args, "--"+flag+"="+v.String())
		}
	}
	str("service-account", o.ServiceAccount)
	str("source-context", o.SourceContext)
	str("source-kubeconfig", o.SourceKubeconfig)
	boolean("source-in-cluster", o.SourceInCluster)
	str("source-token-file", o.SourceTokenFile)
	boolean("source-github-actions", o.SourceGitHubActions)
	str("source-token-env", o.SourceTokenEnv)
	str("source-audience", o.SourceAudience)
	str("source-server", o.SourceServer)
	str("source-certificate-authority", o.SourceCA)
	for _, a := range o.AllowServers {
		args = append(args, "--allow-server="+a)
	}
	if o.Duration != time.Hour {
		// Zero too: AddFlags' default is 1h, so an explicit 0 is written.
		args = append(args, "--duration="+o.Duration.String())
	}
	for _, a := range o.Audiences {
		args = append(args, "--audience="+a)
	}
	str("bound-object-kind", o.BoundObjectKind)
	str("bound-object-name", o.BoundObjectName)
	str("bound-object-uid", o.BoundObjectUID)
	boolean("self-renew", o.SelfRenew)
	dur("max-chain-age", o.MaxChainAge)
	if o.Cache != string(cache.Auto) {
		str("cache", o.Cache)
	}
	dur("refresh-before", o.RefreshBefore)
	dur("request-timeout", o.RequestTimeout)
	if o.Verbosity != 0 {
		args = append(args, "--v="+strconv.Itoa(o.Verbosity))
	}
	return args
}

// ParseArgs reads token flags (an exec entry's arguments after "token")
// into Options with AddFlags' defaults, without validating them: the
// inverse of Args.
func ParseArgs(args []string) (Options, error) {
	var o Options
	fs := pflag.NewFlagSet("token", pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // the caller reports the error, not pflag's usage
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.Cache == "" {
		o.Cache = string(cache.Auto)
	}
	return o, nil
}
