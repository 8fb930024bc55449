// Package redact masks secrets in what kubemint writes to stderr.
//
// Every line either binary writes to stderr passes through one Writer. It
// masks the secrets registered with it (the cached token, the minted token,
// the source's bearer token, added as each becomes known) and, as a
// fallback for secrets kubemint never saw (a token an exec plugin gave
// client-go, one a proxy echoes back in an error body), anything shaped like
// a JWT, the credential after "Bearer " or "Basic ", and the password of a
// URL's userinfo. Errors quote what servers and sources return, so the mask
// is applied to the finished line, not to each format argument; and since a
// server or proxy may echo a request URL-encoded, HTML-escaped,
// JSON-escaped or folded over several lines, a line with an escape in it is
// searched decoded as well, and a secret is found across a line break.
//
// The lean front links this package on every kubectl call: it imports only
// the standard library, compiles no regular expression and does no work at
// init.
package redact

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Mask replaces every secret in a line.
const Mask = "[redacted]"

// minSecret is the shortest string registered as a secret: masking a short
// one would garble ordinary words, and no bearer token is this short.
const minSecret = 8

// Writer writes to an underlying writer line by line, masking secrets. A
// write that ends mid-line is held until the line is complete (or Flush),
// so a secret split across two writes is still masked. Safe for concurrent
// use.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte
	secrets []string
}

// New returns a Writer that writes to w.
func New(w io.Writer) *Writer { return &Writer{w: w} }

// Wrap returns w itself if it is a Writer, else a new Writer on it: a line
// written through the result is masked either way.
func Wrap(w io.Writer) *Writer {
	if r, ok := w.(*Writer); ok {
		return r
	}
	return New(w)
}

// Add registers a secret to mask from now on. A secret with a space (a
// password) is registered in its form-encoded spelling too, with '+' for
// each space.
func (r *Writer) Add(secret string) {
	secret = strings.TrimSpace(secret)
	if len(secret) < minSecret {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(secret)
	if strings.Contains(secret, " ") {
		r.add(strings.ReplaceAll(secret, " ", "+"))
	}
}

func (r *Writer) add(secret string) {
	for _, s := range r.secrets {
		if s == secret {
			return
		}
	}
	r.secrets = append(r.secrets, secret)
}

// AddProxies registers the credentials in the proxy URLs that getenv
// returns for the variables Go's HTTP client (client-go's, a source exec
// plugin's) takes a proxy from (HTTPS_PROXY=http://user:password@proxy:3128):
// the userinfo as written, the password decoded, and the Basic credential
// sent to the proxy (a proxy that refuses it may echo it).
func (r *Writer) AddProxies(getenv func(string) string) {
	for _, name := range [...]string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		u := getenv(name)
		if i := strings.Index(u, "://"); i >= 0 {
			u = u[i+3:]
		}
		if i := strings.IndexAny(u, "/?#"); i >= 0 {
			u = u[:i]
		}
		at := strings.LastIndexByte(u, '@')
		if at <= 0 {
			continue
		}
		userinfo := u[:at]
		r.Add(userinfo)
		user, pw, _ := strings.Cut(userinfo, ":")
		user, pw = unescape(user), unescape(pw)
		r.Add(pw)
		if pw == "" {
			r.Add(user) // a token as the user name
		}
		r.Add(base64.StdEncoding.EncodeToString([]byte(user + ":" + pw)))
	}
}

// unescape decodes the %XX escapes of a URL's userinfo.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// Add registers secret with w if w is a Writer; writers that redact nothing
// (a test's buffer) are left alone.
func Add(w io.Writer, secret string) {
	if r, ok := w.(*Writer); ok {
		r.Add(secret)
	}
}

