package exchange

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kubemint/kubemint/internal/hint"
)

// TestResponseBodyIsBounded: an answer over BodyLimit fails with an error
// naming the server, after at most BodyLimit bytes were read; one at the
// limit is read whole.
func TestResponseBodyIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		tooBig  bool
		chunked bool
	}{
		{name: "a TokenRequest answer", size: 4 << 10},
		{name: "exactly the limit", size: BodyLimit},
		{name: "one byte over", size: BodyLimit + 1, tooBig: true},
		{name: "300 MiB, chunked", size: 300 << 20, tooBig: true, chunked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if !tc.chunked {
					w.Header().Set("Content-Length", strconv.Itoa(tc.size))
				}
				chunk := []byte(strings.Repeat(" ", 64<<10))
				for left := tc.size; left > 0; {
					n := min(left, len(chunk))
					if _, err := w.Write(chunk[:n]); err != nil {
						return
					}
					left -= n
				}
			}))
			defer srv.Close()
			c, err := NewClient(&rest.Config{Host: srv.URL, Timeout: 10 * time.Second}, `context "test"`, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.core.Get().AbsPath("/api").DoRaw(context.Background())
			var tooLarge *BodyTooLargeError
			isTooLarge := err != nil && errors.As(err, &tooLarge)
			if isTooLarge != tc.tooBig {
				t.Fatalf("error %v, want too large: %v", err, tc.tooBig)
			}
			if tc.tooBig {
				if msg := c.explain(err, Request{Namespace: "ci", Name: "deployer"}).Error(); !strings.Contains(msg, srv.URL) || !strings.Contains(msg, "larger than 1 MiB") {
					t.Errorf("explained as %q", msg)
				}
			}
		})
	}
}

// TestReviewsOfAnUnreachableServer: setup's and use's questions to a server
// that refuses connections say "cannot reach the API server" with the
// mint's hint, not a raw Go error.
func TestReviewsOfAnUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := "https://" + l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	c, err := NewClient(&rest.Config{Host: server, Timeout: 5 * time.Second}, `context "alice"`, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	calls := map[string]func() error{
		"CanMint":    func() error { _, _, err := c.CanMint(ctx, "dev", "deployer"); return err },
		"CanI":       func() error { _, err := c.CanI(ctx, "create", "", "namespaces", "", "dev"); return err },
		"WhoAmI":     func() error { _, err := c.WhoAmI(ctx); return err },
		"Rules":      func() error { _, err := c.Rules(ctx, "dev"); return err },
		"RoleExists": func() error { _, err := c.RoleExists(ctx, "", "view"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			want := "cannot reach the API server " + server + ` (context "alice"): `
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "connection refused") {
				t.Errorf("error = %v, want %q", err, want)
			}
			if hs := hint.Hints(err); len(hs) != 1 || !strings.Contains(hs[0], "check that it is running") {
				t.Errorf("hints = %q", hs)
			}
		})
	}
}
