package redact

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// jwt is shaped like a service-account token: header.payload.signature.
const jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y2k6ZGVwbG95ZXIifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"

func TestWriter(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		writes  []string // written in this order, then Flush
		want    string
	}{
		{
			name:    "registered secret",
			secrets: []string{"opaque-source-token-123"},
			writes:  []string{"kubemint: error: 500: Authorization: Bearer opaque-source-token-123\n"},
			want:    "kubemint: error: 500: Authorization: Bearer [redacted]\n",
		},
		{
			name:    "secret split across writes",
			secrets: []string{"opaque-source-token-123"},
			writes:  []string{"kubemint: Bearer opaque-sou", "rce-token-123 and more\n"},
			want:    "kubemint: Bearer [redacted] and more\n",
		},
		{
			name:   "JWT split across writes",
			writes: []string{"echo: " + jwt[:20], jwt[20:] + "\n"},
			want:   "echo: [redacted]\n",
		},
		{
			name:    "several secrets, several lines, in one write",
			secrets: []string{"first-secret-aaaa", "second-secret-bbbb"},
			writes:  []string{"a first-secret-aaaa b\nc second-secret-bbbb d first-secret-aaaa\n"},
			want:    "a [redacted] b\nc [redacted] d [redacted]\n",
		},
		{
			name:   "JWT fallback for a token kubemint never saw",
			writes: []string{`body: {"authorization":"Bearer ` + jwt + `"}` + "\n"},
			want:   `body: {"authorization":"Bearer [redacted]"}` + "\n",
		},
		{
			name:   "truncated JWT, header and part of a payload",
			writes: []string{"quoted: " + jwt[:50] + "...\n"},
			want:   "quoted: [redacted]...\n",
		},
		{
			name:   "JWT starting mid-word",
			writes: []string{"token=x" + jwt + "\n"},
			want:   "token=x[redacted]\n",
		},
		{
			name:   "two JWTs on a line",
			writes: []string{jwt + " and " + jwt + "\n"},
			want:   "[redacted] and [redacted]\n",
		},
		{
			name:   "ordinary text, a short eyJ",
			writes: []string{"kubemint: served the cached token for ci/deployer (eyJ is fine)\n"},
			want:   "kubemint: served the cached token for ci/deployer (eyJ is fine)\n",
		},
		{
			name:    "too short to register",
			secrets: []string{"abc"},
			writes:  []string{"abc is a word\n"},
			want:    "abc is a word\n",
		},
		{
			name:   "EKS token after Bearer, never registered",
			writes: []string{"kubemint: error: 500: Authorization: Bearer k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9u\n"},
			want:   "kubemint: error: 500: Authorization: Bearer [redacted]\n",
		},
		{
			name:   "GKE token, lower-case scheme, in JSON",
			writes: []string{`echo: {"authorization":"bearer ya29.a0AfH6SMBx-3Kq_Zz~Q"}` + "\n"},
			want:   `echo: {"authorization":"bearer [redacted]"}` + "\n",
		},
		{
			name:   "basic auth",
			writes: []string{"got Authorization: Basic YWRtaW46czNjcmV0UGFzcw== from you\n"},
			want:   "got Authorization: Basic [redacted] from you\n",
		},
		{
			name:   "Authorization header with another scheme or none",
			writes: []string{"authorization: Negotiate-less dG9rZW4tdmFsdWU= x\nAuthorization:  s3cr3tOpaqueValue\n"},
			want:   "authorization: Negotiate-less [redacted] x\nAuthorization:  [redacted]\n",
		},
		{
			name:   "prose about basic authentication is left",
			writes: []string{"the server wants basic authentication, not a bearer token.\n"},
			want:   "the server wants basic authentication, not a bearer token.\n",
		},
		{
			name:    "registered secret cut short by a truncated body",
			secrets: []string{"opaque-source-token-1234567890"},
			writes:  []string{"body: ...token=opaque-source-tok\n"},
			want:    "body: ...token=[redacted]\n",
		},
		{
			name:    "partial last line on Flush",
			secrets: []string{"opaque-source-token-123"},
			writes:  []string{"no newline opaque-source-token-123"},
			want:    "no newline [redacted]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := New(&out)
			for _, s := range tt.secrets {
				Add(r, s)
			}
			for _, s := range tt.writes {
				if n, err := r.Write([]byte(s)); err != nil || n != len(s) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got  %q\nwant %q", out.String(), tt.want)
			}
		})
	}
}

// TestPartialLineIsHeld: nothing of an unfinished line reaches the
// underlying writer, since its end may complete a secret.
func TestPartialLineIsHeld(t *testing.T) {
	var out bytes.Buffer
	r := New(&out)
	r.Add("opaque-source-token-123")
	_, _ = r.Write([]byte("done\nBearer opaque-sou"))
	if out.String() != "done\n" {
		t.Errorf("wrote %q before the line was complete", out.String())
	}
}

func TestWrap(t *testing.T) {
	var out bytes.Buffer
	r := New(&out)
	if Wrap(r) != r {
		t.Errorf("Wrap made a second Writer over a Writer: its secrets would be lost")
	}
	Add(&out, "not-a-writer-secret") // a plain writer: ignored, no panic
}

func TestConcurrentWrites(t *testing.T) {
	var out bytes.Buffer
	r := New(&out)
	r.Add("opaque-source-token-123")
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = r.Write([]byte("line opaque-source-token-123\n"))
		}()
	}
	wg.Wait()
	if strings.Contains(out.String(), "opaque") || strings.Count(out.String(), "\n") != 20 {
		t.Errorf("got %q", out.String())
	}
}
