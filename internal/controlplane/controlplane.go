// Package controlplane runs a throwaway Kubernetes control plane, a real
// etcd and a real kube-apiserver on loopback ports, for kubemint's
// end-to-end tests, `make demo` and `make bench`. The binaries are built from the
// pinned module in tools/cluster (make tools); this package only starts them.
//
// There is no controller manager: namespaces and service accounts are made
// explicitly, and aggregated ClusterRoles such as view are empty.
package controlplane

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a started process and a channel closed when it exits.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// ControlPlane is a running etcd and kube-apiserver.
type ControlPlane struct {
	// Dir holds certificates, keys, data and logs.
	Dir string
	// Server is the API server's URL, https://127.0.0.1:PORT.
	Server string
	// CAFile verifies the API server and signs client certificates.
	CAFile string
	// AdminKubeconfig authenticates as a member of system:masters, with a
	// context named "admin".
	AdminKubeconfig string

	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	procs  []*proc
	client *http.Client
}

// Start starts etcd and kube-apiserver from binDir in dir and waits until
// the API server is ready. apiserverArgs are added to kube-apiserver's
// flags (an --authentication-config, say).
func Start(ctx context.Context, binDir, dir string, apiserverArgs ...string) (_ *ControlPlane, err error) {
	cp := &ControlPlane{Dir: dir}
	defer func() {
		if err != nil {
			cp.Stop()
		}
	}()
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(binDir, b)); err != nil {
			return nil, fmt.Errorf("%s not found in %s; run make tools", b, binDir)
		}
	}
	if err := cp.writePKI(); err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	if err := cp.start(filepath.Join(binDir, "etcd"), "etcd.log",
		"--name=default",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync",
		"--log-level=warn",
	); err != nil {
		return nil, err
	}
	cp.Server = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	if err := cp.writeAdminKubeconfig(); err != nil {
		return nil, err
	}
	if err := cp.start(filepath.Join(binDir, "kube-apiserver"), "kube-apiserver.log", append([]string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// A loopback address cannot be the kubernetes Service's endpoint.
		"--endpoint-reconciler-type=none",
		"--secure-port=" + strconv.Itoa(ports[2]),
		"--tls-cert-file=" + cp.path("serving.crt"),
		"--tls-private-key-file=" + cp.path("serving.key"),
		"--client-ca-file=" + cp.CAFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + cp.path("sa.key"),
		"--service-account-signing-key-file=" + cp.path("sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--cert-dir=" + cp.path("certs"),
	}, apiserverArgs...)...); err != nil {
		return nil, err
	}
	if err := cp.waitReady(ctx); err != nil {
		return nil, err
	}
	return cp, nil
}

// Stop ends the processes; their data stays in Dir.
func (cp *ControlPlane) Stop() {
	for i := len(cp.procs) - 1; i >= 0; i-- {
		p := cp.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	cp.procs = nil
}

func (cp *ControlPlane) path(name string) string { return filepath.Join(cp.Dir, name) }

func (cp *ControlPlane) start(bin, logName string, args ...string) error {
	logf, err := os.Create(cp.path(logName))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	cp.procs = append(cp.procs, p)
	return nil
}

func (cp *ControlPlane) waitReady(ctx context.Context) error {
	cert, err := tls.LoadX509KeyPair(cp.path("admin.crt"), cp.path("admin.key"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cp.ca)
	cp.client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}},
	}}
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		resp, err := cp.client.Get(cp.Server + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		for _, p := range cp.procs {
			select {
			case <-p.exited:
				return fmt.Errorf("%s exited early; see its log in %s", filepath.Base(p.cmd.Path), cp.Dir)
			default:
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver not ready after 60s (%s); see %s", last, cp.path("kube-apiserver.log"))
}

// Metric returns the sum of a Prometheus counter's samples on the API
// server's /metrics whose labels include every one of labels (for example
// `resource="serviceaccounts"`).
func (cp *ControlPlane) Metric(name string, labels ...string) (float64, error) {
	resp, err := cp.client.Get(cp.Server + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(line, l)
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("parsing %q: %w", line, err)
		}
		sum += v
	}
	return sum, nil
}

// TokenRequests counts the TokenRequests the API server has answered.
func (cp *ControlPlane) TokenRequests() (float64, error) {
	return cp.Metric("apiserver_request_total", `resource="serviceaccounts"`, `subresource="token"`, `verb="POST"`)
}

// ClientCert issues a client certificate for user in groups, signed by the
// control plane's CA, and returns the paths of the certificate and key.
func (cp *ControlPlane) ClientCert(user string, groups ...string) (certFile, keyFile string, err error) {
	certFile, keyFile = cp.path("user-"+user+".crt"), cp.path("user-"+user+".key")
	return certFile, keyFile, cp.issueClientCert(certFile, keyFile, user, groups...)
}

func (cp *ControlPlane) issueClientCert(certFile, keyFile, user string, groups ...string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: user, Organization: groups},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return writeCert(certFile, keyFile, tmpl, cp.ca, key, cp.caKey)
}

// writePKI makes the CA, the serving certificate, the admin client
// certificate, the service-account signing key and the admin kubeconfig.
func (cp *ControlPlane) writePKI() error {
	if err := os.MkdirAll(cp.Dir, 0o700); err != nil {
		return err
	}
	ca, caKey, caFile, err := newCA(cp.Dir, "kubemint-test-ca")
	if err != nil {
		return err
	}
	cp.ca, cp.caKey, cp.CAFile = ca, caKey, caFile

	servingKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serving := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost", "kubernetes.default.svc"},
	}
	if err := writeCert(cp.path("serving.crt"), cp.path("serving.key"), serving, cp.ca, servingKey, caKey); err != nil {
		return err
	}
	if err := cp.issueClientCert(cp.path("admin.crt"), cp.path("admin.key"), "admin", "system:masters"); err != nil {
		return err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	if err := writeKey(cp.path("sa.key"), saKey); err != nil {
		return err
	}
	cp.AdminKubeconfig = cp.path("admin.kubeconfig")
	return nil
}

// writeAdminKubeconfig writes the admin kubeconfig once Server is known.
func (cp *ControlPlane) writeAdminKubeconfig() error {
	return os.WriteFile(cp.AdminKubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    client-certificate: %s
    client-key: %s
contexts:
- name: admin
  context: {cluster: local, user: admin}
current-context: admin
`, cp.Server, cp.CAFile, cp.path("admin.crt"), cp.path("admin.key"))), 0o600)
}

func writeCert(certFile, keyFile string, tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) error {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return err
	}
	return writeKey(keyFile, key)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	return n
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(errors.New("finding a free port"), err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// NewCA writes a CA certificate of its own into dir and returns its path:
// a CA that did not sign the control plane's certificates, for TLS failures.
func NewCA(dir string) (string, error) {
	_, _, path, err := newCA(dir, "unrelated-ca")
	return path, err
}

// newCA makes a self-signed CA named name and writes its certificate to
// dir/name.crt.
func newCA(dir, name string) (*x509.Certificate, *ecdsa.PrivateKey, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, "", err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, "", err
	}
	path := filepath.Join(dir, name+".crt")
	return cert, key, path, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
}

// PodReader is the namespace-level flow of the vendor guides as a
// manifest: namespace ns, service account ns/name, and a Role that reads
// pods in ns bound to it.
func PodReader(ns, name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: %[2]s, namespace: %[1]s}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: %[1]s}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: %[2]s-pod-reader, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {kind: ServiceAccount, name: %[2]s, namespace: %[1]s}
`, ns, name)
}
