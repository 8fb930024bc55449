// Package credential owns the contract of `kubemint token`: its flags and
// their validation, the KUBERNETES_EXEC_INFO it reads, the cache key that
// names a credential, the ExecCredential it writes, and the cache-hit path
// that answers most kubectl calls.
//
// Both binaries use it: the lean front (cmd/kubemint) answers hits with
// ServeCached, and the full CLI (cmd/kubemint-full) parses the same flags
// before it mints. It must never import client-go or apimachinery; a test
// (deps_test.go) enforces that, because their package init alone would
// double the cost of every kubectl call.
package credential

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubemint/kubemint/cache"
)

// MinDuration is the shortest token the TokenRequest API issues.
const MinDuration = 10 * time.Minute

// Options are the flags of `kubemint token`.
type Options struct {
	ServiceAccount   string
	SourceContext    string
	SourceKubeconfig string
	SourceInCluster  bool
	SourceTokenFile  string
	// SourceGitHubActions and SourceTokenEnv are the keyless CI sources:
	// the CI system's own OIDC token, asked for on every mint.
	SourceGitHubActions bool
	SourceTokenEnv      string
	SourceAudience      string
	SourceServer        string
	SourceCA            string
	// AllowServers are API servers, besides the source's own, that the
	// exec info's cluster may name (--allow-server): one server known by
	// two names. See pin.go.
	AllowServers []string
	SelfRenew    bool
	MaxChainAge  time.Duration

	Duration        time.Duration
	Audiences       []string
	BoundObjectKind string
	BoundObjectName string
	BoundObjectUID  string

	Cache          string
	RefreshBefore  time.Duration
	RequestTimeout time.Duration
	Verbosity      int
}

// AddFlags registers the token flags on fs. The token-shaping flags carry
// the names and meaning of `kubectl create token`.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ServiceAccount, "service-account", o.ServiceAccount, "Service account to mint a token for, as NAMESPACE/NAME (required).")
	fs.StringVar(&o.SourceContext, "source-context", o.SourceContext, "Kubeconfig context whose credentials mint the token; it needs create on serviceaccounts/token for the account. Default: the current context.")
	fs.StringVar(&o.SourceKubeconfig, "source-kubeconfig", o.SourceKubeconfig, "Kubeconfig file that holds --source-context. Default: $KUBECONFIG, then ~/.kube/config.")
	fs.BoolVar(&o.SourceInCluster, "source-in-cluster", o.SourceInCluster, "Mint with the service-account token of the pod kubemint runs in (/var/run/secrets/kubernetes.io/serviceaccount), re-read on every mint.")
	fs.StringVar(&o.SourceTokenFile, "source-token-file", o.SourceTokenFile, "Mint with the bearer token in this file (a CI system's OIDC token, a token another tool keeps fresh), re-read on every mint.")
	fs.BoolVar(&o.SourceGitHubActions, "source-github-actions", o.SourceGitHubActions, "Mint with the GitHub Actions job's OIDC ID token, asked of $ACTIONS_ID_TOKEN_REQUEST_URL on every mint (the workflow needs permissions: id-token: write; the cluster must trust GitHub's issuer).")
	fs.StringVar(&o.SourceTokenEnv, "source-token-env", o.SourceTokenEnv, "Mint with the token in this environment variable (a GitLab CI id_tokens variable, any CI's OIDC token), read on every mint.")
	fs.StringVar(&o.SourceAudience, "source-audience", o.SourceAudience, "With --source-github-actions: the audience of the ID token, which the cluster's AuthenticationConfiguration must list. Default: kubernetes.")
	fs.StringVar(&o.SourceServer, "source-server", o.SourceServer, "API server for --source-token-file, --source-github-actions or --source-token-env when the exec entry does not set provideClusterInfo.")
	fs.StringVar(&o.SourceCA, "source-certificate-authority", o.SourceCA, "CA file that verifies --source-server.")
	fs.StringArrayVar(&o.AllowServers, "allow-server", o.AllowServers, "An API server the exec entry's cluster may name besides the source's own (its kubeconfig cluster, the pod's, --source-server): a second name of the same server. kubemint sends credentials to no other. With a token source and no --source-server, the one server it mints on. May be repeated.")
	fs.BoolVar(&o.SelfRenew, "self-renew", o.SelfRenew, "Let the cached token mint its own successor (the account needs create on its own serviceaccounts/token; kubemint setup --self-renew grants it). The source is needed only to start the chain, or when it breaks.")
	fs.DurationVar(&o.MaxChainAge, "max-chain-age", o.MaxChainAge, "With --self-renew: after this long since the source last minted, use the source again. Default: no limit.")
	if o.Duration == 0 {
		o.Duration = time.Hour
	}
	fs.DurationVar(&o.Duration, "duration", o.Duration, "Requested lifetime of the token. The server may return a token with a longer or shorter lifetime; at least 10m.")
	fs.StringArrayVar(&o.Audiences, "audience", o.Audiences, "Audience of the requested token. If unset, defaults to requesting a token for use with the Kubernetes API server. May be repeated to request a token valid for multiple audiences.")
	fs.StringVar(&o.BoundObjectKind, "bound-object-kind", o.BoundObjectKind, "Kind of an object to bind the token to. Supported kinds are Pod, Secret. If set, --bound-object-name must be provided.")
	fs.StringVar(&o.BoundObjectName, "bound-object-name", o.BoundObjectName, "Name of an object to bind the token to. The token will expire when the object is deleted. Requires --bound-object-kind.")
	fs.StringVar(&o.BoundObjectUID, "bound-object-uid", o.BoundObjectUID, "UID of an object to bind the token to. Requires --bound-object-kind and --bound-object-name. If unset, the UID of the existing object is used.")
	if o.Cache == "" {
		o.Cache = string(cache.Auto)
	}
	fs.StringVar(&o.Cache, "cache", o.Cache, "Where to keep the token between calls: auto (the OS keyring where one answers; on Linux without one, the kernel keyring; else the file cache), keyring, kernel (Linux: the kernel keyring alone, nothing on disk), file or none.")
	fs.DurationVar(&o.RefreshBefore, "refresh-before", o.RefreshBefore, "Mint a new token this long before the cached one expires. Default: a fifth of the token's lifetime.")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "How long a mint may take, the source's own exec plugin included (stopped when it runs over). Default: the source context's timeout, else 20s.")
	AddVerbosityFlag(fs, &o.Verbosity)
}

