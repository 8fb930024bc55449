package exchange

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
)

// ServiceAccountDir is where the kubelet mounts a pod's service-account
// token, CA and namespace.
const ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// TestServiceAccountDirEnv names a directory that stands in for
// ServiceAccountDir. Only kubemint's end-to-end tests set it.
const TestServiceAccountDirEnv = "KUBEMINT_TEST_SERVICEACCOUNT_DIR"

// InCluster is the source of a process in a pod: the pod's own projected
// service-account token, CA and API server. The token file is read when a
// request is made, so a token the kubelet rotated is picked up.
func InCluster() (*Source, error) {
	dir := ServiceAccountDir
	if d := os.Getenv(TestServiceAccountDirEnv); d != "" {
		dir = d
	}
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("--source-in-cluster needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which the kubelet sets in every pod; outside a pod, use --source-context or --source-token-file")
	}
	tokenFile := filepath.Join(dir, "token")
	if err := readable(tokenFile, "the pod's service-account token"); err != nil {
		return nil, fmt.Errorf("%w (is automountServiceAccountToken false for this pod?)", err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("reading the pod's cluster CA: %w", err)
	}
	server := "https://" + net.JoinHostPort(host, port)
	cfg := bearerConfig(server, ca)
	cfg.BearerTokenFile = tokenFile
	return &Source{Context: "in-cluster", Label: "the pod's service account", Config: cfg, Server: server, CAData: ca}, nil
}

// TokenFile is the source of any bearer token the API server accepts, kept
// fresh in a file by something else (a CI system's OIDC token, another
// tool). server and ca name the API server; the file is read when a
// request is made.
func TokenFile(path, server string, ca []byte) (*Source, error) {
	if err := readable(path, "--source-token-file"); err != nil {
		return nil, err
	}
	if server == "" {
		return nil, errors.New("the API server for --source-token-file is unknown: set provideClusterInfo: true in the exec entry, or pass --source-server (and --source-certificate-authority)")
	}
	cfg := bearerConfig(server, ca)
	cfg.BearerTokenFile = path
	return &Source{Context: "token-file", Label: "the token in " + path, Config: cfg, Server: server, CAData: ca}, nil
}

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

// readable checks that a token file exists and is not empty, naming it in
// the error (never its content).
func readable(path, what string) error {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s %s does not exist", what, path)
	case err != nil:
		return fmt.Errorf("%s %s cannot be read: %w", what, path, err)
	case len(strings.TrimSpace(string(b))) == 0:
		return fmt.Errorf("%s %s is empty", what, path)
	}
	return nil
}
