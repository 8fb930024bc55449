package cache

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
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

// The served record is written as fmt's "%10d %20d %20d\n" wrote it, and
// read as fmt.Sscanf reads it, whichever path parseServed takes.
func TestServedFormat(t *testing.T) {
	times := []time.Time{{}, time.Unix(0, 0), time.Unix(0, -1), time.Unix(1700000000, 123456789), time.Unix(0, math.MaxInt64), time.Unix(0, math.MinInt64)}
	for _, pid := range []int{0, 1, -1, 4194304, 1234567890, 98765432101, math.MinInt} {
		for _, last := range times {
			for _, until := range times {
				r := Served{PID: pid, Last: last, VerifiedUntil: until}
				want := fmt.Appendf(nil, "%10d %20d %20d\n", r.PID, r.Last.UnixNano(), r.VerifiedUntil.UnixNano())
				got := formatServed(r)
				if string(got) != string(want) {
					t.Fatalf("%+v:\n got %q\nwant %q", r, got, want)
				}
				if back := parseServed(got); !back.Last.Equal(time.Unix(0, last.UnixNano())) || back.PID != pid || back.VerifiedUntil.UnixNano() != until.UnixNano() || back.Unknown {
					t.Errorf("%q read back as %+v", got, back)
				}
			}
		}
	}
	for _, in := range []string{
		"      1234  1700000000000000000                    0\n",
		"+5 6 7\n", "1_0 2 3", "5 6 7 8\n", "5 6\n", "a b c\n", "", "\n", "0x10 1 2\n",
		"99999999999999999999 1 2\n", " 1 2 3", "1\t2\t3\n", "1 2 3\n\n",
	} {
		var pid int
		var last, verified int64
		want := Served{Unknown: true}
		if _, err := fmt.Sscanf(in, "%d %d %d", &pid, &last, &verified); err == nil {
			want = Served{PID: pid, Last: time.Unix(0, last), VerifiedUntil: time.Unix(0, verified)}
		}
		if got := parseServed([]byte(in)); got != want {
			t.Errorf("%q: got %+v, want %+v", in, got, want)
		}
	}
}
