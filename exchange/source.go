// Package exchange talks to the Kubernetes API server for kubemint.
//
// It owns the source side of a mint: loading the credentials that mint (a
// kubeconfig context with whatever authentication client-go supports for
// it, the pod's own service account, or a token file), bounding a mint in
// time (Source.Bounded), minting a token for a service account through the
// TokenRequest API, setup's objects and reviews, and turning the API
// server's answers into errors that name the fix (with hints, package
// hint).
package exchange

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/internal/hint"
)

// DefaultTimeout bounds each request to the API server when the
// kubeconfig sets no timeout of its own.
const DefaultTimeout = 20 * time.Second

// Source is the identity that mints: a kubeconfig context (LoadSource), the
// pod's service account (InCluster), a token file (TokenFile), or the
// account's own token renewing itself (SelfSource).
type Source struct {
	// Context is the name of the kubeconfig context, or what the source is
	// when it is not a context ("in-cluster", a token file).
	Context string
	// Label names the source in messages: `context "admin"`, "the pod's
	// service account", "the token in /path".
	Label string
	// Config authenticates as the context's user.
	Config *rest.Config
	// Server and CAData name the context's API server, as the cache key
	// needs them when the exec entry does not provide cluster info.
	Server string
	CAData []byte
	// RefusedHint, when set, replaces the generic fix of a 401: what the
	// cluster must trust for this source's token to be accepted.
	RefusedHint string
}

// LoadSource loads contextName (the current context when empty) from the
// kubeconfig at path, or from the default client-go locations ($KUBECONFIG,
// then ~/.kube/config) when path is empty. Before client-go parses them,
// each file is checked to be a regular file of bounded size. It refuses a
// context whose user runs kubemint itself (a loop), reads every file the
// context names bounded (sourceFiles: client-go gets their content, never
// the file), checks the user's client certificate and key, and sets kubemint's user agent and, when the kubeconfig sets none,
// DefaultTimeout.
func LoadSource(path, contextName string) (*Source, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	where := "the kubeconfig ($KUBECONFIG or ~/.kube/config)"
	if path != "" {
		rules.ExplicitPath = path
		where = path
	}
	files := rules.Precedence
	if rules.ExplicitPath != "" {
		files = []string{rules.ExplicitPath}
	}
	for _, p := range files {
		if err := checkKubeconfig(p); err != nil {
			return nil, err
		}
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", where, err)
	}
	if contextName == "" {
		contextName = raw.CurrentContext
		if contextName == "" {
			return nil, hint.Wrap(fmt.Errorf("no --source-context given and %s has no current-context", where), contextList(raw))
		}
	}
	kctx, ok := raw.Contexts[contextName]
	if !ok {
		return nil, hint.Wrap(fmt.Errorf("context %q not found in %s", contextName, where), contextList(raw))
	}
	if user, ok := raw.AuthInfos[kctx.AuthInfo]; ok && user.Exec != nil && IsKubemintCommand(user.Exec.Command) {
		return nil, hint.Wrap(fmt.Errorf("context %q authenticates with kubemint itself (user %q), so it cannot mint kubemint's tokens", contextName, kctx.AuthInfo),
			"set --source-context to a context with credentials of its own (a certificate, a token or another exec plugin)")
	}
	certFile, keyFile, err := sourceFiles(raw, contextName)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, contextName, &clientcmd.ConfigOverrides{}, rules).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("context %q in %s: %w", contextName, where, err)
	}
	if err := checkClientCert(cfg, contextName, kctx.AuthInfo, certFile, keyFile); err != nil {
		return nil, err
	}
	cfg.UserAgent = "kubemint"
	if cfg.Timeout == 0 {
		// A hung connection must not hang kubectl, which waits for us.
		cfg.Timeout = DefaultTimeout
	}
	return &Source{Context: contextName, Label: fmt.Sprintf("context %q", contextName), Config: cfg, Server: cfg.Host, CAData: cfg.CAData}, nil
}

// IsKubemintCommand reports whether an exec entry's command runs kubemint.
func IsKubemintCommand(command string) bool {
	base := strings.TrimSuffix(filepath.Base(command), ".exe")
	return base == "kubemint" || base == "kubemint-full" || base == "kubectl-mint"
}

// ContextNames lists the contexts of the kubeconfig at path (the default
// locations when empty), sorted: for shell completion and hints.
func ContextNames(path string) ([]string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	raw, err := rules.Load()
	if err != nil {
		return nil, err
	}
	return Sorted(raw.Contexts), nil
}

// Sorted returns the names of a kubeconfig's contexts, users or clusters,
// sorted, so that what kubemint lists or walks comes in one order.
func Sorted[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// ChooseContextHint names the contexts to choose --source-context from
// (names, sorted), for a context that was not found.
func ChooseContextHint(names []string) string {
	if len(names) == 0 {
		return "it has no contexts: point --source-kubeconfig at a kubeconfig whose context may do this (your own login for kubemint use, an admin's for setup)"
	}
	return "set --source-context to one of: " + strings.Join(names, ", ")
}

func contextList(raw *clientcmdapi.Config) string {
	return ChooseContextHint(Sorted(raw.Contexts))
}