// Write masks and writes every complete line in p and holds the rest. It
// reports len(p) written unless the underlying writer fails.
func (r *Writer) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, p...)
	i := bytes.LastIndexByte(r.pending, '\n')
	if i < 0 {
		return len(p), nil
	}
	out := r.mask(string(r.pending[:i+1]))
	r.pending = append(r.pending[:0], r.pending[i+1:]...)
	if _, err := io.WriteString(r.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush masks and writes a held partial line. Call it before exiting.
func (r *Writer) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return nil
	}
	out := r.mask(string(r.pending))
	r.pending = r.pending[:0]
	_, err := io.WriteString(r.w, out)
	return err
}

// String returns s with every secret known to r, and every JWT, masked.
func (r *Writer) String(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mask(s)
}

// mask does the work of String; r.mu is held. It finds what to mask in s
// as it stands and, when s holds an escape (%XX, &#NN;, \uXXXX), in s
// decoded as well: a server or proxy that echoes a request may URL-encode,
// HTML-escape or JSON-escape it, and a token so echoed keeps its meaning
// for whoever reads the line. Spans found in the decoded text are mapped
// back onto s, so the line keeps its own encoding around the masks.
func (r *Writer) mask(s string) string {
	var buf [8]span
	spans := r.find(buf[:0], s, nil, nil)
	if strings.ContainsAny(s, "%&\\") {
		if v, from, to := decodeAll(s); v != s {
			spans = r.find(spans, v, from, to)
		}
	}
	if len(spans) == 0 {
		return s
	}
	return apply(s, spans)
}

// span is a run of bytes to mask, [start, end).
type span struct{ start, end int }

// find appends to spans what to mask in v: every registered secret, every
// credential after an auth word, every JWT and the password of every URL's
// userinfo. When from is not nil v is a decoded view of the line: byte i of
// v came from bytes from[i]..to[i] of the line, and spans are mapped so.
func (r *Writer) find(spans []span, v string, from, to []int) []span {
	n := len(spans)
	for _, secret := range r.secrets {
		spans = secretSpans(spans, v, secret)
	}
	spans = pieceSpans(spans, v, r.secrets)
	spans = authSpans(spans, v)
	spans = jwtSpans(spans, v)
	spans = userinfoSpans(spans, v)
	if from != nil {
		for i := n; i < len(spans); i++ {
			spans[i] = span{from[spans[i].start], to[spans[i].end-1]}
		}
	}
	return spans
}

// apply returns s with every span replaced by one Mask; overlapping or
// touching spans make one.
func apply(s string, spans []span) string {
	// Few spans: an insertion sort by start.
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spans[j].start < spans[j-1].start; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start <= end; i++ {
			end = max(end, spans[i].end)
		}
		if start < last {
			start = last
		}
		b.WriteString(s[last:start])
		b.WriteString(Mask)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// secretSpans finds secret in s, and any start of it at least minSecret
// long: client-go cuts an error body at 2048 bytes, and a server that
// echoes a token near the end leaves only its beginning. A line break and
// the indentation after it inside the secret (a server that folds long
// lines) is masked with it.
func secretSpans(spans []span, s, secret string) []span {
	head := secret[:minSecret]
	for i := 0; ; {
		j := strings.Index(s[i:], head)
		if j < 0 {
			return spans
		}
		i += j
		n, k := minSecret, i+minSecret
		for n < len(secret) && k < len(s) {
			if s[k] == secret[n] {
				n, k = n+1, k+1
				continue
			}
			f := foldLen(s[k:])
			if f == 0 || k+f >= len(s) || s[k+f] != secret[n] {
				break
			}
			k += f
		}
		spans = append(spans, span{i, k})
		i = k
	}
}

// foldLen is the length of a line break and the indentation after it at
// the start of s, or 0.
func foldLen(s string) int {
	n := 0
	if n < len(s) && s[n] == '\r' {
		n++
	}
	if n >= len(s) || s[n] != '\n' {
		return 0
	}
	n++
	for n < len(s) && (s[n] == ' ' || s[n] == '\t') {
		n++
	}
	return n
}

// pieceSpans masks a run of credential characters at least minSecret
// long at the start of a line (after its indentation) that is a piece of
// a registered secret: the second and later lines of a token a server
// folded, which may reach the Writer in a write of their own. A run of
// lowercase letters alone is prose, and left.
func pieceSpans(spans []span, s string, secrets []string) []span {
	if len(secrets) == 0 {
		return spans
	}
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		end := credRunEnd(s, i)
		if run := s[i:end]; len(run) >= minSecret && !onlyLowerLetters(run) {
			for _, secret := range secrets {
				if strings.Contains(secret, run) {
					spans = append(spans, span{i, end})
					break
				}
			}
		}
		nl := strings.IndexByte(s[end:], '\n')
		if nl < 0 {
			break
		}
		i = end + nl + 1
	}
	return spans
}

