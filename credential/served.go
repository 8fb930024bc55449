package credential

import (
	"time"

	"github.com/kubemint/kubemint/cache"
)

// The served record (cache.Served) is stored by package cache; what a
// repeat means is part of the token contract, decided here, because both
// binaries must read the record the same way: the lean front hands a repeat
// to the full binary, which checks the token with the API server.

// RepeatWindow is how soon a second request for the same entry from the
// same parent process counts as a retry. client-go runs the plugin once and
// keeps the credential in memory until its expirationTimestamp; it runs the
// plugin again early only when the API server answered 401 Unauthorized,
// that is, when the token was revoked (a binding Secret deleted, the
// service account recreated) before it expired.
const RepeatWindow = 10 * time.Second

// VerifiedFor is how long a check that found the token good spares the
// same process further checks: a script that runs kubemint itself in a
// loop pays for one check a minute, not one per call.
const VerifiedFor = time.Minute

// Repeat reports whether serving the entry recorded by s to pid at now
// would be a retry that deserves a check: the same process asked moments
// ago, and no recent check vouches for the token; or the record is
// unknown. Every mint and every hit writes the record, so a missing one
// means the last write failed: without it a retry after a 401 cannot be
// told from a first call, so the call counts as a retry and is checked,
// rather than a revoked token being served until its refresh point.
func Repeat(s cache.Served, pid int, now time.Time) bool {
	if s.Unknown {
		return true
	}
	since := now.Sub(s.Last)
	return s.PID == pid && since >= 0 && since < RepeatWindow && !now.Before(s.VerifiedUntil)
}

// Next is the record after serving the entry recorded by s to pid at now:
// it keeps a check's vouching for the same process.
func Next(s cache.Served, pid int, now time.Time) cache.Served {
	n := cache.Served{PID: pid, Last: now}
	if s.PID == pid {
		n.VerifiedUntil = s.VerifiedUntil
	}
	return n
}

// Verified is the record after a check at now found the token good for
// pid: it spares pid further checks for VerifiedFor.
func Verified(pid int, now time.Time) cache.Served {
	return cache.Served{PID: pid, Last: now, VerifiedUntil: now.Add(VerifiedFor)}
}
