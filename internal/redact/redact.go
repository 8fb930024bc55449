// Package redact masks secrets in what kubemint writes to stderr.
//
// Every line either binary writes to stderr passes through one Writer. It
// masks the secrets registered with it (the cached token, the minted token,
// the source's bearer token, added as each becomes known) and, as a
// fallback for secrets kubemint never saw (a token an exec plugin gave
// client-go, one a proxy echoes back in an error body), anything shaped like
// a JWT. Errors quote what servers and sources return, so the mask is
// applied to the finished line, not to each format argument.
//
// The lean front links this package on every kubectl call: it imports only
// the standard library, compiles no regular expression and does no work at
// init.
package redact

import (
	"bytes"
	"io"
	"strings"
	"sync"
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

// Add registers a secret to mask from now on.
func (r *Writer) Add(secret string) {
	secret = strings.TrimSpace(secret)
	if len(secret) < minSecret {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if s == secret {
			return
		}
	}
	r.secrets = append(r.secrets, secret)
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

// mask does the work of String; r.mu is held.
func (r *Writer) mask(s string) string {
	for _, secret := range r.secrets {
		s = maskSecret(s, secret)
	}
	return maskJWTs(maskAuth(s))
}

// maskSecret masks secret in s, and any start of it at least minSecret
// long: client-go cuts an error body at 2048 bytes, and a server that
// echoes a token near the end leaves only its beginning.
func maskSecret(s, secret string) string {
	head := secret[:minSecret]
	if !strings.Contains(s, head) {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], head)
		if j < 0 {
			break
		}
		i += j
		n := minSecret
		for n < len(secret) && i+n < len(s) && s[i+n] == secret[n] {
			n++
		}
		b.WriteString(s[last:i])
		b.WriteString(Mask)
		last, i = i+n, i+n
	}
	b.WriteString(s[last:])
	return b.String()
}

// authWords introduce a credential in an echoed request: an
// Authorization header's value, or the token after a scheme. Matched
// without regard to case.
var authWords = []string{"authorization:", "bearer ", "basic "}

// maskAuth masks, for secrets kubemint never saw (a token an exec plugin
// gave client-go, a basic-auth password), the run of token characters
// after "Bearer " or "Basic " and the value of an "Authorization:"
// header. A run of lowercase letters alone is left: that is prose ("basic
// authentication"), not a credential.
func maskAuth(s string) string {
	lower := asciiLower(s)
	if lower == "" {
		return s
	}
	var b strings.Builder
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
			end := start
			for end < len(s) && isCredByte(s[end]) {
				end++
			}
			for end > start && s[end-1] == '.' {
				end-- // a sentence's full stop
			}
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
			if end-start < 4 || onlyLowerLetters(s[start:end]) {
				break
			}
			if start < last {
				break
			}
			b.WriteString(s[last:start])
			b.WriteString(Mask)
			last = end
			i = end - 1
			break
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
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

// maskJWTs masks every run of base64url characters and dots that starts
// with "eyJ" and is at least jwtMin long: a JWT, with or without its
// signature, or cut short by a server that truncated its error body. A run
// that starts mid-word is masked from "eyJ" on: better a word cut short
// than a token's payload shown.
func maskJWTs(s string) string {
	if !strings.Contains(s, "eyJ") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i+3 <= len(s); {
		if s[i:i+3] != "eyJ" {
			i++
			continue
		}
		end := i + 3
		for end < len(s) && (isTokenByte(s[end]) || s[end] == '.') {
			end++
		}
		for end > i && s[end-1] == '.' {
			end-- // a sentence's full stop, an ellipsis
		}
		if end-i < jwtMin {
			i = end
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(Mask)
		last, i = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
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
