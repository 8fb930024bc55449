package credential

import (
	"encoding/json"
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
