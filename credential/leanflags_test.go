package credential

import (
	"io"
	"reflect"
	"testing"

	"github.com/spf13/pflag"
)

// pflagParse is what serveCached did before parseLean, and still does when
// parseLean declines.
func pflagParse(args []string) (Options, bool) {
	var o Options
	fs := pflag.NewFlagSet("token", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return Options{}, false
	}
	return o, true
}

// parseLean knows exactly AddFlags' flags, with their kinds.
func TestLeanFlagsAreAddFlags(t *testing.T) {
	var o Options
	fs := pflag.NewFlagSet("token", pflag.ContinueOnError)
	o.AddFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		set, isBool := o.leanFlag(f.Name)
		if set == nil {
			t.Errorf("--%s: parseLean does not know it", f.Name)
		}
		if isBool != (f.Value.Type() == "bool") {
			t.Errorf("--%s: parseLean's boolean %v, pflag's type %s", f.Name, isBool, f.Value.Type())
		}
	})
	for _, name := range []string{"help", "kubeconfig", "context", "token", "verbosity", "Service-Account", "cache ", ""} {
		if set, _ := o.leanFlag(name); set != nil {
			t.Errorf("--%s: parseLean knows a flag AddFlags does not register", name)
		}
	}
}

// Where parseLean answers, it answers as pflag does; and it answers for
// what Options.Args writes, or a cache hit pays for pflag again.
func TestParseLean(t *testing.T) {
	tests := []struct {
		args []string
		lean bool
	}{
		{nil, true},
		{[]string{"--service-account=default/deployer", "--source-context=admin"}, true},
		{[]string{"--service-account=a/b", "--source-kubeconfig=/k", "--source-in-cluster", "--source-token-file=/t", "--source-github-actions", "--source-token-env=TOK", "--source-audience=x", "--source-server=https://s", "--source-certificate-authority=/ca", "--allow-server=https://a", "--allow-server=https://b", "--duration=30m", "--audience=a", "--audience=b", "--bound-object-kind=Pod", "--bound-object-name=p", "--bound-object-uid=u", "--self-renew", "--max-chain-age=24h", "--cache=file", "--refresh-before=5m", "--request-timeout=3s", "--v=4"}, true},
		{[]string{"--self-renew=false", "--source-in-cluster=1", "--source-github-actions=F"}, true},
		{[]string{"--service-account=a/b", "--service-account=c/d", "--duration=0", "--duration=2h"}, true},
		{[]string{"--service-account=", "--cache=", "--audience="}, true},
		{[]string{"--v=0x10"}, true},
		{[]string{"--v=010"}, true},
		{[]string{"--v=1_0"}, true},
		{[]string{"--v=-3"}, true},
		{[]string{"--service-account=a=b/c"}, true},
		// Left to pflag.
		{[]string{"--service-account", "a/b"}, false},
		{[]string{"-v", "4"}, false},
		{[]string{"-v=4"}, false},
		{[]string{"-v4"}, false},
		{[]string{"--v", "4"}, false},
		{[]string{"--self-renew", "false"}, false},
		{[]string{"--self-renew=maybe"}, false},
		{[]string{"--duration=1x"}, false},
		{[]string{"--v=four"}, false},
		{[]string{"--v=99999999999999999999"}, false},
		{[]string{"--unknown=1"}, false},
		{[]string{"--help"}, false},
		{[]string{"--"}, false},
		{[]string{"--", "--cache=file"}, false},
		{[]string{"---cache=file"}, false},
		{[]string{"--=x"}, false},
		{[]string{"positional"}, false},
		{[]string{"-"}, false},
		{[]string{""}, false},
		{[]string{"--service-account"}, false},
		{[]string{"--Service-Account=a/b"}, false},
	}
	for _, tt := range tests {
		got, ok := parseLean(tt.args)
		if ok != tt.lean {
			t.Errorf("%q: parseLean answered %v, want %v", tt.args, ok, tt.lean)
		}
		if !ok {
			continue
		}
		want, wantOK := pflagParse(tt.args)
		if !wantOK {
			t.Errorf("%q: parseLean accepts what pflag refuses", tt.args)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n parseLean %+v\n     pflag %+v", tt.args, got, want)
		}
	}
	// Every exec entry kubemint writes takes the lean path.
	o, _ := pflagParse(tests[2].args)
	if got, ok := parseLean(o.Args()); !ok || !reflect.DeepEqual(got, o) {
		t.Errorf("Options.Args() %q: parseLean %v %+v, want %+v", o.Args(), ok, got, o)
	}
}
