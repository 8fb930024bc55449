package credential

import (
	"testing"
	"time"

	"github.com/kubemint/kubemint/cache"
)

// TestHandOffAt: a call within ClientMargin of the refresh point re-mints,
// so what is handed out has more than 5 minutes left (the Python client's
// threshold); a short token's window is at most half of its serving time.
func TestHandOffAt(t *testing.T) {
	issued := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		lifetime time.Duration
		margin   time.Duration
		want     time.Duration // after issued
	}{
		{"1h, default: 5 minutes before 48m", time.Hour, 0, 43 * time.Minute},
		{"1h, refresh 10m before", time.Hour, 10 * time.Minute, 45 * time.Minute},
		{"10m, default: half of 8m", 10 * time.Minute, 0, 4 * time.Minute},
		{"24h, default", 24 * time.Hour, 0, 24*time.Hour*4/5 - 5*time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := cache.Entry{Token: "t", Issued: issued, Expiry: issued.Add(tc.lifetime)}
			at := HandOffAt(e, tc.margin)
			if got := at.Sub(issued); got != tc.want {
				t.Errorf("HandOffAt = issued+%v, want issued+%v", got, tc.want)
			}
			if !Servable(e, at.Add(-time.Second), tc.margin) || Servable(e, at, tc.margin) {
				t.Errorf("Servable does not switch at the hand-off point")
			}
			if Servable(e, issued.Add(-time.Second), tc.margin) {
				t.Errorf("an entry issued after now (the clock went back) is servable")
			}
			if left := e.RefreshAt(tc.margin).Sub(at.Add(-time.Second)); tc.lifetime >= time.Hour && left <= ClientMargin {
				t.Errorf("served with %v left, want more than %v", left, ClientMargin)
			}
		})
	}
}
