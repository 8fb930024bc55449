package credential

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestArgsRoundTrip(t *testing.T) {
	tests := map[string]struct {
		opts Options
		args []string
	}{
		"defaults": {
			opts: Options{ServiceAccount: "ci/deployer", Duration: time.Hour, Cache: "auto"},
			args: []string{"--service-account=ci/deployer"},
		},
		"setup, revocable, self-renewing": {
			opts: Options{ServiceAccount: "ci/deployer", SourceContext: "admin", SourceKubeconfig: "/k/config", Duration: 2 * time.Hour,
				BoundObjectKind: "Secret", BoundObjectName: "deployer-kubemint", SelfRenew: true, Cache: "auto"},
			args: []string{"--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=/k/config", "--duration=2h0m0s",
				"--bound-object-kind=Secret", "--bound-object-name=deployer-kubemint", "--self-renew"},
		},
		"a runner's token sources": {
			opts: Options{ServiceAccount: "ci/deployer", SourceGitHubActions: true, SourceAudience: "k8s", SourceServer: "https://x:6443",
				SourceCA: "/ca.crt", AllowServers: []string{"https://lb:6443", "https://y:6443"}, Duration: time.Hour, Cache: "auto"},
			args: []string{"--service-account=ci/deployer", "--source-github-actions", "--source-audience=k8s", "--source-server=https://x:6443",
				"--source-certificate-authority=/ca.crt", "--allow-server=https://lb:6443", "--allow-server=https://y:6443"},
		},
		"every other flag": {
			opts: Options{ServiceAccount: "a/b", SourceInCluster: true, SourceTokenFile: "/t", SourceTokenEnv: "T", Duration: 0,
				Audiences: []string{"x", "y=z"}, BoundObjectKind: "Pod", BoundObjectName: "p", BoundObjectUID: "u",
				MaxChainAge: 90 * time.Minute, Cache: "none", RefreshBefore: time.Minute, RequestTimeout: 5 * time.Second, Verbosity: 6},
			args: []string{"--service-account=a/b", "--source-in-cluster", "--source-token-file=/t", "--source-token-env=T", "--duration=0s",
				"--audience=x", "--audience=y=z", "--bound-object-kind=Pod", "--bound-object-name=p", "--bound-object-uid=u",
				"--max-chain-age=1h30m0s", "--cache=none", "--refresh-before=1m0s", "--request-timeout=5s", "--v=6"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tt.args, tt.opts.Args()); diff != "" {
				t.Errorf("Args() (-want +got):\n%s", diff)
			}
			got, err := ParseArgs(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.opts, got); diff != "" {
				t.Errorf("ParseArgs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    Options
		wantErr string
	}{
		"spelled as a person types them": {
			args: []string{"--service-account", "ci/deployer", "-v", "4", "--duration=30m", "--cache="},
			want: Options{ServiceAccount: "ci/deployer", Duration: 30 * time.Minute, Cache: "auto", Verbosity: 4},
		},
		"unknown flag":     {args: []string{"--service-acount=ci/deployer"}, wantErr: "unknown flag: --service-acount"},
		"a positional arg": {args: []string{"token", "--service-account=ci/deployer"}, wantErr: "unexpected arguments: token"},
		"a bad duration":   {args: []string{"--duration=soon"}, wantErr: `invalid argument "soon"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseArgs(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzArgs holds the codec to its contract: whatever args parse, writing
// the options back and parsing them again gives the same options, and the
// written args are a fixed point.
func FuzzArgs(f *testing.F) {
	for _, seed := range [][]string{
		{"--service-account=ci/deployer", "--source-context=admin", "--duration=2h", "--bound-object-kind=Secret", "--bound-object-name=s", "--self-renew"},
		{"--source-github-actions", "--source-audience", "k8s", "--audience=", "--audience=a", "-v", "6", "--cache=none", "--allow-server=https://lb:6443"},
		{"--duration=0", "--refresh-before=1m", "--request-timeout=-1s", "--max-chain-age=1h", "--source-in-cluster=false"},
	} {
		f.Add(strings.Join(seed, "\x00"))
	}
	f.Fuzz(func(t *testing.T, joined string) {
		// The argument list travels as one NUL-separated string, as in
		// /proc/PID/cmdline.
		o, err := ParseArgs(strings.Split(joined, "\x00"))
		if err != nil {
			return
		}
		args := o.Args()
		back, err := ParseArgs(args)
		if err != nil {
			t.Fatalf("ParseArgs(%q) of written args: %v", args, err)
		}
		if diff := cmp.Diff(o, back); diff != "" {
			t.Fatalf("options changed through %q (-parsed +reparsed):\n%s", args, diff)
		}
		if diff := cmp.Diff(args, back.Args()); diff != "" {
			t.Fatalf("args are not a fixed point (-first +second):\n%s", diff)
		}
	})
}
