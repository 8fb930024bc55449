package redact

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// std is a token in the standard base64 alphabet, whose '+', '/' and '='
// a form or URL encoding escapes.
const std = "c2VjcmV0+dG9rZW4/d2l0aA==Zm9ybS1lbmNvZGVk+/Kw"

// everyByte escapes every byte of s with format (one %02X, &#%d; ...).
func everyByte(s, format string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, format, s[i])
	}
	return b.String()
}

// TestEncodedEchoes: a secret, or a JWT kubemint never saw, echoed in an
// encoding a server or proxy uses is masked, whole, and the line keeps its
// own text around the mask.
func TestEncodedEchoes(t *testing.T) {
	const pw = "correct horse battery staple"
	tests := []struct {
		name    string
		secrets []string
		line    string
		want    string
	}{
		{"query-escaped", []string{std}, "GET /?t=" + url.QueryEscape(std) + " 401\n", "GET /?t=[redacted] 401\n"},
		{"every byte %XX, lower-case hex", []string{std}, "echo " + everyByte(std, "%%%02x") + " end\n", "echo [redacted] end\n"},
		{"password with spaces, + form", []string{pw}, "body: pw=" + url.QueryEscape(pw) + "&x=1\n", "body: pw=[redacted]&x=1\n"},
		{"password with spaces, %20 form", []string{pw}, "body: pw=" + url.PathEscape(pw) + "\n", "body: pw=[redacted]\n"},
		{"HTML decimal references", []string{std}, "<p>" + everyByte(std, "&#%d;") + "</p>\n", "<p>[redacted]</p>\n"},
		{"HTML hex references, no semicolons", []string{std}, "<p>" + everyByte(std, "&#x%x") + " </p>\n", "<p>[redacted] </p>\n"},
		{"HTML named references", []string{std}, "<p>" + strings.NewReplacer("+", "&plus;", "/", "&sol;", "=", "&equals;").Replace(std) + "</p>\n", "<p>[redacted]</p>\n"},
		{"JSON \\u escapes", []string{std}, `{"echo":"` + everyByte(std, `\u%04x`) + `"}` + "\n", `{"echo":"[redacted]"}` + "\n"},
		{"JSON escaped slashes", []string{std}, `{"echo":"` + strings.ReplaceAll(std, "/", `\/`) + `"}` + "\n", `{"echo":"[redacted]"}` + "\n"},
		{"JWT never registered, HTML-escaped", nil, "echo " + everyByte(jwt, "&#%d;") + "\n", "echo [redacted]\n"},
		{"JWT never registered, JSON-escaped", nil, "echo " + everyByte(jwt, `\u%04X`) + "\n", "echo [redacted]\n"},
		{"URL-encoded inside an HTML page", []string{std}, "<a href=\"/?t=" + strings.ReplaceAll(url.QueryEscape(std), "%", "&#37;") + "\">\n", "<a href=\"/?t=[redacted]\">\n"},
		{"Authorization header URL-encoded", nil, "echo Authorization%3A%20Bearer%20k8s-aws-v1.aHR0cHM6Ly9zdHM x\n", "echo Authorization%3A%20Bearer%20[redacted] x\n"},
		{"folded in one write", []string{jwt}, "echo: " + jwt[:40] + "\n    " + jwt[40:90] + "\n    " + jwt[90:] + "\nnext line\n", "echo: [redacted]\nnext line\n"},
		{"folded with CRLF, no indentation", []string{jwt}, "echo: " + jwt[:60] + "\r\n" + jwt[60:] + " end\n", "echo: [redacted] end\n"},
		{"proxy userinfo in a URL, short password", nil, "proxyconnect tcp: http://proxyuser:pw@127.0.0.1:3128: 407\n", "proxyconnect tcp: http://proxyuser:[redacted]@127.0.0.1:3128: 407\n"},
		{"token as a URL's user", nil, "fetching https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/x\n", "fetching https://[redacted]@github.com/x\n"},
		{"ordinary escapes are left", []string{std}, "100% sure &amp; fine: %41 \\u0041 &#65; https://example.com/a?b=c user@host\n", "100% sure &amp; fine: %41 \\u0041 &#65; https://example.com/a?b=c user@host\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := New(&out)
			for _, s := range tt.secrets {
				r.Add(s)
			}
			_, _ = r.Write([]byte(tt.line))
			_ = r.Flush()
			if out.String() != tt.want {
				t.Errorf("got  %q\nwant %q", out.String(), tt.want)
			}
		})
	}
}

// TestFoldedAcrossWrites: the later lines of a folded token, written on
// their own after the first line went out, are masked too.
func TestFoldedAcrossWrites(t *testing.T) {
	var out bytes.Buffer
	r := New(&out)
	r.Add(jwt)
	for _, w := range []string{"echo: " + jwt[:40] + "\n", "  " + jwt[40:90] + "\n", "  " + jwt[90:] + ".\n"} {
		_, _ = r.Write([]byte(w))
	}
	if want := "echo: [redacted]\n  [redacted]\n  [redacted].\n"; out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
}

func TestAddProxies(t *testing.T) {
	env := map[string]string{
		"HTTPS_PROXY": "http://alice:s3cr%40t-proxy-pw@proxy.example:3128",
		"all_proxy":   "socks5://tokenuser0123456789@socks.example:1080/",
		"http_proxy":  "proxy.example:3128", // no userinfo
	}
	r := New(&bytes.Buffer{})
	r.AddProxies(func(k string) string { return env[k] })
	for _, line := range []string{
		"407 for alice:s3cr%40t-proxy-pw",
		"password s3cr@t-proxy-pw",
		"Proxy-Authorization: Basic YWxpY2U6czNjckB0LXByb3h5LXB3",
		"user tokenuser0123456789",
	} {
		if got := r.String(line); strings.Contains(got, "s3cr") || strings.Contains(got, "YWxpY2U6") || strings.Contains(got, "tokenuser") {
			t.Errorf("%q printed as %q", line, got)
		}
	}
}
