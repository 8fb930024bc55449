package cache

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Strings that encoding/json escapes: quotes, backslashes, control
// characters, HTML, invalid UTF-8, the JavaScript line separators.
var awkward = []string{"", "plain", `q"uo\te`, "tab\tnl\n\x01", "<a&b>", "bad\xffutf8", "ls\u2028ps\u2029", "ünïcode", strings.Repeat("h.p-s_", 200)}

// Encode writes byte for byte what json.Marshal wrote: entries stored by
// earlier versions and by this one read the same.
func TestWireEntryJSON(t *testing.T) {
	for _, s := range awkward {
		for _, chain := range []int64{0, 1700000000, -5} {
			w := wireEntry{V: entryVersion, K: s, Token: s + "t", Issued: -1, Expiry: 1700003600, Chain: chain}
			want, err := json.Marshal(w)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.appendJSON(nil); string(got) != string(want) {
				t.Errorf("%q, chain %d:\n got %s\nwant %s", s, chain, got, want)
			}
		}
	}
}

// decodeWire reads what json.Unmarshal into the struct reads, and takes
// its map path for what Encode writes.
func TestDecodeWire(t *testing.T) {
	tests := []struct {
		in        string
		canonical bool
	}{
		{`{"v":2,"k":"0123456789abcdef","t":"a.b.c","i":1700000000,"e":1700003600}`, true},
		{`{"v":2,"k":"0123456789abcdef","t":"a.b.c","i":1700000000,"e":1700003600,"c":1699990000}`, true},
		{`{"v":2,"k":"k","t":"\u003ca\u0026b\u003e","i":-1,"e":0}`, true},
		{`{"v":1,"k":"","t":"","i":0,"e":0}`, true},
		// Left to json.Unmarshal.
		{`{"v":2,"k":"k","t":"<a>","i":1,"e":2}`, false},
		{`{"k":"k","v":2,"t":"a","i":1,"e":2}`, false},
		{`{"v":2, "k":"k","t":"a","i":1,"e":2}`, false},
		{`{"v":2,"k":"k","t":"a","i":1,"e":2,"c":0}`, false},
		{`{"v":2,"k":"k","T":"a","i":1,"e":2}`, false},
		{`{"v":2,"k":"k","t":"a","t":"b","i":1,"e":2}`, false},
		{`{"v":2,"k":"k","t":"a","i":1.0,"e":2}`, false},
		{`{"v":2,"k":"k","t":"a","i":1e3,"e":2}`, false},
		{`{"v":2,"k":"k","t":"a","i":9007199254740993,"e":2}`, false},
		{`{"v":2,"k":"k","t":"a","i":99999999999999999999,"e":2}`, false},
		{`{"v":2,"k":"k","t":"\u0061","i":1,"e":2}`, false},
		{`{"v":"2","k":"k","t":"a","i":1,"e":2}`, false},
		{`{"v":2,"k":"k","t":"a","i":1,"e":2,"x":null}`, false},
		{`{"v":2,"k":"k","t":"a","i":1,"e":2}` + "\n", false},
		{`{"v":2,"k":"k","t":null,"i":1,"e":2}`, false},
		{`[2]`, false},
		{`null`, false},
		{`{"v":2`, false},
	}
	for _, tt := range tests {
		b := []byte(tt.in)
		if _, ok := decodeCanonical(b); ok != tt.canonical {
			t.Errorf("%s: canonical %v, want %v", tt.in, ok, tt.canonical)
		}
		got, gotErr := decodeWire(b)
		var want wireEntry
		wantErr := json.Unmarshal(b, &want)
		if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v, %v\nwant %+v, %v", tt.in, got, gotErr, want, wantErr)
		}
	}
}
