package credential

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wireExecCredential is the ExecCredential kubemint writes, as a struct:
// MarshalExecCredential writes what json.Marshal makes of it, field by
// field; clientgo_test.go decodes it with client-go's codec.
type wireExecCredential struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Spec       struct {
		Interactive bool `json:"interactive"`
	} `json:"spec"`
	Status struct {
		ExpirationTimestamp string `json:"expirationTimestamp"`
		Token               string `json:"token"`
	} `json:"status"`
}

// Strings that encoding/json escapes: quotes, backslashes, control
// characters, HTML, invalid UTF-8, the JavaScript line separators.
var awkward = []string{"", "plain", `q"uo\te`, "tab\tnl\n\x01", "<a&b>", "bad\xffutf8", "ls\u2028ps\u2029", "ünïcode"}

// The hand-assembled encodings are byte for byte encoding/json's: the key
// of every cached entry, and what client-go reads, stay what they were.
func TestKeyFieldsJSON(t *testing.T) {
	for i, s := range awkward {
		for _, allow := range [][]string{nil, {s}, {"https://a", s}} {
			k := keyFields{
				V: keyVersion, Server: "https://" + s, CA: s, Namespace: s, Name: s + "n",
				Audiences: []string{s, "x"}, Seconds: int64(i) * 3600, BoundKind: s, BoundName: s, BoundUID: s,
				Source: []string{"kubeconfig", s, ""}, Allow: allow,
			}
			want, err := json.Marshal(k)
			if err != nil {
				t.Fatal(err)
			}
			if got := k.appendJSON(nil); string(got) != string(want) {
				t.Errorf("%q, allow %q:\n got %s\nwant %s", s, allow, got, want)
			}
		}
	}
	if got, want := (keyFields{Audiences: []string{}}).appendJSON(nil), `{"v":0,"server":"","ca":"","namespace":"","name":"","audiences":[],"seconds":0,"boundKind":"","boundName":"","boundUID":"","source":null}`; string(got) != want {
		t.Errorf("zero key:\n got %s\nwant %s", got, want)
	}
}

func TestMarshalExecCredentialJSON(t *testing.T) {
	at := time.Date(2026, 12, 4, 15, 4, 5, 0, time.FixedZone("x", 3600))
	for _, v := range []string{APIVersionV1, APIVersionV1beta1} {
		for _, tok := range append(awkward, strings.Repeat("a.b-c_", 200)) {
			var w wireExecCredential
			w.Kind = "ExecCredential"
			w.APIVersion = v
			w.Status.ExpirationTimestamp = at.UTC().Format(time.RFC3339)
			w.Status.Token = tok
			want, err := json.Marshal(w)
			if err != nil {
				t.Fatal(err)
			}
			if got := MarshalExecCredential(v, tok, at); string(got) != string(want)+"\n" {
				t.Errorf("%s %q:\n got %s\nwant %s", v, tok, got, want)
			}
		}
	}
}

// The untyped decode of the exec info, where it answers, answers as
// json.Unmarshal into the struct does; and it answers for what client-go
// sends, or a cache hit pays for reflection again.
func TestParseExecInfoUntyped(t *testing.T) {
	const ca = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM="
	tests := []struct {
		in   string
		fast bool
	}{
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://127.0.0.1:6443","certificate-authority-data":"` + ca + `"},"interactive":false}}`, true},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"cluster":{"server":"https://a","tls-server-name":"x","insecure-skip-tls-verify":true,"proxy-url":"http://p","disable-compression":true,"config":{"a":[1,{"b":null}]}},"interactive":true}}`, true},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`, true},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://a","certificate-authority":"/etc/ca.crt"}}}`, true},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://a","certificate-authority-data":""}}}`, true},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{}}}`, true},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"x"},"extra":[1,2]}`, true},
		{`{"kind":"ExecCredential","kind":"Other","apiVersion":"client.authentication.k8s.io/v1"}`, true},
		// Left to json.Unmarshal.
		{`{"Kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","SPEC":{"cluster":{"server":"https://a"}}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"Cluster":{"server":"https://a"}}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"Server":"https://a"}}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://a","server":"https://b"}}}`, true},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://a"}},"spec":{"interactive":true}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://a"},"cluster":{"certificate-authority-data":"` + ca + `"}}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":null}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":null}`, false},
		{`{"kind":null,"apiVersion":"client.authentication.k8s.io/v1"}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":"yes"}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":1}}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://a","certificate-authority-data":"not base64!"}}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https:\/\/a"}}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"s\u0065rver":"https://a"}}}`, false},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://a","certificate-authority-data":"` + ca + `"}},"note":"spec"}`, false},
		{`["ExecCredential"]`, false},
		{`"ExecCredential"`, false},
		{`null`, false},
		{`{"kind":"ExecCredential",}`, false},
	}
	for _, tt := range tests {
		var fast wireExecInfo
		ok := fast.decodeUntyped(tt.in)
		if ok != tt.fast {
			t.Errorf("%s: decoded untyped %v, want %v", tt.in, ok, tt.fast)
		}
		if !ok {
			continue
		}
		var want wireExecInfo
		if err := json.Unmarshal([]byte(tt.in), &want); err != nil {
			t.Errorf("%s: untyped decode accepted what json.Unmarshal refuses: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(fast, want) {
			t.Errorf("%s:\n untyped %+v (cluster %+v)\n  struct %+v (cluster %+v)", tt.in, fast, fast.Spec.Cluster, want, want.Spec.Cluster)
		}
	}
}
