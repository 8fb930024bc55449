package resolve

import (
	"fmt"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/internal/hint"
)

// The server pin (credential/pin.go states the rule): a credential goes
// only to a server the user pinned. The exec info's cluster comes from
// whichever context runs the exec user, so it pins nothing by itself.

// notPinnedError is the error of a call whose exec info names a server
// the source does not pin.
type notPinnedError struct {
	// Cluster is the exec info's server, where kubectl would send the token.
	Cluster string
	// Source names the source; Server is its own server ("" for a token
	// source without --source-server).
	Source, Server string
}

func (e *notPinnedError) Error() string {
	if e.Server == "" {
		return fmt.Sprintf("the exec entry's cluster is %s, and %s names no API server of its own: kubemint sends it only to a server pinned with --source-server or --allow-server", e.Cluster, e.Source)
	}
	return fmt.Sprintf("the exec entry's cluster is %s, but %s is for %s: kubemint sends credentials only to the server its source names", e.Cluster, e.Source, e.Server)
}

// notPinned is notPinnedError with the fixes.
func notPinned(cluster, source, server string) error {
	err := &notPinnedError{Cluster: cluster, Source: source, Server: server}
	if server == "" {
		return hint.Wrap(err, fmt.Sprintf("if %s is the API server to mint on, add --source-server=%s (or --allow-server=%s, which takes its CA from the kubeconfig) to the exec entry's args", cluster, cluster, cluster))
	}
	return hint.Wrap(err,
		fmt.Sprintf("if %s is %s under another name, add --allow-server=%s to the exec entry's args", cluster, server, cluster),
		fmt.Sprintf("otherwise use this exec user only with a context whose cluster is %s", server))
}

// checkPin refuses a source whose own server is server (a kubeconfig
// context's, the pod's) for the exec info's cluster, unless they are the
// same server or --allow-server names the cluster.
func checkPin(o *credential.Options, cluster *credential.Cluster, source, server string) error {
	if cluster == nil || credential.SameServer(cluster.Server, server) || o.Allowed(cluster.Server) {
		return nil
	}
	return notPinned(cluster.Server, source, server)
}
