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
