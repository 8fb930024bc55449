package credential_test

// The lean exec-info parser and ExecCredential writer are the only ones
// kubemint has; these tests hold them to client-go's own
// clientauthentication types and codecs (the ones its exec authenticator
// uses), in both apiVersions. Tests may link client-go: the lean binary
// does not (deps_test.go).

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/pkg/apis/clientauthentication"
	"k8s.io/client-go/pkg/apis/clientauthentication/install"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	clientauthv1beta1 "k8s.io/client-go/pkg/apis/clientauthentication/v1beta1"
	"k8s.io/client-go/plugin/pkg/client/auth/exec"
	"k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/transport"

	"github.com/kubemint/kubemint/credential"
)

// codecs are client-go's exec authenticator's: its scheme, installed the
// same way.
var codecs = func() serializer.CodecFactory {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return serializer.NewCodecFactory(scheme)
}()

var versions = map[string]schema.GroupVersion{
	credential.APIVersionV1:      clientauthv1.SchemeGroupVersion,
	credential.APIVersionV1beta1: clientauthv1beta1.SchemeGroupVersion,
}

// What MarshalExecCredential writes, client-go's decoder reads back: the
// same apiVersion, token and expiry (to the second, as RFC 3339 holds it).
// It is also, to the byte, what client-go's own types marshal.
func TestExecCredentialDecodesInClientGo(t *testing.T) {
	refreshAt := time.Date(2026, 11, 24, 12, 34, 56, 789, time.FixedZone("X", 3600))
	for v, gv := range versions {
		b := credential.MarshalExecCredential(v, "header.payload.signature", refreshAt)
		var cred clientauthentication.ExecCredential
		_, gvk, err := codecs.UniversalDecoder(gv).Decode(b, nil, &cred)
		if err != nil {
			t.Fatalf("%s: client-go cannot decode %s: %v", v, b, err)
		}
		if gvk.GroupVersion() != gv {
			t.Errorf("%s: decoded as %v", v, gvk)
		}
		if cred.Status == nil || cred.Status.Token != "header.payload.signature" || cred.Status.ExpirationTimestamp == nil || !cred.Status.ExpirationTimestamp.Time.Equal(refreshAt.Truncate(time.Second)) {
			t.Errorf("%s: decoded %+v", v, cred.Status)
		}

		ts := metav1.NewTime(refreshAt)
		var typed any = &clientauthv1.ExecCredential{
			TypeMeta: metav1.TypeMeta{Kind: "ExecCredential", APIVersion: v},
			Status:   &clientauthv1.ExecCredentialStatus{Token: "header.payload.signature", ExpirationTimestamp: &ts},
		}
		if v == credential.APIVersionV1beta1 {
			typed = &clientauthv1beta1.ExecCredential{
				TypeMeta: metav1.TypeMeta{Kind: "ExecCredential", APIVersion: v},
				Status:   &clientauthv1beta1.ExecCredentialStatus{Token: "header.payload.signature", ExpirationTimestamp: &ts},
			}
		}
		want, err := json.Marshal(typed)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want)+"\n", string(b)); diff != "" {
			t.Errorf("%s: client-go's types (-) and the lean writer (+) differ:\n%s", v, diff)
		}
	}
}

// ParseExecInfo reads the KUBERNETES_EXEC_INFO client-go's exec
// authenticator sends, encoded as it encodes it, in both apiVersions.
func TestParseExecInfoFromClientGo(t *testing.T) {
	clusters := map[string]*clientauthentication.Cluster{
		"no cluster (provideClusterInfo unset)": nil,
		"server only":                           {Server: "https://x:6443"},
		"server and CA, and more":               {Server: "https://y", CertificateAuthorityData: []byte("-----BEGIN CERTIFICATE-----\nY2E=\n"), TLSServerName: "y.local", InsecureSkipTLSVerify: true, ProxyURL: "http://proxy:3128"},
		"extension config":                      {Server: "https://z", Config: &runtime.Unknown{Raw: []byte(`{"a":1}`), ContentType: "application/json"}},
	}
	for v, gv := range versions {
		for name, c := range clusters {
			for _, interactive := range []bool{false, true} {
				in := &clientauthentication.ExecCredential{Spec: clientauthentication.ExecCredentialSpec{Interactive: interactive, Cluster: c}}
				data, err := runtime.Encode(codecs.LegacyCodec(gv), in)
				if err != nil {
					t.Fatalf("%s %s: %v", v, name, err)
				}
				got, err := credential.ParseExecInfo(string(data))
				if err != nil {
					t.Fatalf("%s %s: %v (%s)", v, name, err, data)
				}
				want := credential.ExecInfo{APIVersion: v, Interactive: interactive}
				if c != nil {
					want.Cluster = &credential.Cluster{Server: c.Server, CertificateAuthorityData: c.CertificateAuthorityData}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s %s: want (-) got (+):\n%s", v, name, diff)
				}
			}
		}
	}
}

// TestHelperPlugin is not a test: TestThroughClientGoExecAuthenticator
// runs the test binary as an exec plugin, which reads the exec info with
// ParseExecInfo and answers with MarshalExecCredential, as kubemint does.
// The token names the server it read, so the caller sees both directions.
func TestHelperPlugin(t *testing.T) {
	if os.Getenv("KUBEMINT_TEST_PLUGIN") == "" {
		t.Skip("helper process only")
	}
	info, err := credential.ParseExecInfo(os.Getenv("KUBERNETES_EXEC_INFO"))
	if err != nil || info.Cluster == nil {
		fmt.Fprintf(os.Stderr, "exec info: %v\n", err)
		os.Exit(1)
	}
	os.Stdout.Write(credential.MarshalExecCredential(info.APIVersion, "seen-"+hex.EncodeToString([]byte(info.Cluster.Server)), time.Now().Add(time.Hour)))
	os.Exit(0) // before the test framework prints to stdout
}

// Through client-go's exec authenticator itself, as kubectl runs kubemint:
// it encodes the exec info, runs the plugin, decodes its stdout with its
// own checks, and sends the token.
func TestThroughClientGoExecAuthenticator(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
	}))
	defer srv.Close()
	for v := range versions {
		got = ""
		a, err := exec.GetAuthenticator(&api.ExecConfig{
			Command:            os.Args[0],
			Args:               []string{"-test.run=^TestHelperPlugin$"},
			Env:                []api.ExecEnvVar{{Name: "KUBEMINT_TEST_PLUGIN", Value: v}},
			APIVersion:         v,
			InteractiveMode:    api.NeverExecInteractiveMode,
			ProvideClusterInfo: true,
		}, &clientauthentication.Cluster{Server: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		var tc transport.Config
		if err := a.UpdateTransportConfig(&tc); err != nil {
			t.Fatal(err)
		}
		rt, err := transport.New(&tc)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		resp.Body.Close()
		if want := "Bearer seen-" + hex.EncodeToString([]byte(srv.URL)); got != want {
			t.Errorf("%s: Authorization %q, want %q", v, got, want)
		}
	}
}
