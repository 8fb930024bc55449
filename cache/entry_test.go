package cache

import (
	"testing"
	"time"
)

// TestEntryFromBeforeTheClockWentBack: an entry issued after now was
// minted before this machine's clock went back. Its expiry, placed on the
// clock as it was, says nothing of the time left: it is neither fresh nor
// valid, so it is re-minted instead of served.
func TestEntryFromBeforeTheClockWentBack(t *testing.T) {
	issued := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	e := Entry{Token: "t", Issued: issued, Expiry: issued.Add(time.Hour)}
	for _, tc := range []struct {
		name         string
		now          time.Time
		fresh, valid bool
	}{
		{"at issue", issued, true, true},
		{"mid-life", issued.Add(30 * time.Minute), true, true},
		{"past the refresh point", issued.Add(50 * time.Minute), false, true},
		{"expired", issued.Add(time.Hour), false, false},
		{"clock back a second", issued.Add(-time.Second), false, false},
		{"clock back two hours", issued.Add(-2 * time.Hour), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.Fresh(tc.now, 0); got != tc.fresh {
				t.Errorf("Fresh = %v, want %v", got, tc.fresh)
			}
			if got := e.Valid(tc.now); got != tc.valid {
				t.Errorf("Valid = %v, want %v", got, tc.valid)
			}
		})
	}
}

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
			e := Entry{Token: "t", Issued: issued, Expiry: issued.Add(tc.lifetime)}
			at := e.HandOffAt(tc.margin)
			if got := at.Sub(issued); got != tc.want {
				t.Errorf("HandOffAt = issued+%v, want issued+%v", got, tc.want)
			}
			if !e.Servable(at.Add(-time.Second), tc.margin) || e.Servable(at, tc.margin) {
				t.Errorf("Servable does not switch at the hand-off point")
			}
			if left := e.RefreshAt(tc.margin).Sub(at.Add(-time.Second)); tc.lifetime >= time.Hour && left <= ClientMargin {
				t.Errorf("served with %v left, want more than %v", left, ClientMargin)
			}
		})
	}
}