// credRunEnd is where the run of token characters that starts at i ends,
// without a sentence's full stop after it.
func credRunEnd(s string, i int) int {
	end := i
	for end < len(s) && isCredByte(s[end]) {
		end++
	}
	for end > i && s[end-1] == '.' {
		end--
	}
	return end
}

// authWords introduce a credential in an echoed request: an
// Authorization header's value, or the token after a scheme. Matched
// without regard to case.
var authWords = []string{"authorization:", "bearer ", "basic "}

// authSpans masks, for secrets kubemint never saw (a token an exec plugin
// gave client-go, a basic-auth password), the run of token characters
// after "Bearer " or "Basic " and the value of an "Authorization:"
// header. A run of lowercase letters alone is left: that is prose ("basic
// authentication"), not a credential.
func authSpans(spans []span, s string) []span {
	lower := asciiLower(s)
	if lower == "" {
		return spans
	}
	last := 0
	for i := 0; i < len(lower); i++ {
		for _, w := range authWords {
			if !strings.HasPrefix(lower[i:], w) {
				continue
			}
			start := i + len(w)
			for start < len(s) && (s[start] == ' ' || s[start] == '\t' || s[start] == '"') {
				start++
			}
			end := credRunEnd(s, start)
			if w == "authorization:" {
				if strings.HasPrefix(lower[start:], "bearer ") || strings.HasPrefix(lower[start:], "basic ") {
					break // the scheme's own word masks it
				}
				if scheme := schemeLen(s[start:]); scheme > 0 {
					// Another scheme (Negotiate, Digest): mask what follows.
					start += scheme
					end = start
					for end < len(s) && isCredByte(s[end]) {
						end++
					}
				}
			}
			if end-start < 4 || onlyLowerLetters(s[start:end]) || start < last {
				break
			}
			spans = append(spans, span{start, end})
			last = end
			i = end - 1
			break
		}
	}
	return spans
}

// asciiLower returns s with ASCII letters lowered (same length, unlike
// strings.ToLower), or "" when s holds none of authWords.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	l := string(b)
	for _, w := range authWords {
		if strings.Contains(l, w) {
			return l
		}
	}
	return ""
}

// schemeLen is the length of an auth scheme and the spaces after it at the
// start of s ("Negotiate "), or 0 when s does not start with one.
func schemeLen(s string) int {
	n := 0
	for n < len(s) && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || s[n] == '-') {
		n++
	}
	if n == 0 || n >= len(s) || s[n] != ' ' {
		return 0
	}
	for n < len(s) && s[n] == ' ' {
		n++
	}
	return n
}

func onlyLowerLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// isCredByte reports a byte of a credential: base64 (standard or url),
// dots and tildes (EKS k8s-aws-v1.…, GKE ya29.…, RFC 6750 b64token).
func isCredByte(c byte) bool { return isTokenByte(c) || c == '.' || c == '~' }

// jwtMin is the shortest run starting with "eyJ" taken for a token: a
// header and a few characters of a payload. Base64url JSON ('{"' encodes to
// "eyJ") in an error line is a token, or a part of one, in practice.
const jwtMin = 16

