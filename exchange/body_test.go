package exchange

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
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
