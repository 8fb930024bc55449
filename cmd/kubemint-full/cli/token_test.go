package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/redact"
)

// The lean front writes the ExecCredential with a wire-format struct; this
// binary writes it with client-go's clientauthentication types. They must
// agree to the byte, or a cache hit and a mint would answer differently.
func TestLeanAndFullWriteTheSameBytes(t *testing.T) {
	refreshAt := time.Date(2026, 11, 24, 12, 34, 56, 789, time.FixedZone("X", 3600))
	for _, v := range []string{credential.APIVersionV1, credential.APIVersionV1beta1} {
		var out bytes.Buffer
		tc := &tokenCmd{stdout: &out}
		if err := tc.write(v, "header.payload.signature", refreshAt); err != nil {
			t.Fatal(err)
		}
		lean := credential.MarshalExecCredential(v, "header.payload.signature", refreshAt)
		if diff := cmp.Diff(string(lean), out.String()); diff != "" {
			t.Errorf("%s: lean (-) and full (+) differ:\n%s", v, diff)
		}
	}
}

var execInfoSeeds = []string{
	``,
	`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://x:6443","certificate-authority-data":"Y2E="},"interactive":true}}`,
	`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"cluster":{"server":"https://y"},"interactive":false}}`,
	`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":""}}}`,
	`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}`,
	`{"kind":"Pod","apiVersion":"v1"}`,
	`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"s","certificate-authority-data":"%%"}}}`,
	`[]`,
	`{`,
	` `,
	`null`,
	`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"` + strings.Repeat("x", credential.MaxExecInfo) + `"}}}`,
}

// The lean front and this binary read KUBERNETES_EXEC_INFO with different
// types; they must reach the same answer, or the front would look up an
// entry the full binary never writes.
func TestLeanAndFullReadTheSameExecInfo(t *testing.T) {
	for _, s := range execInfoSeeds {
		compareExecInfo(t, s)
	}
}

func FuzzLeanAndFullReadTheSameExecInfo(f *testing.F) {
	for _, s := range execInfoSeeds {
		f.Add(s)
	}
	f.Fuzz(compareExecInfo)
}

func compareExecInfo(t *testing.T, s string) {
	lean, leanErr := credential.ParseExecInfo(s)
	full, fullErr := parseExecInfo(s)
	if (leanErr == nil) != (fullErr == nil) {
		t.Fatalf("%q: lean error %v, full error %v", s, leanErr, fullErr)
	}
	if leanErr != nil {
		return
	}
	if diff := cmp.Diff(full, lean); diff != "" {
		t.Errorf("%q: full (-) and lean (+) differ:\n%s", s, diff)
	}
}

// TestServeUntil: a token served without a re-mint carries its refresh
// point while fresh, and a short retry once due, never past its expiry.
func TestServeUntil(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		issued, expiry time.Time
		want           time.Time
	}{
		"fresh: its refresh point":        {now.Add(-time.Minute), now.Add(59 * time.Minute), now.Add(59*time.Minute - 12*time.Minute)},
		"due, valid long: 30s ahead":      {now.Add(-55 * time.Minute), now.Add(5 * time.Minute), now.Add(staleRetry)},
		"due, expiring sooner: at expiry": {now.Add(-time.Hour), now.Add(10 * time.Second), now.Add(10 * time.Second)},
	}
	for name, tt := range tests {
		tc := &tokenCmd{now: func() time.Time { return now }}
		got := tc.serveUntil(cache.Entry{Token: "x", Issued: tt.issued, Expiry: tt.expiry})
		if !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", name, got, tt.want)
		}
	}
}

// TestRootStderrIsRedacted: every command of the tree writes stderr
// through one redactor, which the token flow teaches its tokens.
func TestRootStderrIsRedacted(t *testing.T) {
	var out bytes.Buffer
	root := NewRootCmd("test", strings.NewReader(""), &bytes.Buffer{}, &out)
	stderr := root.ErrOrStderr()
	redact.Add(stderr, "opaque-secret-from-a-source")
	_, _ = stderr.Write([]byte("echo: opaque-secret-from-a-source eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n"))
	if got := out.String(); got != "echo: [redacted] [redacted]\n" {
		t.Errorf("stderr = %q", got)
	}
}
