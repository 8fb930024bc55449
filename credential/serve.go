package credential

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/internal/redact"
)

// NewLogf returns a logger that writes lines at or below verbosity to w, in
// kubemint's stderr format. Every line passes through a redact.Writer: w
// itself when it is one (it knows the tokens in play), else a new one that
// masks anything shaped like a JWT. Errors quoted into a line may hold what
// a server echoed back.
func NewLogf(w io.Writer, verbosity int) func(level int, format string, args ...any) {
	r := redact.Wrap(w)
	return func(level int, format string, args ...any) {
		if level <= verbosity {
			fmt.Fprintf(r, "kubemint: "+format+"\n", args...)
		}
	}
}

// ServeCached answers a `kubemint token` call from the cache, the path that
// most kubectl calls take. It reports false, having written nothing, when the
// call needs the full binary: any other command, flags it cannot parse, no
// cluster in the exec info (provideClusterInfo unset), a token source whose
// flags do not pin the exec info's cluster, --cache=none, an
// entry that is missing, unreadable, due for a re-mint or within a few
// minutes of it (HandOffAt), or one the same
// client asks for again moments after it was served (client-go's retry
// after a 401: the full binary checks whether the token was revoked).
//
// It reads no kubeconfig and opens no connection: the flags and the exec
// info name the entry, and the entry holds the answer. An error means the
// credential was served but could not be written out.
func ServeCached(args []string, execInfo string, stdout, stderr io.Writer, now time.Time) (bool, error) {
	return serveCached(args, execInfo, stdout, stderr, now, cache.DefaultDir(), os.Getppid)
}

// serveCached is ServeCached with its seams: the cache directory and the
// parent process (the client the served record names), asked for only
// when an entry is found.
func serveCached(args []string, execInfo string, stdout, stderr io.Writer, now time.Time, dir string, ppid func() int) (bool, error) {
	if len(args) == 0 || args[0] != "token" {
		return false, nil
	}
	o, ok := parseLean(args[1:])
	if !ok {
		o = Options{}
		fs := pflag.NewFlagSet("token", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Usage = func() {}
		o.AddFlags(fs)
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
			return false, nil
		}
	}
	if o.Validate() != nil || o.Cache == string(cache.None) {
		return false, nil
	}
	info, err := ParseExecInfo(execInfo)
	if err != nil || info.Cluster == nil {
		return false, nil
	}
	// The server pin (pin.go): an entry exists only for a server that was
	// checked when it was minted (the key holds the server and
	// --allow-server). A token source's pin is in its flags, so it costs
	// nothing to check it here too; one that fails goes to the full
	// binary, which says why.
	if o.bearerSource() && !o.FlagsPin(info.Cluster.Server) {
		return false, nil
	}
	logf := NewLogf(stderr, o.Verbosity)
	if info.Cluster.NeedsCAFile() {
		logf(4, "the exec info names its CA by path (%s); the full binary reads it", info.Cluster.CertificateAuthority)
		return false, nil
	}
	store := cache.Store{Mode: cache.Mode(o.Cache), Dir: dir, Logf: logf}
	key := Key(&o, *info.Cluster)
	e, backend, err := store.Load(key)
	if err != nil {
		logf(4, "no usable cached token for %s (%v)", o.ServiceAccount, err)
		return false, nil
	}
	refreshAt := e.RefreshAt(o.RefreshBefore)
	if !Servable(e, now, o.RefreshBefore) {
		// Due, within a few minutes of it (a client that wants 5 minutes
		// left would ask again on every request), or issued after now
		// (the clock went back): the full binary decides.
		logf(4, "cached token for %s is due for a re-mint (refresh point %s)", o.ServiceAccount, refreshAt.Format(time.RFC3339))
		return false, nil
	}
	// The same client asking again this soon was refused the token: let the
	// full binary check it with the API server and re-mint if revoked.
	pid := ppid()
	served := store.ReadServed(key)
	if Repeat(served, pid, now) {
		logf(4, "the same process asked for %s again within %v; checking the cached token", o.ServiceAccount, RepeatWindow)
		return false, nil
	}
	if _, err := stdout.Write(MarshalExecCredential(info.APIVersion, e.Token, refreshAt)); err != nil {
		return true, fmt.Errorf("writing the credential to stdout: %w", err)
	}
	if err := store.WriteServed(key, Next(served, pid, now)); err != nil {
		// Without the record a retry after a 401 looks like a first call:
		// the next call finds it Unknown and goes to the full binary, which
		// checks the token with the API server.
		logf(1, "could not record this call (%v); the next call will have the full binary check the cached token", err)
	}
	if o.Verbosity >= 4 {
		// Formatting in local time reads /etc/localtime: not for nothing.
		logf(4, "served the cached token for %s from the %s cache; re-mint at %s", o.ServiceAccount, backend, refreshAt.Format(time.RFC3339))
	}
	return true, nil
}
