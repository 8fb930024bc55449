package exchange

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"

	"github.com/kubemint/kubemint/internal/hint"
)

// ServiceAccountDir is where the kubelet mounts a pod's service-account
// token, CA and namespace.
const ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// TestServiceAccountDirEnv names a directory that stands in for
// ServiceAccountDir. Only kubemint's end-to-end tests set it.
const TestServiceAccountDirEnv = "KUBEMINT_TEST_SERVICEACCOUNT_DIR"

// InCluster is the source of a process in a pod: the pod's own projected
// service-account token, CA and API server. The token file is read here,
// bounded (ReadTokenFile), and each mint is a new kubemint process, so a
// token the kubelet rotated is picked up by the next mint.
func InCluster() (*Source, error) {
	dir := ServiceAccountDir
	if d := os.Getenv(TestServiceAccountDirEnv); d != "" {
		dir = d
	}
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, hint.Wrap(errors.New("--source-in-cluster needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which the kubelet sets in every pod"), "outside a pod, use --source-context or --source-token-file")
	}
	tokenFile := filepath.Join(dir, "token")
	token, err := ReadTokenFile(tokenFile, "the pod's service-account token")
	if err != nil {
		return nil, fmt.Errorf("%w (is automountServiceAccountToken false for this pod?)", err)
	}
	ca, err := ReadBounded(filepath.Join(dir, "ca.crt"), "the pod's cluster CA", CAFileLimit)
	if err != nil {
		return nil, err
	}
	server := "https://" + net.JoinHostPort(host, port)
	cfg := bearerConfig(server, ca)
	cfg.BearerToken = token
	return &Source{Context: "in-cluster", Label: "the pod's service account", Config: cfg, Server: server, CAData: ca}, nil
}

// TokenFile is the source of any bearer token the API server accepts, kept
// fresh in a file by something else (a CI system's OIDC token, another
// tool). server and ca name the API server. The file is read here, on
// every mint (each is a new process), bounded: client-go's own
// BearerTokenFile would read a pipe or a device without end.
func TokenFile(path, server string, ca []byte) (*Source, error) {
	token, err := ReadTokenFile(path, "--source-token-file")
	if err != nil {
		return nil, err
	}
	if server == "" {
		return nil, hint.Wrap(errors.New("the API server for --source-token-file is unknown"), noServerHint)
	}
	cfg := bearerConfig(server, ca)
	cfg.BearerToken = token
	return &Source{Context: "token-file", Label: "the token in " + path, Config: cfg, Server: server, CAData: ca}, nil
}

// noServerHint is the fix for a token source that knows no API server: the
// exec info's cluster is never taken unless pinned (see resolve/pin.go).
const noServerHint = "pass --source-server=URL (and --source-certificate-authority=FILE), the API server to mint on; with provideClusterInfo: true, --allow-server=URL pins the cluster's server instead"

// SelfSource mints with token itself: a service account renewing its own
// token, on the API server server verified with ca.
func SelfSource(account, server string, ca []byte, token string) *Source {
	cfg := bearerConfig(server, ca)
	cfg.BearerToken = token
	return &Source{Context: "self", Label: "the token of " + account, Config: cfg, Server: server, CAData: ca}
}

// bearerConfig is a client config for server, verified with ca, that a
// bearer token will authenticate.
func bearerConfig(server string, ca []byte) *rest.Config {
	return &rest.Config{
		Host:            server,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		UserAgent:       "kubemint",
		Timeout:         DefaultTimeout,
	}
}
