package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// connectProxy is a real HTTP proxy: it answers CONNECT, checks the
// Proxy-Authorization the client sends, and tunnels to target whatever
// host the client named (so a test server on 127.0.0.1 can be reached as
// example.com, which Go does not exempt from the proxy as it does
// loopback). With refuse set it answers 407, echoing the credential in its
// status line, URL-encoded.
func connectProxy(t *testing.T, target string, refuse bool) (addr string, seen func() []string) {
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Proxy-Authorization"))
		mu.Unlock()
		if r.Method != http.MethodConnect {
			http.Error(rw, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		if refuse {
			conn, buf, err := rw.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(buf, "HTTP/1.1 407 denied %s for %s\r\nContent-Length: 0\r\n\r\n", url.QueryEscape(r.Header.Get("Proxy-Authorization")), r.Host)
			_ = buf.Flush()
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		rw.WriteHeader(http.StatusOK)
		conn, buf, err := rw.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() { _, _ = io.Copy(up, buf); up.Close() }()
		_, _ = io.Copy(conn, up)
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), auths...) }
}