// AddVerbosityFlag registers -v, spelled as kubectl spells it (-v 6, -v=6,
// --v=6). It is kubemint's own flag, not klog's global one.
func AddVerbosityFlag(fs *pflag.FlagSet, v *int) {
	fs.IntVarP(v, "v", "v", *v, "Number for the log level verbosity on stderr (1: cache misses, mints and failures, 4: each step, hits too, 6: API requests). Tokens are never logged.")
}

// boundKinds are the objects a token can be bound to, as in kubectl create token.
var boundKinds = []string{"Pod", "Secret"}

// Validate checks the options before anything is read or sent. Its wording
// follows kubectl create token where the flags are the same. The checks
// run in one order (account, lifetime, source, timing, bound object,
// cache), so that of several mistakes the same one is reported first.
func (o *Options) Validate() error {
	if _, _, err := o.Account(); err != nil {
		return err
	}
	for _, check := range []func() error{o.validateLifetime, o.validateSource, o.validateTiming, o.validateBound} {
		if err := check(); err != nil {
			return err
		}
	}
	_, err := cache.ParseMode(o.Cache)
	return err
}

// validateLifetime checks --duration, as kubectl create token does, and
// the TokenRequest API's minimum.
func (o *Options) validateLifetime() error {
	switch {
	case o.Duration < 0:
		return fmt.Errorf("--duration must be greater than or equal to 0")
	case o.Duration%time.Second != 0:
		return fmt.Errorf("--duration cannot be expressed in units less than seconds")
	case o.Duration < MinDuration:
		return fmt.Errorf("--duration must be at least %v, the shortest token the API server issues; got %v", shortDuration(MinDuration), shortDuration(o.Duration))
	}
	return nil
}

// validateSource checks that at most one source is named and that the
// flags that qualify a source go with it.
func (o *Options) validateSource() error {
	sources := 0
	for _, set := range []bool{o.SourceContext != "" || o.SourceKubeconfig != "", o.SourceInCluster, o.SourceTokenFile != "", o.SourceGitHubActions, o.SourceTokenEnv != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources > 1:
		return fmt.Errorf("choose one source: --source-context (with --source-kubeconfig), --source-in-cluster, --source-token-file, --source-github-actions or --source-token-env")
	case (o.SourceServer != "" || o.SourceCA != "") && !o.bearerSource():
		return fmt.Errorf("--source-server and --source-certificate-authority go with --source-token-file, --source-github-actions or --source-token-env")
	case o.SourceAudience != "" && !o.SourceGitHubActions:
		return fmt.Errorf("--source-audience goes with --source-github-actions (with --source-token-env, the CI system sets the token's audience: GitLab's id_tokens aud)")
	case o.SourceTokenEnv != "" && !isEnvName(o.SourceTokenEnv):
		return fmt.Errorf("--source-token-env takes the name of an environment variable (letters, digits and '_', for example KUBE_ID_TOKEN), got %q", o.SourceTokenEnv)
	case o.MaxChainAge != 0 && !o.SelfRenew:
		return fmt.Errorf("--max-chain-age goes with --self-renew")
	case o.MaxChainAge < 0:
		return fmt.Errorf("--max-chain-age must be greater than or equal to 0")
	}
	return checkAllowServers(o.AllowServers)
}

