package exchange

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
)

// The most kubemint reads from each kind of input. Each is far above what
// a real one holds, and far below what would hurt: /dev/zero as a token
// file once took 5 GB in 6 s, a 300 MiB answer 1.25 GB.
const (
	// TokenFileLimit bounds a token file: a JWT is 1 to 2 KiB.
	TokenFileLimit = 16 << 10
	// CAFileLimit bounds a CA bundle: the system bundle is about 200 KiB.
	CAFileLimit = 1 << 20
	// KubeconfigLimit bounds a source kubeconfig, which client-go reads
	// whole; one with a hundred contexts and embedded certificates is
	// well under 1 MiB.
	KubeconfigLimit = 16 << 20
	// BodyLimit bounds an answer of the API server: a TokenRequest answer
	// is a few KiB, the largest kubemint reads (a rules review) tens.
	BodyLimit = 1 << 20
)

// ReadTokenFile reads the bearer token in the file at path, named what in
// errors (never its content). Only a regular file of at most
// TokenFileLimit bytes is read: a named pipe would hang the mint, a device
// such as /dev/zero would never end. It is opened without blocking, so a
// pipe with no writer is refused instead of waited on.
func ReadTokenFile(path, what string) (string, error) {
	b, err := ReadBounded(path, what, TokenFileLimit)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s %s is empty", what, path)
	}
	return tok, nil
}

// ReadBounded reads the regular file at path, of at most limit bytes,
// named what in errors.
func ReadBounded(path, what string, limit int64) ([]byte, error) {
	f, err := openNonblocking(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s %s does not exist", what, path)
	case err != nil:
		return nil, fmt.Errorf("%s %s cannot be read: %w", what, path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s %s cannot be read: %w", what, path, err)
	}
	if err := regularWithin(fi, limit); err != nil {
		return nil, fmt.Errorf("%s %s %v", what, path, err)
	}
	// The file may grow between the stat and the read: read one byte past
	// the limit to tell.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s cannot be read: %w", what, path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s %s %v", what, path, tooLarge(limit))
	}
	return b, nil
}

// regularWithin says, as the end of a sentence that starts with the file's
// name, why fi is not a regular file of at most limit bytes; nil if it is.
func regularWithin(fi fs.FileInfo, limit int64) error {
	m := fi.Mode()
	switch {
	case m.IsDir():
		return errors.New("is a directory, not a file")
	case m&fs.ModeNamedPipe != 0:
		return errors.New("is a named pipe, not a regular file: kubemint reads only regular files, whose reads cannot hang")
	case m&fs.ModeSocket != 0:
		return errors.New("is a socket, not a regular file")
	case m&fs.ModeDevice != 0:
		return errors.New("is a device, not a regular file")
	case !m.IsRegular():
		return fmt.Errorf("is not a regular file (%s)", m.Type())
	case fi.Size() > limit:
		return tooLarge(limit)
	}
	return nil
}

func tooLarge(limit int64) error {
	return fmt.Errorf("is larger than %s, more than such a file ever holds: is it the right file?", size(limit))
}

// size writes a limit as people say it.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkKubeconfig refuses, before client-go reads it whole, a kubeconfig
// that is not a regular file of at most KubeconfigLimit bytes. A missing
// one is left to client-go, whose message for it is good.
func checkKubeconfig(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	if err := regularWithin(fi, KubeconfigLimit); err != nil {
		return fmt.Errorf("the kubeconfig %s %v", path, err)
	}
	return nil
}

// BodyTooLargeError is an API server's answer over BodyLimit.
type BodyTooLargeError struct{ Server string }

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("the API server %s sent an answer larger than %s (a TokenRequest answer is a few KiB), and kubemint stopped reading it; check that the server address is the API server's", e.Server, size(BodyLimit))
}

// limitRoundTripper makes every response body fail once more than
// BodyLimit bytes have been read: client-go reads a whole body into memory
// before it decodes it.
type limitRoundTripper struct {
	next   http.RoundTripper
	server string
}

// WrappedRoundTripper lets client-go reach the transport beneath, to cancel
// a request that timed out.
func (l *limitRoundTripper) WrappedRoundTripper() http.RoundTripper { return l.next }

func (l *limitRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{body: resp.Body, left: BodyLimit, server: l.server}
	return resp, nil
}

// limitedBody is a response body that fails past its limit.
type limitedBody struct {
	body   io.ReadCloser
	left   int64
	server string
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a larger one.
		var one [1]byte
		n, err := b.body.Read(one[:])
		if n > 0 {
			return 0, &BodyTooLargeError{Server: b.server}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.body.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.body.Close() }