// jwtSpans masks every run of base64url characters and dots that starts
// with "eyJ" and is at least jwtMin long: a JWT, with or without its
// signature, or cut short by a server that truncated its error body. A run
// that starts mid-word is masked from "eyJ" on: better a word cut short
// than a token's payload shown.
func jwtSpans(spans []span, s string) []span {
	for i := 0; ; {
		j := strings.Index(s[i:], "eyJ")
		if j < 0 {
			return spans
		}
		i += j
		end := i + 3
		for end < len(s) && (isTokenByte(s[end]) || s[end] == '.') {
			end++
		}
		for end > i && s[end-1] == '.' {
			end-- // a sentence's full stop, an ellipsis
		}
		if end-i >= jwtMin {
			spans = append(spans, span{i, end})
		}
		i = end
	}
}

// userinfoSpans masks the password of every URL's userinfo
// ("https://user:password@proxy"), and a user name that looks like a
// token ("https://ghp_xxx@github.com"): a proxy URL from HTTPS_PROXY
// quoted in an error, whatever its password's length.
func userinfoSpans(spans []span, s string) []span {
	for i := 0; ; {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			return spans
		}
		i += j + 3
		end := i
		for end < len(s) && !strings.ContainsRune("/?#@ \t\r\n\"'<>", rune(s[end])) {
			end++
		}
		if end == len(s) || s[end] != '@' || end == i {
			continue
		}
		if c := strings.IndexByte(s[i:end], ':'); c >= 0 {
			if i+c+1 < end {
				spans = append(spans, span{i + c + 1, end})
			}
		} else if end-i >= minSecret && !onlyLowerLetters(s[i:end]) {
			spans = append(spans, span{i, end})
		}
		i = end
	}
}

// isTokenByte reports whether c is a base64url character (or '+', '/',
// '=' of the standard alphabet, which some tokens use).
func isTokenByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == '-' || c == '_' || c == '+' || c == '/' || c == '=':
		return true
	}
	return false
}

// decodeAll decodes the escapes in s (see decode), again while a round
// leaves escapes and changes something, up to three rounds (a token
// URL-encoded inside an HTML page, or inside JSON). Byte i of v came
// from bytes from[i]..to[i] of s.
func decodeAll(s string) (v string, from, to []int) {
	v, from, to = decode(s)
	for round := 1; round < 3 && v != s && strings.ContainsAny(v, "%&\\"); round++ {
		v2, f2, t2 := decode(v)
		if v2 == v {
			break
		}
		for i := range f2 {
			f2[i], t2[i] = from[f2[i]], to[t2[i]-1]
		}
		s, v, from, to = v, v2, f2, t2
	}
	return v, from, to
}

// decode undoes, in one pass, the escapes a server or proxy may put on an
// echoed request: URL encoding (%2B), HTML character references (&#43;
// &#x2b; &plus;) and JSON or Go string escapes (\u002b \x2b \/ \n). Byte
// i of v came from bytes from[i]..to[i] of s (to exclusive); bytes that
// are not an escape are copied. A '+' stays a '+': a secret with a space
// is registered in its '+' form too (see Add).
func decode(s string) (v string, from, to []int) {
	first := 0
	for first < len(s) {
		if _, n := escape(s[first:]); n > 0 {
			break
		}
		first++
	}
	if first == len(s) {
		return s, nil, nil
	}
	b := make([]byte, 0, len(s))
	from = make([]int, 0, len(s))
	to = make([]int, 0, len(s))
	for i := 0; i < len(s); {
		r, n := escape(s[i:])
		if n == 0 {
			b = append(b, s[i])
			from, to = append(from, i), append(to, i+1)
			i++
			continue
		}
		start := len(b)
		b = utf8.AppendRune(b, r)
		for range len(b) - start {
			from, to = append(from, i), append(to, i+n)
		}
		i += n
	}
	return string(b), from, to
}