// validateTiming checks the token's timing flags against each other and
// its audiences.
func (o *Options) validateTiming() error {
	switch {
	case o.RequestTimeout < 0:
		return fmt.Errorf("--request-timeout must be greater than or equal to 0")
	case o.RefreshBefore < 0:
		return fmt.Errorf("--refresh-before must be greater than or equal to 0")
	case o.RefreshBefore >= o.Duration:
		return fmt.Errorf("--refresh-before (%v) must be shorter than --duration (%v)", shortDuration(o.RefreshBefore), shortDuration(o.Duration))
	}
	for _, a := range o.Audiences {
		if a == "" {
			return fmt.Errorf("--audience must not be an empty string")
		}
	}
	return nil
}

// validateBound checks the bound object, worded as kubectl create token.
func (o *Options) validateBound() error {
	switch {
	case o.BoundObjectKind == "" && o.BoundObjectName != "":
		return fmt.Errorf("--bound-object-name can only be set if --bound-object-kind is provided")
	case o.BoundObjectKind == "" && o.BoundObjectUID != "":
		return fmt.Errorf("--bound-object-uid can only be set if --bound-object-kind is provided")
	case o.BoundObjectKind == "":
		return nil
	case !slices.Contains(boundKinds, o.BoundObjectKind):
		return fmt.Errorf("supported --bound-object-kind values are %s", strings.Join(boundKinds, ", "))
	case o.BoundObjectName == "":
		return fmt.Errorf("--bound-object-name is required if --bound-object-kind is provided")
	}
	return nil
}

// bearerSource reports whether the source is a bearer token that names no
// API server of its own, so --source-server may name it.
func (o *Options) bearerSource() bool {
	return o.SourceTokenFile != "" || o.SourceGitHubActions || o.SourceTokenEnv != ""
}

// isEnvName reports whether s is a portable environment variable name.
func isEnvName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// SourceFlag names the source the options choose, as its flag, for
// messages (Validate lets only one be set).
func (o *Options) SourceFlag() string {
	switch {
	case o.SourceInCluster:
		return "--source-in-cluster"
	case o.SourceTokenFile != "":
		return "--source-token-file=" + o.SourceTokenFile
	case o.SourceGitHubActions:
		return "--source-github-actions"
	case o.SourceTokenEnv != "":
		return "--source-token-env=" + o.SourceTokenEnv
	case o.SourceContext != "":
		return "--source-context=" + o.SourceContext
	}
	return "its kubeconfig's current context"
}

// Account splits --service-account into namespace and name.
func (o *Options) Account() (namespace, name string, err error) {
	if o.ServiceAccount == "" {
		return "", "", fmt.Errorf("--service-account is required, as NAMESPACE/NAME (for example --service-account=ci/deployer)")
	}
	ns, n, ok := strings.Cut(o.ServiceAccount, "/")
	if !ok || ns == "" || n == "" || strings.Contains(n, "/") {
		return "", "", fmt.Errorf("--service-account must be NAMESPACE/NAME (for example ci/deployer), got %q", o.ServiceAccount)
	}
	if !isDNSLabel(ns) {
		return "", "", fmt.Errorf("--service-account: namespace %q is not a valid name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters", ns)
	}
	if len(n) > 253 || !allLabels(n) {
		return "", "", fmt.Errorf("--service-account: %q is not a valid service account name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters", n)
	}
	return ns, n, nil
}

// isDNSLabel reports whether s is an RFC 1123 label, as Kubernetes
// requires of namespaces. Hand-written rather than a regexp: this runs on
// every cache hit.
func isDNSLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// allLabels reports whether s is an RFC 1123 subdomain: labels joined by
// dots, as Kubernetes requires of service account names.
func allLabels(s string) bool {
	for _, l := range strings.Split(s, ".") {
		if !isDNSLabel(l) {
			return false
		}
	}
	return true
}

// shortDuration prints 1h0m0s as 1h and 10m0s as 10m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
