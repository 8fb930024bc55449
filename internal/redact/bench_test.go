package redact

import (
	"io"
	"testing"
)

// benchLines are what kubemint writes: an ordinary log line, an error that
// quotes a server's body with a JWT, and one with encoded text.
var benchLines = map[string]string{
	"plain":   "kubemint: served the cached token for ci/deployer from the file cache, valid until 2026-12-04T15:00:00Z\n",
	"error":   `kubemint: error: creating token for ci/deployer: the server has asked for the client to provide credentials (post serviceaccounts deployer): {"kind":"Status","message":"Unauthorized","token":"` + jwt + `"}` + "\n",
	"encoded": "kubemint: error: 403 from https://api.example.com:6443/?q=a%20b&x=1 body &lt;html&gt; \\u0022quoted\\u0022 done\n",
}

// BenchmarkString masks one line with two secrets registered, as the
// token command has after a mint (the source's token and the new one).
func BenchmarkString(b *testing.B) {
	for name, line := range benchLines {
		b.Run(name, func(b *testing.B) {
			r := New(io.Discard)
			r.Add("opaque-source-token-1234567890abcdef")
			r.Add(jwt)
			b.ReportAllocs()
			for b.Loop() {
				_ = r.String(line)
			}
		})
	}
}
