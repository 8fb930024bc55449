package resolve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/credential"
)

// testCA is a self-signed CA certificate in PEM.
func testCA(t *testing.T, name string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestCheckCA: the exec info's cluster must trust no CA the source does
// not; where either names none there is nothing to compare.
func TestCheckCA(t *testing.T) {
	ours, old, theirs := testCA(t, "cluster"), testCA(t, "old cluster"), testCA(t, "someone else")
	bundle := append(append([]byte{}, old...), ours...)
	for _, tt := range []struct {
		name         string
		exec, source []byte
		wantRefused  bool
	}{
		{"the same CA", ours, ours, false},
		{"the same CA, written differently", append([]byte("# a comment\n"), ours...), ours, false},
		{"one CA of the source's bundle", ours, bundle, false},
		{"the source's bundle", bundle, bundle, false},
		{"another CA", theirs, ours, true},
		{"the source's CA and another", append(append([]byte{}, ours...), theirs...), ours, true},
		{"a bundle where the source has one of its CAs", bundle, ours, true},
		{"not PEM", []byte("garbage"), ours, true},
		{"the exec info names none", nil, ours, false},
		{"the source names none (system roots)", theirs, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkCA(&credential.Cluster{Server: "https://k8s.example:6443", CertificateAuthorityData: tt.exec}, `context "admin"`, tt.source)
			if (err != nil) != tt.wantRefused {
				t.Fatalf("checkCA = %v, want refused %v", err, tt.wantRefused)
			}
			if err != nil && !strings.Contains(err.Error(), `the exec entry's cluster (https://k8s.example:6443) trusts a certificate authority that context "admin" does not`) {
				t.Errorf("the refusal does not name the cluster and the source: %v", err)
			}
		})
	}
}
