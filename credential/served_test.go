package credential

import (
	"testing"
	"time"

	"github.com/kubemint/kubemint/cache"
)

func TestServedPolicy(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	rec := Next(cache.Served{}, 42, t0)
	vouched := Verified(42, t0)
	tests := map[string]struct {
		rec  cache.Served
		pid  int
		at   time.Time
		want bool
	}{
		"unknown record (missing, torn)": {cache.Served{Unknown: true}, 42, t0, true},
		"same process, a second later":   {rec, 42, t0.Add(time.Second), true},
		"same process, past the window":  {rec, 42, t0.Add(RepeatWindow), false},
		"another process, at once":       {rec, 43, t0.Add(time.Second), false},
		"same process, clock went back":  {rec, 42, t0.Add(-time.Second), false},
		"vouched-for process":            {vouched, 42, t0.Add(time.Second), false},
		"vouching ran out":               {cache.Served{PID: 42, Last: t0.Add(VerifiedFor), VerifiedUntil: t0.Add(VerifiedFor)}, 42, t0.Add(VerifiedFor + time.Second), true},
	}
	for name, tt := range tests {
		if got := Repeat(tt.rec, tt.pid, tt.at); got != tt.want {
			t.Errorf("%s: Repeat = %v, want %v", name, got, tt.want)
		}
	}
	if n := Next(vouched, 42, t0.Add(time.Second)); !n.VerifiedUntil.Equal(t0.Add(VerifiedFor)) {
		t.Errorf("Next dropped the vouching for the same process")
	}
	if n := Next(vouched, 43, t0.Add(time.Second)); !n.VerifiedUntil.IsZero() {
		t.Errorf("Next carried the vouching over to another process")
	}
}
