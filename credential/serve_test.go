package credential

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubemint/kubemint/cache"
)

const serveInfo = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"cluster":{"server":"https://x:6443"},"interactive":false}}`

var serveArgs = []string{"token", "--service-account=ci/deployer", "--cache=file"}

// cacheEntry stores e where serveCached with args and serveInfo looks.
func cacheEntry(t *testing.T, dir string, args []string, e cache.Entry) (*cache.Store, string) {
	t.Helper()
	var o Options
	fs := pflag.NewFlagSet("token", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		t.Fatal(err)
	}
	info, err := ParseExecInfo(serveInfo)
	if err != nil {
		t.Fatal(err)
	}
	s := &cache.Store{Mode: cache.File, Dir: dir}
	key := Key(&o, *info.Cluster)
	if _, err := s.Save(key, e); err != nil {
		t.Fatal(err)
	}
	// As the mint that cached it left it: served to another client.
	if err := s.WriteServed(key, cache.Served{PID: 1, Last: e.Issued}); err != nil {
		t.Fatal(err)
	}
	return s, key
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestServeCached(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	fresh := cache.Entry{Token: "cached-token", Issued: t0, Expiry: t0.Add(time.Hour)}
	tests := map[string]struct {
		args     []string
		info     string
		entry    *cache.Entry
		at       time.Time
		pid      int
		prior    *cache.Served // the served record before the call
		stdout   io.Writer
		want     bool
		wantErr  string
		wantOut  string
		wantLine string
	}{
		"hit":               {entry: &fresh, at: t0.Add(time.Minute), want: true, wantOut: string(MarshalExecCredential(APIVersionV1beta1, "cached-token", t0.Add(48*time.Minute)))},
		"hit, -v 4 says so": {args: append(serveArgs, "-v=4"), entry: &fresh, at: t0.Add(time.Minute), want: true, wantLine: "served the cached token for ci/deployer from the file cache"},
		"due":               {entry: &fresh, at: t0.Add(50 * time.Minute), wantLine: ""},
		"due, -v 4":         {args: append(serveArgs, "-v=4"), entry: &fresh, at: t0.Add(50 * time.Minute), wantLine: "is due for a re-mint"},
		"within 5 minutes of the refresh point: hand off": {entry: &fresh, at: t0.Add(44 * time.Minute)},
		"just before the window":                          {entry: &fresh, at: t0.Add(43*time.Minute - time.Second), want: true, wantOut: string(MarshalExecCredential(APIVersionV1beta1, "cached-token", t0.Add(48*time.Minute)))},
		"issued in the future":                            {entry: &fresh, at: t0.Add(-time.Minute)},
		"missing, -v 4":                                   {args: append(serveArgs, "-v=4"), at: t0, wantLine: "no usable cached token"},
		"repeat: hand off":                                {entry: &fresh, at: t0.Add(2 * time.Minute), pid: 7, prior: &cache.Served{PID: 7, Last: t0.Add(2*time.Minute - time.Second)}},
		"no served record: hand off":                      {entry: &fresh, at: t0.Add(time.Minute), prior: &cache.Served{Unknown: true}},
		"another client":                                  {entry: &fresh, at: t0.Add(2 * time.Minute), pid: 8, prior: &cache.Served{PID: 7, Last: t0.Add(2*time.Minute - time.Second)}, want: true},
		"no cluster":                                      {info: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{}}`, entry: &fresh, at: t0},
		"run by hand":                                     {info: "-", entry: &fresh, at: t0},
		"bad exec info":                                   {info: `{`, entry: &fresh, at: t0},
		"--cache=none":                                    {args: []string{"token", "--service-account=ci/deployer", "--cache=none"}, entry: &fresh, at: t0},
		"bad flag":                                        {args: []string{"token", "--service-account=ci/deployer", "--no-such-flag"}, at: t0},
		"an argument":                                     {args: []string{"token", "--service-account=ci/deployer", "extra"}, at: t0},
		"invalid flags":                                   {args: []string{"token", "--service-account=nonamespace"}, at: t0},
		"another command":                                 {args: []string{"status"}, at: t0},
		"no command":                                      {args: []string{}, at: t0},
		// The server pin: an entry for a token source whose flags do not
		// pin the exec info's server (as kubemint before the pin cached
		// it) is never served.
		"token source, not pinned":              {args: []string{"token", "--service-account=ci/deployer", "--cache=file", "--source-token-file=/t"}, entry: &fresh, at: t0.Add(time.Minute)},
		"token source, --allow-server":          {args: []string{"token", "--service-account=ci/deployer", "--cache=file", "--source-token-file=/t", "--allow-server=https://x:6443"}, entry: &fresh, at: t0.Add(time.Minute), want: true},
		"token source, --source-server":         {args: []string{"token", "--service-account=ci/deployer", "--cache=file", "--source-token-file=/t", "--source-server=https://X:6443/"}, entry: &fresh, at: t0.Add(time.Minute), want: true},
		"token source, another --source-server": {args: []string{"token", "--service-account=ci/deployer", "--cache=file", "--source-token-env=T", "--source-server=https://y:6443"}, entry: &fresh, at: t0.Add(time.Minute)},
		"write error":                           {entry: &fresh, at: t0.Add(time.Minute), stdout: failingWriter{}, want: true, wantErr: "writing the credential to stdout: broken pipe"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "kubemint")
			args := tt.args
			if args == nil {
				args = serveArgs
			}
			info := tt.info
			switch info {
			case "":
				info = serveInfo
			case "-":
				info = ""
			}
			if tt.entry != nil {
				s, key := cacheEntry(t, dir, args, *tt.entry)
				if tt.prior != nil {
					if tt.prior.Unknown {
						if err := os.Remove(filepath.Join(dir, key+".served")); err != nil {
							t.Fatal(err)
						}
					} else if err := s.WriteServed(key, *tt.prior); err != nil {
						t.Fatal(err)
					}
				}
			}
			var out, errOut bytes.Buffer
			stdout := tt.stdout
			if stdout == nil {
				stdout = &out
			}
			pid := tt.pid
			if pid == 0 {
				pid = 42
			}
			got, err := serveCached(args, info, stdout, &errOut, tt.at, dir, func() int { return pid })
			if got != tt.want {
				t.Errorf("served = %v, want %v (stderr %q)", got, tt.want, errOut.String())
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if !tt.want && out.Len() > 0 {
				t.Errorf("handed off but wrote %q", out.String())
			}
			if tt.wantOut != "" && out.String() != tt.wantOut {
				t.Errorf("stdout = %s, want %s", out.String(), tt.wantOut)
			}
			if !strings.Contains(errOut.String(), tt.wantLine) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.wantLine)
			}
		})
	}
}

// A hit records who was served, so that the same client's retry after a
// 401 goes to the full binary.
func TestServeCachedRecordsTheCall(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	dir := filepath.Join(t.TempDir(), "kubemint")
	s, key := cacheEntry(t, dir, serveArgs, cache.Entry{Token: "cached-token", Issued: t0, Expiry: t0.Add(time.Hour)})
	var out, errOut bytes.Buffer
	if ok, err := serveCached(serveArgs, serveInfo, &out, &errOut, t0.Add(time.Minute), dir, func() int { return 42 }); !ok || err != nil {
		t.Fatalf("%v, %v", ok, err)
	}
	if r := s.ReadServed(key); r.Unknown || r.PID != 42 || !r.Last.Equal(t0.Add(time.Minute)) {
		t.Errorf("served record %+v", r)
	}
	if ok, _ := serveCached(serveArgs, serveInfo, &out, &errOut, t0.Add(time.Minute+time.Second), dir, func() int { return 42 }); ok {
		t.Errorf("a repeat within %v was served", RepeatWindow)
	}
}
