package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubemint/kubemint/internal/redact"
)

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