// escape decodes the escape at the start of s: its rune and length, or a
// length of 0 when s does not start with one.
func escape(s string) (rune, int) {
	if len(s) < 2 {
		return 0, 0
	}
	switch s[0] {
	case '%':
		if len(s) >= 3 && isHex(s[1]) && isHex(s[2]) {
			return rune(unhex(s[1])<<4 | unhex(s[2])), 3
		}
	case '&':
		if s[1] == '#' {
			return charRef(s)
		}
		end := 1
		for end < len(s) && end < 12 && (s[end] >= 'a' && s[end] <= 'z' || s[end] >= 'A' && s[end] <= 'Z') {
			end++
		}
		if end < len(s) && s[end] == ';' {
			if r := entity(s[1:end]); r >= 0 {
				return r, end + 1
			}
		}
	case '\\':
		switch s[1] {
		case 'u':
			if r, ok := hexRune(s[2:], 4); ok {
				return r, 6
			}
		case 'x':
			if r, ok := hexRune(s[2:], 2); ok {
				return r, 4
			}
		case '/', '"', '\\', '\'':
			return rune(s[1]), 2
		case 'n':
			return '\n', 2
		case 'r':
			return '\r', 2
		case 't':
			return '\t', 2
		}
	}
	return 0, 0
}

// charRef decodes a numeric character reference at the start of s:
// &#NN; or &#xNN;, the ';' optional as browsers have it.
func charRef(s string) (rune, int) {
	i, base := 2, 10
	if i < len(s) && (s[i] == 'x' || s[i] == 'X') {
		i, base = 3, 16
	}
	start, r := i, 0
	for i < len(s) && i-start < 8 && (base == 16 && isHex(s[i]) || s[i] >= '0' && s[i] <= '9') {
		r = r*base + int(unhex(s[i]))
		i++
	}
	if i == start || r > utf8.MaxRune {
		return 0, 0
	}
	if i < len(s) && s[i] == ';' {
		i++
	}
	return rune(r), i
}

// entity is the character of an HTML named reference, for the ASCII
// characters a token, a URL or JSON may hold, or -1.
func entity(name string) rune {
	switch name {
	case "amp", "AMP":
		return '&'
	case "lt", "LT":
		return '<'
	case "gt", "GT":
		return '>'
	case "quot", "QUOT":
		return '"'
	case "apos":
		return '\''
	case "plus":
		return '+'
	case "sol":
		return '/'
	case "bsol":
		return '\\'
	case "equals":
		return '='
	case "period":
		return '.'
	case "lowbar", "UnderBar":
		return '_'
	case "colon":
		return ':'
	case "semi":
		return ';'
	case "comma":
		return ','
	case "num":
		return '#'
	case "excl":
		return '!'
	case "quest":
		return '?'
	case "percnt":
		return '%'
	case "tilde":
		return '~'
	case "Hat":
		return '^'
	case "grave", "DiacriticalGrave":
		return '`'
	case "lbrace", "lcub":
		return '{'
	case "rbrace", "rcub":
		return '}'
	case "lsqb", "lbrack":
		return '['
	case "rsqb", "rbrack":
		return ']'
	case "verbar", "vert", "VerticalLine":
		return '|'
	case "ast", "midast":
		return '*'
	case "dollar":
		return '$'
	case "commat":
		return '@'
	case "lpar":
		return '('
	case "rpar":
		return ')'
	case "nbsp", "NonBreakingSpace":
		return ' '
	case "Tab":
		return '\t'
	case "NewLine":
		return '\n'
	}
	return -1
}

func hexRune(s string, n int) (rune, bool) {
	if len(s) < n {
		return 0, false
	}
	var r rune
	for i := range n {
		if !isHex(s[i]) {
			return 0, false
		}
		r = r<<4 | rune(unhex(s[i]))
	}
	return r, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
